//go:build cgo

// The table includes confluent-kafka-go (librdkafka, cgo); tests run with cgo
// (-race needs it too).

package entrypoints

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/franzsasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/kafkagosasl"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/saramasasl"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
	"github.com/streamidentity/kafka-workload-identity/schemaregistry"
	"github.com/streamidentity/kafka-workload-identity/tokenfile"
)

// recorder is a token source that records how long each Token call's
// context had left: the fetch timeout the entry point applied.
type recorder struct{ left chan time.Duration }

func newRecorder() *recorder { return &recorder{left: make(chan time.Duration, 16)} }

func (r *recorder) Token(ctx context.Context) (oauthbearer.Token, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		r.left <- -1
	} else {
		r.left <- time.Until(dl)
	}
	return oauthbearer.Token{Value: "a.b.c", Expiry: time.Now().Add(time.Hour)}, nil
}

type nopClient struct{}

func (nopClient) SetOAuthBearerToken(kafka.OAuthBearerToken) error { return nil }
func (nopClient) SetOAuthBearerTokenFailure(string) error          { return nil }

type okTransport struct{}

func (okTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}}, nil
}

const properties = `bootstrap.servers=broker.example.test:9092
security.protocol=SASL_SSL
sasl.mechanism=OAUTHBEARER
sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler
sasl.oauthbearer.token.endpoint.url=https://login.example.test/token
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='app' clientSecret='s3cr3t-value' %s;
`

// fetchTimeoutEntry is one way to set a FetchTimeout. build sets it to d
// (0: leave it unset) around src and returns a function making one token
// fetch through the entry point, or the construction error.
type fetchTimeoutEntry struct {
	name    string
	setting string // as the error must name it
	build   func(t *testing.T, src oauthbearer.TokenSource, d time.Duration) (fetch func(), err error)
	// constructOnly entries are sources whose fetch goes to a real
	// service: only their construction is checked (the cache row covers
	// the default, which they apply through oauthbearer.NewCache).
	constructOnly bool
}

