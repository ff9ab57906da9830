package oauthbearer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"golang.org/x/oauth2"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// BenchmarkFleet simulates N processes, each with its own token cache,
// against one identity provider that admits R requests per second and
// answers 429 with Retry-After: 1 beyond that, on testing/synctest's fake
// clock (which drives this module's cache, azcore, MSAL and x/oauth2
// alike). Tokens live an hour. Each process runs a Kafka client's loop:
// it asks for a token, uses it until 90% of its remaining life (a
// broker's session), and after a failure asks again after Kafka's
// reconnect backoff (50ms doubling to 1s, ±20%).
//
// Scenarios: "cold" (all start at once; then a steady state over three
// lifetimes) and "outage" (the provider answers 503 for two lifetimes from
// minute 30). Contenders, in the same run: this module's Cache over a
// plain HTTP source; azure.NewManagedIdentity (azidentity and MSAL under
// the cache); golang.org/x/oauth2's ReuseTokenSource; azidentity's
// ManagedIdentityCredential used directly.
//
// KWI_FLEET_N sets N (default 100; the docs/fleet.md table uses 100,
// 1000 and 5000), KWI_FLEET_RATE sets R (default 20). Metrics are
// reported per run; the table in docs/fleet.md comes from them.
func BenchmarkFleet(b *testing.B) {
	n := envInt("KWI_FLEET_N", 100)
	rate := envInt("KWI_FLEET_RATE", 20)
	for _, sc := range []string{"cold", "outage"} {
		for _, c := range fleetContenders {
			b.Run(fmt.Sprintf("%s/%s/N=%d", sc, c.name, n), func(b *testing.B) {
				var r fleetResult
				for b.Loop() {
					r = inBubble(b, func() fleetResult { return runFleet(c, sc, n, rate) })
				}
				r.report(b, n, rate)
			})
		}
	}
}

// inBubble runs f inside a synctest bubble. synctest.Test takes a
// *testing.T, which a benchmark does not have, so it runs under
// testing.RunTests' own T.
func inBubble(b *testing.B, f func() fleetResult) fleetResult {
	var r fleetResult
	ok := testing.RunTests(func(string, string) (bool, error) { return true, nil }, []testing.InternalTest{{
		Name: b.Name(),
		F: func(t *testing.T) {
			synctest.Test(t, func(*testing.T) { r = f() })
		},
	}})
	if !ok {
		b.Fatal("the fleet simulation failed")
	}
	return r
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

const (
	fleetLife   = time.Hour
	outageStart = 30 * time.Minute
	outageLen   = 2 * fleetLife
)

// fleetProvider is the identity provider: a token bucket of rate tokens
// refilled each second, 503 during the outage, IMDS-shaped JSON replies.
type fleetProvider struct {
	rate      float64
	start     time.Time
	down      bool // outage scenario
	mu        sync.Mutex
	bucket    float64
	last      time.Time
	issued    map[string][2]time.Time // token -> issued, expiry
	perSecond map[int64]int
	requests  int
	throttled int
	inOutage  int
	n         int
}

func (p *fleetProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	p.mu.Lock()
	p.requests++
	p.perSecond[int64(now.Sub(p.start)/time.Second)]++
	el := now.Sub(p.start)
	if p.down && el >= outageStart && el < outageStart+outageLen {
		p.inOutage++
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"temporarily_unavailable"}`))
		return
	}
	p.bucket = min(p.rate, p.bucket+now.Sub(p.last).Seconds()*p.rate)
	p.last = now
	if p.bucket < 1 {
		p.throttled++
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":"too_many_requests"}`))
		return
	}
	p.bucket--
	p.n++
	tok := fmt.Sprintf("fleet-%d", p.n)
	exp := now.Add(fleetLife)
	p.issued[tok] = [2]time.Time{now, exp}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"access_token": tok, "expires_in": strconv.Itoa(int(fleetLife / time.Second)),
		"expires_on": strconv.FormatInt(exp.Unix(), 10), "resource": r.URL.Query().Get("resource"), "token_type": "Bearer",
	})
}

