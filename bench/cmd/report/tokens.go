package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tiktoken-go/tokenizer"
)

// Tokens is a token count in each encoding the report uses.
type Tokens struct {
	Cl100k int `json:"cl100k_base"`
	O200k  int `json:"o200k_base"`
}

// Add returns t + u.
func (t Tokens) Add(u Tokens) Tokens { return Tokens{t.Cl100k + u.Cl100k, t.O200k + u.O200k} }

// Scale returns t × n.
func (t Tokens) Scale(n int) Tokens { return Tokens{t.Cl100k * n, t.O200k * n} }

// Tokenizer counts tokens offline with the encodings embedded in tiktoken-go.
type Tokenizer struct{ cl, o tokenizer.Codec }

// NewTokenizer loads cl100k_base and o200k_base.
func NewTokenizer() (*Tokenizer, error) {
	cl, err := tokenizer.Get(tokenizer.Cl100kBase)
	if err != nil {
		return nil, fmt.Errorf("load cl100k_base: %w", err)
	}
	o, err := tokenizer.Get(tokenizer.O200kBase)
	if err != nil {
		return nil, fmt.Errorf("load o200k_base: %w", err)
	}
	return &Tokenizer{cl: cl, o: o}, nil
}

// Count returns the tokens of s. The encoders accept any UTF-8 text, so an error here
// means a broken encoder: it is reported as a count of -1 rather than hidden as 0.
func (t *Tokenizer) Count(s string) Tokens {
	return Tokens{countWith(t.cl, s), countWith(t.o, s)}
}

func countWith(c tokenizer.Codec, s string) int {
	ids, _, err := c.Encode(s)
	if err != nil {
		return -1
	}
	return len(ids)
}

// ToolDef is one tool as an MCP server (or the Python SDK) declares it.
type ToolDef struct {
	Namespace    string          `json:"namespace,omitempty"`
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"inputSchema,omitempty"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	Params       []string        `json:"params,omitempty"` // positional order (Python SDK tools)
}

// contextTool is a tool as a client puts it in the model's context: name, description
// and input schema (the shape of Anthropic's and OpenAI's tool parameters). Output
// schemas and annotations are left out, which favours the baseline.
type contextTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

func toContext(d ToolDef) contextTool {
	in := d.InputSchema
	if len(in) == 0 {
		in = json.RawMessage(`{"type":"object"}`)
	}
	return contextTool{Name: d.Name, Description: d.Description, InputSchema: in}
}

// ContextJSON renders defs as the compact JSON array a client sends with every request.
func ContextJSON(defs []ToolDef) string {
	tools := make([]contextTool, len(defs))
	for i, d := range defs {
		tools[i] = toContext(d)
	}
	b, err := json.Marshal(tools)
	if err != nil {
		// Only invalid RawMessage can fail, and the schemas came from JSON decoding.
		return fmt.Sprintf("(unencodable tool definitions: %v)", err)
	}
	return string(b)
}

// ToolSetTokens compares one tool set's cost in context: its tools/list JSON versus its
// share of pctx's list_functions text.
type ToolSetTokens struct {
	Name      string `json:"name"`
	Source    string `json:"source"`
	Functions int    `json:"functions"`
	// ToolsList is the tools/list result JSON as the server sent it (output schemas,
	// annotations and all); Context is what a client puts in the prompt (ContextJSON).
	ToolsList         Tokens `json:"tools_list_json"`
	Context           Tokens `json:"context_json"`
	ContextPerToolMed Tokens `json:"context_per_tool_median"`
	ContextPerToolMax Tokens `json:"context_per_tool_max"`
	// Listing is the namespace's block of the list_functions text; PerFunction counts one
	// function's line (indentation and newline included).
	Listing           Tokens  `json:"listing"`
	PerFunctionMedian Tokens  `json:"per_function_median"`
	PerFunctionMax    Tokens  `json:"per_function_max"`
	Ratio             float64 `json:"context_to_listing_ratio_cl100k"`
}

// MeasureToolSet counts one tool set. rawToolsList may be empty when the tools did not
// arrive as a tools/list result (the Python SDK's tools); then ToolsList is Context.
func MeasureToolSet(tk *Tokenizer, name, source string, defs []ToolDef, rawToolsList, listing string) ToolSetTokens {
	r := ToolSetTokens{Name: name, Source: source, Functions: len(defs)}
	r.Context = tk.Count(ContextJSON(defs))
	r.ToolsList = r.Context
	if rawToolsList != "" {
		r.ToolsList = tk.Count(rawToolsList)
	}
	var perTool [2][]int
	for _, d := range defs {
		c := tk.Count(ContextJSON([]ToolDef{d}))
		perTool[0] = append(perTool[0], c.Cl100k)
		perTool[1] = append(perTool[1], c.O200k)
	}
	r.ContextPerToolMed = Tokens{MedianInt(perTool[0]), MedianInt(perTool[1])}
	r.ContextPerToolMax = Tokens{MaxInt(perTool[0]), MaxInt(perTool[1])}
	r.Listing = tk.Count(listing)
	var perLine [2][]int
	for _, line := range FunctionLines(listing) {
		c := tk.Count(line)
		perLine[0] = append(perLine[0], c.Cl100k)
		perLine[1] = append(perLine[1], c.O200k)
	}
	r.PerFunctionMedian = Tokens{MedianInt(perLine[0]), MedianInt(perLine[1])}
	r.PerFunctionMax = Tokens{MaxInt(perLine[0]), MaxInt(perLine[1])}
	if r.Listing.Cl100k > 0 {
		r.Ratio = float64(r.Context.Cl100k) / float64(r.Listing.Cl100k)
	}
	return r
}

// FunctionLines returns the function lines of a list_functions text: inside a
// "namespace X {" block, indented by two spaces, each with its newline.
func FunctionLines(listing string) []string {
	var out []string
	for _, line := range strings.SplitAfter(listing, "\n") {
		if strings.HasPrefix(line, "  ") && strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return out
}

// SplitListing cuts a list_functions text into one block per namespace (the optional
// "// description" line, "namespace X {", its functions and "}"), keyed by namespace,
// and returns the namespaces in listing order.
func SplitListing(listing string) (map[string]string, []string) {
	blocks := map[string]string{}
	var order []string
	var cur strings.Builder
	name := ""
	for _, line := range strings.SplitAfter(listing, "\n") {
		if line == "" {
			continue
		}
		cur.WriteString(line)
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "namespace ") && strings.HasSuffix(trimmed, "{"):
			name = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(trimmed, "namespace "), "{"))
		case strings.HasPrefix(trimmed, "// namespace ") && strings.Contains(trimmed, ": unavailable"):
			ns := strings.TrimPrefix(trimmed, "// namespace ")
			ns = ns[:strings.Index(ns, ":")]
			blocks[ns] = cur.String()
			order = append(order, ns)
			cur.Reset()
		case trimmed == "}" && name != "":
			blocks[name] = cur.String()
			order = append(order, name)
			cur.Reset()
			name = ""
		}
	}
	return blocks, order
}

// JoinBlocks concatenates the listing blocks of the named namespaces, in the given order;
// missing namespaces are skipped.
func JoinBlocks(blocks map[string]string, names ...string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(blocks[n])
	}
	return b.String()
}
