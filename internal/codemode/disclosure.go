package codemode

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/runtime"
)

// Disclosure is how the catalog is shown to a model: which tools it gets and what their
// descriptions say.
type Disclosure string

const (
	// Catalog offers list_functions, get_function_details and execute_typescript.
	Catalog Disclosure = "catalog"
	// Filesystem offers execute_bash over a read-only /sdk tree (a README listing every
	// function, a .d.ts file per function) and execute_typescript.
	Filesystem Disclosure = "filesystem"
	// Sidecar lists every function as a tool of its own (ns__fn, with its JSON Schema)
	// beside execute_typescript, whose programs call them as ns.fn(...) or
	// invoke({name, arguments}). Calling a function's tool directly runs it as a
	// one-call program.
	Sidecar Disclosure = "sidecar"
	// Auto puts the compact declarations of every function into execute_typescript's
	// description while they fit the inline budget, so a workflow needs no discovery
	// call, and is Catalog above it.
	Auto Disclosure = "auto"
)

// DefaultDisclosure is the disclosure of a Service without WithDefaultDisclosure:
// bench/REPORT.md measures it as the cheapest for catalogs under the inline budget, and
// above the budget it is Catalog.
const DefaultDisclosure = Auto

// Disclosures lists the valid disclosures.
var Disclosures = []Disclosure{Catalog, Filesystem, Sidecar, Auto}

// ParseDisclosure reads a disclosure name; "" is DefaultDisclosure.
func ParseDisclosure(s string) (Disclosure, error) {
	if s == "" {
		return DefaultDisclosure, nil
	}
	for _, d := range Disclosures {
		if strings.EqualFold(s, string(d)) {
			return d, nil
		}
	}
	return "", fmt.Errorf("disclosure %q: want one of catalog, filesystem, sidecar, auto", clipName(s))
}

// Search says when search_functions is offered.
type Search string

const (
	// SearchAuto offers it when the catalog has more than SearchThreshold functions,
	// except where every function is already inline.
	SearchAuto Search = "auto"
	SearchOn   Search = "on"
	SearchOff  Search = "off"
)

// ParseSearch reads a search setting; "" is SearchAuto.
func ParseSearch(s string) (Search, error) {
	switch Search(strings.ToLower(s)) {
	case "", SearchAuto:
		return SearchAuto, nil
	case SearchOn:
		return SearchOn, nil
	case SearchOff:
		return SearchOff, nil
	}
	return "", fmt.Errorf("search_functions %q: want auto, on or off", clipName(s))
}

// SearchThreshold is the catalog size above which SearchAuto offers search_functions:
// past 50 functions the listing costs over 500 tokens (about 11 per function) while a
// search answer costs under 100, and the tool's definition about 60 in every request.
const SearchThreshold = 50

// DefaultInlineBudget bounds the compact declarations Auto puts inline, in bytes:
// 4,000 bytes are about 1,000 cl100k tokens (TestInlineBudgetTokens measures 3.9–4.1
// bytes per token on the reference catalogs), the cost of a dozen ordinary tool
// definitions. The seed's 45 functions fit (about 2,900 bytes); the 100-function search
// catalog (about 6,300) does not.
const DefaultInlineBudget = 4000

// DefaultDisclosure returns the disclosure of callers that do not choose one.
func (s *Service) DefaultDisclosure() Disclosure { return s.disclosure }

// Tool names beyond the three of the catalog disclosure.
const (
	SearchFunctionsName = "search_functions"
	ExecuteBashName     = "execute_bash"
)

// ToolSet is what one disclosure offers for one catalog version.
type ToolSet struct {
	Disclosure Disclosure // as asked for
	// Inline is set when Auto put the declarations into execute_typescript; Auto without
	// it offers Catalog's tools.
	Inline  bool
	Tools   []ToolSpec // in the order a model should use them
	Version uint64     // the catalog version it was made from
	byName  map[string]*ToolSpec
}

// Tool returns the tool named name, if the set offers it.
func (ts *ToolSet) Tool(name string) (*ToolSpec, bool) {
	t, ok := ts.byName[name]
	return t, ok
}

// toolSets caches one ToolSet per naming and disclosure for the newest catalog version.
type toolSets struct {
	mu   sync.Mutex
	sets map[toolSetKey]*ToolSet
}

type toolSetKey struct {
	naming     catalog.Naming
	disclosure Disclosure
}

