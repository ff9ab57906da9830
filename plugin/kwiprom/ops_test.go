package kwiprom_test

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/obstest"
	"github.com/streamidentity/kafka-workload-identity/plugin/kwiprom"
)

// TestOpsMaterialNamesExistingMetrics: every metric the alerting rules,
// their tests and the dashboard name is exposed by a scrape (histograms by
// their _bucket, _sum and _count series), so a rename cannot silently
// break an alert or a panel.
func TestOpsMaterialNamesExistingMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := kwiprom.NewMetrics("kwi", kwiprom.Registerer(reg))
	obstest.New(t, m).Script(context.Background())
	mfs, err := reg.Gather()
	require.NoError(t, err)
	exposed := map[string]bool{}
	for _, mf := range mfs {
		n := mf.GetName()
		exposed[n] = true
		if mf.GetType().String() == "HISTOGRAM" {
			exposed[n+"_bucket"], exposed[n+"_sum"], exposed[n+"_count"] = true, true, true
		}
	}
	re := regexp.MustCompile(`\bkwi_[a-z_]+`)
	for _, f := range []string{"ops/alerts.yml", "ops/alerts_test.yml", "ops/dashboard.json"} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		names := re.FindAllString(string(b), -1)
		require.NotEmpty(t, names, f)
		for _, n := range names {
			assert.True(t, exposed[n], "%s names %s, which no scrape exposes", f, n)
		}
	}
}
