package catalog

import (
	"slices"
	"strings"
	"testing"

	"github.com/tiktoken-go/tokenizer"
)

// TestListTokens measures the listing of the captured real-world tool sets with
// cl100k_base: the tokens of each function's line (indentation and newline included),
// and the whole listing per function (namespace headers included). The median per
// function must stay at or below 15, the figure Code Mode promises.
func TestListTokens(t *testing.T) {
	enc, err := tokenizer.Get(tokenizer.Cl100kBase)
	if err != nil {
		t.Fatal(err)
	}
	count := func(s string) int {
		ids, _, err := enc.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	const maxMedian = 15
	c := New()
	for _, fixture := range []string{"server-everything", "server-filesystem"} {
		if err := c.Put("test", loadFixture(t, "testdata/"+fixture+".json")); err != nil {
			t.Fatal(err)
		}
	}
	s := c.Snapshot()
	for _, n := range s.spaces {
		text := s.List(ListOptions{Namespace: n.name})
		var perLine []int
		for _, line := range strings.SplitAfter(text, "\n") {
			if strings.HasPrefix(line, "  ") {
				perLine = append(perLine, count(line))
			}
		}
		if len(perLine) != len(n.funcs) {
			t.Fatalf("%s: %d function lines for %d functions:\n%s", n.name, len(perLine), len(n.funcs), text)
		}
		slices.Sort(perLine)
		median := perLine[len(perLine)/2]
		if len(perLine)%2 == 0 {
			median = (perLine[len(perLine)/2-1] + perLine[len(perLine)/2] + 1) / 2
		}
		total := count(text)
		t.Logf("%s: %d functions, median %d tokens/line (min %d, max %d), whole listing %d tokens = %.1f/function",
			n.name, len(perLine), median, perLine[0], perLine[len(perLine)-1], total, float64(total)/float64(len(perLine)))
		if median > maxMedian {
			t.Errorf("%s: median %d tokens per function, want ≤ %d:\n%s", n.name, median, maxMedian, text)
		}
	}
}
