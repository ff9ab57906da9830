package spiffetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/streamidentity/kafka-workload-identity/idptest"
)

// Entry is a registration entry: callers whose process runs as user UID
// (SPIRE's unix workload attestor selector unix:uid:<UID>) are issued
// SVIDs for SPIFFEID.
type Entry struct {
	// SPIFFEID is the identity, such as "spiffe://example.org/orders".
	// Every entry's ID must be in the same trust domain. Required.
	SPIFFEID string
	// UID is the user the caller's process must run as, read from the
	// socket's peer credentials as SPIRE's agent reads it.
	UID int
}

// Options configures a [WorkloadAPI]. The zero value is valid.
type Options struct {
	// Entries are the registration entries. Default: one entry for
	// spiffe://example.org/workload and the current process's user.
	Entries []Entry
	// IssuerURL is the SVIDs' "iss" claim, SPIRE server's jwt_issuer.
	// Default: no "iss" claim, as SPIRE without jwt_issuer.
	IssuerURL string
	// Lifetime is the lifetime of issued SVIDs (exp - iat). Zero means
	// the default, 5m (SPIRE's default_jwt_svid_ttl); a negative value
	// issues SVIDs already expired by that much.
	Lifetime time.Duration
}

// Fault changes the answer to one FetchJWTSVID call; see
// [WorkloadAPI.FailNext]. Its fields mean what idptest.Fault's of the
// same name mean, in gRPC terms.
type Fault struct {
	// Code, if not codes.OK, fails the call with this gRPC status and
	// Message.
	Code    codes.Code
	Message string
	// Claims, if set, are merged into the SVID's claims before it is
	// signed; a nil value removes a claim (for example "exp"). The SVID
	// is not kept in the agent's cache.
	Claims map[string]any
	// Hang holds the call until the caller gives up.
	Hang bool
}

// WorkloadAPI is an emulator of a SPIRE agent's Workload API: the real
// gRPC service (SpiffeWorkloadAPI, the protocol go-spiffe and every SPIFFE
// library speak) on a unix socket in a temporary directory, issuing
// JWT-SVIDs signed with an ES256 key that has a kid. It is as strict as
// SPIRE v1.13's agent where a client can tell:
//
//   - every call must carry the metadata workload.spiffe.io: true, or it
//     fails with InvalidArgument "security header missing from request";
//   - the caller is attested from the socket's peer credentials (its
//     user ID, on Linux); no matching entry, or none with the requested
//     SPIFFE ID, is PermissionDenied "no identity issued";
//   - an empty audience is InvalidArgument "audience must be specified",
//     a malformed requested SPIFFE ID InvalidArgument too;
//   - an SVID's claims are sub (the SPIFFE ID), aud (an array), exp, iat
//     and, only with [Options.IssuerURL], iss; the header has alg ES256, kid
//     and typ JWT;
//   - the same SVID is returned for the same identity and audience until
//     half its life has passed, as the agent caches them; a restarted
//     agent ([WorkloadAPI.Start]) has forgotten them.
//
// FetchJWTBundles streams the trust domain's JWKS (keys marked "use":
// "jwt-svid", as SPIRE marks them) and ValidateJWTSVID validates tokens
// against it. The X.509 calls are Unimplemented. The same keys are served
// over HTTP at JWKSURL marked "use":"sig", the form a Kafka broker accepts
// (see docs/conformance.md).
type WorkloadAPI struct {
	// Address is the Workload API's address, "unix:///.../agent.sock": what
	// SPIFFE_ENDPOINT_SOCKET holds for a workload. It stays the same
	// across [WorkloadAPI.Stop] and [WorkloadAPI.Start].
	Address string
	// IssuerURL is the SVIDs' "iss" claim, [Options.IssuerURL] ("" if
	// none).
	IssuerURL string
	// JWKSURL serves the keys that sign the SVIDs as a JWKS (over plain
	// HTTP on 127.0.0.1), for a broker to validate them.
	JWKSURL string
	// TrustDomain is the trust domain of the entries, such as
	// "example.org".
	TrustDomain string

	dir, sock string
	iss       *idptest.Issuer
	lifetime  time.Duration
	td        spiffeid.TrustDomain

	mu      sync.Mutex
	entries []Entry
	srv     *grpc.Server
	done    chan struct{} // closed when the running server stops
	cache   map[string]cached
	faults  []Fault
	signed  int
	closed  bool
	streams sync.WaitGroup
}

