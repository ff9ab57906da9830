// Package tokenfile is a token source that reads a JWT from a file which
// something else keeps fresh: a Kubernetes projected service-account
// token with a custom audience (for a Kafka cluster that trusts the
// cluster's OIDC issuer), a SPIFFE JWT-SVID or a Vault agent token written
// by a sidecar. It is what Kafka's Java client does with
// sasl.oauthbearer.token.endpoint.url=file:... (KIP-768, FileJwtRetriever).
// See the example of [New].
//
// The file is read again on every refresh of the [oauthbearer.Cache] it
// returns: at 80% of the token's life, and at least every PollInterval
// (default 1m), so a rotated file is picked up without a restart, in
// practice within a minute of the kubelet rewriting it (at 80% of the
// token's life). Reads are bounded (regular files only, 64 KiB) and happen
// inside the fetch, under its deadline. The token's expiry is its exp
// claim; a missing, empty, expired or non-JWT file is an error that names
// the setting and the path, never the content.
//
// Why a package of its own: it has one job (read a file), no HTTP and no
// OAuth grant; oauthclient is about token endpoints.
package tokenfile

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/cacheopts"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtfile"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// Errors of a read, matchable with errors.Is. A missing file matches
// fs.ErrNotExist; a directory, FIFO or device, or a file over 64 KiB,
// is refused without being read.
var (
	// ErrEmpty: the file holds nothing but white space.
	ErrEmpty = jwtfile.ErrEmpty
	// ErrNotJWT: the file does not hold a compact JWS.
	ErrNotJWT = jwtfile.ErrNotJWT
	// ErrNoExpiry: the JWT has no numeric exp claim.
	ErrNoExpiry = jwtfile.ErrNoExpiry
	// ErrExpired: the JWT's exp has passed; the writer stopped rotating it.
	ErrExpired = jwtfile.ErrExpired
)

// DefaultPollInterval is how often, at most, the file is read again while
// its token is still valid.
const DefaultPollInterval = time.Minute

// Options configures [New]. Fields have no environment fallback.
type Options struct {
	// Path is the token file. Required.
	Path string

	// Setting names the path in error messages, as the user wrote it
	// (for example "sasl.oauthbearer.token.endpoint.url"). Default
	// "tokenfile.Options.Path".
	Setting string

	// PollInterval is the longest time between two reads of the file
	// while its token is valid, so that a rewritten file is picked up
	// early. It becomes the cache's MaxLifetime unless Cache sets one;
	// the cache refreshes at RefreshFraction of it. Default 1m. Each read
	// is one open, stat and read of a few kilobytes; the cache's Token
	// never touches the file. Negative is an [*oauthbearer.OptionError].
	PollInterval time.Duration

	// Cache tunes the refreshing cache. Default: the
	// [oauthbearer.CacheOptions] defaults, named "token file", with
	// MaxLifetime = PollInterval.
	Cache *oauthbearer.CacheOptions
}

type source struct {
	path, setting string
	now           func() time.Time
}

// New returns a cached source of the JWT in the file at opts.Path. It
// fails if the path is empty or names something other than a regular
// file; a file that does not exist yet (a sidecar not started) is an
// error of the first Token call, not of New. A refused option is an
// [*oauthbearer.OptionError].
func New(opts *Options) (*oauthbearer.Cache, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Setting = cmp.Or(o.Setting, "tokenfile.Options.Path")
	if o.Path == "" {
		return nil, &oauthbearer.OptionError{Options: "tokenfile.Options", Fields: []string{"Path"}, Err: fmt.Errorf("tokenfile: %s is empty; set the path of the token file", o.Setting)}
	}
	poll, err := cacheopts.Duration("tokenfile.Options", "PollInterval", o.PollInterval, DefaultPollInterval)
	if err != nil {
		return nil, err
	}
	if err := jwtfile.Check("tokenfile", o.Setting, o.Path); err != nil {
		return nil, &oauthbearer.OptionError{Options: "tokenfile.Options", Fields: []string{"Path"}, Err: err}
	}
	c := cacheopts.WithName(o.Cache, "token file")
	if c.MaxLifetime == 0 {
		c.MaxLifetime = poll
	}
	s := &source{path: o.Path, setting: o.Setting, now: cacheopts.Now(c)}
	return oauthbearer.NewCache(cacheopts.Kind(s, "token file"), c)
}

// Token reads the file once.
func (s *source) Token(ctx context.Context) (oauthbearer.Token, error) {
	t, err := jwtfile.Read(ctx, "tokenfile", s.setting, s.path, s.now())
	if err != nil {
		return oauthbearer.Token{}, err
	}
	return oauthbearer.Token{Value: t.Value, Expiry: t.Expiry, Principal: t.Subject}, nil
}
