package clientprops

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// redactedValue replaces a secret value in every encoder's output.
const redactedValue = "<redacted>"

// isSecretKey reports whether a property or JAAS option named key holds a
// secret, by the conventions of Kafka, librdkafka and Confluent's clients:
// keys ending in password, passphrase or .key (ssl.key.password,
// ssl.keystore.key, sasl.oauthbearer.assertion.private.key), any key
// mentioning secret (clientSecret, sasl.oauthbearer.client.secret),
// credentials such as basic.auth.user.info, and the whole
// sasl.jaas.config, whose options hold the client secret.
func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	switch {
	case strings.Contains(k, "secret"), strings.Contains(k, "password"), strings.Contains(k, "passphrase"),
		strings.HasSuffix(k, ".key"), k == "key", strings.HasSuffix(k, "privatekey"), strings.HasSuffix(k, "private_key"),
		strings.Contains(k, "jaas.config"), strings.HasSuffix(k, "user.info"), strings.HasSuffix(k, "access.token"),
		strings.HasSuffix(k, "assertion"), k == "token", strings.HasSuffix(k, ".token"):
		return true
	}
	return false
}

// isSecret reports whether a key/value pair must be redacted: a secret
// key, or a value that holds a PEM block (a private key pasted under any
// name).
func isSecret(key, value string) bool {
	return isSecretKey(key) || strings.Contains(value, "-----BEGIN")
}

// shown returns p's value as encoders may show it: a secret redacted,
// and every URL without its user info, query and fragment.
func (p Property) shown() string {
	if p.Value != "" && isSecret(p.Key, p.Value) {
		return redactedValue
	}
	return srvtext.WithoutURLSecrets(p.Value)
}

// String returns "key=value (line n)" with a secret value redacted.
func (p Property) String() string {
	return fmt.Sprintf("%s=%s (line %d)", p.Key, p.shown(), p.Line)
}

// GoString returns a Go-syntax form with a secret value redacted.
func (p Property) GoString() string {
	return fmt.Sprintf("clientprops.Property{Key:%q, Value:%q, Line:%d}", p.Key, p.shown(), p.Line)
}

// Format makes every fmt verb redact a secret value: %v, %+v and %s
// print String, %#v GoString, and other verbs format String.
func (p Property) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = f.Write([]byte(p.GoString()))
	case verb == 'v' || verb == 's':
		_, _ = f.Write([]byte(p.String()))
	default:
		_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), p.String())
	}
}

// LogValue keeps a secret value out of log/slog output.
func (p Property) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key", p.Key), slog.String("value", p.shown()), slog.Int("line", p.Line))
}

// propertyFields is Property without its methods, for the encoders.
type propertyFields struct {
	Key, Value string
	Line       int
}

func (p Property) fields() propertyFields { return propertyFields{p.Key, p.shown(), p.Line} }

// MarshalJSON encodes the property with a secret value redacted.
func (p Property) MarshalJSON() ([]byte, error) { return json.Marshal(p.fields()) }

// MarshalYAML encodes the property with a secret value redacted (the
// YAML libraries' Marshaler interface; no import needed).
func (p Property) MarshalYAML() (any, error) { return p.fields(), nil }

// MarshalXML encodes the property with a secret value redacted.
func (p Property) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(p.fields(), start)
}

// MarshalText encodes String, with a secret value redacted.
func (p Property) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// GobEncode encodes the property with a secret value redacted: a gob
// stream is as likely to reach a file or a cache as a log.
func (p Property) GobEncode() ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(p.fields())
	return b.Bytes(), err
}

// GobDecode decodes what GobEncode wrote (the value stays redacted).
func (p *Property) GobDecode(data []byte) error {
	var f propertyFields
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&f); err != nil {
		return err
	}
	*p = Property(f)
	return nil
}

// shown returns o's value as encoders may show it.
func (o jaasOption) shown() string {
	if o.Value != "" && isSecret(o.Key, o.Value) {
		return redactedValue
	}
	return o.Value
}

// String returns key='value' with a secret value redacted.
func (o jaasOption) String() string { return o.Key + "=" + strconv.Quote(o.shown()) }

// Format makes every fmt verb redact a secret value.
func (o jaasOption) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = fmt.Fprintf(f, "confluent.jaasOption{Key:%q, Value:%q}", o.Key, o.shown())
		return
	}
	_, _ = f.Write([]byte(o.String()))
}

// LogValue keeps a secret value out of log/slog output.
func (o jaasOption) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key", o.Key), slog.String("value", o.shown()))
}

type jaasOptionFields struct{ Key, Value string }

// MarshalJSON encodes the option with a secret value redacted.
func (o jaasOption) MarshalJSON() ([]byte, error) {
	return json.Marshal(jaasOptionFields{o.Key, o.shown()})
}

// MarshalYAML encodes the option with a secret value redacted.
func (o jaasOption) MarshalYAML() (any, error) { return jaasOptionFields{o.Key, o.shown()}, nil }

// MarshalXML encodes the option with a secret value redacted.
func (o jaasOption) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(jaasOptionFields{o.Key, o.shown()}, start)
}

// MarshalText encodes String, with a secret value redacted.
func (o jaasOption) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// GobEncode encodes the option with a secret value redacted.
func (o jaasOption) GobEncode() ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(jaasOptionFields{o.Key, o.shown()})
	return b.Bytes(), err
}

// GobDecode decodes what GobEncode wrote (the value stays redacted).
func (o *jaasOption) GobDecode(data []byte) error {
	var f jaasOptionFields
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&f); err != nil {
		return err
	}
	*o = jaasOption{Key: f.Key, Value: f.Value}
	return nil
}
