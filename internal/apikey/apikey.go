package apikey

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// Matches reports whether r carries key, as "X-API-Key: KEY" or, when that header is
// absent, "Authorization: Bearer KEY" (scheme case-insensitive, surrounding spaces
// ignored). The comparison takes constant time in the key's content. An empty key never
// matches: a server without a key has nothing to check against.
func Matches(r *http.Request, key string) bool {
	if key == "" {
		return false
	}
	got := r.Header.Get("X-API-Key")
	if auth := r.Header.Get("Authorization"); got == "" && len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		got = strings.TrimSpace(auth[7:])
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(key)) == 1
}
