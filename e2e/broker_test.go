//go:build e2e

package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"

	"github.com/streamidentity/kafka-workload-identity/e2e/internal/kafkatest"
	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// audience is the "aud" every broker in these tests expects.
const audience = "kafka-e2e"

// startBroker starts a broker that trusts iss for audience; opts may set
// anything else (Reauth, ExtraProperties...).
func startBroker(t *testing.T, iss *idptest.Issuer, opts kafkatest.Options) *kafkatest.Broker {
	t.Helper()
	opts.JWKSURL = iss.JWKSURL
	opts.Issuer = iss.IssuerURL
	opts.Audience = audience
	return kafkatest.Start(t, opts)
}

// recordingMechanism wraps a SASL mechanism and keeps every non-empty
// server message (a successful OAUTHBEARER exchange ends with an empty
// one), because franz-go's OAUTHBEARER turns the broker's
// {"status":"invalid_token"} into a generic error.
type recordingMechanism struct {
	sasl.Mechanism
	mu         sync.Mutex
	challenges []string
}

func (m *recordingMechanism) Authenticate(ctx context.Context, host string) (sasl.Session, []byte, error) {
	s, first, err := m.Mechanism.Authenticate(ctx, host)
	if err != nil {
		return nil, nil, err
	}
	return recordingSession{s, m}, first, nil
}

func (m *recordingMechanism) Challenges() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.challenges...)
}

type recordingSession struct {
	sasl.Session
	m *recordingMechanism
}

func (s recordingSession) Challenge(resp []byte) (bool, []byte, error) {
	if len(resp) > 0 {
		s.m.mu.Lock()
		s.m.challenges = append(s.m.challenges, string(resp))
		s.m.mu.Unlock()
	}
	return s.Session.Challenge(resp)
}

// staticToken is franz-go's own OAUTHBEARER mechanism handing out one
// token, recorded.
func staticToken(token string) *recordingMechanism {
	return &recordingMechanism{Mechanism: oauth.Auth{Token: token}.AsMechanism()}
}

func newClient(t *testing.T, b *kafkatest.Broker, mech sasl.Mechanism, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr), kgo.SASL(mech)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

