package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// maxNesting bounds how deep converted data may nest, in both directions, so that a
// deliberately deep structure cannot exhaust the Go stack.
const maxNesting = 1000

// maxSafeInt is 2^53: integers beyond it are not exact in a JS number.
const maxSafeInt = 1 << 53

// convMode selects how JS values become Go values.
type convMode int

const (
	// modeData is for results and Func arguments: JSON semantics, cycles are errors.
	modeData convMode = iota
	// modeConsole is for console output: never fails, keeps key order, marks cycles
	// and shows functions the way Node does.
	modeConsole
)

// converter turns JS values into plain Go data. It runs on the loop, inside a VM call
// (see execution.convert) so that getters, toJSON and iterators may run agent code.
type converter struct {
	vm      *goja.Runtime
	mode    convMode
	root    string         // names the value in messages and paths: "result", "value"
	fn      string         // for a Func argument: the function's name (root is then unused)
	arg     int            // for a Func argument: its 0-based position
	path    []any          // string keys and int indexes from the root to the current value
	parents []*goja.Object // ancestors of the current value, for cycle detection
	size    int            // approximate JSON size so far
	maxSize int            // 0 means unbounded
}

// convError is a conversion failure; kind is KindResult for results.
type convError struct{ msg string }

func (e *convError) Error() string { return e.msg }

// orderedMap keeps JS key order for console output.
type orderedMap struct {
	keys []string
	vals []any
}

func (m *orderedMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSON(&b, k)
		b.WriteByte(':')
		writeJSON(&b, m.vals[i])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeJSON encodes v without HTML escaping (console text is read by agents, not
// embedded in HTML).
func writeJSON(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(b, "%q", err.Error())
		return
	}
	b.Truncate(b.Len() - 1) // Encode appends a newline
}

// what names the converted value in messages; built only when a message is.
func (c *converter) what() string {
	if c.fn != "" {
		return fmt.Sprintf("argument %d of %s", c.arg+1, c.fn)
	}
	return c.root
}

func (c *converter) pathString() string {
	var b strings.Builder
	if c.fn != "" {
		fmt.Fprintf(&b, "args[%d]", c.arg)
	} else {
		b.WriteString(c.root)
	}
	path := c.path
	if len(path) > 16 { // keep messages short: the first and last 8 steps
		path = append(append(append([]any(nil), path[:8]...), "…"), path[len(path)-8:]...)
	}
	for _, p := range path {
		if p == "…" {
			b.WriteString("…")
			continue
		}
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case string:
			if isIdent(p) {
				b.WriteString("." + p)
			} else {
				fmt.Fprintf(&b, "[%q]", p)
			}
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9' {
			continue
		}
		return false
	}
	return true
}

func (c *converter) grow(n int) error {
	c.size += n
	if c.maxSize > 0 && c.size > c.maxSize {
		return &convError{fmt.Sprintf("%s is larger than the %d-byte limit", c.what(), c.maxSize)}
	}
	return nil
}

