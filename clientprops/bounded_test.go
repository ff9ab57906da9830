package clientprops

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/internal/leakcheck"
)

// hostileFiles are client.properties files of about size bytes built to
// make a parser do quadratic work or allocate without bound.
func hostileFiles(size int) map[string]string {
	fill := func(line func(i int) string) string {
		var b strings.Builder
		for i := 0; b.Len() < size; i++ {
			b.WriteString(line(i))
		}
		return b.String()
	}
	head := "security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\n" +
		"sasl.login.callback.handler.class=io.confluent.oauth.azure.managedidentity.OAuthBearerLoginCallbackHandler\n" +
		"sasl.oauthbearer.token.endpoint.url=http://169.254.169.254/metadata/identity/oauth2/token?resource=api://kafka\n"
	return map[string]string{
		// Every key distinct and unknown: sorted by line, and each one
		// compared with every known key.
		"distinct keys": fill(func(i int) string { return fmt.Sprintf("k%d=v\n", i) }),
		// Distinct unknown keys as long as known ones and sharing their
		// prefix, so that a did-you-mean cannot give up early.
		"near-miss keys": fill(func(i int) string { return fmt.Sprintf("sasl.oauthbearer.client.credentials.client.%06d=v\n", i) }),
		// Continuation lines of backslashes: the trailing backslashes of
		// the joined line counted again for every line.
		"backslashes": fill(func(int) string { return "\\\\\\\n" }),
		// One unknown key of a mebibyte, compared with every known key.
		"long key": "z" + strings.Repeat("q", size) + "=v\n",
		// A JAAS value with long extension names, each compared with
		// Confluent's.
		"jaas extensions": head + "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required " +
			fill(func(i int) string { return fmt.Sprintf("extension_%s%d='v' ", strings.Repeat("x", 4000), i) }) + ";\n",
		// A JAAS value with one long comment and one long quoted value.
		"jaas long": head + "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required /*" +
			strings.Repeat("*", size/2) + "*/ scope='" + strings.Repeat("s", size/2) + "';\n",
	}
}

// TestParseBoundedWork: a 1 MiB client.properties (the size limit) of any
// shape is parsed with a bounded number of byte inspections per input
// byte by the line reader, and with bounded allocation per input byte by
// the whole parse (JAAS and did-you-mean included). Counts, not times.
// Not parallel: it reads the process's allocation counter.
//
// Fails on main before this change (measured there): "long key"
// allocated 15,870 bytes per input byte (991 MB at 64 KiB, so about
// 16 GB at 1 MiB: a full edit-distance matrix per known key) and
// "distinct keys" 12,016 per byte (751 MB at 64 KiB), against the bound
// of 128 here; "distinct keys" also took 2.7s at 64 KiB (insertion sort
// of the keys by line, quadratic) and "backslashes" 1.3s at 64 KiB
// (the joined line's trailing backslashes recounted on every line,
// quadratic: minutes at 1 MiB; the inspection count bounds it here).
func TestParseBoundedWork(t *testing.T) {
	for name, file := range hostileFiles(maxFileSize - 64<<10) {
		t.Run(name, func(t *testing.T) {
			require.LessOrEqual(t, len(file), maxFileSize)
			_, steps, _ := parsePropertiesCounted([]byte(file))
			assert.LessOrEqual(t, steps, 2*len(file), "line reader inspections for %d bytes", len(file))
			alloc := leakcheck.Allocated(func() { _, _ = Parse(strings.NewReader(file)) })
			// 128 per byte: a 6-byte line costs a Property (48 bytes), its
			// map entry and its place in Config.Other.
			assert.LessOrEqual(t, alloc, uint64(128*len(file)), "bytes allocated for %d bytes", len(file))
			t.Logf("%d bytes: %d inspections, %d bytes allocated (%.1f per input byte)", len(file), steps, alloc, float64(alloc)/float64(len(file)))
		})
	}
}

// BenchmarkParseHostile shows the parse time per input byte staying flat
// from 64 KiB to 1 MiB for each hostile shape (compare the ns/byte of the
// two sizes).
func BenchmarkParseHostile(b *testing.B) {
	for _, size := range []int{64 << 10, maxFileSize - 64<<10} {
		for name, file := range hostileFiles(size) {
			b.Run(fmt.Sprintf("%s/%dKiB", strings.ReplaceAll(name, " ", "_"), size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(file)))
				for b.Loop() {
					_, _ = Parse(strings.NewReader(file))
				}
			})
		}
	}
}

// editDistanceFull is the textbook optimal-string-alignment distance, the
// reference for editDistanceWithin.
func editDistanceFull(x, y []rune) int {
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// FuzzEditDistanceWithin checks the banded, early-exit distance against
// the full matrix: equal when within the limit, limit+1 otherwise.
func FuzzEditDistanceWithin(f *testing.F) {
	f.Add("sasl.mechansim", "sasl.mechanism", 2)
	f.Add("abcdef", "badcfe", 3)
	f.Add("", "abc", 1)
	f.Fuzz(func(t *testing.T, a, b string, limit int) {
		limit = 1 + abs(limit%3)
		x, y := []rune(a), []rune(b)
		if len(x) > 200 || len(y) > 200 {
			return
		}
		want := min(editDistanceFull(x, y), limit+1)
		require.Equal(t, want, editDistanceWithin(x, y, limit), "%q %q limit %d", a, b, limit)
	})
}

func TestEditDistanceWithinMatchesFull(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() []rune {
		w := make([]rune, r.IntN(12))
		for i := range w {
			w[i] = rune('a' + r.IntN(3))
		}
		return w
	}
	for range 20000 {
		x, y, limit := word(), word(), 1+r.IntN(3)
		require.Equal(t, min(editDistanceFull(x, y), limit+1), editDistanceWithin(x, y, limit), "%q %q %d", string(x), string(y), limit)
	}
}
