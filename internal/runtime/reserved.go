package runtime

import (
	"context"
	"sort"
	"sync"

	"github.com/dop251/goja"
)

// reserved is computed once from a VM set up exactly as an execution's: every own
// property of its globalThis (the ECMAScript builtins, goja's extras, console, the
// timers) and of Object.prototype. A namespace with one of these names would shadow or
// extend a builtin every program relies on ("escape", "constructor"), and a function
// named after an Object.prototype property ("toString", "__proto__") would replace it on
// its namespace object. Reading them from a VM rather than a hand list keeps the set
// right when goja grows a builtin.
var reserved = sync.OnceValue(func() reservedNames {
	e := newExecution(context.Background(), "", DefaultLimits())
	defer e.finish()
	if err := e.setupGlobals(); err != nil {
		panic("runtime: set up a VM to list its globals: " + err.Message)
	}
	own := func(obj *goja.Object) map[string]bool {
		names := map[string]bool{}
		getNames, _ := goja.AssertFunction(e.vm.Get("Object").(*goja.Object).Get("getOwnPropertyNames"))
		v, err := getNames(goja.Undefined(), obj)
		if err != nil {
			panic("runtime: list own properties: " + err.Error())
		}
		for _, n := range v.Export().([]any) {
			names[n.(string)] = true
		}
		return names
	}
	proto := own(e.vm.Get("Object").(*goja.Object).Get("prototype").(*goja.Object))
	globals := own(e.vm.GlobalObject())
	for n := range proto {
		globals[n] = true // globalThis inherits them: "constructor" resolves to Object
	}
	return reservedNames{globals: globals, proto: proto}
})

type reservedNames struct {
	globals map[string]bool // own properties of globalThis and of Object.prototype
	proto   map[string]bool // own properties of Object.prototype
}

// ReservedGlobal reports whether a namespace called name would clash with a name every
// program's globalThis already resolves: a builtin global or an Object.prototype
// property.
func ReservedGlobal(name string) bool { return reserved().globals[name] }

// ReservedProperty reports whether a function called name would replace an
// Object.prototype property on its namespace object.
func ReservedProperty(name string) bool { return reserved().proto[name] }

// ReservedGlobals lists the names ReservedGlobal reports, sorted.
func ReservedGlobals() []string {
	out := make([]string, 0, len(reserved().globals))
	for n := range reserved().globals {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
