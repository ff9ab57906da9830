package idptest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtBearerGrant is the RFC 7523 section 2.1 authorization grant.
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// jwtBearerSkew is the clock skew allowed on exp and nbf (RFC 7523 section
// 3 lets servers allow "a reasonably small" one).
const jwtBearerSkew = 30 * time.Second

// serveJWTBearer answers the jwt-bearer grant (RFC 7523 sections 2.1 and
// 3): the "assertion" is a JWT whose iss is a registered client, signed
// with its PublicKey, whose sub is the client or one of its Subjects, whose
// aud names the token endpoint, with an exp not past, an nbf not in the
// future and, when it has a jti, one not seen before. Client
// authentication is optional (section 3.1) and checked when present.
// Refusals are invalid_grant, as section 3.1 says.
func (s *OAuthServer) serveJWTBearer(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	if _, _, basic := r.BasicAuth(); basic || f.Has("client_secret") || f.Has("client_assertion") {
		if _, status, code, desc := s.authenticate(r); code != "" {
			noStoreError(w, status, code, desc)
			return
		}
	}
	a := f.Get("assertion")
	if a == "" {
		noStoreError(w, http.StatusBadRequest, "invalid_request", "missing assertion")
		return
	}
	bad := func(desc string) { noStoreError(w, http.StatusBadRequest, "invalid_grant", desc) }
	claims := jwt.MapClaims{}
	var c OAuthClient
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(a, claims, func(t *jwt.Token) (any, error) {
			iss, _ := t.Claims.(jwt.MapClaims)["iss"].(string)
			var ok bool
			c, ok = s.clients[iss]
			if !ok || c.PublicKey == nil {
				return nil, fmt.Errorf("issuer %q is not registered", iss)
			}
			return c.PublicKey, nil
		})
	if err != nil {
		bad("assertion rejected: " + err.Error())
		return
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	if sub == "" || (sub != iss && !slices.Contains(c.Subjects, sub)) {
		bad("assertion sub is missing or not registered for issuer " + iss)
		return
	}
	aud, _ := claims.GetAudience()
	if !slices.Contains([]string(aud), s.TokenURL) {
		bad("assertion aud must name the token endpoint " + s.TokenURL)
		return
	}
	now := time.Now()
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		bad("assertion has no exp")
		return
	}
	if !now.Before(exp.Add(jwtBearerSkew)) {
		bad("assertion is expired")
		return
	}
	if nbf, err := claims.GetNotBefore(); err != nil || (nbf != nil && now.Add(jwtBearerSkew).Before(nbf.Time)) {
		bad("assertion is not yet valid (nbf)")
		return
	}
	if _, has := claims["jti"]; has {
		jti, _ := claims["jti"].(string)
		s.mu.Lock()
		replay := jti == "" || s.jtis["jwt-bearer:"+iss+":"+jti]
		s.jtis["jwt-bearer:"+iss+":"+jti] = true
		s.mu.Unlock()
		if replay {
			bad("assertion jti was already used")
			return
		}
	}
	scope := f.Get("scope")
	for sc := range strings.FieldsSeq(scope) {
		if len(c.Scopes) > 0 && !slices.Contains(c.Scopes, sc) {
			noStoreError(w, http.StatusBadRequest, "invalid_scope", "scope "+sc+" is not allowed for this client")
			return
		}
	}
	s.grant(w, iss, sub, scope)
}
