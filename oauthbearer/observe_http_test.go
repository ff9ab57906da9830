package oauthbearer_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// TestErrorTypesOfRealRequests: failures of real identity-provider
// requests through the module's HTTP client are classified by what the
// request saw: a refused connection, an untrusted certificate, a reply
// that never came within the fetch timeout.
func TestErrorTypesOfRealRequests(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()                                   // a certificate nobody trusts
	defer tlsSrv.Close()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)

	for want, url := range map[string]string{
		oauthbearer.ErrorTypeConnect: closed,
		oauthbearer.ErrorTypeTLS:     tlsSrv.URL,
		oauthbearer.ErrorTypeTimeout: slow.URL,
	} {
		rec := &recorder{}
		hc := idphttp.Client(nil, "test")
		src := oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
			if err != nil {
				return oauthbearer.Token{}, err
			}
			resp, err := idphttp.Do(hc, "test", req)
			if err != nil {
				return oauthbearer.Token{}, oauthbearer.Transient(err, 0)
			}
			_ = resp.Body.Close()
			return oauthbearer.Token{}, oauthbearer.Transient(context.Canceled, 0)
		})
		timeout := 10 * time.Second
		if want == oauthbearer.ErrorTypeTimeout {
			timeout = 200 * time.Millisecond
		}
		fetch := func(o *oauthbearer.CacheOptions) {
			o.FetchTimeout = timeout
			c, err := oauthbearer.NewCache(src, o)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			_, err = c.Token(ctx)
			cancel()
			require.Error(t, err)
			require.NoError(t, c.Close())
		}
		fetch(&oauthbearer.CacheOptions{Observer: rec})
		rec.mu.Lock()
		require.NotEmpty(t, rec.ends, want)
		assert.Equal(t, want, rec.ends[0].ErrorType, "%s: %v", url, rec.ends[0].Err)
		require.NotEmpty(t, rec.requests, want)
		assert.Equal(t, want, rec.requests[0].ErrorType)
		rec.mu.Unlock()

		// Without an Observer, OnRefresh sees the same type: the error
		// it gets is sealed (scrubbed, no SDK or net types behind it),
		// so the type comes from the request the gate saw.
		events := make(chan oauthbearer.RefreshEvent, 16)
		fetch(&oauthbearer.CacheOptions{OnRefresh: func(ev oauthbearer.RefreshEvent) { events <- ev }})
		ev := <-events
		assert.Equal(t, want, ev.ErrorType, "OnRefresh without an Observer: %s: %v", url, ev.Err)
	}
}
