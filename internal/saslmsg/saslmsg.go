// Package saslmsg builds SASL/OAUTHBEARER client messages and parses the
// server's error challenge (RFC 7628), shared by the Kafka client adapters.
package saslmsg

import (
	"encoding/json"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// ClientFirst returns the RFC 7628 initial client response for tok:
// "n,[a=authzid],\x01auth=Bearer <token>\x01key=value\x01...\x01\x01", with
// extensions sorted by key. It validates the extensions first.
func ClientFirst(tok oauthbearer.Token, authzid string) ([]byte, error) {
	if err := oauthbearer.ValidateExtensions(tok.Extensions); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(tok.Extensions))
	n := len(authzid) + len(tok.Value) + 32
	for k, v := range tok.Extensions {
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	sort.Strings(keys)
	b := make([]byte, 0, n)
	b = append(b, "n,"...)
	if authzid != "" {
		b = append(b, "a="...)
		b = append(b, authzid...)
	}
	b = append(b, ",\x01auth=Bearer "...)
	b = append(b, tok.Value...)
	b = append(b, 0x01)
	for _, k := range keys {
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, tok.Extensions[k]...)
		b = append(b, 0x01)
	}
	return append(b, 0x01), nil
}

// ParseChallenge turns a server's error challenge into a RejectedError.
// RFC 7628 specifies JSON ({"status":"invalid_token",...}); anything else is
// quoted as the status, cut to a printable length. Every field is scrubbed
// of the values in sent (the token the client presented), of anything
// JWT-shaped and of control characters, so a broker or proxy echoing the
// client's message cannot put the token in an error.
func ParseChallenge(server string, challenge []byte, sent ...string) *oauthbearer.RejectedError {
	capField := func(s string) string { return capField(srvtext.Scrub(s, sent...)) }
	var body struct {
		Status              string `json:"status"`
		Scope               string `json:"scope"`
		OpenIDConfiguration string `json:"openid-configuration"`
	}
	if err := json.Unmarshal(challenge, &body); err == nil && body.Status != "" {
		return &oauthbearer.RejectedError{Server: server, Status: capField(body.Status), Scope: capField(body.Scope), OpenIDConfiguration: capField(body.OpenIDConfiguration)}
	}
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, string(challenge))
	return &oauthbearer.RejectedError{Server: server, Status: capField(s)}
}

// capField cuts s to maxChallengeField bytes, on a rune boundary.
func capField(s string) string {
	if len(s) <= maxChallengeField {
		return s
	}
	n := maxChallengeField
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// maxChallengeField caps each field quoted from a server's challenge, so
// that a broken or hostile server cannot blow up error messages and logs.
const maxChallengeField = 200
