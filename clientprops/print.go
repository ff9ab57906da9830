package clientprops

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// The URLs of a parsed file (the token endpoint, the Schema Registry URL)
// may carry a password in their user info or a secret in their query.
// SourceSpec and SchemaRegistrySettings print them, through every
// encoder, without those parts (srvtext.WithoutURLSecrets), as Property
// does; the values themselves are kept for the caller.

// sourceSpecFields and registryFields are the types without their
// methods, for the encoders.
type (
	sourceSpecFields SourceSpec
	registryFields   SchemaRegistrySettings
)

func (s SourceSpec) shown() sourceSpecFields {
	s.TokenURL = srvtext.WithoutURLSecrets(s.TokenURL)
	s.IMDSEndpoint = srvtext.WithoutURLSecrets(s.IMDSEndpoint)
	s.AuthorityHost = srvtext.WithoutURLSecrets(s.AuthorityHost)
	return sourceSpecFields(s)
}

func (r SchemaRegistrySettings) shown() registryFields {
	r.URL = srvtext.WithoutURLSecrets(r.URL)
	return registryFields(r)
}

// Format prints the spec with its URLs' user info, query and fragment
// removed, for every verb (%#v names the type as SourceSpec).
func (s SourceSpec) Format(f fmt.State, verb rune) { format(f, verb, "SourceSpec", s.shown()) }

// LogValue keeps the URLs' secrets out of log/slog output.
func (s SourceSpec) LogValue() slog.Value { return slog.AnyValue(s.shown()) }

// MarshalJSON encodes the spec with the URLs' secrets removed.
func (s SourceSpec) MarshalJSON() ([]byte, error) { return json.Marshal(s.shown()) }

// MarshalYAML encodes the spec with the URLs' secrets removed.
func (s SourceSpec) MarshalYAML() (any, error) { return s.shown(), nil }

// MarshalXML encodes the spec with the URLs' secrets removed.
func (s SourceSpec) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(s.shown(), start)
}

// GobEncode encodes the spec with the URLs' secrets removed.
func (s SourceSpec) GobEncode() ([]byte, error) { return gobEncode(s.shown()) }

// GobDecode decodes what GobEncode wrote (the URLs stay without their
// secrets).
func (s *SourceSpec) GobDecode(data []byte) error {
	var f sourceSpecFields
	err := gob.NewDecoder(bytes.NewReader(data)).Decode(&f)
	*s = SourceSpec(f)
	return err
}

// Format prints the settings with the URL's user info, query and
// fragment removed, for every verb.
func (r SchemaRegistrySettings) Format(f fmt.State, verb rune) {
	format(f, verb, "SchemaRegistrySettings", r.shown())
}

// LogValue keeps the URL's secrets out of log/slog output.
func (r SchemaRegistrySettings) LogValue() slog.Value { return slog.AnyValue(r.shown()) }

// MarshalJSON encodes the settings with the URL's secrets removed.
func (r SchemaRegistrySettings) MarshalJSON() ([]byte, error) { return json.Marshal(r.shown()) }

// MarshalYAML encodes the settings with the URL's secrets removed.
func (r SchemaRegistrySettings) MarshalYAML() (any, error) { return r.shown(), nil }

// MarshalXML encodes the settings with the URL's secrets removed.
func (r SchemaRegistrySettings) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(r.shown(), start)
}

// GobEncode encodes the settings with the URL's secrets removed.
func (r SchemaRegistrySettings) GobEncode() ([]byte, error) { return gobEncode(r.shown()) }

// GobDecode decodes what GobEncode wrote.
func (r *SchemaRegistrySettings) GobDecode(data []byte) error {
	var f registryFields
	err := gob.NewDecoder(bytes.NewReader(data)).Decode(&f)
	*r = SchemaRegistrySettings(f)
	return err
}

// format prints v (a methodless copy) with f's verb and flags; %#v names
// the type as name rather than as the copy's type.
func format(f fmt.State, verb rune, name string, v any) {
	out := fmt.Sprintf(fmt.FormatString(f, verb), v)
	if verb == 'v' && f.Flag('#') {
		if i := bytes.IndexByte([]byte(out), '{'); i >= 0 {
			out = "clientprops." + name + out[i:]
		}
	}
	_, _ = fmt.Fprint(f, out)
}

func gobEncode(v any) ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}
