package oauthbearertest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamidentity/kafka-workload-identity/internal/jwtverify"
	"github.com/streamidentity/kafka-workload-identity/internal/rejectreason"
)

// Kafka limits, from its broker defaults.
const (
	brokerMaxSASLFrame    = 512 * 1024 // sasl.server.max.receive.size
	brokerMaxRequestFrame = 100 << 20  // socket.request.max.bytes
	brokerMinReauthGap    = time.Second
	brokerMechanism       = "OAUTHBEARER"
)

type brokerConnState int

const (
	brokerStateNew           brokerConnState = iota // ApiVersions or SaslHandshake
	brokerStateAuthenticate                         // SaslAuthenticate expected (handshake v1)
	brokerStateRawToken                             // raw SASL token expected (handshake v0)
	brokerStateAuthenticated                        // everything goes to kfake
)

// brokerConn is the SASL gate between one client socket and kfake. kfake
// sees it as its net.Conn: Read yields the request frames the gate lets
// through, Write sends kfake's responses to the client. The gate answers
// SASL requests itself, after every response kfake still owes, so the
// client sees responses in request order.
type brokerConn struct {
	b      *Broker
	id     int64
	node   int32
	client net.Conn

	mu          sync.Mutex
	cond        *sync.Cond
	toKfake     bytes.Buffer // request frames for kfake to Read
	outstanding int          // forwarded requests kfake has not answered
	closed      bool
	closeOnce   sync.Once

	wmu   sync.Mutex // serializes writes to client
	rhdr  [4]byte    // response-frame parser state, under wmu
	rhdrN int
	rleft int

	// Gate state, owned by the serve goroutine.
	state        brokerConnState
	reauth       bool   // the exchange in progress is a re-authentication
	principal    string // authenticated principal
	errorMessage string // pending RFC 7628 error after a challenge
	expiry       time.Time
	lastReauth   time.Time
}

var _ net.Conn = (*brokerConn)(nil)

func newBrokerConn(b *Broker, id int64, node int32, client net.Conn) *brokerConn {
	c := &brokerConn{b: b, id: id, node: node, client: client}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// Read is kfake reading requests.
func (c *brokerConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.toKfake.Len() == 0 && !c.closed {
		c.cond.Wait()
	}
	if c.toKfake.Len() == 0 {
		return 0, io.EOF
	}
	return c.toKfake.Read(p)
}

// Write is kfake writing responses; it counts whole response frames so
// the gate knows when kfake owes nothing.
func (c *brokerConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	_, err := c.client.Write(p)
	done := c.countFrames(p)
	c.wmu.Unlock()
	if done > 0 {
		c.mu.Lock()
		c.outstanding -= done
		c.cond.Broadcast()
		c.mu.Unlock()
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// countFrames advances the response-frame parser over p and returns how
// many frames ended in it.
func (c *brokerConn) countFrames(p []byte) int {
	done := 0
	for len(p) > 0 {
		if c.rleft == 0 && c.rhdrN < 4 {
			n := copy(c.rhdr[c.rhdrN:], p)
			c.rhdrN += n
			p = p[n:]
			if c.rhdrN == 4 {
				c.rleft = int(binary.BigEndian.Uint32(c.rhdr[:]))
				if c.rleft == 0 {
					c.rhdrN = 0
					done++
				}
			}
			continue
		}
		n := min(len(p), c.rleft)
		c.rleft -= n
		p = p[n:]
		if c.rleft == 0 {
			c.rhdrN = 0
			done++
		}
	}
	return done
}

// Close is kfake closing the connection.
func (c *brokerConn) Close() error {
	c.shutdown()
	return nil
}

func (c *brokerConn) shutdown() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.cond.Broadcast()
		c.mu.Unlock()
		_ = c.client.Close()
	})
}

// LocalAddr is the broker's address.
func (c *brokerConn) LocalAddr() net.Addr { return c.client.LocalAddr() }

