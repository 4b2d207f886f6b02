package runtime

import (
	"context"
	"strings"
	"testing"
)

// TestCodeShapeLimits feeds code whose shape would overflow the parsers' Go stacks
// (fatal to the process) or take the compiler minutes; each must be refused quickly as
// a syntax error, while ordinary large code still runs.
func TestCodeShapeLimits(t *testing.T) {
	tests := []struct {
		name, code, msg string // msg empty: must run without error
	}{
		{"too large", "return 1 //" + strings.Repeat("x", maxCodeBytes), "limit is"},
		{"deep brackets", "return " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000), "brackets nest deeper than 1000"},
		{"deep parentheses", "return " + strings.Repeat("(", 100000) + "1", "brackets nest deeper"},
		{"prefix operator chain", "return " + strings.Repeat("!", 100000) + "1", "prefix operators chain"},
		{"spaced prefix chain", "return " + strings.Repeat("- ", 50000) + "1", "prefix operators chain"},
		{"assignment chain", "let x; x = " + strings.Repeat("x=", 50000) + "1", "tokens"},
		{"if chain", strings.Repeat("if(1)", 20000) + "1", "tokens"},
		{"arrow chain", "return " + strings.Repeat("a=>", 30000) + "1", "tokens"},
		{"ternary chain", "return " + strings.Repeat("1?1:", 20000) + "1", "tokens"},
		{"template nesting", "return `" + strings.Repeat("${`", 5000) + strings.Repeat("`}", 5000) + "`", "template literals nest"},
		{"else-if chain", "if (0) {}" + strings.Repeat(" else if (0) {}", 8000), "nest deeper than 2000"},
		{"brackets in strings do not count", "return '" + strings.Repeat("(", 5000) + "'.length", ""},
		{"brackets in comments do not count", "/* " + strings.Repeat("[", 5000) + " */ return 1", ""},
		{"brackets in template text do not count", "return `" + strings.Repeat("{", 5000) + "`.length", ""},
		{"long array literal", "return [" + strings.Repeat("1,", 20000) + "1].length", ""},
		{"reasonable nesting", "return " + strings.Repeat("[", 500) + strings.Repeat("]", 500) + ".length", ""},
		{"long statement list", strings.Repeat("x = 1;", 15000) + "return x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Execute(context.Background(), "var x;"+tt.code, nil, Limits{})
			if tt.msg == "" {
				if res.Error != nil {
					t.Fatalf("error: %+v", res.Error)
				}
				return
			}
			if res.Error == nil || res.Error.Kind != KindSyntax || !strings.Contains(res.Error.Message, tt.msg) {
				t.Fatalf("error = %+v, want syntax error containing %q", res.Error, tt.msg)
			}
		})
	}
}
