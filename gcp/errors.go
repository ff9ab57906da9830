package gcp

import (
	"errors"
	"fmt"

	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
)

func see(anchor string) string { return troubleshooting.See(anchor) }

// ErrNoCredentials is matched (errors.Is) by the error for a process where
// Application Default Credentials found nothing: no
// GOOGLE_APPLICATION_CREDENTIALS, no gcloud ADC file, and no metadata
// server.
var ErrNoCredentials = errors.New("gcp: no Google Application Default Credentials found")

// ErrNotOnGCP is matched (errors.Is) by the error for a metadata server
// that cannot be reached: the process is not on GCE, GKE or Cloud Run, or
// GCE_METADATA_HOST points nowhere.
var ErrNotOnGCP = errors.New("gcp: the Google Cloud metadata server is unreachable")

// ErrPermission is matched (errors.Is) by the error for a credential that
// lacks an IAM permission or OAuth scope for the token asked for.
var ErrPermission = errors.New("gcp: permission denied")

// ErrAudience is matched (errors.Is) by the error for an ID-token audience
// the metadata server or Google refused.
var ErrAudience = errors.New("gcp: audience refused")

// kindError carries a sentinel for errors.Is and the full message.
type kindError struct {
	kind error
	msg  string
	err  error
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return target == e.kind }

func kindf(kind, cause error, format string, a ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, a...), err: cause}
}
