package idptest

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
)

// jwtBearerGrant is the RFC 7523 section 2.1 authorization grant.
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// clientAssertionType is the client_assertion_type of an RFC 7523
// section 2.2 client assertion (private_key_jwt; Entra's federated
// credential).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// rfc7523Use says which use of an RFC 7523 JWT a check is for; the two
// differ in their sub and jti rules.
type rfc7523Use int

const (
	// asClientAuth: a client assertion (section 2.2): sub = iss, and a
	// jti is required.
	asClientAuth rfc7523Use = iota
	// asGrant: a jwt-bearer grant (section 2.1): sub is the client or
	// one of its OAuthClient.Subjects, and a jti is optional.
	asGrant
)

// verifyRFC7523 is the check of section 3 both uses share: the JWT is
// signed (RS256/RS384/RS512/PS256/ES256/ES384) by the PublicKey of the
// registered client its iss names, sub follows use's rule (and for a
// client assertion iss is clientID, when the request names one), aud names the
// token endpoint, exp is present and not past and nbf, if present, not in
// the future (both with jwtverify.DefaultSkew, the "reasonably small"
// leeway section 3 allows), and a jti, required or present, was not seen
// before from that client for that use. It returns iss and sub, or a
// description of the first problem.
func (s *OAuthServer) verifyRFC7523(token string, use rfc7523Use, clientID string) (iss, sub, problem string) {
	claims := jwt.MapClaims{}
	var c OAuthClient
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
			iss, _ := t.Claims.(jwt.MapClaims)["iss"].(string)
			var ok bool
			c, ok = s.clients[iss]
			if !ok || c.PublicKey == nil {
				return nil, fmt.Errorf("issuer %q is not a client registered with a PublicKey", iss)
			}
			return c.PublicKey, nil
		})
	if err != nil {
		return "", "", "rejected: " + err.Error()
	}
	iss, _ = claims["iss"].(string)
	sub, _ = claims["sub"].(string)
	switch use {
	case asClientAuth:
		if iss != sub || (clientID != "" && clientID != iss) {
			return "", "", "iss, sub and client_id must be the client ID"
		}
	case asGrant:
		if sub == "" || (sub != iss && !slices.Contains(c.Subjects, sub)) {
			return "", "", "sub is missing or not registered for issuer " + iss
		}
	}
	if aud, _ := claims.GetAudience(); !slices.Contains([]string(aud), s.TokenURL) {
		return "", "", "aud must name the token endpoint " + s.TokenURL
	}
	now := time.Now()
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return "", "", "has no exp"
	}
	if !now.Before(exp.Add(jwtverify.DefaultSkew)) {
		return "", "", "is expired"
	}
	if nbf, err := claims.GetNotBefore(); err != nil || (nbf != nil && now.Add(jwtverify.DefaultSkew).Before(nbf.Time)) {
		return "", "", "is not yet valid (nbf)"
	}
	_, has := claims["jti"]
	if !has && use == asGrant {
		return iss, sub, ""
	}
	jti, _ := claims["jti"].(string)
	if jti == "" {
		return "", "", "has no jti"
	}
	key := fmt.Sprint(use, "\x00", iss, "\x00", jti)
	s.mu.Lock()
	replay := s.jtis[key]
	s.jtis[key] = true
	s.mu.Unlock()
	if replay {
		return "", "", "jti was already used"
	}
	return iss, sub, ""
}

// serveJWTBearer answers the jwt-bearer grant (RFC 7523 sections 2.1 and
// 3): the "assertion" passes verifyRFC7523 as a grant. Client
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
	iss, sub, problem := s.verifyRFC7523(a, asGrant, "")
	if problem != "" {
		noStoreError(w, http.StatusBadRequest, "invalid_grant", "assertion "+problem)
		return
	}
	scope := f.Get("scope")
	if !s.scopeAllowed(w, iss, scope) {
		return
	}
	s.grant(w, iss, sub, scope)
}
