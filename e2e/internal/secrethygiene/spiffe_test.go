package secrethygiene

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/spiffe"
	"github.com/streamidentity/kafka-workload-identity/spiffe/spiffetest"
)

// TestSPIFFEHygiene runs the JWT-SVID source through a fetch, an agent
// whose error text echoes an SVID, an SVID for another audience, an
// unregistered workload, a missing socket and a stopped agent, and checks
// that no SVID appears in a log record at debug level, an error, or the
// encoder output of the options, the token or the source.
func TestSPIFFEHygiene(t *testing.T) {
	c := newCollector()
	agent := spiffetest.NewWorkloadAPI(t, &spiffetest.Options{IssuerURL: "https://spire.example.org"})
	src := func(addr string) *oauthbearer.Cache {
		o := spiffe.Options{Audience: "kafka", Address: addr, Cache: fastCache(c)}
		c.value(o)
		s, err := spiffe.New(&o)
		require.NoError(t, err)
		return s
	}
	use(t, c, "spiffe svid", src(agent.Address))

	// Another SVID, then an agent whose error quotes it.
	first := src(agent.Address)
	other, err := spiffe.New(&spiffe.Options{Audience: "schema-registry", Address: agent.Address})
	require.NoError(t, err)
	tok, err := other.Token(tctx(t))
	require.NoError(t, err)
	require.NoError(t, other.Close())
	c.secret("spiffe svid for the registry", tok.Value)
	agent.FailNext(1, spiffetest.Fault{Code: codes.Unavailable, Message: "could not fetch JWT-SVID: cached " + tok.Value})
	useErr(t, c, "spiffe agent echoes an svid", first)
	agent.FailNext(1, spiffetest.Fault{Code: codes.Internal, Message: "svid=" + tok.Value})
	useErr(t, c, "spiffe agent internal error echoes an svid", src(agent.Address))

	agent.FailNext(1, spiffetest.Fault{Claims: map[string]any{"aud": []string{"elsewhere"}}})
	useErr(t, c, "spiffe svid for another audience", src(agent.Address))
	agent.FailNext(1, spiffetest.Fault{Claims: map[string]any{"exp": nil}})
	useErr(t, c, "spiffe svid without exp", src(agent.Address))

	agent.SetEntries(spiffetest.Entry{SPIFFEID: "spiffe://example.org/other", UID: os.Getuid() + 1})
	useErr(t, c, "spiffe unregistered", src(agent.Address))
	useErr(t, c, "spiffe missing socket", src("unix://"+filepath.Join(t.TempDir(), "agent.sock")))
	agent.Stop()
	useErr(t, c, "spiffe stopped agent", src(agent.Address))
	c.check(t)
}
