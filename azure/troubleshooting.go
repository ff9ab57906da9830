package azure

import (
	"errors"
	"net/http"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
)

// guideLink points at the guide's section for a failed token request.
func guideLink(e *Error) string {
	switch e.Code {
	case 700024:
		return troubleshooting.See("aadsts700024")
	case 70021:
		return troubleshooting.See("aadsts70021")
	case 700211, 700212, 700213:
		return troubleshooting.See("aadsts700213")
	case 700016, 90002, 700027, 1002012, 500011, 70011:
		return troubleshooting.See("aadsts-other")
	}
	var u *unreachableError
	switch {
	case errors.As(e.Err, &u) && e.Source == "managed identity":
		return troubleshooting.See("no-managed-identity-reachable")
	case errors.As(e.Err, &u):
		return troubleshooting.See("identity-endpoint-unreachable")
	case strings.Contains(e.Description, "Identity not found"):
		return troubleshooting.See("imds-identity-not-found")
	case e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500:
		return troubleshooting.See("transient-errors")
	}
	return ""
}
