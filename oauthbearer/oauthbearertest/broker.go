package oauthbearertest

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
)

// BrokerOptions configures a [Broker]. A nil *BrokerOptions is not valid:
// the broker needs at least a JWKS URL, an Issuer or GoogleAccessTokens.
// Fields have no environment-variable fallbacks: a test bench is
// configured in code.
type BrokerOptions struct {
	// Issuer, if set, supplies JWKSURL and ExpectedIssuer when those are
	// empty (its JWKSURL and IssuerURL). For tokens signed by another
	// emulator, set JWKSURL and ExpectedIssuer from it instead: an
	// [idptest.STS]'s JWKSURL and IssuerURL, an [idptest.Entra]'s
	// JWKSURL(tenant) and IssuerURL(tenant); for a [idptest.GCE]'s ID
	// tokens, its Signer is the Issuer.
	Issuer *idptest.Issuer

	// JWKSURL is where the broker fetches the keys that sign valid tokens,
	// like Kafka's sasl.oauthbearer.jwks.endpoint.url. Required unless
	// Issuer or GoogleAccessTokens is set. The set is fetched on first use and refetched (at most
	// once a second) when a token names an unknown kid.
	JWKSURL string

	// ExpectedAudience must be among the token's "aud" values, like
	// sasl.oauthbearer.expected.audience. It is required, as in Kafka 4.4,
	// whose broker refuses to start without it ("The OAuth validator for
	// the broker requires sasl.oauthbearer.expected.audience to be
	// configured"), unless AllowUnverifiedAudience or
	// RejectAudienceWhenUnset says what to do without one. See
	// docs/conformance.md for what each Kafka version does.
	ExpectedAudience string

	// AllowUnverifiedAudience, with ExpectedAudience empty, accepts tokens
	// whatever their "aud" (or none), like Kafka 4.4's
	// sasl.oauthbearer.allow.unverified.audience=true. Default false.
	AllowUnverifiedAudience bool

	// RejectAudienceWhenUnset, with ExpectedAudience empty, plays a Kafka
	// broker before 4.4: it starts without an expected audience and then
	// rejects every token that carries an "aud" claim, as those versions'
	// jose4j consumer does ("Audience (aud) claim [...] present in the JWT
	// but no expected audience value(s) were provided"); tokens without
	// "aud" pass. Default false. It cannot be combined with
	// AllowUnverifiedAudience.
	RejectAudienceWhenUnset bool

	// ExpectedIssuer must equal the token's "iss", like
	// sasl.oauthbearer.expected.issuer. Default: Issuer's URL when Issuer
	// is set. Without either the broker refuses to start, as Kafka 4.4's
	// does, unless AllowUnverifiedIssuer is set.
	ExpectedIssuer string

	// AllowUnverifiedIssuer, with no ExpectedIssuer (and no Issuer),
	// accepts tokens whatever their "iss" (or none), like Kafka 4.4's
	// sasl.oauthbearer.allow.unverified.issuer=true and every Kafka before
	// 4.4 without sasl.oauthbearer.expected.issuer. Default false.
	AllowUnverifiedIssuer bool

	// SubClaimName names the claim that holds the principal, like
	// sasl.oauthbearer.sub.claim.name. Default "sub".
	SubClaimName string

	// ClockSkew is the allowance on "exp" and "nbf", like
	// sasl.oauthbearer.clock.skew.seconds. Default (0) 30s, Kafka's
	// default; a negative value allows no skew.
	ClockSkew time.Duration

	// MaxReauth caps the session lifetime, like connections.max.reauth.ms.
	// Default 0: not set, so the session lasts as long as the token (what
	// Kafka does for OAUTHBEARER, whose credential always expires).
	MaxReauth time.Duration

	// DisableReauthentication makes the broker behave like one before
	// KIP-368 (Kafka < 2.2): SessionLifetimeMs is always 0, sessions never
	// expire, and a SaslHandshake on an authenticated connection is
	// answered ILLEGAL_SASL_STATE. Default false.
	DisableReauthentication bool

	// NumBrokers is the number of brokers in the cluster, each on its own
	// 127.0.0.1 port, all validating tokens. Default 1.
	NumBrokers int

	// Topics are created at start with Partitions partitions each.
	// Default: none.
	Topics []string
	// Partitions per topic in Topics. Default 1.
	Partitions int32

	// Verdict, if set, is called for every token the client presents
	// (after the broker has validated it: the argument's Accepted and
	// Reason carry the broker's own verdict) and may reject it by returning
	// a non-nil [Rejection]; returning nil keeps the broker's verdict. It
	// cannot accept a token the broker rejected. Use it to emulate
	// provider-specific refusals such as Confluent's JWT_PROCESSING_FAILED.
	// It runs on the connection's goroutine and must not block.
	Verdict func(Authentication) *Rejection

	// GoogleAccessTokens, if set, adds a Google Managed Service for Apache
	// Kafka mode: a token whose header is
	// {"typ":"JWT","alg":"GOOG_OAUTH2_TOKEN"} (what Google's
	// GcpLoginCallbackHandler and the gcp module's NewManagedKafka send) is
	// checked here instead of by the JWT validator. How Google's service
	// validates it is not public; this mode checks exactly: three segments
	// of base64url without padding; that header, with no other field;
	// claims with a numeric exp, a numeric iat, scope "kafka" and a
	// non-blank sub; a third segment that decodes to an access token
	// GoogleAccessTokens issued and that
	// has not expired (with ClockSkew); an exp claim not past and not
	// later than the access token's expiry; and a sub equal to the
	// access token's service-account email, which becomes the principal.
	// Tokens of any other form still go to the JWT validator, so one
	// broker can serve both. Default nil: the mode is off.
	GoogleAccessTokens *idptest.GCE

	// HTTPClient fetches the JWKS. Default: a client of the broker's own
	// (so Close can drop its idle connections) with a 10s timeout.
	HTTPClient *http.Client

	// Logger receives connection and authentication events; tokens are
	// never logged. Default: silent.
	Logger *slog.Logger
}

