package oauth

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzParseChallenge feeds arbitrary WWW-Authenticate values (an upstream controls
// them) to the parser: it must not panic, and a Bearer challenge built from the
// fuzzer's scope and metadata URL must read back as written.
func FuzzParseChallenge(f *testing.F) {
	f.Add(`Bearer resource_metadata="https://h/.well-known/oauth-protected-resource", scope="a b"`, "read write", "https://h/x")
	f.Add(`Basic realm="x", Bearer error="insufficient_scope"`, "", "")
	f.Add(`Negotiate a==, Bearer scope=`, "s", "u")
	f.Fuzz(func(t *testing.T, raw, scope, meta string) {
		h := http.Header{}
		h.Add("WWW-Authenticate", raw)
		_ = parseChallenge(h)
		if strings.ContainsAny(scope+meta, "\"\\\r\n") {
			return
		}
		h = http.Header{}
		h.Add("WWW-Authenticate", `Basic realm="r"`)
		h.Add("WWW-Authenticate", `Bearer scope="`+scope+`", resource_metadata="`+meta+`", error="insufficient_scope"`)
		ch := parseChallenge(h)
		if !ch.bearer || ch.scope != scope || ch.resourceMetadata != meta || ch.err != "insufficient_scope" {
			t.Fatalf("built challenge read back as %+v", ch)
		}
	})
}
