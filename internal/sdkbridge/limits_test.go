package sdkbridge

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
)

// describedTool is an object tool whose description takes n bytes.
func describedTool(name string, n int) map[string]any {
	t := objectTool(name)
	t["description"] = strings.Repeat("d", n)
	return t
}

// registerBytes registers namespace ns of one tool whose names, description and schema
// take exactly size bytes (ToolBytes plus the namespace name), returning the refusal.
func registerBytes(w *fakeWorker, ns, scope string, size int) *wireError {
	fixed := len(ns) + ToolBytes("f", "", []byte(`{"type":"object"}`), nil, nil)
	return w.request("register", map[string]any{"namespace": ns, "scope": scope, "tools": []any{describedTool("f", size-fixed)}}).Error
}

// TestRegistrationBytesBounded: what one connection may register is bounded in bytes per
// namespace and over the connection, counted the same in both scopes; a replaced
// namespace no longer counts, an unregistered one frees its room, and every refusal
// names the limit and the size.
func TestRegistrationBytesBounded(t *testing.T) {
	h := newHarness(t, nil)
	w := connectWorker(t, h.srv.URL, echoArgs)

	if e := registerBytes(w, "big", "global", MaxNamespaceBytes+1); e == nil || e.Code != CodeInvalidParams ||
		!strings.Contains(e.Message, fmt.Sprintf(`namespace "big": its names, descriptions and schemas take %d bytes, more than the limit of %d bytes per namespace`, MaxNamespaceBytes+1, MaxNamespaceBytes)) ||
		e.Data["limit"] != float64(MaxNamespaceBytes) || e.Data["bytes"] != float64(MaxNamespaceBytes+1) {
		t.Fatalf("a namespace over the limit: %+v", e)
	}
	if h.has("big") {
		t.Fatal("the refused namespace is in the catalog")
	}

	// Exactly at the per-namespace limit is fine; four of them fill the connection.
	full := MaxRegisteredBytes / MaxNamespaceBytes
	for i := range full {
		scope := []string{"global", "session"}[i%2]
		if e := registerBytes(w, fmt.Sprintf("ns%d", i), scope, MaxNamespaceBytes); e != nil {
			t.Fatalf("namespace %d of %d bytes (%s): %+v", i, MaxNamespaceBytes, scope, e)
		}
	}
	e := registerBytes(w, "one_more", "session", 100)
	if e == nil || e.Code != CodeInvalidParams || !strings.Contains(e.Message,
		fmt.Sprintf(`namespace "one_more" (100 bytes of names, descriptions and schemas) would bring this connection's registrations to %d bytes, more than the limit of %d bytes per connection`, MaxRegisteredBytes+100, MaxRegisteredBytes)) {
		t.Fatalf("a registration over the connection's limit: %+v", e)
	}
	// Replacing a namespace counts its new size only.
	if e := registerBytes(w, "ns0", "global", MaxNamespaceBytes); e != nil {
		t.Fatalf("replacing a namespace with one of the same size: %+v", e)
	}
	if e := registerBytes(w, "ns1", "session", MaxNamespaceBytes-100); e != nil {
		t.Fatalf("replacing a namespace with a smaller one: %+v", e)
	}
	if e := registerBytes(w, "one_more", "session", 100); e != nil {
		t.Fatalf("a registration that fits the room the smaller one left: %+v", e)
	}
	if e := registerBytes(w, "two_more", "global", 1+len("two_more")+ToolBytes("f", "", []byte(`{"type":"object"}`), nil, nil)); e == nil {
		t.Fatal("a registration past the full connection was accepted")
	}
	if f := w.request("unregister", map[string]any{"namespace": "ns2"}); f.Error != nil {
		t.Fatal(f.Error)
	}
	if e := registerBytes(w, "two_more", "global", MaxNamespaceBytes); e != nil {
		t.Fatalf("after an unregister: %+v", e)
	}
	// Another connection has its own allowance.
	if e := registerBytes(connectWorker(t, h.srv.URL, echoArgs), "other", "global", MaxNamespaceBytes); e != nil {
		t.Fatalf("another connection: %+v", e)
	}
}

// TestNamespaceCountBounded: a connection holds at most MaxNamespaces namespaces.
func TestNamespaceCountBounded(t *testing.T) {
	h := newHarness(t, nil)
	w := connectWorker(t, h.srv.URL, echoArgs)
	for i := range MaxNamespaces {
		w.register(fmt.Sprintf("ns%d", i), []string{"global", "session"}[i%2], objectTool("f"))
	}
	f := w.request("register", map[string]any{"namespace": "extra", "tools": []any{objectTool("f")}})
	if f.Error == nil || f.Error.Code != CodeInvalidParams || !strings.Contains(f.Error.Message, fmt.Sprintf("already holds %d namespaces, the limit", MaxNamespaces)) {
		t.Fatalf("namespace %d: %+v", MaxNamespaces+1, f.Error)
	}
	w.register("ns0", "session", objectTool("g")) // replacing one is not a new one
}

// TestFloodedListingBounded: a worker registering all it may (every namespace it can hold,
// each as large as the byte limits allow) cannot make the listings of other clients
// unbounded: list_functions stays within catalog.DefaultMaxListBytes and says what it left
// out.
func TestFloodedListingBounded(t *testing.T) {
	h := newHarness(t, nil)
	flood := connectWorker(t, h.srv.URL, echoArgs)
	// 1,000 tools with two-property schemas make about 70 KiB of listing per namespace;
	// their descriptions bring each namespace near the 1 MiB limit, so the connection's
	// 4 MiB fill after a few.
	schema := map[string]any{"type": "object", "properties": map[string]any{"owner_of_the_thing": map[string]any{"type": "string"}, "repository_name": map[string]any{"type": "string"}}}
	registered, refused := 0, 0
	for i := 0; i < MaxNamespaces+10 && refused < 2; i++ {
		tools := make([]any, MaxToolsPerNamespace)
		for j := range tools {
			tools[j] = map[string]any{"name": fmt.Sprintf("a_rather_long_function_name_%04d", j), "description": strings.Repeat("Lists things. ", 57), "inputSchema": schema}
		}
		f := flood.request("register", map[string]any{"namespace": fmt.Sprintf("flood%03d", i), "tools": tools})
		if f.Error != nil {
			if !strings.Contains(f.Error.Message, "per connection") && !strings.Contains(f.Error.Message, "the limit") {
				t.Fatalf("refusal %d: %+v", i, f.Error)
			}
			refused++
			continue
		}
		registered++
	}
	if refused == 0 || registered != MaxRegisteredBytes/MaxNamespaceBytes {
		t.Fatalf("%d namespaces of about 1 MiB accepted, %d refused; want %d accepted", registered, refused, MaxRegisteredBytes/MaxNamespaceBytes)
	}
	reader := connectWorker(t, h.srv.URL, echoArgs)
	f := reader.request("list_functions", nil)
	var text string
	if f.Error != nil || len(f.Result) == 0 {
		t.Fatalf("list_functions: %+v", f.Error)
	}
	text = string(f.Result)
	if len(text) > catalog.DefaultMaxListBytes+1024 || !strings.Contains(text, "listing cut at 65536 bytes") {
		t.Fatalf("listing of %d bytes after %d flooded namespaces (ends %q)", len(text), registered, text[max(0, len(text)-200):])
	}
	t.Logf("%d namespaces of 1,000 tools accepted, %d refused; listing %d bytes", registered, refused, len(text))
}