type cached struct {
	token    string
	iat, exp time.Time
}

// NewWorkloadAPI starts a Workload API and closes it when t's test ends
// (t.Cleanup). If the options are invalid or it cannot listen, it calls
// t.Fatalf with a message naming the setting; with a TB whose Fatalf
// returns (a program's own), NewWorkloadAPI then returns nil. opts may be
// nil.
func NewWorkloadAPI(t idptest.TB, opts *Options) *WorkloadAPI {
	t.Helper()
	w, err := start(opts)
	if err != nil {
		t.Fatalf("spiffetest: %v", err)
		return nil
	}
	t.Cleanup(w.Close)
	return w
}

func start(opts *Options) (*WorkloadAPI, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Lifetime == 0 {
		o.Lifetime = 5 * time.Minute // SPIRE's default_jwt_svid_ttl
	}
	entries := slices.Clone(o.Entries)
	if len(entries) == 0 {
		entries = []Entry{{SPIFFEID: "spiffe://example.org/workload", UID: os.Getuid()}}
	}
	var td spiffeid.TrustDomain
	for i, e := range entries {
		id, err := spiffeid.FromString(e.SPIFFEID)
		if err != nil {
			return nil, fmt.Errorf("Options.Entries[%d].SPIFFEID %q: %v", i, e.SPIFFEID, err)
		}
		if i > 0 && id.TrustDomain() != td {
			return nil, fmt.Errorf("Options.Entries[%d].SPIFFEID %q is not in trust domain %s", i, e.SPIFFEID, td)
		}
		td = id.TrustDomain()
	}
	// The signing keys and their JWKS over HTTP; iss's own issuer URL is
	// not used (the SVIDs carry Options.IssuerURL, or no iss).
	var itb issuerTB
	iss := idptest.NewIssuer(&itb, &idptest.IssuerOptions{Algorithm: "ES256"})
	if iss == nil {
		return nil, itb.err
	}
	dir, err := os.MkdirTemp("", "spiffetest-")
	if err != nil {
		iss.Close()
		return nil, err
	}
	sock := filepath.Join(dir, "agent.sock")
	w := &WorkloadAPI{
		Address: "unix://" + sock, IssuerURL: o.IssuerURL, JWKSURL: iss.JWKSURL, TrustDomain: td.Name(),
		dir: dir, sock: sock, iss: iss, lifetime: o.Lifetime, td: td, entries: entries,
	}
	if err := w.listen(); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// issuerTB is the TB start gives idptest.NewIssuer: it hands a failure
// back as an error, for NewWorkloadAPI to report once on its caller's TB,
// and registers nothing, since WorkloadAPI.Close closes the issuer.
type issuerTB struct{ err error }

func (*issuerTB) Helper()        {}
func (*issuerTB) Cleanup(func()) {}
func (b *issuerTB) Fatalf(format string, args ...any) {
	b.err = fmt.Errorf(format, args...)
}

// SignedCount is how many SVIDs the emulator has signed; SVIDs served
// again from the agent's cache do not count.
func (w *WorkloadAPI) SignedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.signed
}

// SetEntries replaces the registration entries, as a registration
// created or deleted on the SPIRE server reaches the agent at its next
// sync.
func (w *WorkloadAPI) SetEntries(entries ...Entry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.entries = slices.Clone(entries)
	w.cache = nil
}

// FailNext makes the next n FetchJWTSVID calls answer with f.
func (w *WorkloadAPI) FailNext(n int, f Fault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for range n {
		w.faults = append(w.faults, f)
	}
}