// RemoteAddr is the client's address.
func (c *brokerConn) RemoteAddr() net.Addr { return c.client.RemoteAddr() }

// SetDeadline is a no-op: kfake sets none, and the gate closes the
// connection to unblock reads.
func (c *brokerConn) SetDeadline(time.Time) error { return nil }

// SetReadDeadline is a no-op; see SetDeadline.
func (c *brokerConn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline is a no-op; see SetDeadline.
func (c *brokerConn) SetWriteDeadline(time.Time) error { return nil }

func (c *brokerConn) logf(msg string, args ...any) {
	c.b.log.Info("oauthbearertest: broker: "+msg, append([]any{"conn", c.id, "node", c.node}, args...)...)
}

// serve reads client frames until the connection ends.
func (c *brokerConn) serve() {
	defer c.b.wg.Done()
	defer c.b.forget(c)
	defer c.shutdown()
	var size [4]byte
	for {
		if _, err := io.ReadFull(c.client, size[:]); err != nil {
			return
		}
		n := int(int32(binary.BigEndian.Uint32(size[:])))
		limit := brokerMaxRequestFrame
		if c.state != brokerStateAuthenticated {
			limit = brokerMaxSASLFrame
		}
		if n < 0 || n > limit {
			c.logf("closing: frame too large", "size", n, "limit", limit)
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(c.client, body); err != nil {
			return
		}
		if !c.handle(body) {
			return
		}
	}
}

// handle processes one frame and reports whether the connection stays
// open.
func (c *brokerConn) handle(body []byte) bool {
	if c.state == brokerStateRawToken {
		return c.handleRawToken(body)
	}
	r := kbin.Reader{Src: body}
	key, version, corr := r.Int16(), r.Int16(), r.Int32()
	r.NullableString()
	req := kmsg.RequestForKey(key)
	if req == nil || !r.Ok() {
		c.logf("closing: unknown or truncated request", "key", key)
		return false
	}
	req.SetVersion(version)
	if req.IsFlexible() {
		kmsg.SkipTags(&r)
	}
	if !r.Ok() {
		c.logf("closing: truncated request header", "key", key)
		return false
	}
	payload := r.Src

	switch c.state {
	case brokerStateNew:
		switch key {
		case 18: // ApiVersions: kfake's answer lists the SASL keys too.
			return c.forward(body, true)
		case 17:
			return c.handshake(req, payload, corr)
		default:
			c.logf("closing: request before authentication", "key", key)
			return false
		}
	case brokerStateAuthenticate:
		if key != 36 {
			c.logf("closing: unexpected request during SASL authentication", "key", key)
			return false
		}
		return c.authenticate(req, payload, corr)
	default: // authenticated
		now := time.Now()
		expired := !c.expiry.IsZero() && now.After(c.expiry)
		switch key {
		case 17:
			if !c.expiry.IsZero() && (c.lastReauth.IsZero() || now.Sub(c.lastReauth) >= brokerMinReauthGap) {
				c.lastReauth = now
				c.reauth = true
				return c.handshake(req, payload, corr)
			}
			if expired {
				c.logf("closing: session expired")
				return false
			}
			// Kafka's KafkaApis answers a handshake it will not treat as
			// a re-authentication with ILLEGAL_SASL_STATE.
			if err := req.ReadFrom(payload); err != nil {
				return false
			}
			resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
			resp.ErrorCode = kerr.IllegalSaslState.Code
			return c.reply(corr, resp)
		case 36:
			if expired {
				c.logf("closing: session expired")
				return false
			}
			if err := req.ReadFrom(payload); err != nil {
				return false
			}
			resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
			resp.ErrorCode = kerr.IllegalSaslState.Code
			msg := "SaslAuthenticate request received after successful authentication"
			resp.ErrorMessage = &msg
			return c.reply(corr, resp)
		}
		if expired {
			c.logf("closing: session expired and the client did not re-authenticate", "key", key)
			return false
		}
		expectsResponse := true
		if key == 0 {
			pr := req.(*kmsg.ProduceRequest)
			if err := pr.ReadFrom(payload); err != nil {
				c.logf("closing: unparseable produce request")
				return false
			}
			expectsResponse = pr.Acks != 0
		}
		return c.forward(body, expectsResponse)
	}
}

// forward queues a request frame for kfake.
func (c *brokerConn) forward(body []byte, expectsResponse bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	var size [4]byte
	binary.BigEndian.PutUint32(size[:], uint32(len(body)))
	c.toKfake.Write(size[:])
	c.toKfake.Write(body)
	if expectsResponse {
		c.outstanding++
	}
	c.cond.Broadcast()
	return true
}

// waitIdle blocks until kfake owes no response; false if the connection
// closed meanwhile.
func (c *brokerConn) waitIdle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.outstanding > 0 && !c.closed {
		c.cond.Wait()
	}
	return !c.closed
}

// reply writes a response the gate produced, once kfake owes nothing.
func (c *brokerConn) reply(corr int32, resp kmsg.Response) bool {
	buf := make([]byte, 8, 64)
	if resp.IsFlexible() && resp.Key() != 18 {
		buf = append(buf, 0) // empty response-header tags
	}
	buf = resp.AppendTo(buf)
	binary.BigEndian.PutUint32(buf[:4], uint32(len(buf)-4))
	binary.BigEndian.PutUint32(buf[4:8], uint32(corr))
	return c.writeRaw(buf)
}

func (c *brokerConn) writeRaw(frame []byte) bool {
	if !c.waitIdle() {
		return false
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.client.Write(frame)
	return err == nil
}

func (c *brokerConn) handshake(req kmsg.Request, payload []byte, corr int32) bool {
	hs := req.(*kmsg.SASLHandshakeRequest)
	if hs.Version > 1 {
		c.logf("closing: unsupported SaslHandshake version", "version", hs.Version)
		return false
	}
	if err := hs.ReadFrom(payload); err != nil {
		c.logf("closing: unparseable SaslHandshake")
		return false
	}
	resp := hs.ResponseKind().(*kmsg.SASLHandshakeResponse)
	resp.SupportedMechanisms = []string{brokerMechanism}
	if hs.Mechanism != brokerMechanism {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		c.logf("closing: unsupported SASL mechanism", "mechanism", hs.Mechanism)
		c.reply(corr, resp)
		return false
	}
	if c.reauth && hs.Version == 0 {
		c.logf("closing: re-authentication needs SaslHandshake v1")
		return false
	}
	if !c.reply(corr, resp) {
		return false
	}
	c.errorMessage = ""
	if hs.Version == 0 {
		c.state = brokerStateRawToken
	} else {
		c.state = brokerStateAuthenticate
	}
	return true
}

// brokerOutcome is the result of evaluating one SASL token.
type brokerOutcome struct {
	challenge []byte        // sent with error code 0 when not done
	failure   string        // SASL_AUTHENTICATION_FAILED message; closes
	success   bool          // authenticated
	lifetime  time.Duration // SessionLifetimeMs on success
}

func (c *brokerConn) authenticate(req kmsg.Request, payload []byte, corr int32) bool {
	ar := req.(*kmsg.SASLAuthenticateRequest)
	if ar.Version > ar.MaxVersion() {
		c.logf("closing: unsupported SaslAuthenticate version", "version", ar.Version)
		return false
	}
	if err := ar.ReadFrom(payload); err != nil {
		c.logf("closing: unparseable SaslAuthenticate")
		return false
	}
	out := c.evaluate(ar.SASLAuthBytes)
	resp := ar.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	switch {
	case out.failure != "":
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := out.failure
		resp.ErrorMessage = &msg
		c.reply(corr, resp)
		return false
	case out.success:
		resp.SASLAuthBytes = []byte{}
		resp.SessionLifetimeMillis = out.lifetime.Milliseconds()
		c.state = brokerStateAuthenticated
		c.reauth = false
	default:
		resp.SASLAuthBytes = out.challenge
	}
	return c.reply(corr, resp)
}

// handleRawToken is the SaslHandshake v0 flow: the token and the answer
// are bare size-prefixed bytes, and a failure just closes.
func (c *brokerConn) handleRawToken(token []byte) bool {
	out := c.evaluate(token)
	if out.failure != "" {
		return false
	}
	msg := out.challenge
	if out.success {
		msg = nil
		c.state = brokerStateAuthenticated
	}
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	return c.writeRaw(append(frame, msg...))
}

// evaluate is OAuthBearerSaslServer.evaluateResponse plus Kafka's
// SaslServerAuthenticator checks around it.
func (c *brokerConn) evaluate(msg []byte) brokerOutcome {
	phase := "authentication"
	if c.reauth {
		phase = "re-authentication"
	}
	generic := fmt.Sprintf("Authentication failed during %s due to invalid credentials with SASL mechanism %s", phase, brokerMechanism)
	if len(msg) == 1 && msg[0] == 0x01 && c.errorMessage != "" {
		c.logf("client acknowledged the error challenge; failing")
		return brokerOutcome{failure: c.errorMessage}
	}
	afterChallenge := c.errorMessage != ""
	c.errorMessage = ""

	now := time.Now()
	a := Authentication{
		Conn: c.id, Node: c.node, RemoteAddr: c.client.RemoteAddr().String(),
		Reauth: c.reauth, Time: now, Extensions: map[string]string{},
	}
	cf, err := brokerParseClientFirst(msg)
	if err != nil {
		// A non-0x01 answer to our challenge (sarama sends the four
		// characters `\x01`) ends the same exchange: not a new attempt.
		if !afterChallenge {
			a.Reason, a.Detail = rejectreason.MalformedMessage, err.Error()
			c.b.record(a)
		}
		c.logf("rejected: malformed client-first message", "detail", err.Error())
		return brokerOutcome{failure: generic}
	}
	a.AuthorizationID = cf.authzID
	a.Extensions = cf.extensions

	o := c.b.opts
	var claims jwt.MapClaims
	var sub string
	var verr error
	if o.GoogleAccessTokens != nil && isGoogleWrapped(cf.token) {
		claims, sub, verr = c.b.verifyGoogle(cf.token)
	} else {
		claims, sub, verr = c.b.verifier.Verify(cf.token, jwtverify.Expect{
			Issuer: o.ExpectedIssuer, Audience: o.ExpectedAudience,
			SubClaim: o.SubClaimName, Skew: o.ClockSkew,
		})
	}
	var expiry time.Time
	if verr == nil {
		sub = strings.TrimSpace(sub) // Kafka's validateClaimSubject trims
		if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
			expiry = exp.Time
		}
		verr = c.b.kafkaClaimChecks(claims, sub)
	}
	if verr != nil {
		var ve *jwtverify.Error
		var gr *googleRefusal
		switch {
		case errors.As(verr, &ve):
			a.Reason, a.Detail = string(ve.Reason), ve.Detail
		case errors.As(verr, &gr):
			a.Reason, a.Detail = gr.reason, gr.detail
		default:
			a.Reason, a.Detail = string(jwtverify.Malformed), verr.Error()
		}
	} else {
		a.Accepted, a.Principal, a.Claims = true, sub, maps.Clone(map[string]any(claims))
	}

	var rej *Rejection
	if o.Verdict != nil {
		rej = o.Verdict(a)
		if rej != nil {
			a.Accepted, a.Principal = false, ""
			a.Reason, a.Detail = rej.Reason, rej.Detail
			if a.Reason == "" {
				a.Reason = rejectreason.ByHook
			}
		}
	}
	if !a.Accepted {
		c.b.record(a)
		c.logf("rejected: invalid token", "reason", string(a.Reason), "detail", a.Detail)
		if rej != nil && rej.Message != "" {
			return brokerOutcome{failure: rej.Message}
		}
		status := "invalid_token"
		scope := ""
		if rej != nil {
			if rej.Status != "" {
				status = rej.Status
			}
			scope = rej.Scope
		}
		c.errorMessage = brokerErrorChallenge(status, scope)
		return brokerOutcome{challenge: []byte(c.errorMessage)}
	}

	if cf.authzID != "" && cf.authzID != sub {
		a.Accepted, a.Principal = false, ""
		a.Reason = rejectreason.AuthzIDMismatch
		a.Detail = fmt.Sprintf("Authentication failed: Client requested an authorization id (%s) that is different from the token's principal name (%s)", cf.authzID, sub)
		c.b.record(a)
		c.logf("rejected: authzid mismatch")
		return brokerOutcome{failure: a.Detail}
	}
	if c.reauth && sub != c.principal {
		a.Accepted, a.Principal = false, ""
		a.Reason = rejectreason.PrincipalChanged
		a.Detail = fmt.Sprintf("Cannot change principals during re-authentication from User.%s: User.%s", c.principal, sub)
		c.b.record(a)
		c.logf("rejected: principal changed during re-authentication")
		return brokerOutcome{failure: a.Detail}
	}

	// Kafka: the session lasts the token's remaining life, capped by
	// connections.max.reauth.ms, never negative.
	var lifetime time.Duration
	c.expiry = time.Time{}
	if !o.DisableReauthentication {
		lifetime = max(expiry.Sub(now).Truncate(time.Millisecond), 0)
		if o.MaxReauth > 0 && o.MaxReauth < lifetime {
			lifetime = o.MaxReauth
		}
		c.expiry = now.Add(lifetime)
	}
	a.SessionLifetime = lifetime
	c.principal = sub
	c.b.record(a)
	c.logf("authenticated", "principal", sub, "reauth", a.Reauth, "session_lifetime", lifetime)
	return brokerOutcome{success: true, lifetime: lifetime}
}

// kafkaClaimChecks adds what Kafka's BrokerJwtValidator checks beyond
// jwtverify: a numeric "iat" (jose4j setRequireIssuedAt), a subject that
// is not blank, scopes that are non-blank strings, and optionally jose4j's
// rule that an "aud" claim needs a configured expected audience.
func (b *Broker) kafkaClaimChecks(mc jwt.MapClaims, sub string) error {
	claims := map[string]any(mc)
	if iat, err := mc.GetIssuedAt(); err != nil || iat == nil || iat.Unix() < 0 {
		return &jwtverify.Error{Reason: jwtverify.NoIssuedAt, Detail: "the token has no valid numeric iat claim"}
	}
	if sub == "" {
		return &jwtverify.Error{Reason: jwtverify.NoSubject, Detail: fmt.Sprintf("the %q claim is blank", b.opts.SubClaimName)}
	}
	scopeOK := func(v any) bool { s, ok := v.(string); return ok && strings.TrimSpace(s) != "" }
	switch scope := claims["scope"].(type) {
	case nil:
	case string:
		if !scopeOK(scope) {
			return &jwtverify.Error{Reason: jwtverify.BadScope, Detail: "the scope claim is blank"}
		}
	case []any:
		for _, v := range scope {
			if !scopeOK(v) {
				return &jwtverify.Error{Reason: jwtverify.BadScope, Detail: "the scope claim holds a blank or non-string scope"}
			}
		}
	}
	if b.opts.ExpectedAudience == "" && b.opts.RejectAudienceWhenUnset {
		if aud, _ := mc.GetAudience(); len(aud) > 0 {
			return &jwtverify.Error{Reason: jwtverify.BadAudience, Detail: fmt.Sprintf("Audience (aud) claim %v present in the JWT but no expected audience value(s) were provided to the JWT Consumer", []string(aud))}
		}
	}
	return nil
}
