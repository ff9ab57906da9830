package oauthclient

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/streamidentity/kafka-workload-identity/internal/oauthpost"
	"github.com/streamidentity/kafka-workload-identity/internal/troubleshooting"
)

// Error is an error reply from an OAuth 2.0 token endpoint (RFC 6749
// section 5.2), from the client credentials grant, the jwt-bearer grant
// or the Confluent Cloud STS exchange. It is permanent: retrying the same request fails the same
// way. Code and Description are the server's text with every value the
// request sent removed, clipped.
type Error struct {
	// TokenURL is the token URL (without query or user info), named as
	// the options' TokenURL.
	TokenURL string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the OAuth error code ("invalid_grant", ...) or Confluent's
	// error code, if the reply had one.
	Code string
	// Description is the server's explanation, if any.
	Description string
}

// Error names the endpoint, status and code, quotes the server's
// description and says what usually fixes it.
func (e *Error) Error() string {
	msg := fmt.Sprintf("oauthclient: %s answered %d", e.TokenURL, e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Description != "" {
		msg += fmt.Sprintf(" (%q)", e.Description)
	}
	return msg + ": " + hint(e.StatusCode, e.Code)
}

func hint(status int, code string) string {
	switch code {
	case "invalid_grant":
		return "the grant was refused; check the credentials or the subject token and that it is not expired; " + troubleshooting.See("oauth-invalid-grant")
	case "invalid_client", "unauthorized_client":
		return "client authentication failed; check the client ID and its secret or private key; " + troubleshooting.See("oauth-invalid-client")
	case "invalid_scope":
		return "the scope is not allowed for this client; check the scope setting"
	case "unsupported_grant_type":
		return "the endpoint does not support this grant; check the token endpoint URL"
	case "invalid_request":
		return "the request was refused; check the request settings and the endpoint URL"
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "the credentials were refused; check the client's registration at the identity provider"
	case http.StatusNotFound:
		return "check the token endpoint URL"
	}
	return "check the token endpoint URL and the request settings"
}

// refused turns the shared request code's refusal into an [*Error].
func refused(err error) error {
	if r, ok := errors.AsType[*oauthpost.Refusal](err); ok {
		return &Error{TokenURL: r.Endpoint, StatusCode: r.StatusCode, Code: r.Code, Description: r.Description}
	}
	return err
}