// client serves the provider's handler in the calling goroutine: no
// socket, so the bubble's fake clock keeps running.
func (p *fleetProvider) client() *http.Client {
	return &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		resp := rec.Result()
		resp.Request = req
		return resp, nil
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// NoMetadataProxy tells the credential gate that this in-process network
// sends metadata requests without a proxy, so the gate keeps it for them.
func (f roundTripFunc) NoMetadataProxy() {}

// getter is one process's way to get a token.
type getter struct {
	get   func(ctx context.Context) (string, error)
	close func()
}

type contender struct {
	name string
	make func(p *fleetProvider, i int) getter
}

var fleetContenders = []contender{
	{"cache", func(p *fleetProvider, i int) getter {
		hc := p.client()
		return cached(oauthbearer.NewCache(oauthbearer.TokenSourceFunc(func(ctx context.Context) (oauthbearer.Token, error) {
			return fetchPlain(ctx, hc)
		}), &oauthbearer.CacheOptions{Rand: rand.NewPCG(uint64(i), 1)}))
	}},
	{"azure-mi", func(p *fleetProvider, i int) getter {
		return cached(azure.NewManagedIdentity(&azure.ManagedIdentityOptions{
			Audience:   fmt.Sprintf("api://fleet-%d-%d", time.Now().UnixNano(), i), // MSAL's cache is per process: one scope per simulated process
			HTTPClient: p.client(),
			Cache:      &oauthbearer.CacheOptions{Rand: rand.NewPCG(uint64(i), 2)},
		}))
	}},
	{"x-oauth2-reuse", func(p *fleetProvider, i int) getter {
		hc := p.client()
		ts := oauth2.ReuseTokenSource(nil, oauth2Func(func() (*oauth2.Token, error) {
			t, err := fetchPlain(context.Background(), hc)
			if err != nil {
				return nil, err
			}
			return &oauth2.Token{AccessToken: t.Value, Expiry: t.Expiry}, nil
		}))
		return getter{func(context.Context) (string, error) {
			t, err := ts.Token()
			if err != nil {
				return "", err
			}
			return t.AccessToken, nil
		}, func() {}}
	}},
	{"azidentity", func(p *fleetProvider, i int) getter {
		cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
			ClientOptions: azcore.ClientOptions{Transport: p.client()},
		})
		if err != nil {
			panic(err)
		}
		scope := fmt.Sprintf("api://fleet-direct-%d-%d/.default", time.Now().UnixNano(), i)
		return getter{func(ctx context.Context) (string, error) {
			t, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
			return t.Token, err
		}, func() {}}
	}},
}

type oauth2Func func() (*oauth2.Token, error)

func (f oauth2Func) Token() (*oauth2.Token, error) { return f() }

var errThrottled = errors.New("throttled")

