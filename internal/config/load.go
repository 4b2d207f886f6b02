package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/v2"

	"github.com/pctx-dev/pctx/internal/keyring"
	"github.com/pctx-dev/pctx/internal/redact"
	"github.com/pctx-dev/pctx/internal/textdist"
	gotoml "github.com/pelletier/go-toml/v2"
)

type loadOptions struct {
	// checkOnly checks a file without resolving its secrets: unset ${env:} variables are
	// fine, and no ${cmd:} runs, no ${file:} or ${keychain:} is read. For the editing
	// commands, which run where the secrets may not be.
	checkOnly bool
	// cmdTimeout bounds each ${cmd:}; 0 means DefaultCommandTimeout.
	cmdTimeout time.Duration
	// keyring answers ${keychain:}; nil means keyring.FromEnv.
	keyring keyring.Store
	// fakeSecrets resolves ${cmd:}, ${file:} and ${keychain:} to fixed text without
	// running or reading anything: the fuzzer writes arbitrary commands.
	fakeSecrets bool
}

// bytesProvider hands koanf a document already read, so the same bytes are decoded and
// scanned for line numbers.
type bytesProvider []byte

func (b bytesProvider) ReadBytes() ([]byte, error) { return b, nil }

func (b bytesProvider) Read() (map[string]any, error) {
	return nil, errors.New("config: bytesProvider needs a parser")
}

// load decodes, expands and validates one document; file names it in errors.
func load(file string, data []byte, opts loadOptions) (*Config, error) {
	k, err := parseKoanf(file, data)
	if err != nil {
		return nil, err
	}
	pos, err := parseLayout(data)
	if err != nil {
		// go-toml accepted the document a moment ago, so this is a go-toml bug.
		return nil, fmt.Errorf("%s: index TOML: %w", file, err)
	}
	p := &problems{file: file, pos: pos, bad: map[string]bool{}}

	raw := k.Raw()
	c := Default()
	// Servers are decoded one by one: mapstructure drops a map element that has any
	// error, and every problem of a server should be reported at once.
	k.Delete("servers")
	if err := k.UnmarshalWithConf("", c, koanf.UnmarshalConf{DecoderConfig: decoderConfig(c)}); err != nil {
		decodeProblems(err, nil, p)
	}
	c.Servers = decodeServers(raw["servers"], p)
	c.Path = file
	expandAll(c, p, opts)
	validate(c, raw, p)
	if len(p.errs) > 0 {
		// A check may quote a value, and a value may have come from a secret.
		secrets := redact.New(c.secrets...)
		for _, e := range p.errs {
			e.Msg = secrets.String(e.Msg)
		}
		return nil, p.err()
	}
	return c, nil
}

func parseKoanf(file string, data []byte) (*koanf.Koanf, error) {
	k := koanf.New(".")
	if err := k.Load(bytesProvider(data), toml.Parser()); err != nil {
		return nil, syntaxError(file, data, err)
	}
	return k, nil
}

// parseTOML decodes data without checking it against the schema.
func parseTOML(file string, data []byte) (map[string]any, error) {
	k, err := parseKoanf(file, data)
	if err != nil {
		return nil, err
	}
	return k.Raw(), nil
}

// syntaxError positions go-toml's complaint about a document that is not TOML. Its
// errors for keys defined twice carry no position, so those are looked up here.
func syntaxError(file string, data []byte, err error) error {
	msg := "invalid TOML: " + strings.TrimPrefix(err.Error(), "toml: ")
	var de *gotoml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		return &Error{File: file, Line: line, Column: col, Msg: msg}
	}
	e := &Error{File: file, Msg: msg}
	if l, lerr := parseLayout(data); lerr == nil {
		if k, line, first := l.duplicate(); line > 0 {
			e.Line, e.Key = line, k.String()
			e.Msg += fmt.Sprintf(" (first defined on line %d)", first)
		}
	}
	return e
}