// Rejection is how a [BrokerOptions.Verdict] hook refuses a token.
type Rejection struct {
	// Status is the RFC 7628 error status put in the challenge
	// {"status":"<Status>"}. Default "invalid_token" (what Kafka's
	// validator always sends). Ignored when Message is set.
	Status string
	// Scope, if non-empty, is added to the challenge as "scope".
	Scope string
	// Message, if non-empty, skips the RFC 7628 challenge: the
	// SaslAuthenticate fails at once with SASL_AUTHENTICATION_FAILED and
	// this error message, as when a custom Kafka callback handler throws
	// SaslAuthenticationException, and the connection is closed.
	Message string
	// Reason is what [Authentication.Reason] records. Default
	// "rejected_by_hook".
	Reason string
	// Detail is what [Authentication.Detail] records.
	Detail string
}

// Authentication records one SASL/OAUTHBEARER authentication attempt: one
// client-first message that the broker evaluated.
type Authentication struct {
	// Conn identifies the TCP connection (1, 2, ... in accept order).
	Conn int64
	// Node is the kfake node ID of the broker that was connected to.
	Node int32
	// RemoteAddr is the client's address.
	RemoteAddr string
	// Principal is the value of the SubClaimName claim when the token
	// verified ("" otherwise).
	Principal string
	// AuthorizationID is the authorization identity (a=...) the client
	// sent, if any.
	AuthorizationID string
	// Extensions are the SASL extensions the client sent (never nil).
	Extensions map[string]string
	// Claims are the verified token's claims (nil when it did not verify).
	Claims map[string]any
	// Reauth is true for a KIP-368 re-authentication on an already
	// authenticated connection.
	Reauth bool
	// Time is when the broker evaluated the message.
	Time time.Time
	// Accepted is true when the authentication succeeded.
	Accepted bool
	// Reason says why it was refused ("" when Accepted), one of:
	// "malformed" (not a JWS, or an algorithm outside
	// RS256/RS384/RS512/PS256/ES256/ES384), "unknown_kid", "bad_signature",
	// "bad_issuer", "bad_audience", "expired", "no_expiry", "no_subject",
	// "not_yet_valid", "no_issued_at", "bad_scope",
	// "malformed_client_first_message" (the SASL message breaks RFC 7628
	// as Kafka parses it), "authzid_mismatch", "principal_changed" (on a
	// re-authentication), "rejected_by_hook" ([BrokerOptions.Verdict]),
	// and in the GoogleAccessTokens mode "unknown_access_token" (not an
	// access token the metadata server issued) or "subject_mismatch" (sub
	// or exp disagree with the access token).
	Reason string
	// Detail is a human explanation of Reason.
	Detail string
	// SessionLifetime is what the broker sent as SessionLifetimeMs (0:
	// unlimited, or rejected).
	SessionLifetime time.Duration
}

