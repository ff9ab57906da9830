package azure

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"

	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
)

// unreachableError is a request to the identity endpoint that failed in a
// way waiting will not heal: the connection was refused, there is no route
// to the host, or the host's name does not exist. azcore's retry policy
// would retry it for about 100 seconds (IMDS's policy: 6 retries, 2s up to
// 25s apart) before azidentity reports it, long after every Kafka client
// has given up waiting, and the client's error would then say only
// "context deadline exceeded". NonRetriable makes azcore stop at once;
// the source's cache backs off and tries again later.
type unreachableError struct {
	host string
	err  error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("%s: %v", e.host, e.err)
}

func (e *unreachableError) Unwrap() error { return e.err }

// NonRetriable is azcore's marker (errorinfo.NonRetriable) for errors its
// retry policy must return at once.
func (*unreachableError) NonRetriable() {}

// asUnreachable returns err as an *unreachableError if it is a failure to
// reach req's host that retrying in the same fetch will not heal, or nil.
// Timeouts are not: a slow or briefly overloaded endpoint answers later.
func asUnreachable(req *http.Request, err error) *unreachableError {
	if err == nil {
		return nil
	}
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound,
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH):
		return &unreachableError{host: srvtext.Field(req.URL.Host), err: err}
	}
	return nil
}

// unreachableHint says what an unreachable endpoint means for a source.
func (h hintContext) unreachableHint(u *unreachableError) string {
	if h.source == "managed identity" {
		return fmt.Sprintf("no managed identity reachable at %s: not running on Azure, or no identity assigned to this VM/pod "+
			"(on AKS: the pod has no workload identity and IMDS is blocked), or a proxy or firewall refuses the connection; "+
			"outside Azure use workload identity or client credentials instead of managed identity", u.host)
	}
	return fmt.Sprintf("the identity endpoint %s cannot be reached: check the host setting (AuthorityHost, the token endpoint URL), DNS and the network route", u.host)
}
