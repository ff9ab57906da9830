package faultmatrix

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	awsid "github.com/streamidentity/kafka-workload-identity/aws"
	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/confluent"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// shape is a token reply that is well-formed HTTP but carries a token
// whose expiry is wrong in some way.
type shape int

const (
	noExp     shape = iota // no exp claim and no expiry field in the reply
	expired                // exp (and the reply's expiry) an hour ago
	farFuture              // exp ten years away
	skewed                 // the IdP's clock is 5 minutes behind ours
)

const idpSkew = 5 * time.Minute

// bench is one identity provider emulator and a source pointed at it.
type bench struct {
	src *oauthbearer.Cache
	// idp is the server faults are injected into.
	idp *idptest.Server
	// path, if set, is the token endpoint's path: faults hit only it, not
	// the discovery requests around it.
	path string
	// closeIdP stops the identity provider, for refused connections.
	closeIdP func()
	// status builds an error reply in the IdP's own format.
	status func(code int, retryAfter time.Duration) idptest.Fault
	// shaped builds a 200 reply carrying a token of the given shape.
	shaped func(s shape) idptest.Fault
}

// kit starts a bench for one token source.
type kit struct {
	name string
	// skip, if set, says why the source is not in the matrix.
	skip string
	// imds marks the source whose endpoint answers 404/410 while starting.
	imds  bool
	start func(t *testing.T, iss *idptest.Issuer, co *oauthbearer.CacheOptions) *bench
}

// Token lifetimes are short so that a refresh reaches the IdP: azidentity's
// managed-identity cache is process-global and hands out a cached token
// until 5 minutes before its expiry.
const (
	imdsLife  = 4 * time.Minute
	otherLife = 10 * time.Minute
	stsLife   = 5 * time.Minute
)

// fastRetry keeps azidentity's in-fetch retries but with millisecond delays.
var fastRetry = policy.RetryOptions{MaxRetries: 2, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}

var targetSeq atomic.Int64

// uniqueTarget keeps cells apart in azidentity's process-global cache.
func uniqueTarget() string {
	return fmt.Sprintf("api://faultmatrix-%d-%d", time.Now().UnixNano(), targetSeq.Add(1))
}

// claimsAt are a token's claims as an IdP whose clock reads now issues
// them, valid for life (no exp when life is 0).
func claimsAt(iss, sub, aud string, now time.Time, life time.Duration) map[string]any {
	c := map[string]any{"iss": iss, "sub": sub, "aud": aud, "iat": now.Unix(), "nbf": now.Unix(),
		"ver": "2.0", "oid": sub, "tid": "t", "azp": "a"}
	if life != 0 {
		c["exp"] = now.Add(life).Unix()
	}
	return c
}

// shapeTimes turns a shape into the IdP's clock reading and the token's
// lifetime on that clock (0: no expiry), for a source whose normal
// lifetime is life.
func shapeTimes(s shape, life time.Duration) (idpNow time.Time, tokLife time.Duration) {
	now := time.Now()
	switch s {
	case noExp:
		return now, 0
	case expired:
		return now.Add(-2 * time.Hour), time.Hour
	case farFuture:
		return now, 10 * 365 * 24 * time.Hour
	default:
		return now.Add(-idpSkew), life
	}
}

func jsonFault(v any) idptest.Fault {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return idptest.Fault{Status: http.StatusOK, Body: string(b)}
}

func imdsKit() kit {
	return kit{name: "azure managed identity", imds: true, start: func(t *testing.T, iss *idptest.Issuer, co *oauthbearer.CacheOptions) *bench {
		m := idptest.NewIMDS(t, &idptest.IMDSOptions{Signer: iss, Lifetime: imdsLife})
		target := uniqueTarget()
		src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: target, Cache: co,
			HTTPClient: m.Client(), Retry: fastRetry})
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		return &bench{src: src, idp: m.Server, closeIdP: m.Close,
			status: func(code int, ra time.Duration) idptest.Fault {
				return idptest.Fault{Status: code, RetryAfter: ra}
			},
			shaped: func(s shape) idptest.Fault {
				now, life := shapeTimes(s, imdsLife)
				reply := map[string]string{
					"access_token": iss.Sign(claimsAt(iss.IssuerURL, m.SystemAssigned.ObjectID, target, now, life)),
					"client_id":    m.SystemAssigned.ClientID, "resource": target, "token_type": "Bearer",
					"not_before": strconv.FormatInt(now.Unix(), 10),
				}
				if life != 0 {
					reply["expires_in"] = strconv.FormatInt(int64(life/time.Second), 10)
					reply["expires_on"] = strconv.FormatInt(now.Add(life).Unix(), 10)
				}
				return jsonFault(reply)
			}}
	}}
}

