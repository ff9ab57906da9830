// Package confluentkafka keeps a confluent-kafka-go (librdkafka) producer,
// consumer or admin client supplied with SASL/OAUTHBEARER tokens from an
// [oauthbearer.TokenSource], whether or not the application ever polls:
//
// see the example of [NewRefresher] (close the refresher first, then the
// client).
//
// # Why a refresher
//
// librdkafka asks for a token with an OAuthBearerTokenRefresh event on the
// client's main queue: through Poll for a consumer, through the Events
// channel for a producer, and nowhere at all for a standalone admin client.
// An application that does not read those (a producer that only uses
// delivery channels, a consumer blocked in ReadMessage, which drops the
// event, any AdminClient) never answers it, and its connections fail once
// the token expires. Reading the events in a helper goroutine is not an
// option either: it would steal the application's delivery reports,
// errors and rebalances.
//
// A [Refresher] instead calls SetOAuthBearerToken proactively, which
// librdkafka allows at any time: once right away, then again well before
// librdkafka would ask (it asks at 80% of the remaining life of the token
// it was given; the refresher sets again at half of it), so the refresh
// event is never needed. The token source decides when a new token is
// fetched (a [oauthbearer.Cache] refreshes at 80% of the token's life), so
// setting again is one atomic load plus a cgo call. Principal and SASL
// extensions are passed along, validated with
// [oauthbearer.ValidateExtensions] (librdkafka has the same rules). When
// the source fails, the refresher calls SetOAuthBearerTokenFailure with the
// reason, which librdkafka reports as an ERR__AUTHENTICATION error event
// ("Failed to acquire SASL OAUTHBEARER token: ..."), keeps any token that
// is still valid, and retries with backoff.
//
// Applications that do poll may pass every event to [Refresher.Handle],
// which answers OAuthBearerTokenRefresh events (librdkafka emits one when
// the client starts, and again if a refresh is overdue) by setting a token
// at once, and reports false for every other event. Ignoring those events
// is equally fine.
//
// # Errors a producer that only uses delivery reports sees
//
// librdkafka reports a broker's rejection of the token only as an error
// event and a log line; a message waiting for an authenticated connection
// ends with a delivery report saying "Local: Message timed out". To see
// why, create the client with "go.logs.channel.enable": true and pass its
// Logs() as [Options.Logs]: the refresher reads librdkafka's log (and
// forwards every record to [Options.Logger]), learns of a rejection,
// replaces the rejected token, and [Refresher.Explain] adds the cause (an
// [*oauthbearer.RejectedError], or the token source's failure) to a
// delivery report's error. [Refresher.Ready] checks a broker round trip
// (a metadata request), so it fails with that cause when every
// authentication fails.
//
// The example of [NewRefresher] shows Options.Logs, Ready and Explain
// together.
//
// # Order of Close
//
// Close the Refresher before the client: [Refresher.Close] stops its
// goroutine and waits for any call into the client to return, after which
// the client may be closed. The reverse order risks a call into a client
// that is being destroyed (confluent-kafka-go's closed check is not atomic
// with its use of the librdkafka handle). With defers, defer the
// client's Close before the refresher's, so that it runs last. An AdminClient derived from a producer or
// consumer shares its token and needs no refresher of its own.
//
// # cgo
//
// confluent-kafka-go links librdkafka through cgo, so this package needs
// CGO_ENABLED=1 and a C toolchain (gcc). It is the only package in this
// module that does; its files are constrained to cgo builds, so that
// CGO_ENABLED=0 builds and vets of the rest of the module (./...) still
// work, while importing it without cgo fails with "build constraints
// exclude all Go files".
package confluentkafka
