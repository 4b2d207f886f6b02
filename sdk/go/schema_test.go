package pctxsdk

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

type level int

type schemaInner struct {
	Mode string `json:"mode" enum:"fast,slow"`
}

type schemaOuter struct {
	Inner  schemaInner            `json:"inner"`
	Many   []schemaInner          `json:"many,omitempty"`
	ByName map[string]schemaInner `json:"by_name,omitempty"`
	Level  level                  `json:"level" enum:"1,2,3"`
	Ratio  *float64               `json:"ratio,omitempty" enum:"0.5,1.5"`
	On     bool                   `json:"on" enum:"true"`
	Hidden string                 `json:"-" enum:"x"`
}

func TestInputSchema(t *testing.T) {
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"struct", reflect.TypeFor[greetIn](), `{"type":"object","properties":{"name":{"type":"string","description":"who to greet"},"times":{"type":"integer"}},"required":["name"],"additionalProperties":false}`},
		{"pointer to struct is still an object", reflect.TypeFor[*greetIn](), `{"type":"object","properties":{"name":{"type":"string","description":"who to greet"},"times":{"type":"integer"}},"required":["name"],"additionalProperties":false}`},
		{"map", reflect.TypeFor[map[string]int](), `{"type":"object","additionalProperties":{"type":"integer"}}`},
		{"empty struct", reflect.TypeFor[struct{}](), `{"type":"object","additionalProperties":false}`},
		{"enums everywhere", reflect.TypeFor[schemaOuter](), `{"type":"object","properties":{` +
			`"inner":{"type":"object","properties":{"mode":{"type":"string","enum":["fast","slow"]}},"required":["mode"],"additionalProperties":false},` +
			`"many":{"type":["null","array"],"items":{"type":"object","properties":{"mode":{"type":"string","enum":["fast","slow"]}},"required":["mode"],"additionalProperties":false}},` +
			`"by_name":{"type":"object","additionalProperties":{"type":"object","properties":{"mode":{"type":"string","enum":["fast","slow"]}},"required":["mode"],"additionalProperties":false}},` +
			`"level":{"type":"integer","enum":[1,2,3]},` +
			`"ratio":{"type":["null","number"],"enum":[0.5,1.5,null]},` +
			`"on":{"type":"boolean","enum":[true]}},` +
			`"required":["inner","level","on"],"additionalProperties":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := inputSchema(tt.typ)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("schema\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestEnumErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"empty", reflect.TypeFor[struct {
			A string `json:"a" enum:""`
		}](), "empty enum tag"},
		{"repeated", reflect.TypeFor[struct {
			A string `json:"a" enum:"x,x"`
		}](), `enum value "x" repeated`},
		{"not a number", reflect.TypeFor[struct {
			A float64 `json:"a" enum:"1,z"`
		}](), `enum value "z" is not a float64`},
		{"struct field", reflect.TypeFor[struct {
			A schemaInner `json:"a" enum:"x"`
		}](), "only strings, numbers and booleans"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inputSchema(tt.typ)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
