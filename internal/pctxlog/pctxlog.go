// Package pctxlog lets a program that starts pctx read pctx's log: the tests and the bench
// runner start `pctx start --http 127.0.0.1:0` and wait for it to say where it listens.
// It is the one place, besides the CLI that writes it, that knows the wording.
package pctxlog

import (
	"bytes"
	"regexp"
	"sync"
)

// ListeningMsg is the log message pctx writes once its HTTP listener is up, with the
// attribute url=http://HOST:PORT.
const ListeningMsg = "pctx listening"

// ListeningLine matches the listening line in [log] format text or json; the base URL is
// its first non-empty group.
var ListeningLine = regexp.MustCompile(`msg="` + ListeningMsg + `" url=(http://\S+)|"msg":"` + ListeningMsg + `","url":"(http://[^"]+)"`)

// ListeningURL returns the base URL from the first listening line in log.
func ListeningURL(log string) (string, bool) {
	m := ListeningLine.FindStringSubmatch(log)
	if m == nil {
		return "", false
	}
	return m[1] + m[2], true
}

// Buffer collects a child process's output while another goroutine reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