const (
	wiTenant = "9d2f0000-0000-4000-8000-0000000000a1"
	wiClient = "9d2f0000-0000-4000-8000-0000000000c1"
	wiSA     = "system:serviceaccount:kafka:producer"
)

func workloadKit() kit {
	return kit{name: "azure workload identity", start: func(t *testing.T, iss *idptest.Issuer, co *oauthbearer.CacheOptions) *bench {
		e := idptest.NewEntra(t, &idptest.EntraOptions{Signer: iss, Lifetime: otherLife,
			Apps: []idptest.EntraApp{{TenantID: wiTenant, ClientID: wiClient,
				Federated: []idptest.FederatedCredential{{Issuer: iss.IssuerURL, Subject: wiSA}}}}})
		file := filepath.Join(t.TempDir(), "token")
		require.NoError(t, os.WriteFile(file, []byte(iss.Mint(wiSA, "api://AzureADTokenExchange", time.Hour, nil)), 0o600))
		target := uniqueTarget()
		src, err := azure.NewWorkloadIdentity(&azure.WorkloadIdentityOptions{Audience: target, ClientID: wiClient, TenantID: wiTenant,
			TokenFilePath: file, AuthorityHost: e.URL, DisableInstanceDiscovery: true, Cache: co,
			Getenv:     func(string) string { return "" },
			HTTPClient: e.Client(), Retry: fastRetry})
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		return &bench{src: src, idp: e.Server, path: strings.TrimPrefix(e.TokenURL(wiTenant), e.URL), closeIdP: e.Close,
			status: func(code int, ra time.Duration) idptest.Fault {
				return idptest.Fault{Status: code, RetryAfter: ra, Body: fmt.Sprintf(
					`{"error":"temporarily_unavailable","error_description":"AADSTS50196: injected %d.","error_codes":[50196]}`, code)}
			},
			shaped: func(s shape) idptest.Fault {
				now, life := shapeTimes(s, otherLife)
				reply := map[string]any{"token_type": "Bearer",
					"access_token": iss.Sign(claimsAt(iss.IssuerURL, "oid-1", target, now, life))}
				if life != 0 {
					// expires_in is relative, so a skewed IdP clock does
					// not change it.
					left := time.Until(now.Add(life))
					if s == skewed {
						left = life
					}
					reply["expires_in"], reply["ext_expires_in"] = int64(left/time.Second), int64(left/time.Second)
				}
				return jsonFault(reply)
			}}
	}}
}

