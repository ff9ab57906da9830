package oauthbearertest

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/oauth"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
	"github.com/streamidentity/kafka-workload-identity/internal/rejectreason"
)

const brokerTestAud = "kafka-test"

var brokerTestExt = map[string]string{"logicalCluster": "lkc-123", "identityPoolId": "pool-abc"}

// brokerTestFranz returns a franz-go client that authenticates with
// tokens from mint.
func brokerTestFranz(t *testing.T, b *Broker, mint func() string, ext map[string]string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{
		kgo.SeedBrokers(b.Addrs()...),
		kgo.SASL(oauth.Oauth(func(context.Context) (oauth.Auth, error) {
			return oauth.Auth{Token: mint(), Extensions: ext}, nil
		})),
		kgo.RetryTimeout(3 * time.Second),
	}, opts...)
	cl, err := kgo.NewClient(all...)
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

func TestBrokerFranzGoProduceConsume(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	b := NewBroker(t, &BrokerOptions{Issuer: iss, ExpectedAudience: brokerTestAud, NumBrokers: 2, Topics: []string{"orders"}, Partitions: 4})
	mint := func() string { return iss.Mint("svc-orders", brokerTestAud, 10*time.Minute, nil) }
	cl := brokerTestFranz(t, b, mint, brokerTestExt,
		kgo.DefaultProduceTopic("orders"), kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for i := range 8 {
		rec := &kgo.Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)}
		require.NoError(t, cl.ProduceSync(ctx, rec).FirstErr())
	}
	got := 0
	for got < 8 {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err())
		fs.EachError(func(_ string, _ int32, err error) { require.NoError(t, err) })
		got += fs.NumRecords()
	}
	assert.Equal(t, 8, got)

	auths := b.Authentications()
	require.NotEmpty(t, auths)
	nodes := map[int32]bool{}
	for _, a := range auths {
		assert.True(t, a.Accepted, "reason %s: %s", a.Reason, a.Detail)
		assert.Equal(t, "svc-orders", a.Principal)
		assert.Equal(t, brokerTestExt, a.Extensions)
		assert.Equal(t, brokerTestAud, a.Claims["aud"])
		assert.Greater(t, a.SessionLifetime, 9*time.Minute)
		assert.LessOrEqual(t, a.SessionLifetime, 10*time.Minute)
		nodes[a.Node] = true
	}
	assert.Len(t, nodes, 2, "both brokers authenticated clients")
	assert.Zero(t, rejections(b))
	assert.Positive(t, b.Connections())
	for _, a := range b.Authentications() {
		assert.Equal(t, "svc-orders", a.Principal)
		assert.Equal(t, brokerTestExt, a.Extensions)
	}
}

