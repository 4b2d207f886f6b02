// Package sandbox runs executions in worker processes so that a fault Go cannot
// recover from (goja parser stack overflow, out of memory) kills one worker, not the
// server. The parent keeps the real host functions; the worker sees stubs that call
// back over its stdio pipes.
package sandbox

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// maxFrame bounds one frame so a corrupt length cannot make either side allocate
// without limit.
const maxFrame = 64 << 20

// msg is every frame in both directions; T says which fields are set.
type msg struct {
	T      string          `json:"t"`                // exec, ret, cancel (to worker); call, done (from worker)
	ID     uint64          `json:"id"`               // execution id
	Call   uint64          `json:"call,omitempty"`   // call id within the execution
	Code   string          `json:"code,omitempty"`   // exec
	Fns    []string        `json:"fns,omitempty"`    // exec
	Limits *runtime.Limits `json:"limits,omitempty"` // exec
	Name   string          `json:"name,omitempty"`   // call
	Args   json.RawMessage `json:"args,omitempty"`   // call
	Result json.RawMessage `json:"result,omitempty"` // ret: the Func's raw JSON; done: the runtime.Result
	Err    string          `json:"err,omitempty"`    // ret
}

func writeFrame(w io.Writer, m *msg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode frame: %w", err)
	}
	if len(b) > maxFrame {
		return fmt.Errorf("frame of %d bytes exceeds %d", len(b), maxFrame)
	}
	buf := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[4:], b)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

func readFrame(r io.Reader) (*msg, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes exceeds %d", n, maxFrame)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("read frame body: %w", err)
	}
	m := new(msg)
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decode frame: %w", err)
	}
	return m, nil
}
