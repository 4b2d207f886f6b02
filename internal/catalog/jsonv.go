package catalog

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// object is a JSON object that remembers its key order: property order in a schema is
// how the backend presents its arguments, so the TypeScript keeps it.
// Lookups scan the keys: schema objects are small, and a map per object would double
// the cost of parsing.
type object struct {
	keys []string
	vals []any // vals[i] belongs to keys[i]
}

func (o *object) get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	for i, key := range o.keys {
		if key == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

// val is get without the presence flag.
func (o *object) val(k string) any {
	v, _ := o.get(k)
	return v
}

// maxJSONDepth bounds nesting so a hostile schema cannot exhaust the stack.
const maxJSONDepth = 256

// parseJSON decodes one JSON document into nil, bool, json.Number, string, []any and
// *object values. It is a small hand-written parser because encoding/json's token API
// (the only ordered option) costs several microseconds per schema, which a catalog of
// thousands of tools would pay on every Put.
func parseJSON(data []byte) (any, error) {
	p := jsonParser{data: data}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.data) {
		return nil, p.errorf("unexpected data after the value")
	}
	return v, nil
}

type jsonParser struct {
	data []byte
	pos  int
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, p.errorf("nesting deeper than %d", maxJSONDepth)
	}
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		for _, lit := range []struct {
			text string
			val  any
		}{{"true", true}, {"false", false}, {"null", nil}} {
			if len(p.data)-p.pos >= len(lit.text) && string(p.data[p.pos:p.pos+len(lit.text)]) == lit.text {
				p.pos += len(lit.text)
				return lit.val, nil
			}
		}
		return nil, p.errorf("unexpected character %q", c)
	}
}

func (p *jsonParser) object(depth int) (any, error) {
	p.pos++ // {
	o := &object{}
	var index map[string]int
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return o, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("expected a property name")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("expected ':'")
		}
		p.pos++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if index == nil && len(o.keys) >= 16 {
			index = make(map[string]int, 32)
			for i, key := range o.keys {
				index[key] = i
			}
		}
		o.set(k, v, index)
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return o, nil
		default:
			return nil, p.errorf("expected ',' or '}'")
		}
	}
}

// set adds k, or replaces its value: the last duplicate wins, as in encoding/json.
// index, when non-nil, maps keys to positions; parsing builds one for large objects so
// that a hostile schema with many keys does not cost quadratic time.
func (o *object) set(k string, v any, index map[string]int) {
	if index != nil {
		if i, ok := index[k]; ok {
			o.vals[i] = v
			return
		}
		index[k] = len(o.keys)
	} else {
		for i, key := range o.keys {
			if key == k {
				o.vals[i] = v
				return
			}
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (p *jsonParser) array(depth int) (any, error) {
	p.pos++ // [
	arr := []any{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return arr, nil
	}
	for {
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return arr, nil
		default:
			return nil, p.errorf("expected ',' or ']'")
		}
	}
}

func (p *jsonParser) str() (string, error) {
	b, err := p.strBytes()
	return string(b), err
}

// strBytes reads a string; the result aliases the input unless the string has escapes.
func (p *jsonParser) strBytes() ([]byte, error) {
	start := p.pos
	p.pos++ // opening quote
	escaped := false
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !escaped {
				if s := p.data[start+1 : p.pos-1]; utf8.Valid(s) {
					return s, nil
				}
			}
			// Escapes and invalid UTF-8 are rare: let encoding/json handle them exactly.
			var s string
			if err := json.Unmarshal(p.data[start:p.pos], &s); err != nil {
				return nil, fmt.Errorf("invalid JSON string at offset %d: %w", start, err)
			}
			return []byte(s), nil
		case c == '\\':
			escaped = true
			p.pos += 2
		case c < 0x20:
			return nil, p.errorf("control character in string")
		default:
			p.pos++
		}
	}
	return nil, p.errorf("unterminated string")
}

func (p *jsonParser) number() (json.Number, error) {
	start := p.pos
	p.scanNumber()
	if !validNumber(p.data[start:p.pos]) {
		return "", p.errorf("invalid number %q", p.data[start:p.pos])
	}
	return json.Number(p.data[start:p.pos]), nil
}

