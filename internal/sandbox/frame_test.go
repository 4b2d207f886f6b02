package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var b []byte
	var err error
	for _, f := range []frame{
		{typ: fExec, exec: 1, payload: []byte(`{"code":"return 1"}`)},
		{typ: fCall, exec: 1 << 40, call: 300, payload: []byte("x")},
		{typ: fCancel, exec: 7},
	} {
		if b, err = appendFrame(b, f.typ, f.exec, f.call, f.payload); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(bytes.NewReader(b))
	for _, want := range []frame{{fExec, 1, 0, []byte(`{"code":"return 1"}`)}, {fCall, 1 << 40, 300, []byte("x")}, {fCancel, 7, 0, nil}} {
		got, err := readFrame(r)
		if err != nil || got.typ != want.typ || got.exec != want.exec || got.call != want.call || !bytes.Equal(got.payload, want.payload) {
			t.Fatalf("got %+v, %v; want %+v", got, err, want)
		}
	}
	if _, err := readFrame(r); !errors.Is(err, io.EOF) {
		t.Fatalf("at the end: %v", err)
	}
	name, args, err := parseCall(bytes.Join(callPayload("ns.fn", []byte(`[1]`)), nil))
	if err != nil || name != "ns.fn" || string(args) != "[1]" {
		t.Fatalf("call payload: %q %q %v", name, args, err)
	}
}

// FuzzReadFrame: no input makes the reader panic or allocate past maxFrame.
func FuzzReadFrame(f *testing.F) {
	good, _ := appendFrame(nil, fCall, 3, 4, callPayload("a.b", []byte("[]"))...)
	f.Add(good)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 1, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for {
			fr, err := readFrame(r)
			if err != nil {
				return
			}
			if fr.typ == fCall {
				_, _, _ = parseCall(fr.payload)
			}
		}
	})
}

func TestOutOfMemoryWords(t *testing.T) {
	for _, tc := range []struct {
		stderr  string
		limited bool
		want    bool
	}{
		{"fatal error: runtime: out of memory", false, true},
		{"runtime/cgo: pthread_create failed: Resource temporarily unavailable", true, true},
		{"runtime/cgo: pthread_create failed: Resource temporarily unavailable", false, false},
		{"fatal error: unexpected signal during runtime execution\n[signal SIGSEGV", true, true},
		{"panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV", true, false},
		{"SIGSEGV: segmentation violation\nPC=0x4a1f2c m=3 sigcode=1 addr=0x0\n", true, true},
		{"SIGSEGV: segmentation violation\nPC=0x4a1f2c m=3 sigcode=1 addr=0x0\n", false, false},
		{"panic: boom\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1f2c]", true, false},
		{"runtime: goroutine stack exceeds 33554432-byte limit\nfatal error: stack overflow", true, false},
	} {
		if got := outOfMemory(tc.stderr, tc.limited); got != tc.want {
			t.Errorf("outOfMemory(%q, %v) = %v", tc.stderr, tc.limited, got)
		}
	}
}
