package catalog

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestScanTop: the shallow read agrees with the full parse on every fixture schema, and
// rejects what encoding/json rejects.
func TestScanTop(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, path := range files {
		ns := loadFixture(t, path)
		for _, tl := range ns.Tools {
			for _, raw := range []json.RawMessage{tl.InputSchema, tl.OutputSchema} {
				if len(raw) == 0 {
					continue
				}
				got, err := scanTop(raw)
				if err != nil {
					t.Fatalf("%s %s: %v", path, tl.Name, err)
				}
				v, err := parseJSON(raw)
				if err != nil {
					t.Fatal(err)
				}
				want := topParams(v)
				for i := range want {
					want[i].schema = nil
				}
				if len(got) != 0 || len(want) != 0 {
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s %s: scanTop = %+v, want %+v", path, tl.Name, got, want)
					}
				}
			}
		}
	}
	docs := []string{
		`{"a":1}`, `{"properties":{"x":{"y":[1,2,{"z":null}]}},"required":["x","w"]}`, `[1, "x", true]`, `-0.5e+10`, `"s\\"t"`,
		``, `{`, `{"properties":{"x":}}`, `{"a":1,}`, `[1 2]`, `01`, `1.`, `-`, `1e`, `{"a":tru}`, `{"a":1} x`, "\"\x01\"",
		`{"properties":{"x":1},"required":[1,"x"]}`, `{"a":"\u00e9"}`, `{"a" 1}`, `{1:2}`, `[`, `]`, `{"properties":`, `{"required":`, `{"a":`,
	}
	for _, d := range docs {
		_, err := scanTop([]byte(d))
		if valid := json.Valid([]byte(d)); valid != (err == nil) {
			t.Errorf("scanTop(%q): err = %v, but json.Valid = %v", d, err, valid)
		}
	}
	deep := strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300)
	if _, err := scanTop([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("deep document: err = %v", err)
	}
}

func TestValidNumber(t *testing.T) {
	for _, n := range []string{"0", "-0", "12", "1.5", "-1.5e10", "1E+2", "0.0e-0"} {
		if !validNumber([]byte(n)) {
			t.Errorf("%s should be valid", n)
		}
	}
	for _, n := range []string{"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1-2", "--1", "0x1"} {
		if validNumber([]byte(n)) {
			t.Errorf("%s should be invalid", n)
		}
	}
}

// FuzzJSON: parseJSON and scanTop accept exactly what encoding/json accepts (below the
// nesting limit), and agree on the top-level properties.
func FuzzJSON(f *testing.F) {
	for _, seed := range []string{`{"properties":{"a":{}},"required":["a","b"]}`, `[1,{"x":"\u00e9"}]`, `-1.5e3`, `{"a":1,"a":2}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		valid := json.Valid([]byte(doc))
		v, perr := parseJSON([]byte(doc))
		props, serr := scanTop([]byte(doc))
		if perr != nil && strings.Contains(perr.Error(), "nesting") {
			return
		}
		if (perr == nil) != valid || (serr == nil) != valid {
			t.Fatalf("json.Valid = %v, parseJSON err = %v, scanTop err = %v", valid, perr, serr)
		}
		if !valid {
			return
		}
		want := topParams(v)
		for i := range want {
			want[i].schema = nil
		}
		if (len(props) != 0 || len(want) != 0) && !reflect.DeepEqual(props, want) {
			t.Fatalf("scanTop = %+v, parse = %+v", props, want)
		}
	})
}
