package oauthbearertest

import (
	"errors"
	"regexp"
	"strings"
)

// brokerSASLName is Kafka's SASLNAME: any 7-bit character but ',' and
// '=', or the escapes =2C and =3D.
const brokerSASLName = `(?:[\x01-\x2B\x2D-\x3C\x3E-\x7F]|=2C|=3D)+`

// brokerClientFirst is Kafka's OAuthBearerClientInitialResponse pattern:
// n,(a=authzid)?,\x01(key=value\x01)*\x01 with key [A-Za-z]+ and value
// [\x21-\x7E \t\r\n]+.
var brokerClientFirst = regexp.MustCompile(`^n,(?:a=(` + brokerSASLName + `))?,\x01((?:[A-Za-z]+=[\x21-\x7E \t\r\n]+\x01)*)\x01$`)

// brokerAuthValue is Kafka's AUTH_PATTERN for the auth= value.
var brokerAuthValue = regexp.MustCompile(`^(\w+) +([-_.a-zA-Z0-9]+)$`)

// brokerClientFirstMessage is a parsed RFC 7628 client-first message.
type brokerClientFirstMessage struct {
	authzID    string
	token      string
	extensions map[string]string
}

// errBrokerMalformed carries Kafka's (server-side, debug-logged) reason.
var errBrokerMalformed = errors.New("invalid OAUTHBEARER client first message")

// brokerParseClientFirst parses msg the way Kafka's
// OAuthBearerClientInitialResponse does, so that what it accepts and
// refuses matches a real broker. The error never contains the token.
func brokerParseClientFirst(msg []byte) (brokerClientFirstMessage, error) {
	var out brokerClientFirstMessage
	m := brokerClientFirst.FindSubmatch(msg)
	if m == nil {
		return out, errBrokerMalformed
	}
	out.authzID = string(m[1])
	props := map[string]string{}
	if kv := string(m[2]); kv != "" {
		// Like Kafka's Utils.parseMap: split on \x01, then on the first
		// '='; a repeated key keeps its last value.
		for _, pair := range strings.Split(strings.TrimSuffix(kv, "\x01"), "\x01") {
			k, v, _ := strings.Cut(pair, "=")
			props[k] = v
		}
	}
	auth, ok := props["auth"]
	if !ok {
		return out, errors.New("invalid OAUTHBEARER client first message: 'auth' not specified")
	}
	delete(props, "auth")
	am := brokerAuthValue.FindStringSubmatch(auth)
	if am == nil {
		return out, errors.New("invalid OAUTHBEARER client first message: invalid 'auth' format")
	}
	if !strings.EqualFold(am[1], "bearer") {
		return out, errors.New("invalid scheme in OAUTHBEARER client first message")
	}
	out.token = am[2]
	out.extensions = props
	return out, nil
}

// brokerErrorChallenge is Kafka's jsonErrorResponse, byte for byte.
func brokerErrorChallenge(status, scope string) string {
	s := `{"status":"` + status + `"`
	if scope != "" {
		s += `, "scope":"` + scope + `"`
	}
	return s + "}"
}
