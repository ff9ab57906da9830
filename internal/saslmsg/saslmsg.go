// Package saslmsg builds SASL/OAUTHBEARER client messages and parses the
// server's error challenge (RFC 7628), shared by the Kafka client adapters.
package saslmsg

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// CheckToken refuses a token that must not be framed: an empty value, a
// value that is not an RFC 6750 b64token (which could inject SASL
// fields), or invalid extensions. A [*oauthbearer.Cache] checked its
// token's value when it fetched it, so the value is checked again only
// for other sources. Every Kafka client adapter calls it on each token
// before handing it to its client; pkg prefixes the errors.
func CheckToken(pkg string, src oauthbearer.TokenSource, tok oauthbearer.Token) error {
	if tok.Value == "" {
		return fmt.Errorf("%s: the token source returned an empty token; check the source's configuration", pkg)
	}
	if _, cached := src.(*oauthbearer.Cache); !cached {
		if err := oauthbearer.ValidateToken("the token source for "+pkg, tok.Value); err != nil {
			return fmt.Errorf("%s: %w", pkg, err)
		}
	}
	if err := oauthbearer.ValidateExtensions(tok.Extensions); err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	return nil
}

// ClientFirst returns the RFC 7628 initial client response for tok:
// "n,[a=authzid],\x01auth=Bearer <token>\x01key=value\x01...\x01\x01", with
// extensions sorted by key. tok must have passed [CheckToken], and
// authzid must be escaped by [EscapeAuthzID] (once, when the adapter is
// built).
func ClientFirst(tok oauthbearer.Token, authzid string) []byte {
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
	return append(b, 0x01)
}

// EscapeAuthzID escapes an authorization identity for the GS2 header of
// the client first message as RFC 5801 (and Kafka's SASLNAME) requires:
// ',' becomes =2C and '=' becomes =3D. Control characters and non-ASCII
// bytes, which Kafka's parser refuses and which could break the message's
// framing, are an error that quotes the identity escaped.
func EscapeAuthzID(id string) (string, error) {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c >= 0x7f {
			return "", fmt.Errorf("the authorization identity %s has a control character or non-ASCII byte at byte %d; Kafka accepts 7-bit printable names only: "+
				"set the adapter's AuthorizationID to the token's principal, or leave it empty", strconv.QuoteToASCII(srvtext.Clip(id, 128)), i)
		}
	}
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(id), nil
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
