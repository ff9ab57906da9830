// Package oauthclient gets access tokens from an OAuth 2.0 token endpoint
// with the client credentials grant (RFC 6749 section 4.4), authenticating
// the client with a secret (client_secret_basic), a client assertion
// (RFC 7523: a pre-generated file, or one signed here, in Kafka 4.4's
// KIP-1258 order of preference) or its TLS client certificate (RFC 8705,
// with an HTTPClient from idpclient): what Kafka's own
// OAuthBearerLoginCallbackHandler does. It also performs the RFC 7523
// jwt-bearer grant ([NewJWTBearer]). The example of
// [NewClientCredentials] shows a source against a local token endpoint.
//
// The source is an [oauthbearer.Cache]. Requests never follow a redirect,
// endpoints must be https (or http to a loopback host), replies are read
// up to 1 MiB, and a refusal is an [*Error] whose text has every value the
// request sent removed. Errors start with "oauthclient:" and never
// contain the secret, the assertion or a token; [Secret] never prints.
package oauthclient
