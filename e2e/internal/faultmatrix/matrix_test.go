package faultmatrix

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/bodylimit"
	"github.com/streamidentity/kafka-workload-identity/internal/fakeclock"
	"github.com/streamidentity/kafka-workload-identity/internal/obstest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// Cache settings of every cell, on the fake clock except FetchTimeout,
// which bounds real network time.
const (
	margin       = 10 * time.Second
	minBackoff   = 5 * time.Second
	maxBackoff   = time.Minute
	fetchTimeout = time.Second
	retryAfter   = 7 * time.Second
	faultCount   = 1000 // "until cleared": more than any cell makes
)

// Outcomes of a refresh under a fault.
const (
	accepted  = "accepted"
	transient = "retried (transient)"
	permanent = "surfaced (permanent)"
)

type fault struct {
	name       string
	imdsOnly   bool
	retryAfter time.Duration
	inject     func(b *bench)
}

func statusFault(name string, code int, ra time.Duration, imdsOnly bool) fault {
	return fault{name: name, imdsOnly: imdsOnly, retryAfter: ra, inject: func(b *bench) { b.fail(b.status(code, ra)) }}
}

func plainFault(name string, f idptest.Fault) fault {
	return fault{name: name, inject: func(b *bench) { b.fail(f) }}
}

func shapeFault(name string, s shape) fault {
	return fault{name: name, inject: func(b *bench) { b.fail(b.shaped(s)) }}
}

var faults = []fault{
	statusFault("429 + Retry-After 7s", http.StatusTooManyRequests, retryAfter, false),
	statusFault("429, no Retry-After", http.StatusTooManyRequests, 0, false),
	statusFault("500", http.StatusInternalServerError, 0, false),
	statusFault("503", http.StatusServiceUnavailable, 0, false),
	statusFault("404 (IMDS starting)", http.StatusNotFound, 0, true),
	statusFault("410 (IMDS upgrading)", http.StatusGone, 0, true),
	{name: "connection refused", inject: func(b *bench) { b.closeIdP() }},
	plainFault("accepts, never answers", idptest.Fault{Hang: true}),
	plainFault("trickle, 1 byte/50ms", idptest.Fault{Trickle: 50 * time.Millisecond}),
	plainFault("malformed body", idptest.Fault{Malformed: true}),
	plainFault("oversized body, 8 MiB", idptest.Fault{Oversize: 8 << 20}),
	shapeFault("token without exp", noExp),
	shapeFault("token already expired", expired),
	shapeFault("exp 10 years away", farFuture),
	shapeFault("IdP clock 5m behind", skewed),
}

var kits = []kit{imdsKit(), workloadKit(), awsKit(), confluentSTSKit(), clientCredentialsKit(), mskKit(), gcpManagedKafkaKit(), gcpIDTokenKit()}

// result is one cell of the matrix.
type result struct {
	source, fault string
	outcome       string
	class         string
	firstReqs     int           // requests the IdP saw during the first refresh
	totalReqs     int           // requests until the token's safety margin
	attempts      int           // fetches until the token's safety margin
	kept          bool          // the primed token was served throughout
	stopped       bool          // past the token's usable time: transient failures probed at the backoff's pace, permanent ones not at all
	retryAfterOK  bool          // no retry before the server's Retry-After
	life, jwtLife time.Duration // of an accepted token, by its expiry and by its exp claim
	note          string
}

// want is the expected outcome of a cell; contains, if set, must appear
// in the error.
type want struct {
	outcome  string
	contains string
}

