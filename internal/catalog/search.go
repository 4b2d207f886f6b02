package catalog

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// search_functions ranks functions with BM25F: BM25 over several fields of each function
// (its name, its namespace, its description, its parameters' names, descriptions and
// enum values), each weighted and length-normalised on its own, so that a word in a
// function's name counts more than the same word deep in a long description. Words are
// split at camelCase, snake_case, kebab-case and punctuation, lowercased, stripped of
// English stop words and stemmed ("created", "creates" and "create" are one term).
//
// Three additions over plain BM25F, each for a way agents phrase needs:
//   - synonyms: a query word also matches a small table of generic equivalents
//     ("remove" for "delete", "folder" for "directory"), at a discount;
//   - coverage: the score is scaled by the share of the query's words a function
//     matches, so one that answers every part of a need beats one that matches one word
//     very well;
//   - action verbs: tool names start with what they do (create_issue, list_customers),
//     so a function whose name's verb does what the query's verb asks, and whose last
//     word is the thing asked for, is boosted: "make a new folder" is create_directory.
//
// Measured on testdata/search (100 functions: the three npm reference servers, the seed's
// tools and stand-ins for GitHub, Stripe, Zendesk, Slack and others), TestSearchQuality
// holds the ranker to its numbers on two query sets; see there.

// SearchHit is one function that matches a search, with its BM25F score (higher is
// better; scores compare only within one search).
type SearchHit struct {
	Function string  // "ns.fn", as the program calls it
	Score    float64 // > 0
	f        *function
}

// Search bounds: a query's words and the hits one search returns.
const (
	DefaultSearchResults = 5
	MaxSearchResults     = 50
	maxQueryTerms        = 32
)