// TestRealBroker runs the basic cases against one broker, since each
// broker costs a JVM start.
func TestRealBroker(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	b := startBroker(t, iss, kafkatest.Options{})

	t.Run("ProduceConsumeWithIssuerToken", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		const topic = "e2e-smoke"
		mech := &recordingMechanism{Mechanism: oauth.Oauth(func(context.Context) (oauth.Auth, error) {
			// A fresh token per connection, as a real TokenSource adapter does.
			return oauth.Auth{Token: iss.Mint("svc-smoke", audience, 10*time.Minute, nil)}, nil
		})}
		cl := newClient(t, b, mech,
			kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		)
		kafkatest.CreateTopic(ctx, t, cl, topic, 1)

		want := &kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte("hello from a JWT")}
		require.NoError(t, cl.ProduceSync(ctx, want).FirstErr())

		var got []*kgo.Record
		for len(got) == 0 {
			fs := cl.PollFetches(ctx)
			require.NoError(t, ctx.Err(), "no record consumed before the deadline")
			for _, fe := range fs.Errors() {
				require.NoError(t, fe.Err, "fetch %s/%d", fe.Topic, fe.Partition)
			}
			got = append(got, fs.Records()...)
		}
		require.Len(t, got, 1)
		assert.Equal(t, want.Key, got[0].Key)
		assert.Equal(t, want.Value, got[0].Value)
		assert.Empty(t, mech.Challenges(), "a valid token gets no error challenge")

		// The broker took the principal from "sub".
		line, err := b.WaitForLog(ctx, 0, "Successfully authenticate User=svc-smoke")
		require.NoError(t, err)
		t.Logf("broker: %s", line)
	})

	// Each token would pass every check but one. The client sees the same
	// {"status":"invalid_token"} challenge for all; the reason is only in
	// the broker log.
	forger, stranger := kafkatest.Impostors(t, iss)
	rejections := map[string]struct {
		token   func() string
		wantLog string
	}{
		"ForgedSignature": {
			// The kid is the real one, so only a broker that verifies
			// signatures refuses (Kafka 4.1.0 and 4.1.1 did not).
			token:   func() string { return forger.Sign(claims(iss, "svc-forged", audience, 10*time.Minute)) },
			wantLog: "JWT rejected due to invalid signature",
		},
		"UnknownKid": {
			token:   func() string { return stranger.Sign(claims(iss, "svc-unknown-kid", audience, 10*time.Minute)) },
			wantLog: `Unable to find a suitable verification key for JWS w/ header {"alg":"RS256","kid":"unknown-`,
		},
		"WrongAudience": {
			token:   func() string { return iss.Mint("svc-wrong-aud", "not-kafka", 10*time.Minute, nil) },
			wantLog: "Audience (aud) claim [not-kafka] doesn't contain an acceptable identifier",
		},
		"WrongIssuer": {
			token: func() string {
				return iss.Mint("svc-wrong-iss", audience, 10*time.Minute, map[string]any{"iss": "https://evil.example"})
			},
			wantLog: "Issuer (iss) claim value (https://evil.example) doesn't match expected value",
		},
		"Expired": {
			// Beyond the broker's 30 s clock skew.
			token:   func() string { return iss.Mint("svc-expired", audience, -2*time.Minute, nil) },
			wantLog: "The JWT is no longer valid",
		},
		"NoSubject": {
			token:   func() string { return iss.Mint("", audience, 10*time.Minute, map[string]any{"sub": nil}) },
			wantLog: "sub value must be non-null",
		},
	}
	for name, tc := range rejections {
		t.Run("Rejects"+name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			mark := b.LogMark()
			mech := staticToken(tc.token())
			cl := newClient(t, b, mech)

			_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
			require.Error(t, err, "the broker accepted the token")
			require.NoError(t, ctx.Err(), "the client should fail fast, not time out")
			// franz-go's OAUTHBEARER reports the broker's error challenge this way.
			assert.ErrorContains(t, err, "unexpected data in oauth response")
			require.NotEmpty(t, mech.Challenges())
			assert.JSONEq(t, `{"status":"invalid_token"}`, mech.Challenges()[0])

			// The broker logs the reason before it answers, so this is quick.
			lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
			defer lcancel()
			line, err := b.WaitForLog(lctx, mark, tc.wantLog)
			require.NoError(t, err)
			t.Logf("broker: %s", line)
		})
	}
}

// claims are the standard claims Issuer.Mint would set, for Sign, which
// takes raw claims.
func claims(iss *idptest.Issuer, sub, aud string, ttl time.Duration) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": iss.IssuerURL, "sub": sub, "aud": aud,
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(ttl).Unix(),
	}
}

// TestRealBrokerReauth checks Options.Reauth end to end: the broker caps
// the session at connections.max.reauth.ms, tells the client, and
// franz-go re-authenticates (KIP-368) on the same connection with a new
// token from the callback.
func TestRealBrokerReauth(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	b := startBroker(t, iss, kafkatest.Options{Reauth: 3 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	mech := oauth.Oauth(func(context.Context) (oauth.Auth, error) {
		return oauth.Auth{Token: iss.Mint("svc-reauth", audience, 10*time.Minute, nil)}, nil
	})
	cl := newClient(t, b, mech)
	mark := b.LogMark()
	_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	require.NoError(t, err)
	line, err := b.WaitForLog(ctx, mark, "session max lifetime from broker config=3000 ms")
	require.NoError(t, err)
	t.Logf("broker: %s", line)

	// Keep the connections busy past the session lifetime: a request
	// after ~95% of it must be preceded by a re-authentication, which the
	// broker logs with a REAUTH_* state.
	for {
		_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
		require.NoError(t, err, "a request failed across re-authentication")
		wctx, wcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		line, err := b.WaitForLog(wctx, mark, "REAUTH")
		wcancel()
		if err == nil {
			t.Logf("broker: %s", line)
			break
		}
		require.NoError(t, ctx.Err(), "no re-authentication within the deadline")
	}
	// The re-authenticated session still serves requests.
	_, err = kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	require.NoError(t, err)
}