// expectation returns the expected outcome of fault f for source k.
func expectation(k, f string) want {
	if w, ok := overrides[k+"/"+f]; ok {
		return w
	}
	switch f {
	case "token without exp":
		return want{permanent, "expir"}
	case "token already expired":
		return want{transient, "safety margin"}
	case "exp 10 years away":
		return want{outcome: accepted}
	case "IdP clock 5m behind":
		// The cache trusts the JWT's exp over expires_in (the broker
		// judges by exp): at the refresh, the fresh token's exp, 5
		// minutes early on the IdP's clock, is already within the safety
		// margin, so the refresh is retried while the held token is
		// served. Before the exp clamp, expires_in sources held such a
		// token past its exp and the broker rejected it.
		return want{transient, "safety margin"}
	case "oversized body, 8 MiB":
		return want{contains: "larger than"}
	case "accepts, never answers":
		return want{transient, "deadline exceeded"}
	case "trickle, 1 byte/50ms":
		// The fetch timeout cuts the body read short; depending on the
		// moment, clients report the deadline or the closed connection.
		return want{outcome: transient}
	}
	return want{outcome: transient}
}

// overrides are the cells whose outcome differs from the fault's norm,
// with the reason.
var overrides = map[string]want{
	// MSAL refuses a reply without expires_in/expires_on as garbage; the
	// azure source marks unparseable replies transient.
	"azure managed identity/token without exp":  {transient, "expires_in and expires_on are both missing"},
	"azure workload identity/token without exp": {transient, "expires_in and expires_on are both missing"},
	// azidentity's confidential client drops the context error from a
	// timed-out token request; the azure hint still says it is retried.
	"azure workload identity/accepts, never answers": {transient, "could not be reached"},
	// An already expired token arrives with expires_in -3600, which the
	// confluent sources reject as a broken reply.
	"confluent sts exchange/token already expired":   {permanent, "not a positive number"},
	"oauth client credentials/token already expired": {permanent, "not a positive number"},
	// The body limit stops azcore's download of the reply; MSAL's
	// confidential client reports that as a bare "server response error"
	// (without the limit it would read all 8 MiB and fail to decode JSON).
	"azure workload identity/oversized body, 8 MiB": {transient, "server response error"},
	// The confluent sources treat an oversized reply as a wrong URL.
	"confluent sts exchange/oversized body, 8 MiB":   {permanent, "larger than"},
	"oauth client credentials/oversized body, 8 MiB": {permanent, "larger than"},
	// A refused connection to an Azure identity endpoint will not heal by
	// waiting (not on Azure, no identity assigned, a wrong host): the
	// azure sources fail fast with what it means, and the cache answers
	// callers with it until its backoff ends, then tries again (#15). A
	// held token is still served and refreshed in the background.
	"azure managed identity/connection refused":  {permanent, "no managed identity reachable"},
	"azure workload identity/connection refused": {permanent, "cannot be reached"},
	// The metadata server's expires_in is relative, so a server whose
	// clock is behind still hands out a token with its full lifetime.
	"gcp managed kafka/IdP clock 5m behind": {outcome: accepted},
	// A reply without expires_in (or an ID token without exp) is refused
	// as broken; the body limit stops an oversized reply.
	"gcp managed kafka/oversized body, 8 MiB": {permanent, "larger than"},
	"gcp id token/oversized body, 8 MiB":      {permanent, "larger than"},
}

func TestFaultMatrix(t *testing.T) {
	iss := idptest.NewIssuer(t, nil)
	var mu sync.Mutex
	var rows []result
	var skipped []string
	t.Run("cells", func(t *testing.T) {
		for _, k := range kits {
			if k.skip != "" {
				skipped = append(skipped, k.name+": "+k.skip)
				continue
			}
			for _, f := range faults {
				if f.imdsOnly && !k.imds {
					continue
				}
				t.Run(k.name+"/"+f.name, func(t *testing.T) {
					t.Parallel()
					r := runCell(t, iss, k, f)
					mu.Lock()
					rows = append(rows, r)
					mu.Unlock()
				})
			}
		}
	})
	cells := 0
	for _, k := range kits {
		for _, f := range faults {
			if k.skip == "" && (!f.imdsOnly || k.imds) {
				cells++
			}
		}
	}
	require.Len(t, rows, cells, "every cell ran")
	t.Log("\n" + render(rows, skipped))
}

