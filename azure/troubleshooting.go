package azure

import (
	"net/http"
	"strings"
)

// troubleshootingURL is the guide the package's errors link to; the
// anchors used with it are checked against the guide by docs' tests.
const troubleshootingURL = "https://github.com/streamidentity/kafka-workload-identity/blob/main/docs/troubleshooting.md"

// see points at a section of the troubleshooting guide.
func see(anchor string) string { return "see " + troubleshootingURL + "#" + anchor }

// guideLink points at the guide's section for a failed token request.
func guideLink(e *Error) string {
	switch e.Code {
	case 700024:
		return see("aadsts700024")
	case 70021:
		return see("aadsts70021")
	case 700211, 700212, 700213:
		return see("aadsts700213")
	case 700016, 90002, 700027, 1002012, 500011, 70011:
		return see("aadsts-other")
	}
	switch {
	case strings.Contains(e.Description, "Identity not found"):
		return see("imds-identity-not-found")
	case e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500:
		return see("transient-errors")
	}
	return ""
}