// conv converts v. ok is false for values JSON omits (undefined, functions, symbols):
// objects drop such keys and arrays hold null instead.
func (c *converter) conv(v goja.Value) (out any, ok bool, err error) {
	if v == nil || goja.IsUndefined(v) {
		return nil, false, nil
	}
	if goja.IsNull(v) {
		return nil, true, c.grow(4)
	}
	obj, isObj := v.(*goja.Object)
	if !isObj {
		return c.primitive(v)
	}
	if _, fn := goja.AssertFunction(obj); fn {
		if c.mode == modeConsole {
			return functionLabel(obj), true, nil
		}
		return nil, false, nil
	}
	for _, p := range c.parents {
		if p == obj {
			if c.mode == modeConsole {
				return "[Circular]", true, nil
			}
			return nil, false, &convError{fmt.Sprintf("%s contains a cycle at %s", c.what(), c.pathString())}
		}
	}
	if len(c.parents) >= maxNesting {
		return nil, false, &convError{fmt.Sprintf("%s nests deeper than %d levels at %s", c.what(), maxNesting, c.pathString())}
	}
	c.parents = append(c.parents, obj)
	defer func() { c.parents = c.parents[:len(c.parents)-1] }()

	switch obj.ClassName() {
	case "Array", "Arguments":
		return c.array(obj)
	case "Date":
		return c.date(obj)
	case "Error":
		return c.object(obj, true)
	case "RegExp", "Symbol":
		s := obj.String()
		return s, true, c.grow(len(s) + 2)
	case "String":
		return c.primitive(c.vm.ToValue(obj.String()))
	case "Number", "Boolean":
		return c.primitive(c.vm.ToValue(obj.Export()))
	}
	// Maps, Sets, promises and typed arrays all have class "Object" in goja; their
	// export type tells them apart without exporting (which would copy deeply).
	switch t := obj.ExportType(); {
	case t == mapExportType:
		return c.mapEntries(obj)
	case t == setExportType:
		return c.set(obj)
	case t != nil && t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Interface:
		return c.typedArray(reflect.ValueOf(obj.Export()))
	}
	if tj, isFn := goja.AssertFunction(obj.Get("toJSON")); isFn {
		j, err := tj(obj, c.vm.ToValue(""))
		if err != nil {
			return nil, false, err
		}
		if jo, same := j.(*goja.Object); same && jo == obj {
			return c.object(obj, false)
		}
		return c.conv(j)

	}
	return c.object(obj, false)
}

var (
	mapExportType = reflect.TypeOf([][2]any{})
	setExportType = reflect.TypeOf([]any{})
)

// date renders a Date as an ISO string, as JSON.stringify does; an invalid Date is null.
func (c *converter) date(obj *goja.Object) (any, bool, error) {
	t, ok := obj.Export().(time.Time) // an invalid Date exports as nil
	if !ok {
		return nil, true, c.grow(4)
	}
	s := t.UTC().Format("2006-01-02T15:04:05.000Z")
	return s, true, c.grow(len(s) + 2)
}

func (c *converter) set(obj *goja.Object) (any, bool, error) {
	items := []any{}
	var ferr error
	c.vm.ForOf(obj, func(x goja.Value) bool {
		c.path = append(c.path, len(items))
		val, present, err := c.conv(x)
		c.path = c.path[:len(c.path)-1]
		if err != nil {
			ferr = err
			return false
		}
		if !present {
			val = nil
		}
		items = append(items, val)
		return true
	})
	return items, true, ferr
}

func (c *converter) primitive(v goja.Value) (any, bool, error) {
	if sym, isSym := v.(*goja.Symbol); isSym {
		if c.mode == modeConsole {
			return "Symbol(" + sym.String() + ")", true, nil
		}
		return nil, false, nil
	}
	switch x := v.Export().(type) {
	case string:
		return x, true, c.grow(len(x) + 2)
	case bool:
		return x, true, c.grow(5)
	case int64:
		if x > maxSafeInt || x < -maxSafeInt {
			return float64(x), true, c.grow(8)
		}
		return x, true, c.grow(8)
	case float64:
		return number(x), true, c.grow(8)
	case *big.Int:
		// A BigInt stays a number while a JSON reader can hold it exactly, else it
		// becomes its decimal string.
		if x.IsInt64() && x.Int64() <= maxSafeInt && x.Int64() >= -maxSafeInt {
			return x.Int64(), true, c.grow(8)
		}
		s := x.String()
		return s, true, c.grow(len(s) + 2)
	}
	return nil, false, nil
}

// number turns a JS number into int64 when it is an exact integer, float64 otherwise;
// NaN and infinities become null as in JSON.stringify.
func number(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	if f == math.Trunc(f) && f <= maxSafeInt && f >= -maxSafeInt {
		return int64(f)
	}
	return f
}