func runCell(t *testing.T, iss *idptest.Issuer, k kit, f fault) result {
	r := result{source: k.name, fault: f.name}
	clk := fakeclock.New(time.Now())
	events := make(chan oauthbearer.RefreshEvent, 1024)
	// obstest.TopDraw pins the primed token's refresh to 80% of its life,
	// where the cell injects its fault.
	co := &oauthbearer.CacheOptions{Clock: clk, Jitter: 1e-9, Rand: obstest.TopDraw{}, SafetyMargin: margin, FetchTimeout: fetchTimeout,
		MinBackoff: minBackoff, MaxBackoff: maxBackoff, OnRefresh: func(ev oauthbearer.RefreshEvent) { events <- ev }}
	b := k.start(t, iss, co)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	tok0, err := b.src.Token(ctx)
	require.NoError(t, err, "priming")
	prime := next(t, events)
	life := tok0.Expiry.Sub(prime.Start)
	usable := tok0.Expiry.Add(-min(margin, life/10))
	refreshAt := prime.Start.Add(time.Duration(0.8 * float64(life)))

	before := len(b.idp.Requests())
	f.inject(b)
	clk.Advance(refreshAt.Sub(clk.Now()) + time.Millisecond)
	ev := next(t, events)
	r.firstReqs = len(b.idp.Requests()) - before
	r.attempts = 1

	if ev.Err == nil {
		r.outcome = accepted
		tok, err := b.src.Token(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, tok0.Value, tok.Value, "the refreshed token replaces the primed one")
		// Measured on the real clock, the one the IdP and brokers use.
		r.life = time.Until(tok.Expiry).Round(time.Minute)
		if exp, ok := jwtExp(tok.Value); ok {
			r.jwtLife = time.Until(exp).Round(time.Minute)
		}
		// Whatever the token's expiry, the next refresh comes within
		// MaxLifetime (24h by default).
		clk.Advance(24 * time.Hour)
		next(t, events)
		r.note = "next refresh within 24h"
		w := expectation(k.name, f.name)
		assert.Equal(t, w.outcome, accepted)
		if f.name == "exp 10 years away" {
			assert.Greater(t, r.life, 5*365*24*time.Hour)
		}
		r.kept, r.stopped, r.retryAfterOK = true, true, true
		r.totalReqs = len(b.idp.Requests()) - before
		return r
	}

	r.class = errClass(ev.Err)
	r.outcome = permanent
	if oauthbearer.IsTransient(ev.Err) {
		r.outcome = transient
	}
	r.retryAfterOK = ev.NextRetry.Sub(ev.Start) >= f.retryAfter
	r.kept = true
	check := func() {
		got, err := b.src.Token(ctx)
		if err != nil || got.Value != tok0.Value {
			r.kept = false
		}
	}
	check()
	// Retries run in the background, backing off, while the token lasts.
	for ev.NextRetry.Before(usable) {
		clk.Advance(ev.NextRetry.Sub(clk.Now()) + time.Millisecond)
		ev = next(t, events)
		r.attempts++
		if clk.Now().Before(usable) {
			check()
		}
		if f.retryAfter > 0 && ev.Err != nil && ev.NextRetry.Sub(ev.Start) < f.retryAfter {
			r.retryAfterOK = false
		}
		require.Error(t, ev.Err, "the fault is still there")
	}
	r.totalReqs = len(b.idp.Requests()) - before
	// Once the token is past its safety margin, a transient failure is
	// probed by the cache itself, without a caller, at the backoff's pace
	// (at most one request per MaxBackoff once at the cap), so that it
	// holds a token soon after the IdP's return; a permanent one is not
	// retried for an idle client.
	if r.outcome == transient {
		clk.Advance(max(ev.NextRetry.Sub(clk.Now()), 0) + time.Millisecond)
		probe := next(t, events)
		require.Error(t, probe.Err, "the fault is still there")
		r.stopped = !probe.Background && !probe.Start.Before(ev.NextRetry) &&
			probe.NextRetry.Sub(probe.Start) <= max(f.retryAfter, maxBackoff)+maxBackoff/4+time.Millisecond
	} else {
		clk.Advance(usable.Sub(clk.Now()) + time.Hour)
		r.stopped = clk.Pending() == 0 && len(events) == 0
	}

	// A caller now gets the error, never the expired token. After a
	// transient failure the next probe is pending on the fake clock, so a
	// caller would wait for it: ask with a context that has ended.
	askCtx := ctx
	if r.outcome == transient {
		ended, cancel := context.WithCancel(ctx)
		cancel()
		askCtx = ended
	}
	_, err = b.src.Token(askCtx)
	require.Error(t, err)
	assert.Equal(t, r.outcome == transient, oauthbearer.IsTransient(err), "callers see the same class: %v", err)
	w := expectation(k.name, f.name)
	if w.outcome != "" {
		assert.Equal(t, w.outcome, r.outcome, "%v", err)
	}
	if w.contains != "" {
		assert.Contains(t, err.Error(), w.contains)
	}
	assert.True(t, r.kept, "the primed token was served until its safety margin")
	assert.True(t, r.stopped, "past the token's safety margin, transient failures are probed at the backoff's pace and permanent ones not at all")
	assert.True(t, r.retryAfterOK, "no retry came before the server's Retry-After")
	assert.GreaterOrEqual(t, r.attempts, 2, "the refresh was retried in the background while the token lasted")
	// In-fetch retries are bounded: azidentity makes MaxRetries+1 attempts,
	// each after an OpenID discovery request for workload identity; the
	// other sources make one request per fetch.
	perFetch := 1
	if strings.HasPrefix(k.name, "azure") {
		perFetch = 2 * int(fastRetry.MaxRetries+1)
	}
	assert.LessOrEqual(t, r.firstReqs, perFetch)
	assert.LessOrEqual(t, r.totalReqs, perFetch*r.attempts)
	return r
}

