//go:build e2e && linux

package netproxy

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/gcp"
	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/proxytest"
)

// Go's http.ProxyFromEnvironment never proxies a loopback host, so a
// metadata emulator on 127.0.0.1 cannot show that metadata requests
// bypass a proxy. TestMetadataNeverProxied therefore runs its checks in a
// child process (this test binary again) in a new network namespace,
// whose only interface is its own loopback, with the metadata address
// 169.254.169.254 on it, and in a new mount namespace whose /etc/hosts
// names the remote identity providers (login.example.com, ...). Nothing
// in the namespace can reach another machine.

// childEnv selects the child's scenario; hostsEnv is its /etc/hosts.
const (
	childEnv = "KWI_NETNS_SCENARIO"
	hostsEnv = "KWI_NETNS_HOSTS"
)

// metadataIP is where Azure IMDS and the GCE metadata server answer;
// the namespace's /etc/hosts maps metadata.google.internal to
// gkeMetadataIP, another link-local address (GKE's metadata server
// listens on it).
const (
	metadataIP    = "169.254.169.254"
	gkeMetadataIP = "169.254.169.252"
)

// TestMetadataNeverProxied proves, at the bench's CONNECT proxy, that
// with HTTPS_PROXY and HTTP_PROXY set, Azure managed identity and the GCP
// metadata-server sources reach 169.254.169.254 directly (the proxy sees
// nothing of them), while the requests of every source calling a remote
// identity provider (Entra workload identity, AWS STS, Google's token
// endpoint with a service-account key, OAuth client credentials,
// Confluent STS) made in the same process go through the proxy. Each scenario runs in its own network
// namespace, because Azure IMDS and the GCE metadata server both answer
// on 169.254.169.254:80. It needs root (CI runs it as root) and fails,
// rather than skips, when a namespace cannot be created.
func TestMetadataNeverProxied(t *testing.T) {
	if scenario := os.Getenv(childEnv); scenario != "" {
		inNamespace(t, scenario)
		return
	}
	for _, scenario := range []string{"azure", "gcp"} {
		t.Run(scenario, func(t *testing.T) {
			hosts := filepath.Join(t.TempDir(), "hosts")
			names := []string{"localhost"}
			for _, r := range reaches {
				if r.host != "" && !slices.Contains(names, r.host) {
					names = append(names, r.host)
				}
			}
			require.NoError(t, os.WriteFile(hosts, []byte("127.0.0.1 "+strings.Join(names, " ")+"\n::1 localhost\n"+gkeMetadataIP+" metadata.google.internal\n"), 0o644))
			cmd := exec.Command(os.Args[0], "-test.run=^TestMetadataNeverProxied$", "-test.v", "-test.count=1", "-test.timeout=3m")
			cmd.Env = append(childEnvironment(), childEnv+"="+scenario, hostsEnv+"="+hosts)
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatalf("cannot start the test in a new network and mount namespace (%v): this test needs root (CAP_SYS_ADMIN), as CI runs it; it proves that metadata requests bypass a proxy, which needs a non-loopback metadata address", err)
			}
			err := cmd.Wait()
			require.NoError(t, err, "the child in the namespace failed:\n%s", out.String())
			require.Contains(t, out.String(), "--- PASS: TestMetadataNeverProxied", "the child ran no test:\n%s", out.String())
			t.Logf("child in the namespace:\n%s", out.String())
		})
	}
}

// childEnvironment is the test's environment without anything that
// would choose another endpoint or proxy for a source.
func childEnvironment() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch u := strings.ToUpper(k); {
		case strings.HasSuffix(u, "_PROXY"), u == "REQUEST_METHOD",
			strings.HasPrefix(u, "AZURE_"), strings.HasPrefix(u, "AWS_"), strings.HasPrefix(u, "IDENTITY_"),
			u == "MSI_ENDPOINT", u == "MSI_SECRET", u == "IMDS_ENDPOINT", u == "GCE_METADATA_HOST", u == "GCE_METADATA_IP",
			u == "GOOGLE_APPLICATION_CREDENTIALS", u == childEnv, u == hostsEnv:
			continue
		}
		env = append(env, kv)
	}
	return env
}

