package gcp

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
)

// onGCE points ADC discovery at g as GKE or Cloud Run would see it: no
// credentials file, a metadata server at GCE_METADATA_HOST. HOME moves to
// an empty directory so that a developer's gcloud ADC file is not found.
// Tests that call it must not run in parallel (t.Setenv).
func onGCE(t *testing.T, g *idptest.GCE) {
	t.Setenv("GCE_METADATA_HOST", g.Host)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("CLOUDSDK_CONFIG", t.TempDir())
}

// lastIssued is the last request in which g issued a token of kind
// ("access" or "identity").
func lastIssued(t *testing.T, g *idptest.GCE, kind string) idptest.Request {
	t.Helper()
	rs := g.Issued()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Kind == kind {
			return rs[i]
		}
	}
	t.Fatalf("the emulator issued no %s token", kind)
	return idptest.Request{}
}

// decodeWrapper splits a Managed Kafka token into its three decoded
// segments, requiring base64url without padding.
func decodeWrapper(t *testing.T, tok string) (header, claims, access string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	var out [3]string
	for i, p := range parts {
		require.NotContains(t, p, "=", "segment %d is unpadded", i+1)
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		require.NoError(t, err, "segment %d is base64url", i+1)
		out[i] = string(b)
	}
	return out[0], out[1], out[2]
}

// TestManagedKafkaFormat decodes a NewManagedKafka token found through
// ADC on a (emulated) GCE VM and checks it byte for byte against Google's
// GcpLoginCallbackHandler: header, claims in its order, and the access
// token the metadata server issued as third segment.
func TestManagedKafkaFormat(t *testing.T) {
	g := idptest.NewGCE(t, nil)
	onGCE(t, g)
	before := time.Now().Unix()
	src, err := NewManagedKafka(t.Context(), nil)
	tok := fetchToken(t, src, err)
	after := time.Now().Unix()

	header, claims, access := decodeWrapper(t, tok.Value)
	assert.Equal(t, `{"typ":"JWT","alg":"GOOG_OAUTH2_TOKEN"}`, header)
	issued := lastIssued(t, g, "access")
	assert.Equal(t, issued.Token, access, "the third segment is the access token itself")
	assert.Equal(t, CloudPlatformScope, issued.Scope, "scope cloud-platform")
	_, expiry, ok := g.AccessToken(access)
	require.True(t, ok)

	// The claims, in Gson's order over Google's ImmutableMap.
	exp := tok.Expiry.Unix()
	var iat int64
	for i := before; i <= after; i++ {
		if claims == `{"exp":`+itoa(exp)+`,"iat":`+itoa(i)+`,"scope":"kafka","sub":"`+g.Email+`"}` {
			iat = i
		}
	}
	assert.NotZero(t, iat, "claims %s", claims)
	assert.InDelta(t, expiry.Unix(), exp, 2, "exp is the access token's expiry")
	assert.Equal(t, g.Email, tok.Principal)

	// A Google access token is a valid RFC 6750 b64token, so the bare
	// token (the Schema Registry's bearer) passes the library's framing
	// check, and so does the wrapper.
	assert.NoError(t, oauthbearer.ValidateToken("test", access))
	assert.NoError(t, oauthbearer.ValidateToken("test", tok.Value))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestManagedKafkaServiceAccountKey uses a key file named by
// GOOGLE_APPLICATION_CREDENTIALS: the principal is its client_email and
// the access token comes from the key's token_uri.
func TestManagedKafkaServiceAccountKey(t *testing.T) {
	g := idptest.NewGCE(t, &idptest.GCEOptions{Email: "key-sa@proj.iam.gserviceaccount.com"})
	f := t.TempDir() + "/key.json"
	require.NoError(t, writeFile(f, g.ServiceAccountKeyJSON))
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", f)
	t.Setenv("GCE_METADATA_HOST", "")

	src, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{HTTPClient: g.Client()})
	tok := fetchToken(t, src, err)
	_, claims, access := decodeWrapper(t, tok.Value)
	assert.Contains(t, claims, `"sub":"key-sa@proj.iam.gserviceaccount.com"`)
	assert.Equal(t, lastIssued(t, g, "access").Token, access)
	assert.Equal(t, "key-sa@proj.iam.gserviceaccount.com", tok.Principal)

	// Principal overrides the discovered email.
	src2, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{CredentialsJSON: g.ServiceAccountKeyJSON, HTTPClient: g.Client(), Principal: "other@proj.iam.gserviceaccount.com"})
	tok = fetchToken(t, src2, err)
	assert.Equal(t, "other@proj.iam.gserviceaccount.com", tok.Principal)
}