// Broker is an in-process Kafka cluster (franz-go's kfake) whose every
// listener demands SASL/OAUTHBEARER and validates bearer JWTs the way Apache
// Kafka's OAuthBearerSaslServer with OAuthBearerValidatorCallbackHandler
// does. It listens on 127.0.0.1 only.
//
// What it checks, per connection:
//   - Before authentication only ApiVersions, SaslHandshake and
//     SaslAuthenticate are allowed; any other request closes the
//     connection, as Kafka does. Frames above 512 KiB before
//     authentication (Kafka's sasl.server.max.receive.size) close it too.
//   - SaslHandshake v0 or v1 with mechanism OAUTHBEARER; any other
//     mechanism gets UNSUPPORTED_SASL_MECHANISM listing OAUTHBEARER, and
//     the connection is closed. After v1 the next request must be
//     SaslAuthenticate (else the connection is closed); after v0 the next
//     frame is the raw SASL token, answered raw.
//   - The client-first message must match Kafka's grammar exactly:
//     "n,[a=authzid],\x01auth=<scheme> <token>\x01(key=value\x01)*\x01",
//     scheme "Bearer" (any case), token [-_.a-zA-Z0-9]+, extension keys
//     [A-Za-z]+ (not "auth"), values [\x21-\x7E \t\r\n]+. A mismatch fails
//     with SASL_AUTHENTICATION_FAILED and Kafka's generic message
//     "Authentication failed during authentication due to invalid
//     credentials with SASL mechanism OAUTHBEARER", and closes.
//   - The token: JWS signature with the JWKS key named by its "kid"
//     (RS256/RS384/RS512/PS256/ES256/ES384), "exp" present and not past
//     (with ClockSkew), "nbf" if present not in the future, "iat" present,
//     "iss" equal to ExpectedIssuer (unless AllowUnverifiedIssuer) and
//     ExpectedAudience among "aud" (unless AllowUnverifiedAudience; with
//     RejectAudienceWhenUnset, as before Kafka 4.4, no "aud" at all), a
//     "scope" claim, if present, of non-blank
//     strings, and a non-blank string SubClaimName claim, which (trimmed)
//     becomes the principal. [BrokerOptions.Verdict] may then refuse it.
//     An invalid token gets error code 0 and the RFC 7628 challenge
//     {"status":"invalid_token"}; the client's 0x01
//     acknowledgement then gets SASL_AUTHENTICATION_FAILED with that same
//     JSON as the error message, and the connection is closed. A client
//     that sends anything else instead (sarama sends the four characters
//     `\x01`) has it parsed as a new client-first message, like Kafka:
//     garbage gets the generic failure above.
//   - An authzid, if sent, must equal the principal; a re-authentication
//     must keep the principal ("Cannot change principals during
//     re-authentication from User.a: User.b").
//   - On success SessionLifetimeMs is the token's remaining life, capped
//     by MaxReauth, as Kafka computes it. A connection whose session has
//     expired is closed on its next request unless that request is a
//     SaslHandshake starting a re-authentication (KIP-368), which is
//     allowed at most once a second per connection, as in Kafka; a
//     handshake on an authenticated connection that may not re-authenticate
//     gets ILLEGAL_SASL_STATE, and a SaslAuthenticate after success gets
//     ILLEGAL_SASL_STATE. SASL responses are written only after every
//     earlier response, so the client sees them in order.
//
// What it does not do: TLS; ACLs or any authorization by principal (kfake
// runs without ACLs: every authenticated principal may do everything);
// checking which scopes a token holds; validating extension values beyond
// their syntax (Kafka accepts and ignores them by default); multiple
// expected audiences; JWKS refresh on a schedule (only on an unknown kid,
// at most once a second); GSSAPI, PLAIN or SCRAM. Where Kafka answers an
// out-of-place request during authentication with an error response
// before closing, the broker just closes. ApiVersions before
// authentication is answered by kfake, not by an authenticator.
// Everything after authentication is plain kfake.
type Broker struct {
	cluster  *kfake.Cluster
	verifier *jwtverify.Verifier
	opts     BrokerOptions
	log      *slog.Logger
	ownHTTP  *http.Client

	mu      sync.Mutex
	closed  bool
	connSeq int64
	nodeSeq int32
	conns   map[int64]*brokerConn
	auths   []Authentication
	wg      sync.WaitGroup
}

