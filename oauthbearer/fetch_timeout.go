package oauthbearer

import (
	"fmt"
	"strings"
	"time"
)

// ResolveFetchTimeout is the one rule for a FetchTimeout setting, wherever
// it is set: [CacheOptions], each Kafka client adapter's Options and the
// Schema Registry's. Zero means [DefaultFetchTimeout]; a negative value is
// an [*OptionError] whose Field is "FetchTimeout". owner is the options
// type as its user writes it, package first, such as "saramasasl.Options":
// the error then reads "saramasasl: Options.FetchTimeout is -1s; ...".
func ResolveFetchTimeout(owner string, d time.Duration) (time.Duration, error) {
	if err := checkDuration(owner, "FetchTimeout", d, DefaultFetchTimeout); err != nil {
		return 0, err
	}
	if d == 0 {
		return DefaultFetchTimeout, nil
	}
	return d, nil
}

// checkDuration is the rule for every duration whose zero means its
// default def: it must not be negative.
func checkDuration(owner, field string, d, def time.Duration) error {
	if d >= 0 {
		return nil
	}
	pkg, typ, _ := strings.Cut(owner, ".")
	return &OptionError{Field: field, pkg: pkg,
		msg: fmt.Sprintf("%s.%s is %s; it must not be negative (0 means the default %s)", typ, field, d, def)}
}
