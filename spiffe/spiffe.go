package spiffe

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/streamidentity/kafka-workload-identity/internal/audience"
	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// SocketEnv is the environment variable that holds the Workload API
// address when [Options.Address] is empty, as every SPIFFE library reads
// it.
const SocketEnv = "SPIFFE_ENDPOINT_SOCKET"

// ErrNoIdentity is matched (errors.Is) by the error of a fetch the SPIFFE
// agent refused with PermissionDenied "no identity issued": no
// registration entry matches this process (or none with
// [Options.SPIFFEID]). The cache keeps retrying, because an agent learns
// of a new entry only at its next sync with the server (every 5 seconds
// for SPIRE).
var ErrNoIdentity = errors.New("no identity issued")

// ErrAgentUnavailable is matched (errors.Is) by the error of a fetch that
// could not reach a Workload API: no socket at the address, nothing
// listening on it, or an agent that stopped mid-call. It is transient:
// the cache retries, and the next fetch after the agent is back succeeds.
var ErrAgentUnavailable = errors.New("the SPIFFE Workload API is unreachable")

// Options configures [New]. Only Audience is required.
type Options struct {
	// Audience is the JWT-SVID's "aud": what the Kafka cluster expects
	// (its expected.audience). Required. No environment fallback.
	Audience string

	// SPIFFEID picks one of the workload's identities when its
	// registration entries give it several, such as
	// "spiffe://example.org/orders". Default: the first SVID the agent
	// returns. No environment fallback.
	SPIFFEID string

	// Address is the Workload API endpoint: "unix:///path/to/agent.sock"
	// or "tcp://127.0.0.1:8081" (loopback only: the Workload API is
	// plaintext gRPC). Default: the SPIFFE_ENDPOINT_SOCKET
	// environment variable; one of the two is required.
	Address string

	// Cache tunes the refreshing cache. Default: the
	// [oauthbearer.CacheOptions] defaults, named "spiffe jwt-svid". With
	// SPIRE's 5-minute JWT-SVIDs, the defaults refresh at about 4 minutes
	// and stop handing a token out 30 seconds before its exp.
	Cache *oauthbearer.CacheOptions
}

// source fetches one JWT-SVID per call through a Workload API client.
type source struct {
	client   *workloadapi.Client
	audience string
	id       spiffeid.ID // zero: any
	addr     string      // as configured, for errors
	setting  string      // where addr came from
}

// New returns a cached source of JWT-SVIDs for opts.Audience, fetched from
// the SPIFFE Workload API (a SPIRE agent, or any implementation of the
// SPIFFE Workload API). The token's Principal is the SVID's SPIFFE ID.
//
// New checks the options and prepares the gRPC connection without
// dialling: an agent that is not running yet is an error of the first
// Token call (matching [ErrAgentUnavailable]), not of New. Close the
// returned cache to close the connection.
func New(opts *Options) (*oauthbearer.Cache, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := audience.Check("spiffe.Options", "Audience", o.Audience, troubleshooting.See("spiffe-options")); err != nil {
		return nil, err
	}
	s := &source{audience: o.Audience, addr: o.Address, setting: "Options.Address"}
	if o.SPIFFEID != "" {
		id, err := spiffeid.FromString(o.SPIFFEID)
		if err != nil {
			return nil, fmt.Errorf("spiffe: Options.SPIFFEID %s is not a SPIFFE ID (%v); write it as spiffe://<trust-domain>/<path>; %s", srvtext.Quote(o.SPIFFEID, 0), err, troubleshooting.See("spiffe-options"))
		}
		s.id = id
	}
	if s.addr == "" {
		s.addr, s.setting = os.Getenv(SocketEnv), SocketEnv
	}
	if s.addr == "" {
		return nil, fmt.Errorf("spiffe: no Workload API address: set Options.Address or %s (for example unix:///run/spire/agent-sockets/spire-agent.sock); %s", SocketEnv, troubleshooting.See("spiffe-unreachable"))
	}
	if err := workloadapi.ValidateAddress(s.addr); err != nil {
		// go-spiffe's error may quote the whole address (url.Parse's, in
		// Go syntax): removed, as srvtext.URL removes its secrets.
		return nil, fmt.Errorf("spiffe: %s %q: %s; write it as unix:///path/to/agent.sock or tcp://<ip>:<port>; %s", s.setting, srvtext.URL(s.addr), srvtext.Field(err.Error(), s.addr, strconv.Quote(s.addr)), troubleshooting.See("spiffe-options"))
	}
	if err := checkLoopback(s.addr); err != nil {
		return nil, fmt.Errorf("spiffe: %s %q: %v; %s", s.setting, srvtext.URL(s.addr), err, troubleshooting.See("spiffe-options"))
	}
	// The agent is local: reconnect quickly after it restarts instead of
	// after gRPC's default backoff, which grows to two minutes while the
	// agent is away, longer than a third of a JWT-SVID's life.
	bo := backoff.DefaultConfig
	bo.MaxDelay = 2 * time.Second
	client, err := workloadapi.New(context.Background(), workloadapi.WithAddr(s.addr),
		workloadapi.WithDialOptions(grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: 5 * time.Second})))
	if err != nil {
		return nil, fmt.Errorf("spiffe: %s %q: %w", s.setting, srvtext.URL(s.addr), err)
	}
	s.client = client
	c, err := oauthbearer.NewCache(cacheopts.Kind(s, "spiffe jwt-svid"), cacheopts.WithName(o.Cache, "spiffe jwt-svid"))
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	return c, nil
}

