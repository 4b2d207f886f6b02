package sandbox

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// A frame on the wire: a 4-byte big-endian length of the rest, then the type (1 byte),
// the execution id and the call id (uvarints), then the payload. Payloads are raw JSON
// where they carry data, so a backend's result crosses as its own bytes.
type frameType byte

const (
	fExec   frameType = iota + 1 // parent → worker: payload execRequest
	fRet                         // parent → worker: a call's outcome: retOK or retErr, then the raw JSON result or the message
	fCancel                      // parent → worker: stop the execution
	fReady                       // worker → parent: started and sandboxed; payload readyReport
	fCall                        // worker → parent: uvarint name length, name, the arguments as a JSON array
	fDone                        // worker → parent: payload doneReport
)

const (
	retOK  byte = 0
	retErr byte = 1
)

// maxFrame bounds any frame, so a corrupt or hostile length cannot make either side
// allocate without limit. Frames with data are bounded more tightly by their type.
const maxFrame = 64 << 20

type frame struct {
	typ     frameType
	exec    uint64
	call    uint64
	payload []byte
}

// execRequest starts one execution in a worker.
type execRequest struct {
	Code string `json:"code"`
	// FnsID names the set of functions the program may call; Fns lists it ("namespace.name")
	// only the first time this worker is sent it: a worker keeps the last few sets, and
	// the parent mirrors what it keeps (fnSets), so a catalog of a thousand functions is
	// not sent with every execution.
	FnsID  uint64         `json:"fnsId"`
	Fns    []string       `json:"fns,omitempty"`
	Limits runtime.Limits `json:"limits"`
	// SoftMemory is the worker's Go soft memory limit while this runs (debug.SetMemoryLimit):
	// the GC works harder before the hard RLIMIT_DATA aborts the process.
	SoftMemory int64 `json:"softMemory,omitempty"`
}

// doneReport is an execution's outcome, plus the worker's state after it.
type doneReport struct {
	Value   json.RawMessage       `json:"value,omitempty"`
	Console []runtime.ConsoleLine `json:"console,omitempty"`
	Error   *runtime.Error        `json:"error,omitempty"`
	Calls   int                   `json:"calls"`
	Heap    uint64                `json:"heap"`   // live heap after the execution, bytes
	Mapped  uint64                `json:"mapped"` // memory the Go runtime has mapped, bytes
}

// readyReport is the first frame of a worker.
type readyReport struct {
	Pid     int    `json:"pid"`
	Seccomp string `json:"seccomp"` // "on", or why not
}

// appendFrame appends one frame to dst.
func appendFrame(dst []byte, typ frameType, exec, call uint64, parts ...[]byte) ([]byte, error) {
	dst, err := appendHeader(dst, typ, exec, call, parts...)
	if err != nil {
		return dst, err
	}
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return dst, nil
}

// appendHeader appends a frame's length, type and ids: what precedes parts on the wire.
func appendHeader(dst []byte, typ frameType, exec, call uint64, parts ...[]byte) ([]byte, error) {
	size := 1 + uvarintLen(exec) + uvarintLen(call)
	for _, p := range parts {
		size += len(p)
	}
	if size > maxFrame {
		return dst, fmt.Errorf("frame of %d bytes exceeds %d", size, maxFrame)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(size))
	dst = append(dst, byte(typ))
	dst = binary.AppendUvarint(dst, exec)
	dst = binary.AppendUvarint(dst, call)
	return dst, nil
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// errFrame is a frame no correct peer sends; a frame cut short by the peer's death is
// io.ErrUnexpectedEOF instead.
var errFrame = errors.New("malformed frame")

// readFrame reads one frame. io.EOF means the other side closed cleanly between frames.
func readFrame(r *bufio.Reader) (frame, error) {
	var lenBuf [4]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return frame{}, err
	}
	n := binary.BigEndian.Uint32(lenBuf[:])
	if n > maxFrame {
		return frame{}, fmt.Errorf("%w: %d bytes exceeds %d", errFrame, n, maxFrame)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return frame{}, io.ErrUnexpectedEOF
	}
	if len(buf) == 0 {
		return frame{}, fmt.Errorf("%w: empty", errFrame)
	}
	f := frame{typ: frameType(buf[0])}
	rest := buf[1:]
	var k int
	if f.exec, k = binary.Uvarint(rest); k <= 0 {
		return frame{}, fmt.Errorf("%w: execution id", errFrame)
	}
	rest = rest[k:]
	if f.call, k = binary.Uvarint(rest); k <= 0 {
		return frame{}, fmt.Errorf("%w: call id", errFrame)
	}
	f.payload = rest[k:]
	return f, nil
}

// callPayload is fCall's payload: the function's name and its arguments.
func callPayload(name string, args []byte) [][]byte {
	var l [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(l[:], uint64(len(name)))
	return [][]byte{l[:n], []byte(name), args}
}

func parseCall(p []byte) (name string, args []byte, err error) {
	l, k := binary.Uvarint(p)
	if k <= 0 || uint64(len(p)-k) < l {
		return "", nil, fmt.Errorf("%w: call name", errFrame)
	}
	return string(p[k : k+int(l)]), p[k+int(l):], nil
}

// keptSets is how many function sets a worker keeps.
const keptSets = 8

// fnSets is the sets of function names a worker keeps, oldest first. The worker keeps one
// and the parent a mirror of it; both add and evict alike, in the order exec frames are
// sent and read.
type fnSets struct {
	ids   []uint64
	names map[uint64][]string
}

// has reports whether id is kept.
func (s *fnSets) has(id uint64) bool {
	_, ok := s.names[id]
	return ok
}

// add keeps names as id, evicting the oldest set beyond keptSets.
func (s *fnSets) add(id uint64, names []string) {
	if s.names == nil {
		s.names = map[uint64][]string{}
	}
	if _, ok := s.names[id]; ok {
		return
	}
	s.ids = append(s.ids, id)
	s.names[id] = names
	if len(s.ids) > keptSets {
		delete(s.names, s.ids[0])
		s.ids = s.ids[1:]
	}
}
