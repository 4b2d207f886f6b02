package vshell

import (
	"fmt"
	"strings"

	"github.com/pctx-dev/pctx/internal/catalog"
)

// SDK is the filesystem disclosure's tree for a snapshot: /sdk/README.md lists every
// function with how to call it and what it does, a section per namespace, so that
// `grep -i "what it does" README.md` finds it; /sdk/<namespace>/<function>.d.ts holds its
// declarations (the get_function_details text), rendered only when a command reads it.
func SDK(snap *catalog.Snapshot) FS {
	var b strings.Builder
	b.WriteString("# SDK\n\nCall these from execute_typescript as namespace.function(...). <namespace>/<function>.d.ts has each one's TypeScript declarations: read it before calling.\n")
	fs := FS{}
	ns := ""
	for _, f := range snap.Summaries() {
		if f.Namespace != ns {
			ns = f.Namespace
			b.WriteString("\n## " + ns + "\n")
		}
		b.WriteString("- " + f.Line)
		if f.Summary != "" {
			b.WriteString(" — " + f.Summary)
		}
		b.WriteByte('\n')
		name := f.Namespace + "." + f.Name
		fs[Root+"/"+f.Namespace+"/"+f.Name+".d.ts"] = Lazy(func() string {
			decl, err := snap.Details([]string{name})
			if err != nil {
				return fmt.Sprintf("// declarations of %s unavailable: %v\n", name, err)
			}
			return decl
		})
	}
	if ns == "" {
		b.WriteString("\nNo functions are available yet.\n")
	}
	fs[Root+"/README.md"] = Text(b.String())
	return fs
}
