package oauthbearer

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// clampToJWTExp returns tok with its Expiry moved back to the JWT's exp
// claim when the token is a JWT whose exp comes first. Sources derive
// Expiry from expires_in, which is relative to the identity provider's
// clock and to when the reply was read; the broker judges the token by
// exp against its own clock. When the two disagree (an IdP clock running
// behind, a slow reply), holding the token past its exp only buys a
// rejection, so the earlier of the two wins. Tokens that are not JWTs
// (MSK's signed URLs, opaque tokens) are returned unchanged.
func clampToJWTExp(tok Token) Token {
	exp, ok := jwtExp(tok.Value)
	if ok && (tok.Expiry.IsZero() || exp.Before(tok.Expiry)) {
		tok.Expiry = exp
	}
	return tok
}

// jwtExp reads the exp claim of a compact JWS without verifying it: the
// cache only uses it to be more cautious, never to trust a token.
func jwtExp(v string) (time.Time, bool) {
	first := strings.IndexByte(v, '.')
	if first < 0 {
		return time.Time{}, false
	}
	rest := v[first+1:]
	second := strings.IndexByte(rest, '.')
	if second < 0 || strings.IndexByte(rest[second+1:], '.') >= 0 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(rest[:second])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return time.Time{}, false
	}
	secs, err := claims.Exp.Float64()
	if err != nil || secs <= 0 || secs > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(secs), 0), true
}