func fetchTimeoutEntries() []fetchTimeoutEntry {
	cache := func(t *testing.T, src oauthbearer.TokenSource, o *oauthbearer.CacheOptions) (func(), error) {
		c, err := oauthbearer.NewCache(src, o)
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { _ = c.Close() })
		return func() { _, err := c.Token(context.Background()); require.NoError(t, err) }, nil
	}
	return []fetchTimeoutEntry{
		{"code: oauthbearer.CacheOptions", "CacheOptions.FetchTimeout", func(t *testing.T, src oauthbearer.TokenSource, d time.Duration) (func(), error) {
			return cache(t, src, &oauthbearer.CacheOptions{FetchTimeout: d})
		}, false},
		{"client.properties: sasl.login.connect.timeout.ms", "sasl.login.connect.timeout.ms", func(t *testing.T, src oauthbearer.TokenSource, d time.Duration) (func(), error) {
			text := fmt.Sprintf(properties, "")
			if d != 0 {
				text += fmt.Sprintf("sasl.login.connect.timeout.ms=%d\n", d.Milliseconds())
			}
			cfg, err := clientprops.Parse(strings.NewReader(text))
			if err != nil {
				return nil, err
			}
			return cache(t, src, cfg.Cache)
		}, false},
		{"source: oauthclient.ClientCredentialsOptions.Cache", "CacheOptions.FetchTimeout", func(t *testing.T, _ oauthbearer.TokenSource, d time.Duration) (func(), error) {
			_, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{
				TokenURL: "https://login.example.test/token", ClientID: "app", ClientSecret: "s3cr3t-value",
				Cache: &oauthbearer.CacheOptions{FetchTimeout: d}})
			return nil, err
		}, true},
		{"source: confluent.STSOptions.Cache", "CacheOptions.FetchTimeout", func(t *testing.T, src oauthbearer.TokenSource, d time.Duration) (func(), error) {
			_, err := confluent.NewSTS(src, &confluent.STSOptions{IdentityPoolID: "pool-7yzk", Cache: &oauthbearer.CacheOptions{FetchTimeout: d}})
			return nil, err
		}, true},
		{"adapter: franzsasl", "franzsasl: Options.FetchTimeout", func(t *testing.T, src oauthbearer.TokenSource, d time.Duration) (func(), error) {
			m, err := franzsasl.Mechanism(src, &franzsasl.Options{FetchTimeout: d})
			if err != nil {
				return nil, err
			}
			return func() { _, _, err := m.Authenticate(context.Background(), "broker:9092"); require.NoError(t, err) }, nil
		}, false},
		{"adapter: kafkagosasl", "kafkagosasl: Options.FetchTimeout", func(t *testing.T, src oauthbearer.TokenSource, d time.Duration) (func(), error) {
			m, err := kafkagosasl.Mechanism(src, &kafkagosasl.Options{FetchTimeout: d})
			if err != nil {
				return nil, err
			}
			return func() { _, _, err := m.Start(context.Background()); require.NoError(t, err) }, nil
		}, false},
		{"adapter: saramasasl", "saramasasl: Options.FetchTimeout", func(t *testing.T, src oauthbearer.TokenSource, d time.Duration) (func(), error) {
			p, err := saramasasl.NewTokenProvider(src, &saramasasl.Options{FetchTimeout: d})
			if err != nil {
				return nil, err
			}
			return func() { _, err := p.Token(); require.NoError(t, err) }, nil
		}, false},
		{"adapter: confluentkafka", "confluentkafka: Options.FetchTimeout", func(t *testing.T, src oauthbearer.TokenSource, d time.Duration) (func(), error) {
			r, err := confluentkafka.NewRefresher(nopClient{}, src, &confluentkafka.Options{FetchTimeout: d})
			if err != nil {
				return nil, err
			}
			t.Cleanup(r.Close)
			// The refresher fetches at once, in the background.
			return synctest.Wait, nil
		}, false},
		{"adapter: schemaregistry.TransportOptions", "schemaregistry: TransportOptions.FetchTimeout", func(t *testing.T, src oauthbearer.TokenSource, d time.Duration) (func(), error) {
			tr, err := schemaregistry.NewTransport(src, &schemaregistry.TransportOptions{Base: okTransport{}, FetchTimeout: d})
			if err != nil {
				return nil, err
			}
			return func() {
				req, err := http.NewRequest(http.MethodGet, "https://psrc.example.test/subjects", nil)
				require.NoError(t, err)
				resp, err := tr.RoundTrip(req)
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
			}, nil
		}, false},
		{"adapter: schemaregistry.HeaderProviderOptions", "schemaregistry: HeaderProviderOptions.FetchTimeout", func(t *testing.T, src oauthbearer.TokenSource, d time.Duration) (func(), error) {
			p, err := schemaregistry.NewHeaderProvider(src, &schemaregistry.HeaderProviderOptions{FetchTimeout: d})
			if err != nil {
				return nil, err
			}
			return func() { _, err := p.GetAuthenticationHeader(); require.NoError(t, err) }, nil
		}, false},
	}
}

// A negative FetchTimeout is refused by every entry point with an
// *oauthbearer.OptionError for the field FetchTimeout, naming the setting
// as its user wrote it. Fails before the one FetchTimeout rule: franzsasl,
// kafkagosasl and saramasasl read it silently as the default, and
// confluentkafka and schemaregistry returned plain errors.
func TestEveryEntryPointRefusesANegativeFetchTimeout(t *testing.T) {
	t.Parallel()
	for _, e := range fetchTimeoutEntries() {
		t.Run(e.name, func(t *testing.T) {
			_, err := e.build(t, newRecorder(), -time.Millisecond)
			var oe *oauthbearer.OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, []string{"FetchTimeout"}, oe.Fields)
			assert.Contains(t, err.Error(), e.setting)
			assert.Contains(t, err.Error(), "must not be negative (0 means the default 30s)")
		})
	}
}

// Unset, every entry point bounds a fetch by oauthbearer.DefaultFetchTimeout;
// set, by the value given. synctest's clock does not move while the fetch
// runs, so the time left on the context is exactly the timeout.
func TestEveryEntryPointAppliesTheSameFetchTimeout(t *testing.T) {
	t.Parallel()
	for _, e := range fetchTimeoutEntries() {
		if e.constructOnly {
			continue
		}
		for _, set := range []time.Duration{0, 7 * time.Second} {
			t.Run(fmt.Sprintf("%s/%v", e.name, set), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					rec := newRecorder()
					fetch, err := e.build(t, rec, set)
					require.NoError(t, err)
					fetch()
					want := set
					if want == 0 {
						want = oauthbearer.DefaultFetchTimeout
					}
					select {
					case got := <-rec.left:
						assert.Equal(t, want, got)
					default:
						t.Fatal("the entry point made no fetch")
					}
				})
			})
		}
	}
}