// decoderConfig decodes strictly into result: exact key names, no unknown keys, and
// TOML types checked by decodeHook.
func decoderConfig(result any) *mapstructure.DecoderConfig {
	return &mapstructure.DecoderConfig{
		DecodeHook:           mapstructure.DecodeHookFuncValue(decodeHook),
		ErrorUnused:          true,
		IgnoreUntaggedFields: true,
		TagName:              "koanf",
		MatchName:            func(a, b string) bool { return a == b }, // TOML keys are case-sensitive
		Result:               result,
	}
}

// decodeServers decodes the [servers] table, keeping every server even when some of
// its keys do not decode (those are reported and marked bad).
func decodeServers(v any, p *problems) map[string]Upstream {
	if v == nil {
		return nil
	}
	tables, ok := v.(map[string]any)
	if !ok {
		p.add(kp("servers"), "%v", typeError("a table", v))
		p.bad[joinKey(kp("servers"))] = true
		return nil
	}
	servers := make(map[string]Upstream, len(tables))
	for name, t := range tables {
		k := kp("servers", name)
		if _, ok := t.(map[string]any); !ok {
			p.add(k, "%v", typeError("a table", t))
			p.bad[joinKey(k)] = true
			continue
		}
		var u Upstream
		d, err := mapstructure.NewDecoder(decoderConfig(&u))
		if err == nil {
			err = d.Decode(t)
		}
		if err != nil {
			decodeProblems(err, k, p)
		}
		servers[name] = u
	}
	return servers
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[int64]() // only byte sizes are int64
)

// decodeHook checks every value against the type of the field it lands in, so that
// type errors read in TOML terms, and converts durations and sizes.
func decodeHook(from, to reflect.Value) (any, error) {
	v := from.Interface()
	switch to.Type() {
	case durationType:
		s, ok := v.(string)
		if !ok {
			return nil, typeError(`a duration string like "30s"`, v)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf(`invalid duration %q: use a number with a unit, like "30s", "1m30s" or "500ms"`, s)
		}
		if d <= 0 {
			return nil, fmt.Errorf("duration %q must be positive", s)
		}
		return d, nil
	case sizeType:
		switch x := v.(type) {
		case int64:
			if x < 0 {
				return nil, fmt.Errorf("size %d must not be negative", x)
			}
			return x, nil
		case string:
			return parseSize(x)
		}
		return nil, typeError(`a size like "256MiB" or a number of bytes`, v)
	}
	ok := true
	want := ""
	switch to.Kind() {
	case reflect.String:
		_, ok = v.(string)
		want = "a string"
	case reflect.Bool:
		_, ok = v.(bool)
		want = "true or false"
	case reflect.Int:
		n, isInt := v.(int64)
		ok, want = isInt, "an integer"
		if isInt && n < 0 {
			return nil, fmt.Errorf("%d must not be negative", n)
		}
	case reflect.Slice:
		_, ok = v.([]any)
		want = "an array of strings"
	case reflect.Map:
		_, ok = v.(map[string]any)
		want = "a table"
		if to.Type().Elem().Kind() == reflect.String {
			want = "a table of strings"
		}
	case reflect.Struct:
		_, ok = v.(map[string]any)
		want = "a table"
	}
	if !ok {
		return nil, typeError(want, v)
	}
	return v, nil
}

func typeError(want string, got any) error {
	var what string
	switch x := got.(type) {
	case string:
		what = "a string"
	case int64:
		what = fmt.Sprintf("an integer (%d)", x)
	case float64:
		what = fmt.Sprintf("a float (%v)", x)
	case bool:
		what = fmt.Sprintf("a boolean (%t)", x)
	case []any:
		what = "an array"
	case map[string]any:
		what = "a table"
	default:
		what = "a date/time"
	}
	return fmt.Errorf("expected %s, got %s", want, what)
}