func next(t *testing.T, events <-chan oauthbearer.RefreshEvent) oauthbearer.RefreshEvent {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(20 * time.Second):
		require.FailNow(t, "no fetch finished within 20s")
		return oauthbearer.RefreshEvent{}
	}
}

// errClass names the typed error a caller can match.
func errClass(err error) string {
	var le *bodylimit.Error
	var ae *azure.Error
	var oe *oauthclient.Error
	var api smithy.APIError
	switch {
	case errors.As(err, &le):
		return "body limit"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &ae):
		if ae.StatusCode != 0 {
			return fmt.Sprintf("*azure.Error %d", ae.StatusCode)
		}
		return "*azure.Error"
	case errors.As(err, &oe):
		return fmt.Sprintf("*oauthclient.Error %d", oe.StatusCode)
	case errors.As(err, &api):
		return "smithy.APIError " + api.ErrorCode()
	}
	return "untyped"
}

func render(rows []result, skipped []string) string {
	order := map[string]int{}
	for i, f := range faults {
		order[f.name] = i
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].source != rows[j].source {
			return rows[i].source < rows[j].source
		}
		return order[rows[i].fault] < order[rows[j].fault]
	})
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tFAULT\tOUTCOME\tERROR CLASS\tIDP REQS (1st/total)\tFETCHES\tKEPT TOKEN\tPACED AFTER\tRETRY-AFTER\tNOTE")
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "NO"
	}
	for _, r := range rows {
		ra := "-"
		if r.fault == faults[0].name {
			ra = yes(r.retryAfterOK)
		}
		kept, stop := yes(r.kept), yes(r.stopped)
		note := r.note
		if r.outcome == accepted {
			kept, stop = "replaced", "-"
			note = fmt.Sprintf("held for %s, JWT exp in %s; %s", r.life, r.jwtLife, r.note)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t%s\t%s\t%s\t%s\n", r.source, r.fault, r.outcome, r.class,
			r.firstReqs, r.totalReqs, r.attempts, kept, stop, ra, note)
	}
	_ = tw.Flush()
	for _, s := range skipped {
		b.WriteString("not in the matrix: " + s + "\n")
	}
	return b.String()
}

// jwtExp reads a JWT's exp claim without verifying it.
func jwtExp(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(raw, &c) != nil || c.Exp == 0 {
		return time.Time{}, false
	}
	return time.Unix(c.Exp, 0), true
}
