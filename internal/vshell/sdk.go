package vshell

import (
	"fmt"
	"strings"

	"github.com/pctx-dev/pctx/internal/catalog"
)

// SDK is the /sdk tree of a catalog snapshot, as the original pctx lays it out:
// /sdk/README.md lists every function under a section per namespace, with its call
// signature and the first line of its description, and /sdk/<Namespace>/<function>.d.ts
// holds that function's declarations (get_function_details' text), rendered when a
// command first reads it. Paths use the names the code calls, so whatever README.md
// lists, `cat <Namespace>/<function>.d.ts` finds.
func SDK(snap *catalog.Snapshot) FS {
	outline := snap.Outline()
	// Lazy, like the declarations: a command line that never reads it (ls, cat of one
	// .d.ts) does not pay for a listing of the whole catalog.
	fs := FS{Root + "/README.md": Lazy(func() string { return readme(outline) })}
	for _, ns := range outline {
		for _, f := range ns.Functions {
			name := ns.Name + "." + f.Name
			fs[Root+"/"+ns.Name+"/"+f.Name+".d.ts"] = Lazy(func() string {
				decl, err := snap.Details([]string{name})
				if err != nil {
					return fmt.Sprintf("// declarations of %s unavailable: %v\n", name, err)
				}
				return decl
			})
		}
	}
	return fs
}

// readme renders /sdk/README.md: a title, how to use the tree, and a section per
// namespace with one line per function.
func readme(outline []catalog.NamespaceInfo) string {
	var b strings.Builder
	b.WriteString("# TypeScript SDK\n\n")
	b.WriteString("Call these functions from execute_typescript as `Namespace.function(...)`; each returns a Promise.\n")
	b.WriteString("Each has its declarations (input and output types, docs) in `<Namespace>/<function>.d.ts`:\n")
	b.WriteString("`cat` it before calling, since parameter names cannot be guessed.\n")
	if len(outline) == 0 {
		b.WriteString("\nNo functions are available.\n")
	}
	for _, ns := range outline {
		b.WriteString("\n## " + ns.Name + "\n\n")
		if d := firstLine(ns.Description); d != "" {
			b.WriteString(d + "\n\n")
		}
		if ns.Note != "" {
			b.WriteString("(" + ns.Note + ")\n\n")
		}
		if ns.Unavailable != "" {
			b.WriteString("Unavailable: " + firstLine(ns.Unavailable) + "\n")
			continue
		}
		for _, f := range ns.Functions {
			fmt.Fprintf(&b, "- %s/%s.d.ts `%s.%s`", ns.Name, f.Name, ns.Name, f.Signature)
			if f.Note != "" {
				b.WriteString(" (" + f.Note + ")")
			}
			if d := firstLine(f.Description); d != "" {
				b.WriteString(" — " + d)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// firstLine is the first non-empty line of s with its whitespace collapsed, cut at 200
// bytes (at a rune boundary).
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			if len(line) > 200 {
				cut := 200
				for cut > 0 && line[cut]&0xC0 == 0x80 {
					cut--
				}
				line = line[:cut] + "…"
			}
			return line
		}
	}
	return ""
}