// Token fetches one JWT-SVID. It is the raw source under the cache.
func (s *source) Token(ctx context.Context) (oauthbearer.Token, error) {
	svid, err := s.client.FetchJWTSVID(ctx, jwtsvid.Params{Audience: s.audience, Subject: s.id})
	if err != nil {
		return oauthbearer.Token{}, s.fetchError(err)
	}
	if !s.id.IsZero() && svid.ID != s.id {
		return oauthbearer.Token{}, fmt.Errorf("spiffe: asked the Workload API at %s for %s and got an SVID for %s; %s", s.where(), s.id, svid.ID, troubleshooting.See("spiffe-no-identity"))
	}
	return oauthbearer.Token{Value: svid.Marshal(), Expiry: svid.Expiry, Principal: svid.ID.String()}, nil
}

// Close closes the gRPC connection; the cache calls it from its Close.
func (s *source) Close() error { return s.client.Close() }

// where names the address as configured: ValidateAddress refused user
// info, query and fragment, so it holds nothing secret.
func (s *source) where() string {
	return fmt.Sprintf("%s (%s)", s.addr, s.setting)
}

// fetchError turns a Workload API failure into an error that says what
// to do. The agent's own text is quoted scrubbed and clipped.
func (s *source) fetchError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		// Not a gRPC status: go-spiffe's parsing of the agent's reply
		// (the SVID does not name the audience, has no exp, ...). An
		// expired SVID is an agent clock or cache problem that the next
		// signing may heal; the others repeat.
		if strings.Contains(err.Error(), "token has expired") {
			return oauthbearer.Transient(fmt.Errorf("spiffe: the Workload API at %s returned an expired JWT-SVID for audience %s (%s): is the agent's or this machine's clock wrong?; %s", s.where(), srvtext.Quote(s.audience, 0), srvtext.Field(err.Error()), troubleshooting.See("spiffe-audience")), 0)
		}
		return fmt.Errorf("spiffe: the JWT-SVID from the Workload API at %s for audience %s is unusable: %s; %s", s.where(), srvtext.Quote(s.audience, 0), srvtext.Field(err.Error()), troubleshooting.See("spiffe-audience"))
	}
	msg := srvtext.Field(st.Message())
	switch st.Code() {
	case codes.Unavailable:
		hint := "is the SPIFFE agent running, and is this the socket it serves?"
		switch {
		case strings.Contains(msg, "no such file or directory"):
			hint = "no socket there: the SPIFFE agent is not running, or its socket is elsewhere"
		case strings.Contains(msg, "connection refused"):
			hint = "nothing is listening there: the SPIFFE agent is not running"
		}
		return oauthbearer.Transient(fmt.Errorf("spiffe: %w at %s: %s (%s); %s", ErrAgentUnavailable, s.where(), hint, msg, troubleshooting.See("spiffe-unreachable")), 0)
	case codes.PermissionDenied:
		want := "this process"
		if !s.id.IsZero() {
			want = fmt.Sprintf("this process with SPIFFE ID %s (Options.SPIFFEID)", s.id)
		}
		return oauthbearer.Transient(fmt.Errorf("spiffe: the Workload API at %s refused: %w (%s): no registration entry matches %s; register the workload (for SPIRE: spire-server entry create with selectors that match it, such as unix:uid:%d) or fix its selectors; %s",
			s.where(), ErrNoIdentity, msg, want, os.Getuid(), troubleshooting.See("spiffe-no-identity")), 0)
	case codes.Canceled, codes.DeadlineExceeded:
		return oauthbearer.Transient(fmt.Errorf("spiffe: the Workload API at %s did not answer in time: %w", s.where(), err), 0)
	case codes.InvalidArgument:
		return fmt.Errorf("spiffe: the Workload API at %s refused the request as invalid (%s); check Options.Audience and Options.SPIFFEID; %s", s.where(), msg, troubleshooting.See("spiffe-options"))
	case codes.Unimplemented:
		return fmt.Errorf("spiffe: the endpoint at %s does not implement the SPIFFE Workload API's FetchJWTSVID (%s); point %s at a SPIFFE agent's Workload API socket; %s", s.where(), msg, s.setting, troubleshooting.See("spiffe-unreachable"))
	}
	return oauthbearer.Transient(fmt.Errorf("spiffe: the Workload API at %s failed: %s: %s", s.where(), st.Code(), msg), 0)
}

// checkLoopback refuses a tcp:// Workload API address that is not a
// loopback IP: the Workload API is plaintext gRPC (the agent attests the
// caller by its local peer), so an SVID fetched over the network would
// cross it in clear, and any host on the path could present it. A unix
// socket or a loopback port keeps it on the machine.
func checkLoopback(addr string) error {
	u, err := url.Parse(addr)
	if err != nil || u.Scheme != "tcp" {
		return nil // unix sockets are local; ValidateAddress checked the form
	}
	if !idphttp.IsLoopback(u.Hostname()) {
		return errors.New("a tcp Workload API address must be a loopback IP (127.0.0.1 or [::1]): the Workload API is plaintext gRPC, so an SVID fetched from another host would cross the network in clear; run the agent on this host and use its unix socket")
	}
	return nil
}
