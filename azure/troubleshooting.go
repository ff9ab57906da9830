package azure

import (
	"errors"
	"net/http"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/guide"
)

// guideLink points at the guide's section for a failed token request.
func guideLink(e *Error) string {
	switch e.Code {
	case 700024:
		return guide.See("aadsts700024")
	case 70021:
		return guide.See("aadsts70021")
	case 700211, 700212, 700213:
		return guide.See("aadsts700213")
	case 700016, 90002, 700027, 1002012, 500011, 70011:
		return guide.See("aadsts-other")
	}
	var u *unreachableError
	switch {
	case errors.As(e.Err, &u) && e.Source == "managed identity":
		return guide.See("no-managed-identity-reachable")
	case errors.As(e.Err, &u):
		return guide.See("identity-endpoint-unreachable")
	case strings.Contains(e.Description, "Identity not found"):
		return guide.See("imds-identity-not-found")
	case e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500:
		return guide.See("transient-errors")
	}
	return ""
}
