package clientprops

import (
	"strings"
)

// knownKeys are the client.properties keys a misspelling is compared
// against for a did-you-mean: the keys this package interprets, and Kafka's
// common client configuration keys (which a file may set for the caller to
// apply, see [Config.Other]). It is the one table of known keys: append new
// Kafka keys here.
var knownKeys = []string{
	// Interpreted by this package.
	"bootstrap.servers",
	"security.protocol",
	"sasl.mechanism",
	"sasl.jaas.config",
	"sasl.login.callback.handler.class",
	"sasl.oauthbearer.token.endpoint.url",
	"sasl.oauthbearer.client.credentials.client.id",
	"sasl.oauthbearer.client.credentials.client.secret",
	"sasl.oauthbearer.scope",
	"sasl.oauthbearer.header.urlencode",
	"sasl.oauthbearer.sub.claim.name",
	"sasl.oauthbearer.scope.claim.name",
	"sasl.login.refresh.window.factor",
	"sasl.login.refresh.window.jitter",
	"sasl.login.refresh.min.period.seconds",
	"sasl.login.refresh.buffer.seconds",
	"sasl.login.connect.timeout.ms",
	"sasl.login.read.timeout.ms",
	"sasl.login.retry.backoff.ms",
	"sasl.login.retry.backoff.max.ms",
	"schema.registry.url",
	"bearer.auth.credentials.source",
	"bearer.auth.logical.cluster",
	"bearer.auth.identity.pool.id",
	"bearer.auth.custom.provider.class",
	// Kafka's other SASL and security keys (refused as authentication
	// settings this module cannot honour, but spelled right).
	"sasl.kerberos.service.name",
	"sasl.login.class",
	"sasl.client.callback.handler.class",
	"sasl.oauthbearer.jwks.endpoint.url",
	"sasl.oauthbearer.expected.audience",
	"sasl.oauthbearer.expected.issuer",
	"sasl.oauthbearer.clock.skew.seconds",
	"sasl.oauthbearer.jwks.endpoint.refresh.ms",
	"basic.auth.credentials.source",
	"basic.auth.user.info",
	"bearer.auth.token",
	// Kafka's common client keys, passed through in Config.Other.
	"client.id",
	"client.dns.lookup",
	"acks",
	"linger.ms",
	"batch.size",
	"compression.type",
	"enable.idempotence",
	"retries",
	"retry.backoff.ms",
	"request.timeout.ms",
	"delivery.timeout.ms",
	"max.in.flight.requests.per.connection",
	"group.id",
	"auto.offset.reset",
	"enable.auto.commit",
	"session.timeout.ms",
	"max.poll.records",
	"key.serializer",
	"value.serializer",
	"key.deserializer",
	"value.deserializer",
	"ssl.endpoint.identification.algorithm",
	"ssl.truststore.location",
	"ssl.truststore.password",
	"ssl.truststore.type",
	"ssl.keystore.location",
	"ssl.keystore.password",
	"ssl.ca.location",
	"metadata.max.age.ms",
	"connections.max.idle.ms",
	"reconnect.backoff.ms",
	"reconnect.backoff.max.ms",
}

// knownJAASOptions are the sasl.jaas.config options the supported handlers
// define, for a did-you-mean on misspelled options.
var knownJAASOptions = []string{
	"extension_" + "logicalCluster",
	"extension_" + "identityPoolId",
	"clientId", "clientSecret", "scope", "useWorkloadIdentity",
}

// isKnownKey reports whether k is spelled as in knownKeys.
func isKnownKey(k string) bool {
	for _, c := range knownKeys {
		if c == k {
			return true
		}
	}
	return false
}

// maxNearKey is the longest name [nearest] compares: longer than any
// key or option a did-you-mean can suggest (the longest known is 49
// characters) plus the three edits it allows. A longer name is no typing
// slip of a known one, so it costs nothing however long it is.
const maxNearKey = 64

// nearest returns the candidate closest to s when it is a likely
// misspelling of it: a different case, or at most one edit (insertion,
// deletion, substitution or swap of neighbours) per six characters, up to
// three. It returns "" when s is one of the candidates or none is close.
// Its work is bounded whatever s: names longer than maxNearKey are not
// compared, candidates whose length differs by more than the allowed
// edits are skipped, and each distance stops as soon as it exceeds them.
func nearest(s string, candidates []string) string {
	for _, c := range candidates {
		if c == s {
			return ""
		}
	}
	if len(s) > maxNearKey {
		return ""
	}
	x := []rune(strings.ToLower(s))
	best, bestD := "", -1
	for _, c := range candidates {
		n := len(c) // the tables are ASCII
		limit := min(3, max(1, n/6))
		if abs(len(x)-n) > limit {
			continue
		}
		y := []rune(strings.ToLower(c))
		if d := editDistanceWithin(x, y, limit); d <= limit && (bestD < 0 || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

func abs(n int) int { return max(n, -n) }

// editDistanceWithin is the optimal-string-alignment distance between x
// and y (the edits of Levenshtein's plus swapping two neighbours, the
// commonest typing slip: "mechansim") when it is at most limit, and
// limit+1 otherwise. Only the cells within limit of the diagonal are
// computed (the others exceed limit), and it stops as soon as two rows
// are over limit, after which no cell can come back under it; it keeps
// three rows of len(y)+2 cells.
func editDistanceWithin(x, y []rune, limit int) int {
	over := limit + 1
	n := len(y)
	rows := make([]int, 3*(n+2))
	prev2, prev, cur := rows[:n+2], rows[n+2:2*(n+2)], rows[2*(n+2):]
	for j := range prev {
		prev[j], prev2[j] = min(j, over), over
	}
	prevMin := 0
	for i := 1; i <= len(x); i++ {
		lo, hi := max(1, i-limit), min(n, i+limit)
		cur[lo-1] = over
		if lo == 1 {
			cur[0] = min(i, over)
		}
		cur[hi+1] = over
		rowMin := cur[lo-1]
		for j := lo; j <= hi; j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = min(d, over)
			rowMin = min(rowMin, cur[j])
		}
		// A row's minimum is at least the smaller of the previous row's
		// and one more than the one before (a swap spans two rows).
		if rowMin > limit && prevMin >= limit {
			return over
		}
		prevMin = rowMin
		prev2, prev, cur = prev, cur, prev2
	}
	if n > len(x)+limit {
		return over
	}
	return prev[n]
}