// TestBrokerRejectsInvalidTokens drives franz-go with bad tokens (sarama:
// e2e/integration/oauthbearertest) and
// checks both what the client sees and what the broker recorded.
func TestBrokerRejectsInvalidTokens(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	// A forger holds another key under iss's kid; a stranger signs with
	// a kid iss never published. Both sign iss's claims.
	forger := idptest.NewIssuer(t, &idptest.IssuerOptions{KeyID: tokenKid(t, iss.Mint("x", "y", time.Hour, nil))})
	stranger := idptest.NewIssuer(t, &idptest.IssuerOptions{KeyID: "not-published"})
	std := func(extra map[string]any) map[string]any {
		now := time.Now()
		c := map[string]any{"iss": iss.IssuerURL, "sub": "svc", "aud": brokerTestAud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	cases := map[string]struct {
		token   func() string
		verdict func(Authentication) *Rejection
		reason  string
	}{
		"forged signature": {token: func() string { return forger.Sign(std(nil)) }, reason: string(jwtverify.BadSignature)},
		"unknown kid":      {token: func() string { return stranger.Sign(std(nil)) }, reason: string(jwtverify.UnknownKid)},
		"wrong audience":   {token: func() string { return iss.Mint("svc", "other-aud", time.Hour, nil) }, reason: string(jwtverify.BadAudience)},
		"wrong issuer": {token: func() string {
			return iss.Mint("svc", brokerTestAud, time.Hour, map[string]any{"iss": "https://evil.example"})
		}, reason: string(jwtverify.BadIssuer)},
		"expired":     {token: func() string { return iss.Mint("svc", brokerTestAud, -2*time.Minute, nil) }, reason: string(jwtverify.Expired)},
		"missing sub": {token: func() string { return iss.Mint("svc", brokerTestAud, time.Hour, map[string]any{"sub": nil}) }, reason: string(jwtverify.NoSubject)},
		"blank sub":   {token: func() string { return iss.Mint("  ", brokerTestAud, time.Hour, nil) }, reason: string(jwtverify.NoSubject)},
		"blank scope": {token: func() string { return iss.Mint("svc", brokerTestAud, time.Hour, map[string]any{"scope": " "}) }, reason: string(jwtverify.BadScope)},
		"non-string scope": {token: func() string {
			return iss.Mint("svc", brokerTestAud, time.Hour, map[string]any{"scope": []any{"read", 7}})
		}, reason: string(jwtverify.BadScope)},
		"missing exp": {token: func() string { return iss.Mint("svc", brokerTestAud, time.Hour, map[string]any{"exp": nil}) }, reason: string(jwtverify.NoExpiry)},
		"missing iat": {token: func() string { return iss.Mint("svc", brokerTestAud, time.Hour, map[string]any{"iat": nil}) }, reason: string(jwtverify.NoIssuedAt)},
		"not a jwt":   {token: func() string { return "abc.def.ghi" }, reason: string(jwtverify.Malformed)},
		"hook": {
			token: func() string { return iss.Mint("svc", brokerTestAud, time.Hour, nil) },
			verdict: func(Authentication) *Rejection {
				return &Rejection{Status: "JWT_PROCESSING_FAILED", Reason: "pool_not_found"}
			},
			reason: "pool_not_found",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := &BrokerOptions{Issuer: iss, ExpectedAudience: brokerTestAud, Verdict: tc.verdict}

			// franz-go reads the RFC 7628 challenge as "unexpected data"
			// and drops the connection without the 0x01 acknowledgement.
			fb := NewBroker(t, opts)
			cl := brokerTestFranz(t, fb, tc.token, nil, kgo.RequestRetries(0))
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			err := cl.Ping(ctx)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "unexpected data in oauth response")
			brokerTestAssertRejected(t, fb, tc.reason)
		})
	}
}

func brokerTestAssertRejected(t *testing.T, b *Broker, reason string) {
	t.Helper()
	auths := b.Authentications()
	require.NotEmpty(t, auths)
	for _, a := range auths {
		assert.False(t, a.Accepted)
		assert.Equal(t, reason, a.Reason, "detail: %s", a.Detail)
		assert.Empty(t, a.Principal)
	}
	assert.Equal(t, len(auths), rejections(b))
}

// TestBrokerReauthentication runs clients across several short sessions:
// they must re-authenticate in place (KIP-368), or the broker closes their
// connections and they reconnect.
func TestBrokerReauthentication(t *testing.T) {
	t.Parallel()
	const lifetime = 2 * time.Second
	const run = 4500 * time.Millisecond
	iss := idptest.NewIssuer(t, nil)
	mint := func() string { return iss.Mint("svc-reauth", brokerTestAud, time.Hour, nil) }

	check := func(t *testing.T, b *Broker) {
		t.Helper()
		auths := b.Authentications()
		reauths := 0
		for _, a := range auths {
			assert.True(t, a.Accepted, "reason %s: %s", a.Reason, a.Detail)
			assert.Equal(t, lifetime, a.SessionLifetime)
			if a.Reauth {
				reauths++
			}
		}
		t.Logf("%d authentications (%d re-authentications) over %d connections", len(auths), reauths, b.Connections())
		assert.Positive(t, reauths, "re-authentications on open connections")
		assert.Greater(t, len(auths), b.Connections(), "more authentications than connections")
	}
	t.Run("franz-go", func(t *testing.T) {
		t.Parallel()
		b := NewBroker(t, &BrokerOptions{Issuer: iss, ExpectedAudience: brokerTestAud, MaxReauth: lifetime, Topics: []string{"r"}})
		cl := brokerTestFranz(t, b, mint, brokerTestExt, kgo.DefaultProduceTopic("r"))
		deadline := time.Now().Add(run)
		for time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr())
			cancel()
			time.Sleep(100 * time.Millisecond)
		}
		check(t, b)
	})
}

