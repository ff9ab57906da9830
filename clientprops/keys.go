package clientprops

import (
	"strings"
	"unicode/utf8"
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
	"https.ca.location",
	"https.ca.pem",
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

// nearest returns the candidate closest to s when it is a likely
// misspelling of it: a different case, or at most one edit (insertion,
// deletion, substitution or swap of neighbours) per six characters, up to
// three. It returns "" when s is one of the candidates or none is close.
func nearest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if c == s {
			return ""
		}
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		limit := min(3, max(1, utf8.RuneCountInString(c)/6))
		if d <= limit && (bestD < 0 || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b:
// the edits of Levenshtein's plus swapping two neighbours, the commonest
// typing slip ("mechansim").
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
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