func (c *converter) array(obj *goja.Object) (any, bool, error) {
	n := obj.Get("length").ToInteger()
	// Every element takes at least two JSON bytes ("0,"): an array too long for the limit
	// is refused before its elements are visited (new Array(2**32-1) is one line of code).
	if c.maxSize > 0 && n > int64(c.maxSize-c.size)/2 {
		return nil, false, &convError{fmt.Sprintf("%s is larger than the %d-byte limit (an array of %d elements)", c.what(), c.maxSize, n)}
	}
	items := make([]any, 0, min(n, 1<<16))
	if err := c.grow(2); err != nil {
		return nil, false, err
	}
	for i := int64(0); i < n; i++ {
		c.path = append(c.path, int(i))
		val, present, err := c.conv(obj.Get(strconv.FormatInt(i, 10)))
		c.path = c.path[:len(c.path)-1]
		if err != nil {
			return nil, false, err
		}
		if !present {
			val = nil
			if err := c.grow(4); err != nil {
				return nil, false, err
			}
		}
		items = append(items, val)
		if err := c.grow(1); err != nil {
			return nil, false, err
		}
	}
	return items, true, nil
}

func (c *converter) typedArray(rv reflect.Value) (any, bool, error) {
	// Every element takes at least two JSON bytes ("0,"): refuse before allocating, so a
	// huge typed array costs an error, not a slice of that many interfaces.
	if err := c.grow(2 * rv.Len()); err != nil {
		return nil, false, err
	}
	items := make([]any, rv.Len())
	for i := range items {
		x := rv.Index(i)
		switch {
		case x.CanInt():
			items[i] = x.Int()
		case x.CanUint():
			items[i] = int64(x.Uint())
		case x.CanFloat():
			items[i] = number(x.Float())
		}
	}
	return items, true, c.grow(7 * len(items))
}

// object converts own enumerable string-keyed properties; errors also keep name and
// message, which are not enumerable but are what anyone wants to see.
func (c *converter) object(obj *goja.Object, isError bool) (any, bool, error) {
	keys := obj.Keys()
	if isError {
		keys = append([]string{"name", "message"}, keys...)
	}
	var om orderedMap
	var m map[string]any
	if c.mode == modeConsole {
		om.keys = make([]string, 0, len(keys))
	} else {
		m = make(map[string]any, len(keys))
	}
	if err := c.grow(2); err != nil {
		return nil, false, err
	}
	for i, k := range keys {
		if isError && i >= 2 && (k == "name" || k == "message") {
			continue
		}
		c.path = append(c.path, k)
		val, present, err := c.conv(obj.Get(k))
		c.path = c.path[:len(c.path)-1]
		if err != nil {
			return nil, false, err
		}
		if !present {
			continue
		}
		if err := c.grow(len(k) + 4); err != nil {
			return nil, false, err
		}
		if c.mode == modeConsole {
			om.keys = append(om.keys, k)
			om.vals = append(om.vals, val)
		} else {
			m[k] = val
		}
	}
	if c.mode == modeConsole {
		return &om, true, nil
	}
	return m, true, nil
}

// mapEntries turns a Map into an object when every key is a string, else into an array
// of [key, value] pairs (keys that are objects cannot be JSON object keys).
func (c *converter) mapEntries(obj *goja.Object) (any, bool, error) {
	var keys []any
	var vals []any
	allStrings := true
	var ferr error
	c.vm.ForOf(obj, func(entry goja.Value) bool {
		pair := entry.ToObject(c.vm)
		k, kv := pair.Get("0"), pair.Get("1")
		ks, isStr := k.Export().(string)
		var key any
		if isStr {
			key = ks
		} else {
			allStrings = false
			c.path = append(c.path, "<key>")
			var err error
			key, _, err = c.conv(k)
			c.path = c.path[:len(c.path)-1]
			if err != nil {
				ferr = err
				return false
			}
		}
		c.path = append(c.path, k.String())
		val, present, err := c.conv(kv)
		c.path = c.path[:len(c.path)-1]
		if err != nil {
			ferr = err
			return false
		}
		if !present {
			val = nil
		}
		keys = append(keys, key)
		vals = append(vals, val)
		return true
	})
	if ferr != nil {
		return nil, false, ferr
	}
	if allStrings {
		if c.mode == modeConsole {
			om := &orderedMap{vals: vals}
			for _, k := range keys {
				om.keys = append(om.keys, k.(string))
			}
			return om, true, nil
		}
		m := make(map[string]any, len(keys))
		for i, k := range keys {
			m[k.(string)] = vals[i]
		}
		return m, true, nil
	}
	pairs := make([]any, len(keys))
	for i := range keys {
		pairs[i] = []any{keys[i], vals[i]}
	}
	return pairs, true, nil
}