// brokerWire is a raw Kafka protocol client, to check the broker's
// answers byte for byte where real clients hide them.
type brokerWire struct {
	t    *testing.T
	conn net.Conn
	corr int32
	f    *kmsg.RequestFormatter
}

func brokerTestDial(t *testing.T, b *Broker) *brokerWire {
	t.Helper()
	conn, err := net.DialTimeout("tcp", b.Addrs()[0], 3*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	return &brokerWire{t: t, conn: conn, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID("wire"))}
}

func (w *brokerWire) send(req kmsg.Request) int32 {
	w.t.Helper()
	w.corr++
	_, err := w.conn.Write(w.f.AppendRequest(nil, req, w.corr))
	require.NoError(w.t, err)
	return w.corr
}

func (w *brokerWire) readFrame() ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(w.conn, size[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(w.conn, body)
	return body, err
}

func (w *brokerWire) recv(req kmsg.Request, corr int32) kmsg.Response {
	w.t.Helper()
	body, err := w.readFrame()
	require.NoError(w.t, err)
	require.Equal(w.t, corr, int32(binary.BigEndian.Uint32(body)), "responses in request order")
	body = body[4:]
	resp := req.ResponseKind()
	if resp.IsFlexible() && resp.Key() != 18 {
		require.Equal(w.t, byte(0), body[0])
		body = body[1:]
	}
	require.NoError(w.t, resp.ReadFrom(body))
	return resp
}

func (w *brokerWire) do(req kmsg.Request) kmsg.Response {
	w.t.Helper()
	return w.recv(req, w.send(req))
}

func (w *brokerWire) handshake(version int16) {
	w.t.Helper()
	req := oauthHandshake()
	req.Version = version
	resp := w.do(req).(*kmsg.SASLHandshakeResponse)
	require.Zero(w.t, resp.ErrorCode)
	require.Equal(w.t, []string{"OAUTHBEARER"}, resp.SupportedMechanisms)
}

func (w *brokerWire) authenticate(msg []byte) *kmsg.SASLAuthenticateResponse {
	w.t.Helper()
	req := kmsg.NewPtrSASLAuthenticateRequest()
	req.Version = 2
	req.SASLAuthBytes = msg
	return w.do(req).(*kmsg.SASLAuthenticateResponse)
}

func (w *brokerWire) requireClosed() {
	w.t.Helper()
	_, err := w.readFrame()
	require.Error(w.t, err)
	require.True(w.t, errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset"), "got %v", err)
}

func (w *brokerWire) metadataOK() {
	w.t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 9
	resp := w.do(req).(*kmsg.MetadataResponse)
	require.NotEmpty(w.t, resp.Brokers)
}

func brokerTestFirst(token string, kv ...string) []byte {
	s := "n,,\x01auth=Bearer " + token + "\x01"
	for _, p := range kv {
		s += p + "\x01"
	}
	return []byte(s + "\x01")
}

func brokerTestErrMsg(r *kmsg.SASLAuthenticateResponse) string {
	if r.ErrorMessage == nil {
		return ""
	}
	return *r.ErrorMessage
}

const brokerTestGeneric = "Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER"

func TestBrokerWireClientFirstMessage(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	b := NewBroker(t, &BrokerOptions{Issuer: iss, AllowUnverifiedAudience: true})
	good := iss.Mint("alice", "any", time.Hour, nil)
	cases := map[string]struct {
		msg   []byte
		ok    bool
		ext   map[string]string
		authz string
	}{
		"minimal":                {msg: brokerTestFirst(good), ok: true, ext: map[string]string{}},
		"extensions":             {msg: brokerTestFirst(good, "logicalCluster=lkc-1", "identityPoolId=pool-2"), ok: true, ext: map[string]string{"logicalCluster": "lkc-1", "identityPoolId": "pool-2"}},
		"value with = and space": {msg: brokerTestFirst(good, "k=a=b c"), ok: true, ext: map[string]string{"k": "a=b c"}},
		"scheme any case":        {msg: []byte("n,,\x01auth=bEaReR " + good + "\x01\x01"), ok: true, ext: map[string]string{}},
		"matching authzid":       {msg: []byte("n,a=alice,\x01auth=Bearer " + good + "\x01\x01"), ok: true, ext: map[string]string{}, authz: "alice"},
		"missing final 0x01":     {msg: []byte("n,,\x01auth=Bearer " + good + "\x01")},
		"no gs2 header":          {msg: []byte("\x01auth=Bearer " + good + "\x01\x01")},
		"channel binding":        {msg: []byte("y,,\x01auth=Bearer " + good + "\x01\x01")},
		"no auth":                {msg: []byte("n,,\x01k=v\x01\x01")},
		"basic scheme":           {msg: []byte("n,,\x01auth=Basic " + good + "\x01\x01")},
		"token bad char":         {msg: []byte("n,,\x01auth=Bearer " + good + "+\x01\x01")},
		"extension key digit":    {msg: brokerTestFirst(good, "key1=v")},
		"extension value 0x7f":   {msg: brokerTestFirst(good, "k=v\x7f")},
		"extension empty value":  {msg: brokerTestFirst(good, "k=")},
		"authzid with comma":     {msg: []byte("n,a=al,ice,\x01auth=Bearer " + good + "\x01\x01")},
		"empty":                  {msg: []byte{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := brokerTestDial(t, b)
			w.handshake(1)
			resp := w.authenticate(tc.msg)
			if !tc.ok {
				assert.Equal(t, kerr.SaslAuthenticationFailed.Code, resp.ErrorCode)
				assert.Equal(t, brokerTestGeneric, brokerTestErrMsg(resp))
				w.requireClosed()
				return
			}
			require.Zero(t, resp.ErrorCode, brokerTestErrMsg(resp))
			assert.Empty(t, resp.SASLAuthBytes)
			w.metadataOK()
			var found bool
			for _, a := range b.Authentications() {
				if a.RemoteAddr == w.conn.LocalAddr().String() {
					found = true
					assert.True(t, a.Accepted)
					assert.Equal(t, tc.ext, a.Extensions)
					assert.Equal(t, tc.authz, a.AuthorizationID)
				}
			}
			assert.True(t, found)
		})
	}
}

func TestBrokerWireErrorChallenge(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	b := NewBroker(t, &BrokerOptions{Issuer: iss, ExpectedAudience: brokerTestAud})
	bad := iss.Mint("alice", "wrong", time.Hour, nil)
	good := iss.Mint("alice", brokerTestAud, time.Hour, nil)

	t.Run("0x01 acknowledgement", func(t *testing.T) {
		t.Parallel()
		w := brokerTestDial(t, b)
		w.handshake(1)
		resp := w.authenticate(brokerTestFirst(bad))
		require.Zero(t, resp.ErrorCode)
		assert.Equal(t, `{"status":"invalid_token"}`, string(resp.SASLAuthBytes))
		resp = w.authenticate([]byte{0x01})
		assert.Equal(t, kerr.SaslAuthenticationFailed.Code, resp.ErrorCode)
		assert.Equal(t, `{"status":"invalid_token"}`, brokerTestErrMsg(resp))
		w.requireClosed()
	})
	t.Run("sarama's literal backslash-x01", func(t *testing.T) {
		t.Parallel()
		w := brokerTestDial(t, b)
		w.handshake(1)
		require.NotEmpty(t, w.authenticate(brokerTestFirst(bad)).SASLAuthBytes)
		resp := w.authenticate([]byte(`\x01`))
		assert.Equal(t, kerr.SaslAuthenticationFailed.Code, resp.ErrorCode)
		assert.Equal(t, brokerTestGeneric, brokerTestErrMsg(resp))
		w.requireClosed()
	})
	t.Run("a new token after the challenge", func(t *testing.T) {
		t.Parallel()
		w := brokerTestDial(t, b)
		w.handshake(1)
		require.NotEmpty(t, w.authenticate(brokerTestFirst(bad)).SASLAuthBytes)
		resp := w.authenticate(brokerTestFirst(good))
		require.Zero(t, resp.ErrorCode, brokerTestErrMsg(resp))
		w.metadataOK()
	})
	t.Run("authzid mismatch", func(t *testing.T) {
		t.Parallel()
		w := brokerTestDial(t, b)
		w.handshake(1)
		resp := w.authenticate([]byte("n,a=bob,\x01auth=Bearer " + good + "\x01\x01"))
		assert.Equal(t, kerr.SaslAuthenticationFailed.Code, resp.ErrorCode)
		assert.Equal(t, "Authentication failed: Client requested an authorization id (bob) that is different from the token's principal name (alice)", brokerTestErrMsg(resp))
		w.requireClosed()
	})
}

func TestBrokerWireAudienceWhenUnset(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	b := NewBroker(t, &BrokerOptions{Issuer: iss, RejectAudienceWhenUnset: true})

	w := brokerTestDial(t, b)
	w.handshake(1)
	resp := w.authenticate(brokerTestFirst(iss.Mint("alice", "some-aud", time.Hour, nil)))
	require.Zero(t, resp.ErrorCode)
	assert.Equal(t, `{"status":"invalid_token"}`, string(resp.SASLAuthBytes))

	w = brokerTestDial(t, b)
	w.handshake(1)
	resp = w.authenticate(brokerTestFirst(iss.Mint(" alice ", "", time.Hour, map[string]any{"aud": nil, "scope": []any{"kafka.read"}})))
	require.Zero(t, resp.ErrorCode, brokerTestErrMsg(resp))
	require.Empty(t, resp.SASLAuthBytes)
	w.metadataOK()

	auths := b.Authentications()
	require.Len(t, auths, 2)
	assert.Equal(t, string(jwtverify.BadAudience), auths[0].Reason)
	assert.Contains(t, auths[0].Detail, "no expected audience")
	assert.True(t, auths[1].Accepted)
	assert.Equal(t, "alice", auths[1].Principal, "the principal is the trimmed sub, as in Kafka")
}

func TestBrokerWireVerdictHook(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	var calls atomic.Int32
	b := NewBroker(t, &BrokerOptions{Issuer: iss, AllowUnverifiedAudience: true, Verdict: func(a Authentication) *Rejection {
		calls.Add(1)
		switch a.Extensions["mode"] {
		case "status":
			return &Rejection{Status: "JWT_PROCESSING_FAILED", Scope: "kafka"}
		case "message":
			return &Rejection{Message: "identity pool pool-x not found", Reason: "pool", Detail: "no pool"}
		}
		return nil
	}})
	tok := iss.Mint("alice", "a", time.Hour, nil)

	w := brokerTestDial(t, b)
	w.handshake(1)
	resp := w.authenticate(brokerTestFirst(tok, "mode=status"))
	require.Zero(t, resp.ErrorCode)
	assert.Equal(t, `{"status":"JWT_PROCESSING_FAILED", "scope":"kafka"}`, string(resp.SASLAuthBytes))
	resp = w.authenticate([]byte{1})
	assert.Equal(t, `{"status":"JWT_PROCESSING_FAILED", "scope":"kafka"}`, brokerTestErrMsg(resp))

	w = brokerTestDial(t, b)
	w.handshake(1)
	resp = w.authenticate(brokerTestFirst(tok, "mode=message"))
	assert.Equal(t, kerr.SaslAuthenticationFailed.Code, resp.ErrorCode)
	assert.Equal(t, "identity pool pool-x not found", brokerTestErrMsg(resp))
	w.requireClosed()

	w = brokerTestDial(t, b)
	w.handshake(1)
	require.Zero(t, w.authenticate(brokerTestFirst(tok)).ErrorCode)

	auths := b.Authentications()
	require.Len(t, auths, 3)
	assert.Equal(t, rejectreason.ByHook, auths[0].Reason)
	assert.Equal(t, string("pool"), auths[1].Reason)
	assert.Equal(t, "no pool", auths[1].Detail)
	assert.True(t, auths[2].Accepted)
	assert.Equal(t, int32(3), calls.Load())
	assert.Equal(t, 2, rejections(b))
}

func TestBrokerWireProtocol(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	alice := iss.Mint("alice", "a", 10*time.Minute, nil)
	bob := iss.Mint("bob", "a", 10*time.Minute, nil)
	// open starts a broker that trusts iss for any audience, with opts's
	// other settings, and connects to it.
	open := func(t *testing.T, opts BrokerOptions) (*Broker, *brokerWire) {
		opts.Issuer, opts.AllowUnverifiedAudience = iss, true
		b := NewBroker(t, &opts)
		return b, brokerTestDial(t, b)
	}

	t.Run("request before authentication closes", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, BrokerOptions{})
		w.send(kmsg.NewPtrMetadataRequest())
		w.requireClosed()
	})
	t.Run("unsupported mechanism", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, BrokerOptions{})
		req := oauthHandshake()
		req.Mechanism = "PLAIN"
		resp := w.do(req).(*kmsg.SASLHandshakeResponse)
		assert.Equal(t, kerr.UnsupportedSaslMechanism.Code, resp.ErrorCode)
		assert.Equal(t, []string{"OAUTHBEARER"}, resp.SupportedMechanisms)
		w.requireClosed()
	})
	t.Run("other request between handshake and authenticate closes", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, BrokerOptions{})
		w.handshake(1)
		w.send(kmsg.NewPtrMetadataRequest())
		w.requireClosed()
	})
	t.Run("pipelined ApiVersions and handshake stay in order", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, BrokerOptions{})
		av := kmsg.NewPtrApiVersionsRequest()
		av.Version = 3
		av.ClientSoftwareName, av.ClientSoftwareVersion = "wire", "1"
		hs := oauthHandshake()
		c1, c2 := w.send(av), w.send(hs)
		avr := w.recv(av, c1).(*kmsg.ApiVersionsResponse)
		assert.Zero(t, avr.ErrorCode)
		assert.Zero(t, w.recv(hs, c2).(*kmsg.SASLHandshakeResponse).ErrorCode)
		require.Zero(t, w.authenticate(brokerTestFirst(alice)).ErrorCode)
		w.metadataOK()
	})
	t.Run("session lifetime is the token's remaining life", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, BrokerOptions{MaxReauth: time.Hour})
		w.handshake(1)
		resp := w.authenticate(brokerTestFirst(alice))
		require.Zero(t, resp.ErrorCode)
		assert.Greater(t, resp.SessionLifetimeMillis, (9 * time.Minute).Milliseconds())
		assert.LessOrEqual(t, resp.SessionLifetimeMillis, (10 * time.Minute).Milliseconds())
	})
	t.Run("session lifetime is capped by MaxReauth", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, BrokerOptions{MaxReauth: 90 * time.Second})
		w.handshake(1)
		resp := w.authenticate(brokerTestFirst(alice))
		require.Zero(t, resp.ErrorCode)
		assert.Equal(t, int64(90000), resp.SessionLifetimeMillis)
		// A second SaslAuthenticate is KafkaApis's ILLEGAL_SASL_STATE,
		// and the connection stays usable.
		resp = w.authenticate(brokerTestFirst(alice))
		assert.Equal(t, kerr.IllegalSaslState.Code, resp.ErrorCode)
		w.metadataOK()
	})
	t.Run("disabled re-authentication", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, BrokerOptions{DisableReauthentication: true})
		w.handshake(1)
		resp := w.authenticate(brokerTestFirst(alice))
		require.Zero(t, resp.ErrorCode)
		assert.Zero(t, resp.SessionLifetimeMillis)
		assert.Equal(t, kerr.IllegalSaslState.Code, w.do(oauthHandshake()).(*kmsg.SASLHandshakeResponse).ErrorCode)
		w.metadataOK()
	})
	t.Run("expired session closes on the next request", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, BrokerOptions{MaxReauth: 30 * time.Millisecond})
		w.handshake(1)
		require.Equal(t, int64(30), w.authenticate(brokerTestFirst(alice)).SessionLifetimeMillis)
		time.Sleep(60 * time.Millisecond)
		w.send(kmsg.NewPtrMetadataRequest())
		w.requireClosed()
	})
	t.Run("re-authentication keeps the connection, at most once a second", func(t *testing.T) {
		t.Parallel()
		b, w := open(t, BrokerOptions{MaxReauth: time.Minute})
		w.handshake(1)
		require.Zero(t, w.authenticate(brokerTestFirst(alice)).ErrorCode)
		w.metadataOK()
		w.handshake(1)
		require.Zero(t, w.authenticate(brokerTestFirst(alice, "round=two")).ErrorCode)
		w.metadataOK()
		assert.Equal(t, kerr.IllegalSaslState.Code, w.do(oauthHandshake()).(*kmsg.SASLHandshakeResponse).ErrorCode)
		w.metadataOK()

		auths := b.Authentications()
		require.Len(t, auths, 2)
		assert.False(t, auths[0].Reauth)
		assert.True(t, auths[1].Reauth)
		assert.Equal(t, map[string]string{"round": "two"}, auths[1].Extensions)
		assert.Equal(t, auths[0].Conn, auths[1].Conn, "one connection")
		assert.Equal(t, 1, b.Connections())
		assert.Equal(t, "alice", auths[1].Principal)
	})
	t.Run("re-authentication cannot change the principal", func(t *testing.T) {
		t.Parallel()
		b, w := open(t, BrokerOptions{MaxReauth: time.Minute})
		w.handshake(1)
		require.Zero(t, w.authenticate(brokerTestFirst(alice)).ErrorCode)
		w.handshake(1)
		resp := w.authenticate(brokerTestFirst(bob))
		assert.Equal(t, kerr.SaslAuthenticationFailed.Code, resp.ErrorCode)
		assert.Equal(t, "Cannot change principals during re-authentication from User.alice: User.bob", brokerTestErrMsg(resp))
		w.requireClosed()
		assert.Equal(t, rejectreason.PrincipalChanged, b.Authentications()[1].Reason)
	})
	t.Run("handshake v0 uses raw SASL tokens", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, BrokerOptions{})
		w.handshake(0)
		msg := brokerTestFirst(alice)
		_, err := w.conn.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...))
		require.NoError(t, err)
		body, err := w.readFrame()
		require.NoError(t, err)
		assert.Empty(t, body)
		w.metadataOK()
	})
	t.Run("oversized frame before authentication closes", func(t *testing.T) {
		t.Parallel()
		_, w := open(t, BrokerOptions{})
		_, err := w.conn.Write(binary.BigEndian.AppendUint32(nil, 600*1024))
		require.NoError(t, err)
		w.requireClosed()
	})
}

