package oauthclient

import (
	"context"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/internal/jwtfile"
)

// What the client credentials and jwt-bearer grants share, written once:
// the TokenURL check, the AssertionFile check, and the assertion a
// request sends.

// checkTokenURL refuses an empty TokenURL, and one that is neither https
// nor http to a loopback host.
func (n options) checkTokenURL(tokenURL string) error {
	if tokenURL == "" {
		return n.errorf("oauthclient: %s is empty; set the identity provider's token endpoint", field("TokenURL"))
	}
	return n.wrap(idphttp.CheckEndpoint("oauthclient", n.name("TokenURL"), tokenURL), "TokenURL")
}

// checkAssertionFile refuses an AssertionFile that exists and is not a
// regular file; one that does not exist yet (a sidecar not started) is an
// error of the first request.
func (n options) checkAssertionFile(path string) error {
	return n.wrap(jwtfile.Check("oauthclient", n.name("AssertionFile"), path), "AssertionFile")
}

// assertion returns the assertion a request sends: with sign nil, the
// one in the AssertionFile at path, read again for each request (a
// sidecar rewrites it) and checked against now; else a fresh one sign
// makes.
func (n options) assertion(ctx context.Context, path string, sign *signer, now func() time.Time) (string, error) {
	if sign != nil {
		return sign.sign(ctx)
	}
	t, err := jwtfile.Read(ctx, "oauthclient", n.name("AssertionFile"), path, now())
	if err != nil {
		return "", n.wrap(err, "AssertionFile")
	}
	return t.Value, nil
}