// NewBroker starts a Broker on 127.0.0.1 and closes it when t's test ends
// (t.Cleanup). If the options are invalid or the cluster cannot start, it
// calls t.Fatalf with a message naming the setting; with a TB whose
// Fatalf returns (a program's own), NewBroker then returns nil.
func NewBroker(t idptest.TB, opts *BrokerOptions) *Broker {
	t.Helper()
	b, err := startBroker(opts)
	if err != nil {
		t.Fatalf("oauthbearertest: %v", err)
		return nil
	}
	t.Cleanup(b.Close)
	return b
}

func startBroker(opts *BrokerOptions) (*Broker, error) {
	if opts == nil {
		return nil, errors.New("NewBroker needs BrokerOptions with JWKSURL, Issuer or GoogleAccessTokens; pass &BrokerOptions{Issuer: iss, ExpectedAudience: aud}")
	}
	o := *opts
	o.Topics = slices.Clone(o.Topics)
	if o.Issuer != nil {
		if o.JWKSURL == "" {
			o.JWKSURL = o.Issuer.JWKSURL
		}
		if o.ExpectedIssuer == "" {
			o.ExpectedIssuer = o.Issuer.IssuerURL
		}
	}
	if o.JWKSURL == "" && o.GoogleAccessTokens == nil {
		return nil, errors.New("BrokerOptions.JWKSURL is empty; set it, Issuer or GoogleAccessTokens")
	}
	// Kafka 4.4's BrokerJwtValidator.configure refuses a JWKS-validating
	// listener without an expected audience or issuer unless the matching
	// allow.unverified option is true. A broker that only takes Google's
	// wrapper tokens (no JWKS) has no JWT validator to configure.
	if o.JWKSURL != "" {
		switch {
		case o.AllowUnverifiedAudience && o.RejectAudienceWhenUnset:
			return nil, errors.New("BrokerOptions.AllowUnverifiedAudience and RejectAudienceWhenUnset are both set; pick one (4.4's opt-out, or a broker before 4.4)")
		case o.ExpectedAudience == "" && !o.AllowUnverifiedAudience && !o.RejectAudienceWhenUnset:
			return nil, errors.New("BrokerOptions.ExpectedAudience is empty; like Kafka 4.4 (sasl.oauthbearer.expected.audience) the broker needs the audience the tokens carry, " +
				"or set AllowUnverifiedAudience (4.4's allow.unverified.audience=true) or RejectAudienceWhenUnset (a broker before 4.4)")
		}
		if o.ExpectedIssuer == "" && !o.AllowUnverifiedIssuer {
			return nil, errors.New("BrokerOptions.ExpectedIssuer is empty; like Kafka 4.4 (sasl.oauthbearer.expected.issuer) the broker needs the issuer the tokens carry: " +
				"set it, or Issuer, or AllowUnverifiedIssuer (4.4's allow.unverified.issuer=true)")
		}
	}
	if o.SubClaimName == "" {
		o.SubClaimName = "sub"
	}
	if o.MaxReauth < 0 {
		return nil, fmt.Errorf("BrokerOptions.MaxReauth is %v; use 0 (unset) or a positive duration", o.MaxReauth)
	}
	if o.NumBrokers < 0 {
		return nil, fmt.Errorf("BrokerOptions.NumBrokers is %d; use 0 (one broker) or more", o.NumBrokers)
	}
	if o.NumBrokers == 0 {
		o.NumBrokers = 1
	}
	if o.Partitions <= 0 {
		o.Partitions = 1
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Broker{
		opts:  o,
		log:   log,
		conns: map[int64]*brokerConn{},
	}
	client := o.HTTPClient
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		b.ownHTTP = &http.Client{Transport: tr, Timeout: 10 * time.Second}
		client = b.ownHTTP
	}
	b.verifier = jwtverify.New(o.JWKSURL, client)

	kopts := []kfake.Opt{
		kfake.NumBrokers(o.NumBrokers),
		kfake.ListenFn(b.listen),
	}
	if len(o.Topics) > 0 {
		kopts = append(kopts, kfake.SeedTopics(o.Partitions, o.Topics...))
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		b.closeHTTP()
		return nil, fmt.Errorf("starting the kfake cluster: %w", err)
	}
	b.cluster = c
	return b, nil
}