// ToolSet returns what disclosure d (DefaultDisclosure when "") offers for the catalog
// as it is now. Equal versions give the same set; the set is shared: do not modify it.
func (s *Service) ToolSet(d Disclosure) *ToolSet {
	if d == "" {
		d = s.disclosure
	}
	snap, _ := s.snapshot(nil) // without session namespaces there is no clash
	key := toolSetKey{s.naming, d}
	s.sets.mu.Lock()
	defer s.sets.mu.Unlock()
	if ts := s.sets.sets[key]; ts != nil && ts.Version == snap.Version() {
		return ts
	}
	ts := s.toolSet(d, snap)
	if s.sets.sets == nil {
		s.sets.sets = map[toolSetKey]*ToolSet{}
	}
	s.sets.sets[key] = ts
	return ts
}

func (s *Service) toolSet(d Disclosure, snap *catalog.Snapshot) *ToolSet {
	ts := &ToolSet{Disclosure: d, Version: snap.Version()}
	nfuncs := len(snap.Functions())
	search := s.search == SearchOn || (s.search != SearchOff && nfuncs > SearchThreshold)
	switch d {
	case Filesystem:
		ts.Tools = []ToolSpec{executeBashSpec, executeSpec(executeFilesystem)}
	case Sidecar:
		for _, def := range snap.ToolDefs() {
			ts.Tools = append(ts.Tools, ToolSpec{Name: def.Name, Description: def.Description,
				InputSchema: def.InputSchema, OutputSchema: def.OutputSchema, Function: def.Function})
		}
		ts.Tools = append(ts.Tools, executeSpec(executeSidecar))
	case Auto:
		if compact := snap.Compact(); len(compact) <= s.inlineBudget {
			if compact == "" {
				compact = "(none yet: tools/list_changed announces new ones)\n"
			}
			ts.Inline = true
			search = s.search == SearchOn
			ts.Tools = []ToolSpec{executeSpec(executeInline + compact)}
			break
		}
		fallthrough
	default:
		ts.Tools = []ToolSpec{listSpec, detailsSpec, executeSpec(executeCatalog)}
	}
	if search {
		ts.Tools = append([]ToolSpec{searchSpec}, ts.Tools...)
	}
	ts.byName = make(map[string]*ToolSpec, len(ts.Tools))
	for i := range ts.Tools {
		ts.byName[ts.Tools[i].Name] = &ts.Tools[i]
	}
	return ts
}

type disclosureKey struct{}

// WithDisclosure marks ctx's executions with disclosure d: under Sidecar a program also
// has invoke({name, arguments}).
func WithDisclosure(ctx context.Context, d Disclosure) context.Context {
	return context.WithValue(ctx, disclosureKey{}, d)
}

// DisclosureFrom returns the disclosure WithDisclosure put in ctx, or "".
func DisclosureFrom(ctx context.Context) Disclosure {
	d, _ := ctx.Value(disclosureKey{}).(Disclosure)
	return d
}

func clipName(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Bounds of search_functions' input.
const maxSearchK = catalog.MaxSearchResults

// SearchFunctions renders the search_functions text: the k best functions for query.
func (s *Service) SearchFunctions(query string, k int, session ...catalog.Namespace) (string, error) {
	switch {
	case len(query) > MaxQueryBytes:
		return "", fmt.Errorf("query: at most %d bytes, got %d: use a few words", MaxQueryBytes, len(query))
	case strings.TrimSpace(query) == "":
		return "", fmt.Errorf("query: required, a few words saying what you need")
	case k < 0 || k > maxSearchK:
		return "", fmt.Errorf("k: between 1 and %d, got %d", maxSearchK, k)
	}
	snap, err := s.snapshot(session)
	if err != nil {
		return "", err
	}
	return snap.SearchText(query, k), nil
}

// CallTool runs the sidecar tool name (a ToolDefs name) with the argument object as a
// one-call program through Execute, so the execution caps, limits and sandbox apply as
// to any program.
func (s *Service) CallTool(ctx context.Context, name string, args map[string]any) (*runtime.Result, error) {
	if args == nil {
		args = map[string]any{}
	}
	argsJSON, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("%s: arguments are not JSON: %w", name, err)
	}
	nameJSON, _ := json.Marshal(name)
	code := "return await invoke({ name: " + string(nameJSON) + ", arguments: " + string(argsJSON) + " })"
	return s.Execute(WithDisclosure(ctx, Sidecar), code)
}