// Search returns at most k functions matching query, best first (k <= 0 means
// DefaultSearchResults; k is capped at MaxSearchResults). A function matches when at
// least one of the query's words occurs in it. Unavailable namespaces are not searched.
func (s *Snapshot) Search(query string, k int) []SearchHit {
	if k <= 0 {
		k = DefaultSearchResults
	}
	k = min(k, MaxSearchResults)
	idx := s.searchIndex()
	terms, verbs := idx.queryTerms(query)
	if len(terms) == 0 {
		return nil
	}
	var hits []SearchHit
	for i := range idx.docs {
		if score := idx.score(&idx.docs[i], terms, verbs); score > 0 {
			f := idx.docs[i].f
			hits = append(hits, SearchHit{Function: f.ns + "." + f.name, Score: score, f: f})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Function < hits[j].Function
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits
}

// SearchText renders the search_functions answer: one line per hit, best first, with its
// score, its listing line (how to call it) and the first sentence of its description.
func (s *Snapshot) SearchText(query string, k int) string {
	hits := s.Search(query, k)
	if len(hits) == 0 {
		if strings.TrimSpace(query) == "" {
			return "// no query: pass a few words that describe what you need\n"
		}
		return fmt.Sprintf("// no functions match %q; try other words, or list_functions\n", oneLine(query, 100))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// %d best for %q (score, best first)\n", len(hits), oneLine(query, 100))
	for _, h := range hits {
		fmt.Fprintf(&b, "%.1f %s.%s", h.Score, h.f.ns, h.f.line)
		if d := firstSentence(h.f.tool.Description); d != "" {
			b.WriteString(" // " + d)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// The fields of a function's search document and their weights. Names are short and
// precise, so a match there is worth several in the description.
const (
	fieldName = iota
	fieldNamespace
	fieldDesc
	fieldParams
	fieldParamDocs
	fieldEnums
	numFields
)

var (
	fieldWeight = [numFields]float64{3, 1.5, 1, 1, 0.5, 0.3}
	// fieldB is BM25's length normalisation per field: full for prose, little for names.
	fieldB = [numFields]float64{0.3, 0, 0.75, 0.5, 0.75, 0.5}
)

const (
	bm25K1          = 1.2
	synonymDiscount = 0.6 // a synonym's match counts this much of the word's own
	coverageFloor   = 0.5 // the score factor of a document matching few of the query's words
	verbBonus       = 1.3 // the score factor of a name whose verb does what the query asks
	// docTextLimit bounds the description and parameter text indexed per function, so a
	// backend's megabyte description costs no more than a long one.
	docTextLimit = 4000
)

type searchDoc struct {
	f    *function
	tf   [numFields]map[string]int
	len  [numFields]int
	verb string // the action class of the name's first word ("create", "get", ...), or ""
	head string // the name's last word, the thing acted on (create_issue → "issu")
}

type searchIndex struct {
	docs []searchDoc
	df   map[string]int // documents containing the term in any field
	avg  [numFields]float64
}

// searchIndex builds the snapshot's index on first use.
func (s *Snapshot) searchIndex() *searchIndex {
	s.searchOnce.Do(func() {
		idx := &searchIndex{df: map[string]int{}}
		for _, n := range s.spaces {
			for _, f := range n.funcs {
				f.docOnce.Do(func() { f.doc = f.searchDoc() })
				idx.docs = append(idx.docs, f.doc)
			}
		}
		for i := range idx.docs {
			d := &idx.docs[i]
			seen := map[string]bool{}
			for fl := range numFields {
				idx.avg[fl] += float64(d.len[fl])
				for t := range d.tf[fl] {
					if !seen[t] {
						seen[t] = true
						idx.df[t]++
					}
				}
			}
		}
		if n := float64(len(idx.docs)); n > 0 {
			for fl := range numFields {
				idx.avg[fl] /= n
			}
		}
		s.search = idx
	})
	return s.search
}

func (f *function) searchDoc() searchDoc {
	d := searchDoc{f: f}
	add := func(field int, text string) {
		if d.tf[field] == nil {
			d.tf[field] = map[string]int{}
		}
		for _, w := range searchWords(text) {
			d.tf[field][w]++
			d.len[field]++
		}
	}
	add(fieldName, f.name)
	if f.tool.Name != f.name {
		add(fieldName, f.tool.Name)
	}
	add(fieldNamespace, f.ns)
	add(fieldDesc, clipText(f.tool.Description, docTextLimit))
	var docs, enums strings.Builder
	for _, p := range f.schemas().props {
		add(fieldParams, p.name)
		if docs.Len() < docTextLimit {
			docs.WriteString(docText(p.schema))
			docs.WriteByte('\n')
		}
		// Enum values are the words a parameter understands ("closed", "urgent").
		if o, ok := p.schema.(*object); ok && enums.Len() < docTextLimit {
			for _, v := range stringList(o.val("enum")) {
				enums.WriteString(v + " ")
			}
		}
	}
	add(fieldParamDocs, clipText(docs.String(), docTextLimit))
	add(fieldEnums, clipText(enums.String(), docTextLimit))
	if words := searchWords(f.name); len(words) > 1 {
		if classes := verbClasses[words[0]]; len(classes) > 0 {
			d.verb, d.head = classes[0], words[len(words)-1]
		}
	}
	return d
}

// queryWord is one distinct word of a query and the terms it is searched as: itself
// (weight 1) and its synonyms (synonymDiscount), those the catalog has.
type queryWord []queryTerm

type queryTerm struct {
	term   string
	weight float64
}

func (idx *searchIndex) queryTerms(q string) (words []queryWord, verbs map[string]bool) {
	verbs = map[string]bool{}
	seen := map[string]bool{}
	add := func(w string) {
		if len(words) >= maxQueryTerms || seen[w] {
			return
		}
		seen[w] = true
		for _, c := range verbClasses[w] {
			verbs[c] = true
		}
		var qw queryWord
		if idx.df[w] > 0 {
			qw = append(qw, queryTerm{w, 1})
		}
		for _, syn := range synonyms[w] {
			if idx.df[syn] > 0 {
				qw = append(qw, queryTerm{syn, synonymDiscount})
			}
		}
		if len(qw) > 0 {
			words = append(words, qw)
		}
	}
	for _, g := range wordGroups(clipText(q, 1000)) {
		if len(g) > 1 && idx.df[g[0]] > 0 {
			add(g[0]) // the catalog knows the word whole ("GitHub")
			continue
		}
		for _, w := range g[min(1, len(g)-1):] {
			add(w)
		}
	}
	return words, verbs
}

// score is the document's BM25F score for the query, scaled by the share of the query's
// words it matches: a function that answers every part of a need ranks above one that
// matches a single word very well.
func (idx *searchIndex) score(d *searchDoc, words []queryWord, verbs map[string]bool) float64 {
	n := float64(len(idx.docs))
	var score float64
	matched := 0
	object := false // the name's head noun matched: the function acts on the thing asked for
	for _, qw := range words {
		best := 0.0
		// An action verb in a name says less than the thing acted on (the verb bonus below
		// weighs it), so it counts there like any other field.
		isVerb := len(verbClasses[qw[0].term]) > 0
		for _, q := range qw {
			var tf float64
			for fl := range numFields {
				c := d.tf[fl][q.term]
				if c == 0 {
					continue
				}
				norm := 1.0
				if idx.avg[fl] > 0 {
					norm = 1 - fieldB[fl] + fieldB[fl]*float64(d.len[fl])/idx.avg[fl]
				}
				w := fieldWeight[fl]
				if isVerb && fl == fieldName {
					w = 1
				}
				tf += w * float64(c) / norm
			}
			if tf == 0 {
				continue
			}
			if !isVerb && q.term == d.head {
				object = true
			}
			df := float64(idx.df[q.term])
			idf := math.Log(1 + (n-df+0.5)/(df+0.5))
			best = max(best, q.weight*idf*tf*(bm25K1+1)/(tf+bm25K1))
		}
		if best > 0 {
			matched++
			score += best
		}
	}
	if len(words) == 0 || score == 0 {
		return 0
	}
	score *= coverageFloor + (1-coverageFloor)*float64(matched)/float64(len(words))
	// The verb counts only for a function that acts on the thing asked for: "add two
	// numbers" is no reason to prefer add_issue_comment, nor "open a bug report" to prefer
	// it over create_issue.
	if d.verb != "" && verbs[d.verb] && object {
		score *= verbBonus
	}
	return score
}

// searchWords splits text into lowercased, stemmed words without stop words:
// "getFileInfo", "get_file_info" and "get-file-info" all give [get file info]. A word
// with inner capitals also stands whole ("GitHub" gives github, git and hub), so a query
// finds it either way.
func searchWords(text string) []string {
	var out []string
	for _, g := range wordGroups(text) {
		out = append(out, g...)
	}
	return out
}

// wordGroups splits text at every character that is not a letter or digit into words,
// each a group: its stemmed parts, split at lower→upper ("fileInfo"), at the last
// capital of a run followed by lower case ("HTTPServer" → http server) and between
// letters and digits; a word of several parts also has itself, whole, first. Stop words
// are dropped.
func wordGroups(text string) [][]string {
	var out [][]string
	for _, raw := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		parts := splitCamel(raw)
		var g []string
		if len(parts) > 1 && !stopWords[strings.ToLower(raw)] {
			g = append(g, stem(strings.ToLower(raw)))
		}
		for _, p := range parts {
			if p = strings.ToLower(p); !stopWords[p] {
				g = append(g, stem(p))
			}
		}
		if len(g) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// splitCamel cuts a run of letters and digits at case and letter/digit changes.
func splitCamel(word string) []string {
	runes := []rune(word)
	var out []string
	start := 0
	for i := 1; i < len(runes); i++ {
		prev, r := runes[i-1], runes[i]
		if (unicode.IsLower(prev) && unicode.IsUpper(r)) ||
			unicode.IsLetter(prev) != unicode.IsLetter(r) ||
			(unicode.IsUpper(prev) && unicode.IsUpper(r) && i+1 < len(runes) && unicode.IsLower(runes[i+1])) {
			out = append(out, string(runes[start:i]))
			start = i
		}
	}
	return append(out, string(runes[start:]))
}

// stem reduces an English word to a stem with a few suffix rules (a light Porter step
// 1): plurals, -ed, -ing, -ation, and a final -e, so that "create", "creates",
// "created", "creating" and "creation" meet at "creat". Short words stay as they are.
func stem(w string) string {
	if utf8.RuneCountInString(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"), strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "zes"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	}
	switch {
	case strings.HasSuffix(w, "ly") && len(w) > 5:
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ation") && len(w) > 7:
		w = w[:len(w)-3] // creation → creat(e)
	}
	for _, suf := range []string{"ing", "ed"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			w = w[:len(w)-len(suf)]
			if n := len(w); n >= 2 && w[n-1] == w[n-2] && !strings.ContainsRune("lsz", rune(w[n-1])) {
				w = w[:n-1] // running → run, but not "fill" or "pass"
			}
			break
		}
	}
	if strings.HasSuffix(w, "e") && len(w) >= 4 {
		w = w[:len(w)-1]
	}
	return w
}

// clipText cuts s to at most n bytes at a rune boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

var stopWords = setOf(
	"a", "an", "the", "of", "to", "in", "into", "for", "on", "onto", "with", "and", "or", "by",
	"from", "at", "as", "is", "are", "was", "be", "been", "it", "its", "this", "that", "these",
	"those", "there", "their", "them", "they", "me", "my", "i", "we", "our", "us", "you",
	"your", "he", "she", "his", "her", "can", "could", "would", "should", "will", "shall",
	"do", "does", "did", "some", "any", "all", "each", "about", "please", "want", "need",
	"like", "what", "which", "who", "whom", "how", "when", "where", "why", "whose", "if",
	"then", "than", "so", "just", "also", "very", "too", "not", "no", "yes", "one", "via",
	"s", "t", "let", "lets", "have", "has", "had", "someone", "something", "e", "g", "eg",
	"ie", "etc", "using", "use",
)

// verbClasses maps a stemmed verb to the kinds of action it asks for. Tool names start
// with their action (create_issue, list_customers, get_file_info), so a query whose verb
// asks for the same kind of action as a name's first word boosts that function: "make a
// folder" is create_directory rather than list_directory. A word may ask for several
// (to "open" an issue creates it, to "open" a file reads it).
var verbClasses = func() map[string][]string {
	classes := []struct {
		class string
		verbs []string
	}{
		{"create", []string{"create", "make", "add", "new", "open", "schedule", "start", "raise", "generate", "register", "insert"}},
		{"get", []string{"get", "read", "fetch", "retrieve", "show", "view", "look", "download", "load", "describe", "inspect", "check"}},
		{"list", []string{"list", "enumerate", "browse", "find", "show", "recent", "latest", "all"}},
		{"update", []string{"update", "change", "modify", "edit", "set", "mark", "toggle", "replace", "patch"}},
		{"delete", []string{"delete", "remove", "erase", "destroy", "forget", "drop", "clear", "purge"}},
		{"search", []string{"search", "find", "query", "lookup", "locate", "look"}},
		{"send", []string{"send", "post", "email", "text", "message", "notify", "reply", "tell"}},
	}
	m := map[string][]string{}
	for _, c := range classes {
		for _, v := range c.verbs {
			m[stem(v)] = append(m[stem(v)], c.class)
		}
	}
	return m
}()

// synonyms maps a stemmed query word to stemmed words with the same meaning in tool
// descriptions. It holds generic vocabulary only (verbs of CRUD, files and messages), not
// words of any particular backend.
var synonyms = func() map[string][]string {
	groups := [][]string{
		{"delete", "remove", "erase", "destroy"},
		{"create", "make", "new"},
		{"get", "fetch", "retrieve", "read", "show", "view", "download"},
		{"list", "enumerate"},
		{"search", "find", "lookup", "locate"},
		{"update", "change", "modify", "edit", "set"},
		{"send", "post"},
		{"directory", "folder"},
		{"file", "document"},
		{"move", "rename"},
		{"write", "save", "store"},
		{"image", "picture", "photo"},
		{"user", "person", "people"},
		{"comment", "reply", "note"},
		{"event", "meeting", "appointment"},
		{"cancel", "stop", "terminate"},
		{"issue", "bug"},
		{"relation", "relationship", "link"},
		{"size", "big", "large", "small"},
		{"multiple", "several", "many", "batch"},
		{"history", "recent", "latest", "past"},
	}
	m := map[string][]string{}
	for _, g := range groups {
		stems := make([]string, len(g))
		for i, w := range g {
			stems[i] = stem(w)
		}
		for _, w := range stems {
			for _, o := range stems {
				if o != w && !slices.Contains(m[w], o) {
					m[w] = append(m[w], o)
				}
			}
		}
	}
	return m
}()
