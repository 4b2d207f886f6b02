package sdkbridge

import (
	"context"
	"sync"
	"time"
)

// expiringCtx is a context whose deadline passes when the test says, not at a time: a
// test can let a call reach the worker first however slow the machine is. Deadline
// reports a moment an hour away, so the bridge does not cut its own wait short.
type expiringCtx struct {
	context.Context // Background: no values, never done by itself
	at              time.Time
	done            chan struct{}
	once            sync.Once
}

func newExpiringCtx() *expiringCtx {
	return &expiringCtx{Context: context.Background(), at: time.Now().Add(time.Hour), done: make(chan struct{})}
}

func (c *expiringCtx) Deadline() (time.Time, bool) { return c.at, true }
func (c *expiringCtx) Done() <-chan struct{}       { return c.done }

func (c *expiringCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// expire makes the deadline pass now. Idempotent.
func (c *expiringCtx) expire() { c.once.Do(func() { close(c.done) }) }