// TestPrincipalFromCredentialFiles checks the email each credentials
// file type yields, as Google's handler finds it.
func TestPrincipalFromCredentialFiles(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		json  string
		email string
	}{
		"service account key": {`{"type":"service_account","client_email":"a@p.iam.gserviceaccount.com"}`, "a@p.iam.gserviceaccount.com"},
		"impersonated": {`{"type":"impersonated_service_account","service_account_impersonation_url":"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/b@p.iam.gserviceaccount.com:generateAccessToken","source_credentials":{}}`,
			"b@p.iam.gserviceaccount.com"},
		"external account": {`{"type":"external_account","audience":"//iam.googleapis.com/x","service_account_impersonation_url":"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/c%40p.iam.gserviceaccount.com:generateAccessToken"}`,
			"c@p.iam.gserviceaccount.com"},
		"user": {`{"type":"authorized_user","client_id":"x","refresh_token":"y"}`, ""},
	}
	for name, tc := range cases {
		c := &creds{json: []byte(tc.json)}
		e, ok := c.fileEmail()
		assert.Equal(t, tc.email, e, name)
		assert.Equal(t, tc.email != "", ok, name)
	}
	_, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{CredentialsJSON: []byte(cases["user"].json)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ManagedKafkaOptions.Principal")
	assert.NotContains(t, err.Error(), "refresh_token")
}

// TestIDTokenMetadata gets an ID token from the metadata server for the
// configured audience; its principal is the service account's unique ID.
func TestIDTokenMetadata(t *testing.T) {
	g := idptest.NewGCE(t, nil)
	onGCE(t, g)
	src, err := NewIDToken(t.Context(), &IDTokenOptions{Audience: "kafka.example.com"})
	tok := fetchToken(t, src, err)
	issued := lastIssued(t, g, "identity")
	assert.Equal(t, issued.Token, tok.Value)
	assert.Equal(t, g.UniqueID, tok.Principal)
	assert.Equal(t, []string{"kafka.example.com"}, issued.Audience)
}

// TestIDTokenServiceAccountKey signs an ID token request with a key file:
// the jwt-bearer grant with target_audience.
func TestIDTokenServiceAccountKey(t *testing.T) {
	t.Parallel()
	g := idptest.NewGCE(t, nil)
	src, err := NewIDToken(t.Context(), &IDTokenOptions{Audience: "aud-1", CredentialsJSON: g.ServiceAccountKeyJSON, HTTPClient: g.Client()})
	tok := fetchToken(t, src, err)
	assert.Equal(t, lastIssued(t, g, "identity").Token, tok.Value)
	assert.Equal(t, g.UniqueID, tok.Principal)
}

// fetchToken fails t unless the constructor's src fetches a token, and
// closes src when t ends.
func fetchToken(t *testing.T, src *oauthbearer.Cache, err error) oauthbearer.Token {
	t.Helper()
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	tok, err := src.Token(t.Context())
	require.NoError(t, err)
	return tok
}