// inNamespace runs in the child: it sets the namespace up, starts the
// proxy and the emulators, and checks where each request went.
func inNamespace(t *testing.T, scenario string) {
	setUpNamespace(t)
	proxy := proxytest.NewProxy(t, nil)
	// Set before any client of this process reads the environment
	// (http.ProxyFromEnvironment reads it once per process).
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("HTTP_PROXY", proxy.URL)
	pu, err := http.ProxyFromEnvironment(&http.Request{URL: &url.URL{Scheme: "https", Host: reaches[0].host}})
	require.NoError(t, err)
	require.NotNil(t, pu, "http.ProxyFromEnvironment ignores HTTPS_PROXY: it read the environment before the test set it")

	switch scenario {
	case "azure":
		imds := idptest.NewIMDS(t, nil)
		direct := forward(t, metadataIP+":80", imds.URL)
		hc := privateCAClient(t)
		// The third client wraps its transport, which names the proxy
		// explicitly, in a type the gate does not recognise (as
		// otelhttp does): the gate cannot reach its proxy setting, and
		// sends IMDS requests around it. Before the fix this client's
		// IMDS request went to the proxy (which answered 405).
		wrapped := &http.Client{Transport: opaqueRT{&http.Transport{Proxy: http.ProxyURL(must(url.Parse(proxy.URL)))}}}
		for name, c := range map[string]*http.Client{"default client": nil, "idpclient client": hc, "wrapped client": wrapped} {
			src, err := azure.NewManagedIdentity(&azure.ManagedIdentityOptions{Audience: "api://kafka-" + strings.ReplaceAll(name, " ", "-"), HTTPClient: c,
				Retry: policy.RetryOptions{MaxRetries: -1}})
			require.NoError(t, err, name)
			t.Cleanup(func() { _ = src.Close() })
			_, err = src.Token(ctx(t))
			require.NoError(t, err, "azure.NewManagedIdentity with the %s", name)
		}
		assert.Equal(t, 3, len(imds.Issued()), "IMDS issued a token to each managed-identity source")
		assert.GreaterOrEqual(t, direct.Load(), int64(3), "the requests reached %s directly", metadataIP)
		requireUntouched(t, proxy, "azure.NewManagedIdentity")
		remote(t, proxy, hc)
	case "gcp":
		gce := idptest.NewGCE(t, nil)
		direct := forward(t, metadataIP+":80", gce.URL)
		named := forward(t, gkeMetadataIP+":80", gce.URL)
		hc := privateCAClient(t)
		// In this order: the default address first, then
		// GCE_METADATA_HOST naming the server (a name resolving to
		// another link-local address). t.Setenv lasts to the test's
		// end and the sources read the variable at construction, so
		// when this was a map and Go's random iteration took the
		// idpclient client first, both clients used the name and none
		// reached 169.254.169.254 ("reached ... directly: 0", seen in
		// about 2 runs of 11).
		for _, tc := range []struct {
			name, host string
			c          *http.Client
		}{{"default client", "", nil}, {"idpclient client", "metadata.google.internal", hc}} {
			name, c := tc.name, tc.c
			t.Setenv("GCE_METADATA_HOST", tc.host)
			mk, err := gcp.NewManagedKafka(ctx(t), &gcp.ManagedKafkaOptions{MetadataServer: true, HTTPClient: c})
			require.NoError(t, err, name)
			t.Cleanup(func() { _ = mk.Close() })
			tok, err := mk.Token(ctx(t))
			require.NoError(t, err, "gcp.NewManagedKafka with the %s", name)
			assert.Equal(t, gce.Email, tok.Principal)
			id, err := gcp.NewIDToken(ctx(t), &gcp.IDTokenOptions{Audience: "kafka", MetadataServer: true, HTTPClient: c})
			require.NoError(t, err, name)
			t.Cleanup(func() { _ = id.Close() })
			_, err = id.Token(ctx(t))
			require.NoError(t, err, "gcp.NewIDToken with the %s", name)
		}
		assert.Equal(t, 4, len(gce.Issued()), "the metadata server issued two access and two ID tokens")
		assert.GreaterOrEqual(t, direct.Load(), int64(2), "the requests reached %s directly", metadataIP)
		assert.GreaterOrEqual(t, named.Load(), int64(2), "the requests reached metadata.google.internal (%s) directly", gkeMetadataIP)
		requireUntouched(t, proxy, "gcp metadata-server sources")
		remote(t, proxy, hc)
	default:
		t.Fatalf("unknown scenario %q", scenario)
	}
}