// listen is kfake's ListenFn: it binds 127.0.0.1 and hands kfake a
// listener whose connections pass through the SASL gate.
func (b *Broker) listen(network, address string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if host != "127.0.0.1" {
		address = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	node := b.nodeSeq
	b.nodeSeq++
	b.mu.Unlock()
	return &brokerListener{Listener: ln, b: b, node: node}, nil
}

// Addrs are the brokers' host:port addresses, for seed brokers.
func (b *Broker) Addrs() []string { return b.cluster.ListenAddrs() }

// Authentications returns every authentication attempt so far, in order.
func (b *Broker) Authentications() []Authentication {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Authentication, len(b.auths))
	for i, a := range b.auths {
		a.Extensions = maps.Clone(a.Extensions)
		a.Claims = maps.Clone(a.Claims)
		out[i] = a
	}
	return out
}

// Connections counts the TCP connections accepted so far, open or closed.
func (b *Broker) Connections() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int(b.connSeq)
}

// Close stops the cluster, closes every client connection and waits for
// the broker's connection goroutines. It is idempotent; NewBroker has
// already arranged for it at the end of the test.
func (b *Broker) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	conns := slices.Collect(maps.Values(b.conns))
	b.mu.Unlock()
	b.cluster.Close()
	for _, c := range conns {
		c.shutdown()
	}
	b.wg.Wait()
	b.closeHTTP()
}

func (b *Broker) closeHTTP() {
	if b.ownHTTP != nil {
		b.ownHTTP.CloseIdleConnections()
	}
}

func (b *Broker) record(a Authentication) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.auths = append(b.auths, a)
}

// brokerListener hands kfake gated connections.
type brokerListener struct {
	net.Listener
	b    *Broker
	node int32
}

func (l *brokerListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	b := l.b
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		_ = nc.Close()
		return nil, net.ErrClosed
	}
	b.connSeq++
	c := newBrokerConn(b, b.connSeq, l.node, nc)
	b.conns[c.id] = c
	b.wg.Add(1)
	b.mu.Unlock()
	b.log.Debug("oauthbearertest: broker accepted a connection", "conn", c.id, "node", l.node, "remote", nc.RemoteAddr().String())
	go c.serve()
	return c, nil
}

func (b *Broker) forget(c *brokerConn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.conns, c.id)
}