// decodeProblems turns mapstructure's joined errors into positioned problems.
func decodeProblems(err error, prefix keyPath, p *problems) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			decodeProblems(e, prefix, p)
		}
		return
	}
	de, ok := err.(*mapstructure.DecodeError)
	if !ok {
		// Decode wraps several errors in a *fmt.wrapError with a preamble.
		if inner := errors.Unwrap(err); inner != nil {
			decodeProblems(inner, prefix, p)
		} else {
			p.add(nil, "%v", err)
		}
		return
	}
	name := de.Name()
	if name == reflect.TypeFor[Config]().String() || name == reflect.TypeFor[Upstream]().String() {
		// mapstructure ≥ 2.5 names the root of a decode by its Go type.
		name = ""
	}
	k := prefix.with(keyFromDecodeName(name)...)
	inner := de.Unwrap()
	if list, ok := strings.CutPrefix(inner.Error(), "has invalid keys: "); ok {
		for _, name := range strings.Split(list, ", ") {
			p.add(k.with(name), "%s", unknownKey(k, name))
		}
		return
	}
	p.add(k, "%v", inner)
	p.bad[joinKey(k)] = true
}

// keyFromDecodeName splits mapstructure's field names ("runtime.timeout",
// "env[TOKEN]", "args[0]") into key parts. A bracket holds an array index or an env or
// header name, always the last part, so it runs to the final "]".
func keyFromDecodeName(name string) keyPath {
	var k keyPath
	for name != "" {
		i := strings.IndexAny(name, ".[")
		switch {
		case i < 0:
			return k.with(name)
		case name[i] == '.':
			k, name = k.with(name[:i]), name[i+1:]
		default:
			if i > 0 {
				k = k.with(name[:i])
			}
			inner := strings.TrimSuffix(name[i+1:], "]")
			if len(k) > 0 && k[len(k)-1] == "args" {
				return k.with(indexMark + inner)
			}
			return k.with(inner)
		}
	}
	return k
}

// unknownKey explains a key that no field takes, suggesting a near miss.
func unknownKey(table keyPath, name string) string {
	var valid []string
	switch {
	case len(table) == 0:
		valid = tomlKeys(reflect.TypeFor[Config]())
	case len(table) == 1 && table[0] == "server":
		valid = tomlKeys(reflect.TypeFor[Server]())
	case len(table) == 1 && table[0] == "runtime":
		valid = tomlKeys(reflect.TypeFor[Runtime]())
	case len(table) == 1 && table[0] == "sandbox":
		valid = tomlKeys(reflect.TypeFor[Sandbox]())
	case len(table) == 1 && table[0] == "codemode":
		valid = tomlKeys(reflect.TypeFor[CodeMode]())
	case len(table) == 1 && table[0] == "telemetry":
		valid = tomlKeys(reflect.TypeFor[Telemetry]())
	case len(table) == 1 && table[0] == "log":
		valid = tomlKeys(reflect.TypeFor[Log]())
	case len(table) == 1 && table[0] == "ui":
		valid = tomlKeys(reflect.TypeFor[UI]())
	case len(table) == 2 && table[0] == "servers":
		valid = tomlKeys(reflect.TypeFor[Upstream]())
	case len(table) == 3 && table[0] == "servers" && table[2] == "oauth":
		valid = tomlKeys(reflect.TypeFor[OAuth]())
	}
	for _, v := range valid {
		if textdist.Levenshtein(strings.ToLower(name), v) <= 2 {
			return fmt.Sprintf("unknown key; did you mean %q?", v)
		}
	}
	if len(valid) == 0 {
		return "unknown key"
	}
	return "unknown key (valid keys: " + strings.Join(valid, ", ") + ")"
}

// tomlKeys lists the koanf tags of t's fields, in declaration order.
func tomlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if tag := f.Tag.Get("koanf"); tag != "" {
			keys = append(keys, tag)
		}
	}
	return keys
}
