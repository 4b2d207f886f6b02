package compat

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/sdkbridge"
)

// BenchmarkCompatBash is one execute-bash "cat" of a session with 500 functions, through
// the REST handler: one snapshot, one listing and the one file the command reads.
func BenchmarkCompatBash(b *testing.B) {
	h := newHarness(b, nil)
	id := mustSession(b, h.compat)
	var tools []SessionTool
	for i := range 500 {
		tools = append(tools, SessionTool{Namespace: fmt.Sprintf("ns%d", i%10), Name: fmt.Sprintf("f%d", i),
			InputSchema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)})
	}
	if err := h.compat.AddSessionTools(id, tools); err != nil {
		b.Fatal(err)
	}
	handler := h.compat.Handler()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/code-mode/execute-bash", strings.NewReader(`{"command":"cat ns3/f3.d.ts"}`))
		r.Header.Set(sdkbridge.SessionHeader, id)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "function f3(") {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
