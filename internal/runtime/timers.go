package runtime

import (
	"container/heap"
	"fmt"
	"time"

	"github.com/dop251/goja"
)

// timer is one pending setTimeout or setInterval. Timers run on the loop, in due order
// and, for equal due times, in creation order.
type timer struct {
	id       int64
	due      time.Time
	interval time.Duration // 0 for setTimeout
	fn       goja.Callable
	args     []goja.Value
	index    int // position in the heap, -1 once removed
}

type timerQueue []*timer

func (q timerQueue) Len() int { return len(q) }
func (q timerQueue) Less(i, j int) bool {
	if q[i].due.Equal(q[j].due) {
		return q[i].id < q[j].id
	}
	return q[i].due.Before(q[j].due)
}
func (q timerQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *timerQueue) Push(x any) {
	t := x.(*timer)
	t.index = len(*q)
	*q = append(*q, t)
}
func (q *timerQueue) Pop() any {
	old := *q
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	t.index = -1
	return t
}

// installTimers adds setTimeout, setInterval, clearTimeout and clearInterval. Timers
// keep the execution alive but never past its deadline; pending timers count against
// MaxCallsInFlight with Func calls. A string in place of a function is refused (no eval).
func (e *execution) installTimers() error {
	vm := e.vm
	set := func(repeat bool) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			fn, ok := goja.AssertFunction(call.Argument(0))
			if !ok {
				panic(vm.NewTypeError("The \"callback\" argument must be of type function"))
			}
			if e.pending+e.timers.Len() >= e.lim.MaxCallsInFlight {
				e.kill(&Error{Kind: KindCallsInFlight, Message: fmt.Sprintf("too many function calls and timers pending at once: the limit is %d", e.lim.MaxCallsInFlight)})
				return goja.Undefined()
			}
			ms := call.Argument(1).ToFloat()
			if !(ms >= 1) { // NaN, negative and zero delays become 1 ms, as in Node
				ms = 1
			}
			d := time.Duration(min(ms, float64(24*time.Hour/time.Millisecond))) * time.Millisecond
			e.nextTimerID++
			t := &timer{id: e.nextTimerID, due: time.Now().Add(d), fn: fn}
			if repeat {
				t.interval = d
			}
			if len(call.Arguments) > 2 {
				t.args = append([]goja.Value(nil), call.Arguments[2:]...)
			}
			heap.Push(&e.timers, t)
			e.timerByID[t.id] = t
			return vm.ToValue(t.id)
		}
	}
	clear := func(call goja.FunctionCall) goja.Value {
		id := call.Argument(0).ToInteger()
		if t, ok := e.timerByID[id]; ok {
			delete(e.timerByID, id)
			if t.index >= 0 {
				heap.Remove(&e.timers, t.index)
			}
		}
		return goja.Undefined()
	}
	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"setTimeout":    set(false),
		"setInterval":   set(true),
		"clearTimeout":  clear,
		"clearInterval": clear,
	} {
		if err := vm.Set(name, fn); err != nil {
			return err
		}
	}
	return nil
}

// runDueTimers fires every timer whose time has come. An exception escaping a timer
// callback ends the execution, as an uncaught exception ends a Node process.
func (e *execution) runDueTimers() *Error {
	now := time.Now()
	for e.timers.Len() > 0 && !e.timers[0].due.After(now) {
		if e.fatalErr() != nil {
			return nil
		}
		t := heap.Pop(&e.timers).(*timer)
		if t.interval > 0 {
			t.due = now.Add(t.interval)
			heap.Push(&e.timers, t)
		} else {
			delete(e.timerByID, t.id)
		}
		if err := e.enter(func() error {
			_, err := t.fn(goja.Undefined(), t.args...)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