// Every entry point that takes retry backoffs (the cache's options,
// client.properties' sasl.login.retry.backoff*.ms, confluentkafka's
// refresher, which retries as the cache does) refuses the same values
// with an *oauthbearer.OptionError for the same fields and the same
// message but for the options' name (a file's keys, in client.properties). Fails before: the refresher had its
// own check and plain errors; then the cache and the refresher checked
// the order in two functions with two messages ("MaxBackoff (100ms) is
// less than MinBackoff (500ms)" hid that 500ms was the default).
func TestEveryEntryPointRefusesTheSameBackoffs(t *testing.T) {
	t.Parallel()
	entries := map[string]func(minB, maxB time.Duration) error{
		"code: oauthbearer.CacheOptions": func(minB, maxB time.Duration) error {
			c, err := oauthbearer.NewCache(newRecorder(), &oauthbearer.CacheOptions{MinBackoff: minB, MaxBackoff: maxB})
			if err == nil {
				_ = c.Close()
			}
			return err
		},
		"client.properties": func(minB, maxB time.Duration) error {
			// The parser checks each line as it reads it: the maximum
			// first, so that the minimum is checked against it. 0 is
			// written by omitting the property (in a file it, too, means
			// the default).
			text := fmt.Sprintf(properties, "")
			if maxB != 0 {
				text += fmt.Sprintf("sasl.login.retry.backoff.max.ms=%d\n", maxB.Milliseconds())
			}
			if minB != 0 {
				text += fmt.Sprintf("sasl.login.retry.backoff.ms=%d\n", minB.Milliseconds())
			}
			_, err := clientprops.Parse(strings.NewReader(text))
			return err
		},
		"adapter: confluentkafka": func(minB, maxB time.Duration) error {
			r, err := confluentkafka.NewRefresher(nopClient{}, newRecorder(), &confluentkafka.Options{MinBackoff: minB, MaxBackoff: maxB})
			if err == nil {
				r.Close()
			}
			return err
		},
	}
	for name, build := range entries {
		for _, tc := range []struct {
			name       string
			minB, maxB time.Duration
			fields     []string
			msg        string // after "<Type>."
		}{
			{"negative min", -time.Millisecond, time.Second, []string{"MinBackoff"}, "MinBackoff is -1ms; it must not be negative (0 means the default 500ms)"},
			{"negative max", time.Millisecond, -time.Millisecond, []string{"MaxBackoff"}, "MaxBackoff is -1ms; it must not be negative (0 means the default 10s)"},
			{"max below min", time.Minute, time.Second, []string{"MaxBackoff", "MinBackoff"}, "MaxBackoff (1s) is less than %sMinBackoff (1m0s); raise MaxBackoff"},
			{"max below default min", 0, 100 * time.Millisecond, []string{"MaxBackoff", "MinBackoff"}, "MaxBackoff (100ms) is less than %sMinBackoff (default 500ms); raise MaxBackoff"},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				err := build(tc.minB, tc.maxB)
				var oe *oauthbearer.OptionError
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, tc.fields, oe.Fields)
				_, typ, _ := strings.Cut(oe.Options, ".")
				msg := tc.msg
				if strings.Contains(msg, "%s") {
					msg = fmt.Sprintf(msg, typ+".")
				}
				want := typ + "." + msg
				if name == "client.properties" {
					// A file's error names the file's keys for the
					// cache's fields, in the same message.
					want = strings.NewReplacer("CacheOptions.MinBackoff", "sasl.login.retry.backoff.ms",
						"CacheOptions.MaxBackoff", "sasl.login.retry.backoff.max.ms", "raise MaxBackoff", "raise sasl.login.retry.backoff.max.ms").Replace(want)
					assert.NotContains(t, err.Error(), "CacheOptions")
				}
				assert.Contains(t, err.Error(), want)
			})
		}
		t.Run(name+"/valid", func(t *testing.T) { require.NoError(t, build(time.Second, time.Minute)) })
	}
}

// durationEntry is one duration option whose zero means a default: build
// constructs through the entry point with the option set to d.
type durationEntry struct {
	options, field string // as the error names them
	def            time.Duration
	build          func(t *testing.T, d time.Duration) error
}