// fetchPlain is a plain token request, with the module's retry contract:
// 429 and 5xx are transient, with the Retry-After.
func fetchPlain(ctx context.Context, hc *http.Client) (oauthbearer.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://169.254.169.254/metadata/identity/oauth2/token?resource=fleet", nil)
	if err != nil {
		return oauthbearer.Token{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return oauthbearer.Token{}, oauthbearer.Transient(err, 0)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return oauthbearer.Token{}, oauthbearer.Transient(fmt.Errorf("%w: HTTP %d", errThrottled, resp.StatusCode), time.Duration(ra)*time.Second)
	}
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresOn   string `json:"expires_on"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return oauthbearer.Token{}, err
	}
	exp, _ := strconv.ParseInt(body.ExpiresOn, 10, 64)
	return oauthbearer.Token{Value: body.AccessToken, Expiry: time.Unix(exp, 0)}, nil
}

type fleetResult struct {
	requests, throttled, peak int
	coldRequests              int           // cold: requests until every process held a token
	t99, t100                 time.Duration // cold: from start; outage: from the provider's return
	perCacheLife              float64       // steady state: requests per cache per lifetime
	peakToMean                float64       // steady state, five-minute buckets
	outagePer10s              float64       // requests per cache per 10s during the outage
	expired                   int
}

// runFleet runs one scenario inside a synctest bubble.
func runFleet(c contender, scenario string, n, rate int) fleetResult {
	start := time.Now()
	p := &fleetProvider{rate: float64(rate), start: start, down: scenario == "outage", bucket: float64(rate), last: start,
		issued: map[string][2]time.Time{}, perSecond: map[int64]int{}}
	end := start.Add(4 * fleetLife)
	back := start.Add(outageStart + outageLen)
	if scenario == "outage" {
		end = back.Add(15 * time.Minute)
	}
	ctx, cancel := context.WithDeadline(context.Background(), end)
	defer cancel()

	var mu sync.Mutex
	var expired int
	first := make([]time.Duration, n) // first token, from start
	fresh := make([]time.Duration, n) // first token issued after the provider's return, from the return
	for i := range n {
		first[i], fresh[i] = -1, -1
	}
	var wg sync.WaitGroup
	for i := range n {
		g := c.make(p, i)
		rnd := rand.New(rand.NewPCG(uint64(i), 3))
		wg.Go(func() {
			defer g.close()
			backoff := 50 * time.Millisecond
			for ctx.Err() == nil {
				cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
				tok, err := g.get(cctx)
				ccancel()
				now := time.Now()
				if err != nil {
					d := time.Duration(float64(backoff) * (0.8 + 0.4*rnd.Float64()))
					backoff = min(2*backoff, time.Second)
					sleepCtx(ctx, d)
					continue
				}
				backoff = 50 * time.Millisecond
				p.mu.Lock()
				life, ok := p.issued[tok]
				p.mu.Unlock()
				mu.Lock()
				if !ok || !now.Before(life[1]) {
					expired++
				}
				if first[i] < 0 {
					first[i] = now.Sub(start)
				}
				if fresh[i] < 0 && !life[0].Before(back) {
					fresh[i] = now.Sub(back)
				}
				mu.Unlock()
				sleepCtx(ctx, max(time.Second, life[1].Sub(now)*9/10))
			}
		})
	}
	wg.Wait()

	r := fleetResult{requests: p.requests, throttled: p.throttled, expired: expired}
	for _, v := range p.perSecond {
		r.peak = max(r.peak, v)
	}
	times := first
	if scenario == "outage" {
		times = fresh
		r.outagePer10s = float64(p.inOutage) / float64(n) / (outageLen.Seconds() / 10)
	} else {
		// Five-minute buckets over the three lifetimes after the first:
		// at N=100 a minute holds about two refreshes, too few for a peak.
		var total, peak float64
		buckets := map[int64]float64{}
		for s, v := range p.perSecond {
			if s >= int64(fleetLife/time.Second) {
				buckets[s/300] += float64(v)
				total += float64(v)
			}
		}
		for _, v := range buckets {
			peak = max(peak, v)
		}
		r.perCacheLife = total / float64(n) / 3
		r.peakToMean = peak / (total / (3 * 12))
	}
	r.t99, r.t100 = quantiles(times)
	if scenario == "cold" && r.t100 >= 0 {
		for sec, v := range p.perSecond {
			if sec <= int64(r.t100/time.Second) {
				r.coldRequests += v
			}
		}
	}
	return r
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// quantiles returns the times by which 99% and 100% of processes had a
// token; -1 when some never did.
func quantiles(ts []time.Duration) (time.Duration, time.Duration) {
	s := slices.Clone(ts)
	slices.Sort(s)
	if s[0] < 0 {
		missing := 0
		for _, v := range s {
			if v < 0 {
				missing++
			}
		}
		if missing*100 > len(s) {
			return -1, -1
		}
		return s[len(s)-1], -1
	}
	return s[(len(s)*99+99)/100-1], s[len(s)-1]
}

func (r fleetResult) report(b *testing.B, n, rate int) {
	nr := time.Duration(float64(n) / float64(rate) * float64(time.Second))
	b.ReportMetric(float64(r.requests)/float64(n), "req/N")
	if r.coldRequests > 0 {
		b.ReportMetric(float64(r.coldRequests)/float64(n), "cold-req/N")
	}
	b.ReportMetric(float64(r.throttled)/float64(n), "429/N")
	b.ReportMetric(float64(r.peak), "peak-req/s")
	b.ReportMetric(ratio(r.t99, nr), "t99/(N/R)")
	b.ReportMetric(ratio(r.t100, nr), "t100/(N/R)")
	b.ReportMetric(r.t100.Seconds(), "t100-s")
	b.ReportMetric(float64(r.expired), "expired")
	if r.perCacheLife > 0 {
		b.ReportMetric(r.perCacheLife, "steady-req/cache/life")
		b.ReportMetric(r.peakToMean, "steady-peak/mean")
	}
	if r.outagePer10s > 0 {
		b.ReportMetric(r.outagePer10s, "outage-req/cache/10s")
	}
}

func ratio(d, nr time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return float64(d) / float64(nr)
}

// cached is the getter of a contender built on an *oauthbearer.Cache.
func cached(c *oauthbearer.Cache, err error) getter {
	if err != nil {
		panic(err)
	}
	return getter{func(ctx context.Context) (string, error) {
		t, err := c.Token(ctx)
		return t.Value, err
	}, func() { _ = c.Close() }}
}
