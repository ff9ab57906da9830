package oauthbearer

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// Token is a bearer token for SASL/OAUTHBEARER and HTTP bearer
// authentication: the compact JWT (or other opaque access token), when it
// expires, and what the Kafka client sends beside it.
//
// A Token is a small value; copy it freely. Every formatting path
// (String, GoString, fmt verbs such as %v, %+v and %#v, slog, JSON, YAML,
// XML, encoding.TextMarshaler and gob) prints a redacted form that never
// includes Value. Read Value only where
// the token is put on the wire.
//
// Tokens handed out by a [Cache] are shared by every caller: treat the
// Extensions map as read-only.
type Token struct {
	// Value is the bearer token itself, usually a compact JWT. It is a
	// secret: never log it.
	Value string
	// Expiry is when the token stops being valid. A [Cache] moves it back
	// to the JWT's exp claim when that comes first (brokers judge the
	// token by exp), and rejects a token with neither, because it cannot
	// schedule a refresh for it.
	Expiry time.Time
	// Principal optionally names the identity the token stands for (for
	// example the JWT "sub" claim). Some clients (librdkafka) want it.
	Principal string
	// Extensions are SASL/OAUTHBEARER extensions (RFC 7628 section 3.1)
	// sent beside the token, such as Confluent Cloud's logicalCluster and
	// identityPoolId. See [ValidateExtensions] for the rules.
	Extensions map[string]string
}

// IsZero reports whether t holds no token.
func (t Token) IsZero() bool { return t.Value == "" }

// redacted is what every formatting path prints in place of the value.
func (t Token) redacted() string {
	if t.Value == "" {
		return "oauthbearer.Token{<empty>}"
	}
	exp := "unknown"
	if !t.Expiry.IsZero() {
		exp = t.Expiry.UTC().Format(time.RFC3339)
	}
	s := "oauthbearer.Token{Value:<redacted " + fmt.Sprint(len(t.Value)) + " bytes>, Expiry:" + exp
	if t.Principal != "" {
		// The principal comes from the token's claims, which the
		// identity provider chose: no control characters in our output.
		s += ", Principal:" + srvtext.Field(t.Principal)
	}
	if len(t.Extensions) > 0 {
		s += fmt.Sprintf(", Extensions:%d", len(t.Extensions))
	}
	return s + "}"
}

// String returns a redacted description of t; it never contains Value.
func (t Token) String() string { return t.redacted() }

// GoString returns the same redacted description for %#v.
func (t Token) GoString() string { return t.redacted() }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %x, ...) print the
// redacted description, so no formatting path can leak Value.
func (t Token) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.redacted())) }

// LogValue keeps the token out of log/slog output.
func (t Token) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Bool("present", t.Value != "")}
	if !t.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", t.Expiry))
	}
	if t.Principal != "" {
		attrs = append(attrs, slog.String("principal", t.Principal))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON encodes the redacted description, never Value, so a Token
// embedded in a struct that is logged as JSON stays secret.
func (t Token) MarshalJSON() ([]byte, error) { return json.Marshal(t.redacted()) }

// MarshalText encodes the redacted description, never Value: XML
// attributes, YAML and map keys use it.
func (t Token) MarshalText() ([]byte, error) { return []byte(t.redacted()), nil }

// MarshalYAML encodes the redacted description, never Value (the YAML
// libraries' Marshaler interface, which needs no import).
func (t Token) MarshalYAML() (any, error) { return t.redacted(), nil }

// MarshalXML encodes the redacted description, never Value.
func (t Token) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(t.redacted(), start)
}

// GobEncode encodes the redacted description, never Value: a Token is
// not meant to be persisted, and a gob stream reaches files and caches as
// easily as logs. Decoding it yields a zero Token.
func (t Token) GobEncode() ([]byte, error) { return []byte(t.redacted()), nil }

// GobDecode accepts what GobEncode wrote and leaves t zero: the value was
// never encoded.
func (t *Token) GobDecode([]byte) error { *t = Token{}; return nil }
