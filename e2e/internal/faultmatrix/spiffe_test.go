package faultmatrix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/spiffe"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

// The SPIFFE source speaks gRPC to a local agent, not HTTP to an identity
// provider, so the HTTP faults above do not apply; its own cells, the
// Workload API's counterparts of the same faults, are TestSPIFFEFaults.
func init() {
	kits = append(kits, kit{name: "spiffe jwt-svid", skip: "gRPC to a local SPIFFE agent, not HTTP: its counterparts of these faults (agent down, Unavailable, hang, bad SVIDs) are TestSPIFFEFaults"})
}

// TestSPIFFEFaults runs the SPIFFE source against the Workload API
// emulator under the agent-side faults: each cell primes the cache,
// injects the fault, forces a refresh (Invalidate) and records whether the
// answer was accepted, retried (transient) or surfaced (permanent), that
// the primed SVID's replacement is only ever a valid one, and the error.
func TestSPIFFEFaults(t *testing.T) {
	past, far := time.Now().Add(-time.Hour).Unix(), time.Now().Add(10*365*24*time.Hour).Unix()
	cells := []struct {
		name    string
		inject  func(a *spiffetest.WorkloadAPI)
		outcome string
		is      error
		class   string
	}{
		{"Unavailable (agent cannot reach its server)", func(a *spiffetest.WorkloadAPI) {
			a.FailNext(faultCount, spiffetest.Fault{Code: codes.Unavailable, Message: "could not fetch JWT-SVID: server unreachable"})
		}, transient, spiffe.ErrAgentUnavailable, "unreachable"},
		// The first call after the stop may meet the closing connection (EOF)
		// rather than the missing socket: both are "unreachable".
		{"agent stopped (socket removed)", func(a *spiffetest.WorkloadAPI) { a.Stop() }, transient, spiffe.ErrAgentUnavailable, "unreachable"},
		{"accepts, never answers", func(a *spiffetest.WorkloadAPI) { a.FailNext(faultCount, spiffetest.Fault{Hang: true}) }, transient, nil, "did not answer in time"},
		{"PermissionDenied (entry deleted)", func(a *spiffetest.WorkloadAPI) {
			a.FailNext(faultCount, spiffetest.Fault{Code: codes.PermissionDenied, Message: "no identity issued"})
		}, transient, spiffe.ErrNoIdentity, "no registration entry"},
		{"InvalidArgument", func(a *spiffetest.WorkloadAPI) {
			a.FailNext(faultCount, spiffetest.Fault{Code: codes.InvalidArgument, Message: "audience must be specified"})
		}, permanent, nil, "refused the request as invalid"},
		{"Internal", func(a *spiffetest.WorkloadAPI) {
			a.FailNext(faultCount, spiffetest.Fault{Code: codes.Internal, Message: "boom"})
		}, transient, nil, "Internal"},
		{"SVID for another audience", func(a *spiffetest.WorkloadAPI) {
			a.FailNext(faultCount, spiffetest.Fault{Claims: map[string]any{"aud": []string{"other"}}})
		}, permanent, nil, "expected audience"},
		{"token without exp", func(a *spiffetest.WorkloadAPI) {
			a.FailNext(faultCount, spiffetest.Fault{Claims: map[string]any{"exp": nil}})
		}, permanent, nil, "missing exp"},
		{"token already expired", func(a *spiffetest.WorkloadAPI) {
			a.FailNext(faultCount, spiffetest.Fault{Claims: map[string]any{"exp": past}})
		}, transient, nil, "expired"},
		{"exp 10 years away", func(a *spiffetest.WorkloadAPI) {
			a.FailNext(faultCount, spiffetest.Fault{Claims: map[string]any{"exp": far}})
		}, accepted, nil, ""},
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "source\tfault\toutcome\terror")
	for _, cell := range cells {
		t.Run(cell.name, func(t *testing.T) {
			agent := spiffetest.NewWorkloadAPI(t, nil)
			src, err := spiffe.New(&spiffe.Options{Audience: "kafka", Address: agent.Address,
				Cache: &oauthbearer.CacheOptions{FetchTimeout: fetchTimeout, MinBackoff: minBackoff, MaxBackoff: maxBackoff}})
			require.NoError(t, err)
			t.Cleanup(func() { _ = src.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			primed, err := src.Token(ctx)
			require.NoError(t, err)

			cell.inject(agent)
			src.Invalidate(primed) // the refresh meets the fault
			tok, err := src.Token(ctx)
			outcome := accepted
			switch {
			case err != nil && oauthbearer.IsTransient(err):
				outcome = transient
			case err != nil:
				outcome = permanent
			}
			assert.Equal(t, cell.outcome, outcome, "%v", err)
			if err != nil {
				assert.Contains(t, err.Error(), cell.class)
				if cell.is != nil {
					assert.True(t, errors.Is(err, cell.is), "%v is not %v", err, cell.is)
				}
				assert.True(t, tok.IsZero())
			} else {
				assert.True(t, tok.Expiry.After(time.Now()), "a usable SVID")
				assert.NotEqual(t, primed.Value, tok.Value)
			}
			msg := ""
			if err != nil {
				msg = srvtext.Clip(strings.TrimPrefix(err.Error(), "oauthbearer: spiffe jwt-svid: spiffe: "), 110)
			}
			fmt.Fprintf(tw, "spiffe jwt-svid\t%s\t%s\t%s\n", cell.name, outcome, msg)
		})
	}
	require.NoError(t, tw.Flush())
	t.Log("\n" + b.String())
}