func functionLabel(obj *goja.Object) string {
	name := obj.Get("name")
	if name == nil || name.String() == "" {
		return "[Function (anonymous)]"
	}
	return "[Function: " + name.String() + "]"
}

// toJS converts plain Go data from a Func into native JS values (not goja's live
// wrappers of Go maps and slices, which behave differently from JS objects). Types other
// than the plain ones go through encoding/json.
func toJS(vm *goja.Runtime, v any, depth int) (goja.Value, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("value nests deeper than %d levels", maxNesting)
	}
	switch x := v.(type) {
	case nil:
		return goja.Null(), nil
	case bool, string, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return vm.ToValue(x), nil
	case json.Number:
		return numberToJS(vm, x)
	case []any:
		items := make([]any, len(x))
		for i, e := range x {
			jv, err := toJS(vm, e, depth+1)
			if err != nil {
				return nil, err
			}
			items[i] = jv
		}
		return vm.NewArray(items...), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic key order
		obj := vm.NewObject()
		for _, k := range keys {
			jv, err := toJS(vm, x[k], depth+1)
			if err != nil {
				return nil, err
			}
			if err := defineData(obj, k, jv); err != nil {
				return nil, err
			}
		}
		return obj, nil
	case json.RawMessage:
		dec := json.NewDecoder(bytes.NewReader(x))
		dec.UseNumber()
		v, err := rawToJS(vm, dec, depth)
		if err != nil {
			return nil, fmt.Errorf("decode JSON: %w", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("decode JSON: data after the value")
		}
		return v, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%T is not plain data: %w", v, err)
	}
	return toJS(vm, json.RawMessage(raw), depth)
}

// rawToJS builds a JS value straight from JSON tokens, so objects keep the key order the
// backend wrote (as JSON.parse would), which a Go map would lose.
func rawToJS(vm *goja.Runtime, dec *json.Decoder, depth int) (goja.Value, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("value nests deeper than %d levels", maxNesting)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			var items []any
			for dec.More() {
				v, err := rawToJS(vm, dec, depth+1)
				if err != nil {
					return nil, err
				}
				items = append(items, v)
			}
			_, err := dec.Token()
			return vm.NewArray(items...), err
		}
		obj := vm.NewObject()
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := rawToJS(vm, dec, depth+1)
			if err != nil {
				return nil, err
			}
			if err := defineData(obj, key.(string), v); err != nil {
				return nil, err
			}
		}
		_, err := dec.Token()
		return obj, err
	case json.Number:
		return numberToJS(vm, t)
	case nil:
		return goja.Null(), nil
	default: // bool, string
		return vm.ToValue(t), nil
	}
}

func numberToJS(vm *goja.Runtime, n json.Number) (goja.Value, error) {
	if i, err := n.Int64(); err == nil {
		return vm.ToValue(i), nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil, fmt.Errorf("number %q: %w", n, err)
	}
	return vm.ToValue(f), nil
}

// defineData adds an own enumerable property, as JSON.parse does: a key "__proto__" in
// backend data must become a property, not replace the object's prototype.
func defineData(obj *goja.Object, key string, v goja.Value) error {
	return obj.DefineDataProperty(key, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
}

// Heap a JSON value takes as goja values, measured (goja 2026-09, amd64): an object about
// 480 bytes plus 32 a property, an array about 560 plus 16 an element, a string 24 plus
// its bytes. JSON text grows 10 to 100 times when built: 10 MiB of small objects is
// over half a GiB.
const (
	costObject   = 480
	costArray    = 560
	costValue    = 16
	costProperty = 32
	costString   = 24
)

// jsCost estimates, in one pass over the text, the heap raw takes once built into goja
// values, so that a result too large to build within the memory limit is refused before
// a single value is made: building is one Go loop the VM cannot interrupt.
func jsCost(raw []byte) int64 {
	var cost int64
	inString, escaped := false, false
	for _, c := range raw {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			default:
				cost++
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			cost += costString
		case '{':
			cost += costObject
		case '[':
			cost += costArray
		case ':':
			cost += costProperty
		case ',':
			cost += costValue
		}
	}
	return cost + costValue
}