const (
	awsKey    = "AKIDEXAMPLE"
	awsSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

func awsKit() kit {
	return kit{name: "aws web identity", start: func(t *testing.T, _ *idptest.Issuer, co *oauthbearer.CacheOptions) *bench {
		s := idptest.NewSTS(t, &idptest.STSOptions{AccessKeyID: awsKey, SecretAccessKey: awsSecret})
		src, err := awsid.NewWebIdentity(context.Background(), &awsid.WebIdentityOptions{
			Audience: []string{"kafka"}, Lifetime: stsLife, Cache: co,
			Config: &sdkaws.Config{Region: s.Region, Credentials: credentials.NewStaticCredentialsProvider(awsKey, awsSecret, ""),
				BaseEndpoint: sdkaws.String(s.URL), HTTPClient: s.Client()}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		codes := map[int]string{http.StatusTooManyRequests: "Throttling", http.StatusInternalServerError: "InternalFailure",
			http.StatusServiceUnavailable: "ServiceUnavailable"}
		return &bench{src: src, idp: s.Server, closeIdP: s.Close,
			status: func(code int, ra time.Duration) idptest.Fault {
				return idptest.Fault{Status: code, Code: codes[code], Message: "injected", RetryAfter: ra}
			},
			shaped: func(sh shape) idptest.Fault {
				now, life := shapeTimes(sh, stsLife)
				rs := s.Issuer("RS256")
				tok := rs.Sign(claimsAt(s.IssuerURL, s.RoleARN, "kafka", now, life))
				var b bytes.Buffer
				b.WriteString(`<GetWebIdentityTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetWebIdentityTokenResult><WebIdentityToken>`)
				_ = xml.EscapeText(&b, []byte(tok))
				b.WriteString("</WebIdentityToken>")
				if life != 0 {
					b.WriteString("<Expiration>" + now.Add(life).UTC().Format(time.RFC3339) + "</Expiration>")
				}
				b.WriteString("</GetWebIdentityTokenResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetWebIdentityTokenResponse>")
				return idptest.Fault{Status: http.StatusOK, Body: b.String()}
			}}
	}}
}

// confluentShaped is a token-endpoint reply; expires_in, when present, is
// the lifetime on the IdP's clock.
func confluentShaped(iss *idptest.Issuer, sub string, life time.Duration) func(shape) idptest.Fault {
	return func(s shape) idptest.Fault {
		now, l := shapeTimes(s, life)
		reply := map[string]any{"token_type": "Bearer", "access_token": iss.Sign(claimsAt("Confluent", sub, "kafka", now, l))}
		if l != 0 {
			left := time.Until(now.Add(l))
			if s == skewed {
				left = l
			}
			reply["expires_in"] = int64(left / time.Second)
		}
		return jsonFault(reply)
	}
}

func oauthStatus(code int, ra time.Duration) idptest.Fault {
	return idptest.Fault{Status: code, RetryAfter: ra}
}

func confluentSTSKit() kit {
	return kit{name: "confluent sts exchange", start: func(t *testing.T, iss *idptest.Issuer, co *oauthbearer.CacheOptions) *bench {
		s := idptest.NewConfluentSTS(t, &idptest.ConfluentSTSOptions{Signer: iss,
			Providers: []idptest.ConfluentIdentityProvider{{Issuer: iss, ExpectedAudience: "app-1", Pools: []string{"pool-7yzk"}}}})
		subject := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
			return oauthbearer.Token{Value: iss.Mint("workload-1", "app-1", time.Hour, nil), Expiry: time.Now().Add(time.Hour)}, nil
		})
		src, err := confluent.NewSTS(subject, &confluent.STSOptions{IdentityPoolID: "pool-7yzk", TokenURL: s.TokenURL,
			Lifetime: otherLife, HTTPClient: s.Client(), Cache: co})
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		return &bench{src: src, idp: s.Server, closeIdP: s.Close, status: oauthStatus, shaped: confluentShaped(iss, "pool-7yzk", otherLife)}
	}}
}

func clientCredentialsKit() kit {
	return kit{name: "oauth client credentials", start: func(t *testing.T, iss *idptest.Issuer, co *oauthbearer.CacheOptions) *bench {
		s := idptest.NewOAuthServer(t, &idptest.OAuthServerOptions{Signer: iss, Lifetime: otherLife,
			Clients: map[string]idptest.OAuthClient{"client-1": {Secret: "s3cr3t-value-for-the-matrix"}}})
		src, err := oauthclient.NewClientCredentials(&oauthclient.ClientCredentialsOptions{TokenURL: s.TokenURL, ClientID: "client-1",
			ClientSecret: "s3cr3t-value-for-the-matrix", HTTPClient: s.Client(), Cache: co})
		require.NoError(t, err)
		t.Cleanup(func() { _ = src.Close() })
		return &bench{src: src, idp: s.Server, closeIdP: s.Close, status: oauthStatus, shaped: confluentShaped(iss, "client-1", otherLife)}
	}}
}

func mskKit() kit {
	return kit{name: "aws msk iam", skip: "signs a SigV4 URL locally from AWS credentials; it calls no identity provider, so no IdP fault reaches it (credential-provider faults are aws-sdk-go-v2's)"}
}

// fail queues f for every request to the token endpoint until cleared.
func (b *bench) fail(f idptest.Fault) {
	f.Path = b.path
	b.idp.FailNext(faultCount, f)
}
