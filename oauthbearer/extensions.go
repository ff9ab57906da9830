package oauthbearer

// ValidateExtensions checks SASL/OAUTHBEARER extensions against RFC 7628
// section 3.1 and Kafka's rules (OAuthBearerClientInitialResponse): a key
// is one or more ASCII letters, a value is one or more characters from
// %x21-7E, space, tab, CR or LF, and the key "auth" is reserved for the
// token itself. It returns an [*ExtensionError] naming the first bad key
// in sorted order, so the result is deterministic.
func ValidateExtensions(ext map[string]string) error {
	if len(ext) == 0 {
		return nil
	}
	var first *ExtensionError
	for k, v := range ext {
		if err := validateExtension(k, v); err != nil && (first == nil || k < first.Key) {
			first = err
		}
	}
	if first != nil {
		return first
	}
	return nil
}

func validateExtension(k, v string) *ExtensionError {
	if k == "" {
		return &ExtensionError{Key: k, Value: v, Reason: "the key is empty; keys are one or more ASCII letters"}
	}
	if k == "auth" {
		return &ExtensionError{Key: k, Value: v, Reason: `the key "auth" is reserved for the bearer token; rename the extension`}
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return &ExtensionError{Key: k, Value: v, Reason: "keys may contain only ASCII letters [A-Za-z]; remove digits, punctuation and spaces"}
		}
	}
	if v == "" {
		return &ExtensionError{Key: k, Value: v, Reason: "the value is empty; omit the extension instead"}
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(0x21 <= c && c <= 0x7e || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			return &ExtensionError{Key: k, Value: v, Reason: "values may contain only printable ASCII, space, tab, CR and LF"}
		}
	}
	return nil
}