// Rotate signs from now on with a new key; the old one stays published
// unless dropOld (a SPIRE server's JWT key rotation).
func (w *WorkloadAPI) Rotate(dropOld bool) {
	if err := w.iss.Rotate(dropOld); err != nil {
		panic("spiffetest: " + err.Error())
	}
}

// Stop stops the agent: open connections are closed and the socket is
// removed, so calls fail with Unavailable until [WorkloadAPI.Start].
func (w *WorkloadAPI) Stop() {
	w.mu.Lock()
	srv, done := w.srv, w.done
	w.srv = nil
	w.mu.Unlock()
	if srv != nil {
		srv.Stop()
		<-done
	}
	_ = os.Remove(w.sock)
}

// Start starts a stopped agent again on the same socket, with the same
// keys and entries and an empty SVID cache, as a restarted SPIRE agent.
func (w *WorkloadAPI) Start() {
	if err := w.listen(); err != nil {
		panic("spiffetest: " + err.Error())
	}
}

// Close stops the agent and the JWKS server and removes the socket's
// directory. It is idempotent.
func (w *WorkloadAPI) Close() {
	w.mu.Lock()
	already := w.closed
	w.closed = true
	w.mu.Unlock()
	if already {
		return
	}
	w.Stop()
	w.streams.Wait()
	w.iss.Close()
	_ = os.RemoveAll(w.dir)
}

func (w *WorkloadAPI) listen() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("the emulator is closed")
	}
	if w.srv != nil {
		return fmt.Errorf("the agent is already running")
	}
	ln, err := net.Listen("unix", w.sock)
	if err != nil {
		return err
	}
	srv := grpc.NewServer(grpc.Creds(peerCreds{}),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := securityHeader(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := securityHeader(ss.Context()); err != nil {
				return err
			}
			return h(srv, ss)
		}))
	workload.RegisterSpiffeWorkloadAPIServer(srv, &handler{w: w})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	w.srv, w.done, w.cache = srv, done, nil
	return nil
}

// securityHeader is SPIRE's check (pkg/agent/endpoints/middleware.go).
func securityHeader(ctx context.Context) error {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok || len(md["workload.spiffe.io"]) != 1 || md["workload.spiffe.io"][0] != "true" {
		return status.Error(codes.InvalidArgument, "security header missing from request")
	}
	return nil
}

type handler struct {
	workload.UnimplementedSpiffeWorkloadAPIServer
	w *WorkloadAPI
}

// attest returns the SPIFFE IDs the caller is entitled to.
func (h *handler) attest(ctx context.Context) ([]string, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Internal, "could not get caller information")
	}
	ai, ok := p.AuthInfo.(authInfo)
	if !ok || ai.err != nil {
		return nil, status.Error(codes.Internal, "could not get caller information: the peer's credentials are unknown")
	}
	h.w.mu.Lock()
	defer h.w.mu.Unlock()
	var ids []string
	for _, e := range h.w.entries {
		if e.UID == ai.uid {
			ids = append(ids, e.SPIFFEID)
		}
	}
	return ids, nil
}

func (h *handler) FetchJWTSVID(ctx context.Context, req *workload.JWTSVIDRequest) (*workload.JWTSVIDResponse, error) {
	if len(req.Audience) == 0 {
		return nil, status.Error(codes.InvalidArgument, "audience must be specified")
	}
	if req.SpiffeId != "" {
		if _, err := spiffeid.FromString(req.SpiffeId); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "invalid requested SPIFFE ID: %v", err)
		}
	}
	ids, err := h.attest(ctx)
	if err != nil {
		return nil, err
	}
	var f *Fault
	h.w.mu.Lock()
	if len(h.w.faults) > 0 {
		f = &h.w.faults[0]
		h.w.faults = h.w.faults[1:]
	}
	h.w.mu.Unlock()
	if f != nil && f.Hang {
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if f != nil && f.Code != codes.OK {
		return nil, status.Error(f.Code, f.Message)
	}
	// SPIRE drops empty audience values before signing.
	aud := slices.DeleteFunc(slices.Clone(req.Audience), func(a string) bool { return a == "" })
	resp := &workload.JWTSVIDResponse{}
	for _, id := range ids {
		if req.SpiffeId != "" && id != req.SpiffeId {
			continue
		}
		var extra map[string]any
		if f != nil {
			extra = f.Claims
		}
		resp.Svids = append(resp.Svids, &workload.JWTSVID{SpiffeId: id, Svid: h.w.svid(id, aud, extra)})
	}
	if len(resp.Svids) == 0 {
		return nil, status.Error(codes.PermissionDenied, "no identity issued")
	}
	return resp, nil
}

