package oauth

import (
	"errors"
	"fmt"
	"strings"
)

// ErrLoginRequired is wrapped by every *LoginRequiredError.
var ErrLoginRequired = errors.New("needs login")

// LoginRequiredError says a server needs a user to log in (pctx auth login) before
// pctx can use it: no token, a refresh the server refused, or scopes only a new
// authorization can grant. Its message tells the user what to run.
type LoginRequiredError struct {
	Server string   // the server's name in pctx.toml
	Reason string   // why, in a few words; may be empty
	Scopes []string // scopes the server asked for, if that is the reason
}

func (e *LoginRequiredError) Error() string {
	msg := fmt.Sprintf("needs login: run `pctx auth login %s`", e.Server)
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	return msg
}

func (e *LoginRequiredError) Unwrap() error { return ErrLoginRequired }

// AsLoginRequired returns the *LoginRequiredError in err's chain, if any.
func AsLoginRequired(err error) (*LoginRequiredError, bool) {
	var le *LoginRequiredError
	ok := errors.As(err, &le)
	return le, ok
}

// tokenError is an OAuth error response of a token or registration endpoint.
type tokenError struct {
	endpoint    string // "token", "registration"
	status      int
	code        string
	description string
}

func (e *tokenError) Error() string {
	msg := fmt.Sprintf("%s endpoint answered %d", e.endpoint, e.status)
	if e.code != "" {
		msg += ": " + e.code
		if e.description != "" {
			msg += " (" + strings.TrimSpace(e.description) + ")"
		}
	}
	return msg
}

// authError marks the errors a Transport returns for authorization (discovery,
// registration, token requests), as opposed to the server's own answers.
type authError struct{ err error }

func (e *authError) Error() string { return "oauth: " + e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// IsAuthError reports whether err came from authorizing a request (a
// *LoginRequiredError included) rather than from the request itself.
func IsAuthError(err error) bool {
	var ae *authError
	return errors.As(err, &ae) || errors.Is(err, ErrLoginRequired)
}
