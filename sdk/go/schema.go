package pctxsdk

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// inputSchema derives the schema of a tool's argument object from its Go type: a struct
// (or pointer to one) or a map with string keys. The protocol requires an object schema,
// so a pointer's "null" alternative is dropped.
func inputSchema(t reflect.Type) (*jsonschema.Schema, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct && (t.Kind() != reflect.Map || t.Key().Kind() != reflect.String) {
		return nil, fmt.Errorf("input type %s: must be a struct or a map with string keys (the tool takes one argument object)", t)
	}
	return typeSchema(t)
}

// outputSchema derives the schema of a tool's result from its Go type.
func outputSchema(t reflect.Type) (*jsonschema.Schema, error) {
	return typeSchema(t)
}

func typeSchema(t reflect.Type) (*jsonschema.Schema, error) {
	s, err := jsonschema.ForType(t, nil)
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", t, err)
	}
	if err := applyEnums(t, s, map[reflect.Type]bool{}); err != nil {
		return nil, fmt.Errorf("schema of %s: %w", t, err)
	}
	return s, nil
}

// applyEnums copies `enum:"a,b,c"` struct tags into the schema built by jsonschema-go,
// which reads only descriptions from tags. It walks the type and the schema together.
func applyEnums(t reflect.Type, s *jsonschema.Schema, seen map[reflect.Type]bool) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s == nil || seen[t] {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return applyEnums(t.Elem(), s.Items, seen)
	case reflect.Map:
		return applyEnums(t.Elem(), s.AdditionalProperties, seen)
	case reflect.Struct:
	default:
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous || !f.IsExported() {
			continue
		}
		name, ok := jsonName(f)
		if !ok {
			continue
		}
		ps := s.Properties[name]
		if ps == nil {
			continue
		}
		if tag, ok := f.Tag.Lookup("enum"); ok {
			target, kind := ps, f.Type
			for kind.Kind() == reflect.Pointer {
				kind = kind.Elem()
			}
			if (kind.Kind() == reflect.Slice || kind.Kind() == reflect.Array) && ps.Items != nil {
				target, kind = ps.Items, kind.Elem()
				for kind.Kind() == reflect.Pointer {
					kind = kind.Elem()
				}
			}
			values, err := enumValues(tag, kind.Kind())
			if err != nil {
				return fmt.Errorf("field %s.%s: %w", t, f.Name, err)
			}
			if f.Type.Kind() == reflect.Pointer && target == ps {
				values = append(values, nil) // the schema admits null for a pointer
			}
			target.Enum = values
		}
		if err := applyEnums(f.Type, ps, seen); err != nil {
			return err
		}
	}
	return nil
}

// jsonName is the property name encoding/json uses for f; false when json ignores it.
func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, true
}

// enumValues parses the comma-separated values of an enum tag as the field's kind.
func enumValues(tag string, kind reflect.Kind) ([]any, error) {
	if strings.TrimSpace(tag) == "" {
		return nil, fmt.Errorf("empty enum tag")
	}
	var out []any
	for raw := range strings.SplitSeq(tag, ",") {
		v := strings.TrimSpace(raw)
		var val any
		var err error
		switch kind {
		case reflect.String:
			val = v
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			val, err = strconv.ParseInt(v, 10, 64)
		case reflect.Float32, reflect.Float64:
			val, err = strconv.ParseFloat(v, 64)
		case reflect.Bool:
			val, err = strconv.ParseBool(v)
		default:
			return nil, fmt.Errorf("enum tag on a %s field: only strings, numbers and booleans", kind)
		}
		if err != nil {
			return nil, fmt.Errorf("enum value %q is not a %s: %w", v, kind, err)
		}
		if slices.Contains(out, val) {
			return nil, fmt.Errorf("enum value %q repeated", v)
		}
		out = append(out, val)
	}
	return out, nil
}