// svid returns the cached SVID for id and aud while more than half its
// life is left, else signs a new one (SPIRE's rotationutil).
func (w *WorkloadAPI) svid(id string, aud []string, extra map[string]any) string {
	key := id + "\x00" + strings.Join(aud, "\x00")
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.cache[key]; ok && extra == nil && now.Before(c.exp) && c.exp.Sub(now) > c.exp.Sub(c.iat)/2 {
		return c.token
	}
	exp := now.Add(w.lifetime)
	claims := map[string]any{"sub": id, "aud": aud, "exp": exp.Unix(), "iat": now.Unix()}
	if w.IssuerURL != "" {
		claims["iss"] = w.IssuerURL
	}
	for k, v := range extra {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	tok := w.iss.Sign(claims)
	w.signed++
	if extra == nil {
		if w.cache == nil {
			w.cache = map[string]cached{}
		}
		w.cache[key] = cached{token: tok, iat: time.Unix(now.Unix(), 0), exp: time.Unix(exp.Unix(), 0)}
	}
	return tok
}

// bundle is the trust domain's JWKS as SPIRE's Workload API sends it:
// the keys the issuer publishes at JWKSURL, marked "use":"jwt-svid". The
// issuer keeps its keys unexported (idptest's API does not hand out key
// material), so they are read from its JWKS handler, in process: no
// socket, nothing to time out.
func (w *WorkloadAPI) bundle(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.iss.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := w.iss.InProcess().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the JWKS answered %s", resp.Status)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("the JWKS: %w", err)
	}
	for _, k := range set.Keys {
		k["use"] = "jwt-svid"
	}
	return json.Marshal(set)
}

func (h *handler) FetchJWTBundles(_ *workload.JWTBundlesRequest, stream grpc.ServerStreamingServer[workload.JWTBundlesResponse]) error {
	if _, err := h.attest(stream.Context()); err != nil {
		return err
	}
	h.w.streams.Add(1)
	defer h.w.streams.Done()
	bundle, err := h.w.bundle(stream.Context())
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	if err := stream.Send(&workload.JWTBundlesResponse{Bundles: map[string][]byte{h.w.td.IDString(): bundle}}); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}

func (h *handler) ValidateJWTSVID(ctx context.Context, req *workload.ValidateJWTSVIDRequest) (*workload.ValidateJWTSVIDResponse, error) {
	if req.Audience == "" {
		return nil, status.Error(codes.InvalidArgument, "audience must be specified")
	}
	if req.Svid == "" {
		return nil, status.Error(codes.InvalidArgument, "svid must be specified")
	}
	if _, err := h.attest(ctx); err != nil {
		return nil, err
	}
	bundle, err := h.w.bundle(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	b, err := jwtbundle.Parse(h.w.td, bundle)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	s, err := jwtsvid.ParseAndValidate(req.Svid, b, []string{req.Audience})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	claims := s.Claims
	if a, ok := claims["aud"].(string); ok {
		claims["aud"] = []any{a}
	}
	if a, ok := claims["aud"].([]string); ok {
		claims["aud"] = slices.Collect(func(yield func(any) bool) {
			for _, v := range a {
				if !yield(v) {
					return
				}
			}
		})
	}
	st, err := structpb.NewStruct(claims)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &workload.ValidateJWTSVIDResponse{SpiffeId: s.ID.String(), Claims: st}, nil
}
