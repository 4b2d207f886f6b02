package sdkbridge

import (
	"testing"

	"github.com/pctx-dev/pctx/catalog"
	"github.com/pctx-dev/pctx/codemode"
	"github.com/pctx-dev/pctx/runtime"
	"net/http/httptest"
)

func TestScratchReal(t *testing.T) {
	cat := catalog.New()
	b := New(cat, codemode.New(cat, runtime.Limits{}), &Options{Logger: quietLogger(), FormatResult: codemode.FormatResult})
	srv := httptest.NewServer(b)
	defer srv.Close()
	defer b.Close()
	w := connectWorker(t, srv.URL, func(w *fakeWorker, c toolCall) {
		w.answer(c.ID, map[string]any{"value": []any{map[string]any{"a": 1}, map[string]any{"a": 2}}})
	})
	w.register("data", "session", map[string]any{"name": "rows", "inputSchema": map[string]any{"type": "object", "properties": map[string]any{"n": map[string]any{"type": "integer"}}}, "params": []any{"n"}})
	f := w.request("execute_typescript", map[string]any{"code": "const r = await data.rows(2); console.log(r.length); return r"})
	t.Logf("%s %+v", f.Result, f.Error)
	f = w.request("list_functions", nil)
	t.Logf("%s %+v", f.Result, f.Error)
}