func fetchErr(t *testing.T, src *oauthbearer.Cache, err error) error {
	t.Helper()
	if err != nil {
		return err
	}
	t.Cleanup(func() { _ = src.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = src.Token(ctx)
	require.Error(t, err)
	return err
}

// TestErrors checks each failure's sentinel and that the message names
// the fix. Each fails before its classification in credentials.go: the
// error would be the library's bare text.
func TestErrors(t *testing.T) {
	t.Parallel()
	fast := &oauthbearer.CacheOptions{FetchTimeout: 3 * time.Second}
	managedKafka := func(hc *http.Client) (*oauthbearer.Cache, error) {
		return NewManagedKafka(t.Context(), &ManagedKafkaOptions{MetadataServer: true, HTTPClient: hc, Cache: fast})
	}
	idToken := func(audience string) func(*http.Client) (*oauthbearer.Cache, error) {
		return func(hc *http.Client) (*oauthbearer.Cache, error) {
			return NewIDToken(t.Context(), &IDTokenOptions{Audience: audience, MetadataServer: true, HTTPClient: hc, Cache: fast})
		}
	}
	// The first fetch from the metadata server fails.
	for name, tc := range map[string]struct {
		gce       *idptest.GCEOptions
		closed    bool // nothing listens at the metadata address
		start     func(*http.Client) (*oauthbearer.Cache, error)
		sentinel  error
		transient bool
		want      string
	}{
		"not on GCP": {closed: true, start: managedKafka, sentinel: ErrNotOnGCP, transient: true, want: "not on GCE, GKE or Cloud Run"},
		"scope missing": {gce: &idptest.GCEOptions{Scopes: []string{"https://www.googleapis.com/auth/devstorage.read_only"}},
			start: managedKafka, sentinel: ErrPermission, want: "access scopes"},
		"no service account": {gce: &idptest.GCEOptions{NoServiceAccount: true}, start: idToken("a"),
			sentinel: ErrPermission, want: "no service account is attached"},
		// Fails before: "the metadata server at ... has no the service
		// account's email (HTTP 404)".
		"no service account, managed kafka": {gce: &idptest.GCEOptions{NoServiceAccount: true}, start: managedKafka,
			sentinel: ErrPermission, want: "answered HTTP 404 to the request for the service account's email: no service account is attached"},
		"audience not allowed": {gce: &idptest.GCEOptions{AllowedAudiences: []string{"only-this"}}, start: idToken("other"),
			sentinel: ErrAudience, want: "IDTokenOptions.Audience"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hc := idptest.NewGCE(t, tc.gce).Client()
			if tc.closed {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				hc.Transport = &redirectTo{addr: ln.Addr().String()}
				require.NoError(t, ln.Close())
			}
			src, err := tc.start(hc)
			err = fetchErr(t, src, err)
			assert.ErrorIs(t, err, tc.sentinel)
			if tc.transient {
				assert.True(t, oauthbearer.IsTransient(err), "%v", err)
			}
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	// The options are refused; the message names no secret of theirs.
	for name, tc := range map[string]struct {
		start           func() (*oauthbearer.Cache, error)
		want, notSecret string
	}{
		"no audience": {func() (*oauthbearer.Cache, error) {
			return NewIDToken(t.Context(), &IDTokenOptions{MetadataServer: true})
		}, "IDTokenOptions.Audience is empty", ""},
		"padded audience": {func() (*oauthbearer.Cache, error) {
			return NewIDToken(t.Context(), &IDTokenOptions{Audience: "kafka\n", MetadataServer: true})
		}, `IDTokenOptions.Audience is "kafka\n", with spaces or line breaks around or in it`, ""},
		"both credential settings": {func() (*oauthbearer.Cache, error) {
			return NewManagedKafka(t.Context(), &ManagedKafkaOptions{MetadataServer: true, CredentialsJSON: []byte(`{}`)})
		}, "both set", ""},
		"not a credentials file": {func() (*oauthbearer.Cache, error) {
			return NewManagedKafka(t.Context(), &ManagedKafkaOptions{CredentialsJSON: []byte(`{"private_key":"-----BEGIN PRIVATE KEY-----MIIEsecret"`)})
		}, "not a Google credentials file", "MIIE"},
		"id token from user credentials": {func() (*oauthbearer.Cache, error) {
			return NewIDToken(t.Context(), &IDTokenOptions{Audience: "a", CredentialsJSON: []byte(`{"type":"authorized_user","refresh_token":"rt-secret"}`)})
		}, "service-account keys", "rt-secret"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.start()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.notSecret != "" {
				assert.NotContains(t, err.Error(), tc.notSecret)
			}
		})
	}
	t.Run("no ADC", func(t *testing.T) {
		t.Parallel()
		// The error off Google Cloud (producing it for real probes the
		// metadata address: TestNoADCFileAsksOnlyThroughTheGate).
		err := noADCError()
		assert.ErrorIs(t, err, ErrNoCredentials)
		assert.Contains(t, err.Error(), "GOOGLE_APPLICATION_CREDENTIALS")
	})
}

// A Principal with spaces around it is refused and quoted through
// srvtext.Quote: a pasted credential field is dropped and a long paste
// clipped. On main it was quoted whole with %q.
func TestPrincipalWithSpacesQuotedSafely(t *testing.T) {
	long := strings.Repeat("sa-principal-", 200)
	_, err := NewManagedKafka(t.Context(), &ManagedKafkaOptions{Principal: " password=hunter2-s3cr3t " + long})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ManagedKafkaOptions.Principal")
	assert.Contains(t, err.Error(), "leading or trailing spaces")
	assert.NotContains(t, err.Error(), "s3cr3t")
	assert.NotContains(t, err.Error(), long)
}
