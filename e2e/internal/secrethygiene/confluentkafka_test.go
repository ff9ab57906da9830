//go:build cgo

package secrethygiene

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
)

// recordingClient stands in for a librdkafka handle: what the refresher
// passes to SetOAuthBearerTokenFailure reaches the application as an
// error, so it is collected like one.
type recordingClient struct {
	mu       sync.Mutex
	c        *collector
	set      chan struct{}
	failures chan struct{}
}

func (r *recordingClient) SetOAuthBearerToken(kafka.OAuthBearerToken) error {
	select {
	case r.set <- struct{}{}:
	default:
	}
	return nil
}

func (r *recordingClient) SetOAuthBearerTokenFailure(errstr string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.c.say(errstr)
	select {
	case r.failures <- struct{}{}:
	default:
	}
	return nil
}

// The confluent-kafka-go refresher needs cgo, so it has a test of its own.
func TestSecretHygieneConfluentKafka(t *testing.T) {
	c := newCollector()
	const tok = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb25mbHVlbnQta2Fma2EtZ28ifQ.c2lnbmF0dXJlLW9mLWEtdG9rZW4"
	c.secret("confluent-kafka-go token", tok)
	good := oauthbearer.StaticTokenSource(oauthbearer.Token{Value: tok, Expiry: time.Now().Add(time.Hour), Principal: "p"})
	calls := 0
	bad := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		calls++
		if calls == 1 {
			// A broken source that returns a token with an error.
			return oauthbearer.Token{Value: tok}, errors.New("idp said no")
		}
		return oauthbearer.Token{Value: tok, Extensions: map[string]string{"auth": "x"}, Expiry: time.Now().Add(time.Hour)}, nil
	})
	for name, src := range map[string]oauthbearer.TokenSource{"good": good, "failing": bad} {
		rc := &recordingClient{c: c, set: make(chan struct{}, 1), failures: make(chan struct{}, 1)}
		r, err := confluentkafka.NewRefresher(rc, src, &confluentkafka.Options{Logger: c.log, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
		require.NoError(t, err, name)
		if name == "good" {
			require.NoError(t, r.Ready(tctx(t)))
		} else {
			select {
			case <-rc.failures:
			case <-time.After(10 * time.Second):
				t.Fatal("the refresher never reported the failure")
			}
			// No token is ever set: Ready gives up with the last failure.
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			err := r.Ready(ctx)
			cancel()
			require.Error(t, err)
			c.err(err)
		}
		c.value(r) // after a token was set or refused
		r.Close()
	}
	// A broker's rejection as librdkafka reports it.
	c.err(confluentkafka.Explain(kafka.NewError(kafka.ErrAuthentication,
		`SASL authentication error: {"status":"invalid_token"} (after 3ms in state AUTH_REQ)`, false)))
	c.check(t)
}