// scanTop reads what the listing needs from an object schema, its top-level property
// names in order and which are required, without building the document: Put does this
// for every tool, and the full parse waits until a call or get_function_details needs
// it. A document that is not an object yields no properties; invalid JSON is an error.
func scanTop(data []byte) ([]param, error) {
	p := jsonParser{data: data}
	p.space()
	var props []param
	var required []string
	var err error
	if p.pos < len(p.data) && p.data[p.pos] == '{' {
		err = p.members(0, func(key []byte) error {
			switch {
			case string(key) == "properties" && p.data[p.pos] == '{':
				return p.members(1, func(name []byte) error {
					props = append(props, param{name: string(name)})
					return p.skip(2)
				})
			case string(key) == "required" && p.data[p.pos] == '[':
				return p.elements(1, func() error {
					if p.data[p.pos] != '"' {
						return p.skip(2)
					}
					r, err := p.str()
					required = append(required, r)
					return err
				})
			}
			return p.skip(1)
		})
	} else {
		err = p.skip(0)
	}
	if err == nil {
		if p.space(); p.pos != len(p.data) {
			err = p.errorf("unexpected data after the value")
		}
	}
	if err != nil {
		return nil, err
	}
	if len(required) == 0 {
		return props, nil
	}
	seen := make(map[string]int, len(props))
	for i, pr := range props {
		seen[pr.name] = i
	}
	for _, r := range required {
		if i, ok := seen[r]; ok {
			props[i].required = true
			continue
		}
		seen[r] = len(props)
		props = append(props, param{name: r, required: true})
	}
	return props, nil
}

// members walks the object at the cursor, calling fn with the cursor on each member's
// value; fn must consume the value. A nil fn skips the members without allocating.
func (p *jsonParser) members(depth int, fn func(key []byte) error) error {
	if depth > maxJSONDepth {
		return p.errorf("nesting deeper than %d", maxJSONDepth)
	}
	p.pos++ // {
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return p.errorf("expected a property name")
		}
		var k []byte
		var err error
		if fn == nil {
			err = p.skipString()
		} else {
			k, err = p.strBytes()
		}
		if err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return p.errorf("expected ':'")
		}
		p.pos++
		p.space()
		if p.pos >= len(p.data) {
			return p.errorf("unexpected end of input")
		}
		if fn == nil {
			err = p.skip(depth + 1)
		} else {
			err = fn(k)
		}
		if err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.data) {
			return p.errorf("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.errorf("expected ',' or '}'")
		}
	}
}

// elements walks the array at the cursor, calling fn with the cursor on each element;
// fn must consume the element.
func (p *jsonParser) elements(depth int, fn func() error) error {
	if depth > maxJSONDepth {
		return p.errorf("nesting deeper than %d", maxJSONDepth)
	}
	p.pos++ // [
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) {
			return p.errorf("unexpected end of input in array")
		}
		if err := fn(); err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.data) {
			return p.errorf("unexpected end of input in array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		default:
			return p.errorf("expected ',' or ']'")
		}
	}
}

// skip checks and moves past one value without building it.
func (p *jsonParser) skip(depth int) error {
	if depth > maxJSONDepth {
		return p.errorf("nesting deeper than %d", maxJSONDepth)
	}
	if p.pos >= len(p.data) {
		return p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.members(depth, nil)
	case c == '[':
		return p.elements(depth, func() error { return p.skip(depth + 1) })
	case c == '"':
		return p.skipString()
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		p.scanNumber()
		if !validNumber(p.data[start:p.pos]) {
			return p.errorf("invalid number %q", p.data[start:p.pos])
		}
		return nil
	default:
		_, err := p.value(depth) // true, false, null: no allocation
		return err
	}
}

func (p *jsonParser) scanNumber() {
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.pos++
			continue
		}
		return
	}
}

// validNumber checks JSON's number grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
func validNumber(b []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// skipString checks and moves past a string.
func (p *jsonParser) skipString() error {
	p.pos++
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '"':
			p.pos++
			return nil
		case c == '\\':
			if p.pos+1 >= len(p.data) {
				return p.errorf("unterminated string")
			}
			switch p.data[p.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos += 2
			case 'u':
				if p.pos+6 > len(p.data) || !isHex4(p.data[p.pos+2:p.pos+6]) {
					return p.errorf("invalid \\u escape")
				}
				p.pos += 6
			default:
				return p.errorf("invalid escape")
			}
		case c < 0x20:
			return p.errorf("control character in string")
		default:
			p.pos++
		}
	}
	return p.errorf("unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