func TestStartBrokerOptions(t *testing.T) {
	t.Parallel()
	_, err := startBroker(nil)
	require.ErrorContains(t, err, "BrokerOptions")
	_, err = startBroker(&BrokerOptions{})
	require.ErrorContains(t, err, "JWKSURL")
	_, err = startBroker(&BrokerOptions{JWKSURL: "http://127.0.0.1:1/jwks", ExpectedIssuer: "i", ExpectedAudience: "a", MaxReauth: -time.Second})
	require.ErrorContains(t, err, "MaxReauth")
}

// TestStartBrokerNeedsAudienceAndIssuer pins Kafka 4.4's startup rule
// (BrokerJwtValidator.configure in kafka-clients 4.4.0): a JWKS-validating
// listener needs sasl.oauthbearer.expected.audience and .expected.issuer
// unless the matching allow.unverified option is true. Fails before the
// 4.4 default: the broker started with no audience and accepted any aud,
// which its godoc called Kafka's default.
func TestStartBrokerNeedsAudienceAndIssuer(t *testing.T) {
	t.Parallel()
	iss := idptest.NewIssuer(t, nil)
	_, err := startBroker(&BrokerOptions{Issuer: iss})
	require.ErrorContains(t, err, "BrokerOptions.ExpectedAudience is empty")
	_, err = startBroker(&BrokerOptions{JWKSURL: iss.JWKSURL, ExpectedAudience: "kafka"})
	require.ErrorContains(t, err, "BrokerOptions.ExpectedIssuer is empty")
	_, err = startBroker(&BrokerOptions{Issuer: iss, AllowUnverifiedAudience: true, RejectAudienceWhenUnset: true})
	require.ErrorContains(t, err, "pick one")

	// The opt-outs: any aud (and any iss) is accepted, like
	// allow.unverified.audience/issuer=true.
	b := NewBroker(t, &BrokerOptions{JWKSURL: iss.JWKSURL, AllowUnverifiedAudience: true, AllowUnverifiedIssuer: true})
	for _, tok := range []string{
		iss.Mint("alice", "anything", time.Hour, nil),
		iss.Mint("alice", "", time.Hour, map[string]any{"aud": nil, "iss": "elsewhere"}),
	} {
		w := brokerTestDial(t, b)
		w.handshake(1)
		resp := w.authenticate(brokerTestFirst(tok))
		require.Zero(t, resp.ErrorCode, brokerTestErrMsg(resp))
		require.Empty(t, resp.SASLAuthBytes)
	}
}