func durationEntries() []durationEntry {
	cache := func(field string, def time.Duration, set func(*oauthbearer.CacheOptions, time.Duration)) durationEntry {
		return durationEntry{"oauthbearer.CacheOptions", field, def, func(t *testing.T, d time.Duration) error {
			var o oauthbearer.CacheOptions
			set(&o, d)
			c, err := oauthbearer.NewCache(newRecorder(), &o)
			if err == nil {
				require.NoError(t, c.Close())
			}
			return err
		}}
	}
	refresher := func(field string, def time.Duration, set func(*confluentkafka.Options, time.Duration)) durationEntry {
		return durationEntry{"confluentkafka.Options", field, def, func(t *testing.T, d time.Duration) error {
			var o confluentkafka.Options
			set(&o, d)
			r, err := confluentkafka.NewRefresher(nopClient{}, newRecorder(), &o)
			if err == nil {
				r.Close()
			}
			return err
		}}
	}
	return []durationEntry{
		cache("SafetyMargin", time.Minute, func(o *oauthbearer.CacheOptions, d time.Duration) { o.SafetyMargin = d }),
		cache("MaxLifetime", 24*time.Hour, func(o *oauthbearer.CacheOptions, d time.Duration) { o.MaxLifetime = d }),
		cache("FetchTimeout", oauthbearer.DefaultFetchTimeout, func(o *oauthbearer.CacheOptions, d time.Duration) { o.FetchTimeout = d }),
		cache("MinBackoff", 500*time.Millisecond, func(o *oauthbearer.CacheOptions, d time.Duration) { o.MinBackoff = d }),
		refresher("FetchTimeout", oauthbearer.DefaultFetchTimeout, func(o *confluentkafka.Options, d time.Duration) { o.FetchTimeout = d }),
		refresher("MinBackoff", 500*time.Millisecond, func(o *confluentkafka.Options, d time.Duration) { o.MinBackoff = d }),
		refresher("ReadyTimeout", 10*time.Second, func(o *confluentkafka.Options, d time.Duration) { o.ReadyTimeout = d }),
		{"tokenfile.Options", "PollInterval", tokenfile.DefaultPollInterval, func(t *testing.T, d time.Duration) error {
			c, err := tokenfile.New(&tokenfile.Options{Path: filepath.Join(t.TempDir(), "token"), PollInterval: d})
			if err == nil {
				require.NoError(t, c.Close())
			}
			return err
		}},
		{"saramasasl.Options", "FetchTimeout", oauthbearer.DefaultFetchTimeout, func(t *testing.T, d time.Duration) error {
			_, err := saramasasl.NewTokenProvider(newRecorder(), &saramasasl.Options{FetchTimeout: d})
			return err
		}},
		{"schemaregistry.HeaderProviderOptions", "FetchTimeout", oauthbearer.DefaultFetchTimeout, func(t *testing.T, d time.Duration) error {
			_, err := schemaregistry.NewHeaderProvider(newRecorder(), &schemaregistry.HeaderProviderOptions{FetchTimeout: d})
			return err
		}},
	}
}

// Every duration option whose zero means a default, in every package,
// refuses a negative value through the one rule: an
// *oauthbearer.OptionError naming the options type and the field, with
// the same message but for their names, quoting the default from its one
// definition. Zero and a positive value are accepted. Fails before:
// tokenfile's PollInterval and confluentkafka's ReadyTimeout were plain
// errors (the latter with a "10s" written apart from the default it
// described).
func TestEveryDurationOptionRefusesANegativeValueTheSameWay(t *testing.T) {
	t.Parallel()
	for _, e := range durationEntries() {
		t.Run(e.options+"."+e.field, func(t *testing.T) {
			t.Parallel()
			err := e.build(t, -time.Millisecond)
			var oe *oauthbearer.OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, e.options, oe.Options)
			assert.Equal(t, []string{e.field}, oe.Fields)
			pkg, typ, _ := strings.Cut(e.options, ".")
			assert.Equal(t, fmt.Sprintf("%s: %s.%s is -1ms; it must not be negative (0 means the default %s)", pkg, typ, e.field, e.def), err.Error())
			require.NoError(t, e.build(t, 0))
			require.NoError(t, e.build(t, 2*time.Second))
		})
	}
}