// remote checks that every source calling a remote identity provider
// ([reaches] with a host name), in the same process and environment,
// goes through the proxy: each provider under its name, which /etc/hosts
// maps to 127.0.0.1 (Go never proxies a loopback host).
func remote(t *testing.T, proxy *proxytest.Proxy, hc *http.Client) {
	for _, r := range reaches {
		if r.host == "" {
			continue
		}
		origin, build := r.setup(t)
		hostport := named(r.host, origin)
		src, err := build(t, "https://"+hostport, hc)
		require.NoError(t, err, r.name)
		t.Cleanup(func() { _ = src.Close() })
		_, err = src.Token(ctx(t))
		require.NoError(t, err, r.name)
		requireThrough(t, proxy, hostport, r.name)
	}
	assert.Empty(t, proxy.Refused())
	t.Logf("through the proxy: %v", proxy.Passed())
}

// opaqueRT is a caller's transport wrapper the gate does not recognise.
type opaqueRT struct{ rt http.RoundTripper }

func (o opaqueRT) RoundTrip(r *http.Request) (*http.Response, error) { return o.rt.RoundTrip(r) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func requireUntouched(t *testing.T, p *proxytest.Proxy, what string) {
	t.Helper()
	require.Empty(t, p.Passed(), "%s: requests went through the proxy", what)
	require.Empty(t, p.Refused(), "%s: requests were sent to the proxy (plain-HTTP proxy requests)", what)
}

func requireThrough(t *testing.T, p *proxytest.Proxy, hostport, what string) {
	t.Helper()
	require.Contains(t, p.Passed(), hostport, "%s: the request did not go through the proxy", what)
}

// named is the emulator at rawURL (or host:port) under host, which
// /etc/hosts maps to 127.0.0.1: host:port.
func named(host, rawURL string) string {
	hostport := rawURL
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		hostport = u.Host
	}
	_, port, err := net.SplitHostPort(hostport)
	if err != nil {
		panic(err)
	}
	return net.JoinHostPort(host, port)
}

// setUpNamespace makes the child's mounts private (so nothing it mounts
// reaches the host), puts the scenario's hosts file on /etc/hosts, brings
// the namespace's loopback up and adds the metadata addresses to it.
func setUpNamespace(t *testing.T) {
	ifs, err := net.Interfaces()
	require.NoError(t, err)
	require.Len(t, ifs, 1, "the child is not in a fresh network namespace: %v", ifs)
	require.NotZero(t, ifs[0].Flags&net.FlagLoopback, "the child is not in a fresh network namespace: %v", ifs)
	if err := syscall.Mount("none", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		t.Fatalf("making the mount namespace private: %v", err)
	}
	if err := syscall.Mount(os.Getenv(hostsEnv), "/etc/hosts", "", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("mounting the namespace's /etc/hosts: %v", err)
	}
	for _, args := range [][]string{{"link", "set", "lo", "up"}, {"addr", "add", metadataIP + "/32", "dev", "lo"}, {"addr", "add", gkeMetadataIP + "/32", "dev", "lo"}} {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %s: %v: %s (the test needs iproute2's ip command)", strings.Join(args, " "), err, out)
		}
	}
}
