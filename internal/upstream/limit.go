package upstream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// lineFilter sits on a stdio child's stdout, between it and mcp-go's reader.
// A line longer than max (one JSON-RPC message) is not passed on: it is
// replaced by an error response for the same request id, which mcp-go
// delivers to the waiting call, and the id is marked so the call reports
// ErrResultTooLarge. Lines that do not look like JSON are logged (rate
// limited) and passed on; mcp-go skips them. done is closed once the source fails (EOF).
type lineFilter struct {
	src  *bufio.Reader
	max  int
	sess *session
	log  *slog.Logger
	done chan struct{}

	line    []byte // the line being assembled
	out     []byte // what is left to hand to the reader
	err     error
	garbage rateLimiter
}

func newLineFilter(r io.Reader, max int, sess *session, log *slog.Logger) *lineFilter {
	return &lineFilter{
		src:     bufio.NewReaderSize(r, 64<<10),
		max:     max,
		sess:    sess,
		log:     log,
		done:    make(chan struct{}),
		garbage: rateLimiter{rate: 1, burst: 5},
	}
}

func (f *lineFilter) Read(p []byte) (int, error) {
	for len(f.out) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		f.next()
	}
	n := copy(p, f.out)
	f.out = f.out[n:]
	return n, nil
}

// next assembles one line into f.out, or records the source's error.
func (f *lineFilter) next() {
	if cap(f.line) > 1<<20 {
		f.line = nil // do not pin one big message's buffer for the session's life
	}
	f.line = f.line[:0]
	for {
		chunk, err := f.src.ReadSlice('\n')
		if len(f.line)+len(chunk) > f.max {
			f.oversized(chunk, err)
			return
		}
		f.line = append(f.line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			f.fail(err)
		}
		f.checkJSON()
		f.out = f.line
		return
	}
}

func (f *lineFilter) fail(err error) {
	if f.err == nil {
		f.err = err
		close(f.done)
	}
}

func (f *lineFilter) checkJSON() {
	// A cheap test, enough to catch log lines printed to the wrong stream;
	// mcp-go parses every line anyway and skips those that do not parse.
	trimmed := bytes.TrimSpace(f.line)
	if len(trimmed) == 0 || trimmed[0] == '{' || trimmed[0] == '[' {
		return
	}
	if dropped, ok := f.garbage.allow(time.Now()); ok {
		f.log.Warn("upstream wrote a line that is not JSON to stdout; ignored",
			"line", string(trimmed[:min(len(trimmed), 200)]), "dropped_since", dropped)
	}
}

// oversized consumes the rest of an overlong line, finding its top-level
// "id" on the way, and replaces it with an error response for that id.
func (f *lineFilter) oversized(chunk []byte, err error) {
	var sc idScanner
	sc.feed(f.line)
	sc.feed(chunk)
	size := len(f.line) + len(chunk)
	for err == bufio.ErrBufferFull {
		chunk, err = f.src.ReadSlice('\n')
		sc.feed(chunk)
		size += len(chunk)
	}
	f.line = f.line[:0]
	if err != nil {
		f.fail(err)
	}
	var id mcp.RequestId
	if !sc.found || json.Unmarshal(sc.id, &id) != nil || id.IsNil() {
		f.log.Warn("upstream sent an oversized message without a request id; dropped", "bytes", size, "limit", f.max)
		return
	}
	f.log.Warn("upstream response exceeds the size limit; the call fails", "bytes", size, "limit", f.max)
	f.sess.oversized.Store(id.String(), struct{}{})
	f.line = fmt.Appendf(f.line, `{"jsonrpc":"2.0","id":%s,"error":{"code":%d,"message":"response exceeds %d bytes"}}`+"\n",
		sc.id, mcp.INTERNAL_ERROR, f.max)
	f.out = f.line
}

// idScanner finds the value of the top-level "id" member of a JSON object fed to it in
// chunks. Like JSON decoders (mcp-go's among them) it reads keys with their escapes
// decoded ("i\u0064" is "id") and keeps the last "id" when there are several, so the
// error it forges answers the request the decoder would have matched.
type idScanner struct {
	depth     int
	inString  bool
	escaped   bool
	key       []byte // raw text of the string being read at depth 1, escapes kept (bounded)
	lastKey   string
	wantValue bool // after a ':' at depth 1
	capturing bool
	value     []byte // raw JSON of the "id" value being captured
	id        []byte // raw JSON of the last complete "id" value
	found     bool
}

const (
	maxIDBytes = 256
	// maxIDKeyBytes fits the longest spelling of "id": \u0069\u0064.
	maxIDKeyBytes = 12
)

func (s *idScanner) feed(b []byte) {
	for _, c := range b {
		if s.capturing {
			if !s.inString && s.depth == 1 && (c == ',' || c == '}') {
				s.capturing, s.found = false, true
				s.id = append(s.id[:0], bytes.TrimSpace(s.value)...)
			} else if len(s.value) < maxIDBytes {
				s.value = append(s.value, c)
			}
		}
		if s.inString {
			switch {
			case s.escaped:
				s.escaped = false
			case c == '\\':
				s.escaped = true
			case c == '"':
				s.inString = false
				if s.depth == 1 && !s.wantValue {
					s.lastKey = decodeKey(s.key)
				}
				continue
			}
			if s.depth == 1 && !s.wantValue && len(s.key) <= maxIDKeyBytes {
				s.key = append(s.key, c)
			}
			continue
		}
		switch c {
		case '"':
			s.inString = true
			s.key = s.key[:0]
		case '{', '[':
			s.depth++
		case '}', ']':
			s.depth--
		case ':':
			if s.depth == 1 {
				s.wantValue = true
				if s.lastKey == "id" {
					s.capturing = true
					s.value = s.value[:0]
				}
			}
		case ',':
			if s.depth == 1 {
				s.wantValue = false
			}
		}
	}
}

// decodeKey unquotes a short raw JSON string; a longer one cannot be "id".
func decodeKey(raw []byte) string {
	if len(raw) > maxIDKeyBytes {
		return ""
	}
	var key string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &key); err != nil {
		return ""
	}
	return key
}
