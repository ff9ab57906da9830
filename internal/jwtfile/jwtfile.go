// Package jwtfile reads a compact JWT from a file that something else
// rotates (the kubelet's projected service-account token, a SPIFFE or
// Vault sidecar, a pre-generated RFC 7523 assertion): the one reader of
// the tokenfile package and of oauthclient's jwt-bearer assertion file.
//
// It reads through internal/boundedfile (regular files only, 64 KiB,
// within the caller's context), trims surrounding white space, checks the
// shape of a JWS in compact form and takes exp (required) and sub from
// the payload, without verifying the signature: the server that receives
// the token does that. Errors name the setting and the path the caller
// gives, never the content.
package jwtfile

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
)

// ErrEmpty reports a file that holds nothing but white space.
var ErrEmpty = errors.New("the file is empty")

// ErrNotJWT reports a file whose content is not a compact JWS with a JSON
// header and payload.
var ErrNotJWT = errors.New("the file does not hold a JWT")

// ErrNoExpiry reports a JWT without a numeric exp claim.
var ErrNoExpiry = errors.New("the JWT has no exp claim")

// ErrExpired reports a JWT whose exp has passed.
var ErrExpired = errors.New("the JWT in the file has expired")

// Token is what a file held.
type Token struct {
	// Value is the compact JWT, trimmed. It is a secret.
	Value string
	// Expiry is the exp claim.
	Expiry time.Time
	// Subject is the sub claim, if a string.
	Subject string
}

// notTheFile is the fix for a path that is not the token file (a
// directory, a FIFO, a file too large).
const notTheFile = "point the setting at the token file itself"

// Check is the check at construction, which cannot block: it refuses a
// path that exists and is not a regular file (a directory, a FIFO) in
// [Read]'s words. A file that does not exist yet (a sidecar not started)
// is not refused: it is Read's error at the first fetch.
func Check(pkg, setting, path string) error {
	if _, err := boundedfile.Check(path); errors.Is(err, boundedfile.ErrNotRegular) {
		return fileError(pkg, setting, path, err, notTheFile)
	}
	return nil
}

// Read reads the JWT at path. pkg starts error messages ("tokenfile",
// "oauthclient"), setting names the option or property that gave the
// path. A JWT whose exp is not after now is [ErrExpired].
func Read(ctx context.Context, pkg, setting, path string, now time.Time) (Token, error) {
	fail := func(err error, fix string) error { return fileError(pkg, setting, path, err, fix) }
	data, err := boundedfile.Read(ctx, path, boundedfile.TokenLimit)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Token{}, fail(err, "check the path, and that the volume or sidecar that writes it is mounted")
	case errors.Is(err, boundedfile.ErrNotRegular), errors.Is(err, boundedfile.ErrTooLarge):
		return Token{}, fail(err, notTheFile)
	case err != nil:
		return Token{}, fail(err, "check the file's permissions")
	}
	v := string(bytes.TrimSpace(data))
	if v == "" {
		return Token{}, fail(ErrEmpty, "the writer has not written it yet, or writes it elsewhere")
	}
	claims, err := payload(v)
	if err != nil {
		return Token{}, fail(fmt.Errorf("%w (%v)", ErrNotJWT, err), "the file must hold one compact JWT (header.payload.signature), as a projected service-account token does")
	}
	exp, ok := claims["exp"].(float64)
	if !ok || exp <= 0 || exp > math.MaxInt32*4 {
		return Token{}, fail(ErrNoExpiry, "the token's lifetime is unknown; use a token with an exp claim")
	}
	t := Token{Value: v, Expiry: time.Unix(int64(exp), 0)}
	t.Subject, _ = claims["sub"].(string)
	if !now.Before(t.Expiry) {
		return Token{}, fail(fmt.Errorf("%w at %s (now %s)", ErrExpired, t.Expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)),
			"the writer (kubelet, sidecar, job) has stopped rotating it; check it, and this machine's clock")
	}
	return t, nil
}

// fileError is the one wording of a refused file: "<pkg>: <setting>
// <path, quoted by srvtext.Quote>: <err>; <fix>; see <the guide>".
func fileError(pkg, setting, path string, err error, fix string) error {
	return fmt.Errorf("%s: %s %s: %w; %s; %s", pkg, setting, srvtext.Quote(path, 0), err, fix, troubleshooting.See("token-file"))
}

// payload checks the compact JWS shape and decodes the claims. Its errors
// describe the shape only, never quote the content.
func payload(v string) (map[string]any, error) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%d dot-separated parts, not 3", len(parts))
	}
	var hdr map[string]any
	if err := decode(parts[0], &hdr); err != nil {
		return nil, fmt.Errorf("the header is %v", err)
	}
	if _, ok := hdr["alg"].(string); !ok {
		return nil, errors.New("the header has no alg")
	}
	var claims map[string]any
	if err := decode(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("the payload is %v", err)
	}
	if parts[2] == "" {
		return nil, errors.New("the signature is empty")
	}
	return claims, nil
}

func decode(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errors.New("not base64url")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if d.Decode(v) != nil || v == nil {
		return errors.New("not a JSON object")
	}
	if d.More() {
		return errors.New("followed by extra data")
	}
	return nil
}
