//go:build linux && (amd64 || arm64)

package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func runProgram() error { return exec.Command("/bin/true").Run() }

// TestSeccomp: a process with the worker's filter cannot open files, create sockets or
// start programs, and can still allocate, start threads and sleep.
func TestSeccomp(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envRole+"=seccomp-probe")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		t.Skipf("seccomp not available here: %s", out)
	}
	if err != nil || !strings.Contains(string(out), "denied") {
		t.Fatalf("probe: %v: %s", err, out)
	}
}

func TestSeccompProgramShape(t *testing.T) {
	prog := seccompProgram(auditArch, deniedSyscalls, x32Bit)
	if len(prog) > 255 {
		t.Fatalf("%d instructions: jump offsets are 8 bits", len(prog))
	}
	// Every jump lands inside the program.
	for i, ins := range prog {
		if ins.Code&0x07 == 0x05 && i+1+int(ins.Jt) >= len(prog) {
			t.Fatalf("instruction %d jumps past the end", i)
		}
	}
}