// TestBrokerNoGoroutineLeak is not parallel: it compares goroutines before
// and after a broker's whole life, including a re-authentication and a
// rejected connection.
func TestBrokerNoGoroutineLeak(t *testing.T) {
	before := leakcheck.Current()
	// The issuers live in a subtest, so they are closed (its cleanups)
	// before the count.
	t.Run("life", func(t *testing.T) { brokerLife(t) })
	leakcheck.VerifyNone(t, before)
}

// brokerLife starts a broker, authenticates well and badly, re-authenticates
// and closes the broker twice.
func brokerLife(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	forger := idptest.NewIssuer(t, &idptest.IssuerOptions{KeyID: tokenKid(t, iss.Mint("x", "y", time.Hour, nil))})
	b, err := startBroker(&BrokerOptions{Issuer: iss, AllowUnverifiedAudience: true, MaxReauth: time.Minute, Topics: []string{"l"}})
	require.NoError(t, err)

	good := iss.Mint("svc", "a", time.Hour, nil)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...), kgo.DefaultProduceTopic("l"),
		kgo.SASL(oauth.Auth{Token: good}.AsMechanism()))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr())
	cancel()
	cl.Close()

	w := brokerTestDial(t, b)
	w.handshake(1)
	require.NotEmpty(t, w.authenticate(brokerTestFirst(forger.Sign(map[string]any{"sub": "x"}))).SASLAuthBytes)
	w2 := brokerTestDial(t, b)
	w2.handshake(1)
	require.Zero(t, w2.authenticate(brokerTestFirst(good)).ErrorCode)
	w2.handshake(1)
	require.Zero(t, w2.authenticate(brokerTestFirst(good)).ErrorCode)

	b.Close()
	b.Close() // idempotent
	_ = w.conn.Close()
	_ = w2.conn.Close()
}

// oauthHandshake is a SaslHandshake v1 request for OAUTHBEARER.
func oauthHandshake() *kmsg.SASLHandshakeRequest {
	req := kmsg.NewPtrSASLHandshakeRequest()
	req.Version = 1
	req.Mechanism = "OAUTHBEARER"
	return req
}

// tokenKid reads the kid from a JWT's header.
func tokenKid(t *testing.T, token string) string {
	t.Helper()
	head, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	require.NoError(t, err)
	var h struct{ Kid string }
	require.NoError(t, json.Unmarshal(b, &h))
	require.NotEmpty(t, h.Kid)
	return h.Kid
}

// rejections counts the authentications b refused.
func rejections(b *Broker) int {
	n := 0
	for _, a := range b.Authentications() {
		if !a.Accepted {
			n++
		}
	}
	return n
}
