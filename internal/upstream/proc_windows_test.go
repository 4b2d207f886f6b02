//go:build windows

package upstream

import (
	"os/exec"
	"testing"
	"time"
)

// A child started by startChild runs (it was resumed), sits in its own job, and dies with
// the job: both the child and the grandchild cmd starts.
func TestStartChildJob(t *testing.T) {
	// A suspended child never exits on its own: an exit code proves it was resumed.
	quick := exec.Command("cmd", "/c", "exit 7")
	if err := startChild(quick); err != nil {
		t.Fatal(err)
	}
	if err := quick.Wait(); quick.ProcessState == nil || quick.ProcessState.ExitCode() != 7 {
		t.Fatalf("quick child: %v, want exit status 7", err)
	}
	signalGroup(quick.Process, true)

	cmd := exec.Command("cmd", "/c", "ping -n 120 127.0.0.1 >NUL")
	if err := startChild(cmd); err != nil {
		t.Fatal(err)
	}
	jobsMu.Lock()
	_, inJob := jobs[cmd.Process.Pid]
	jobsMu.Unlock()
	if !inJob {
		_ = cmd.Process.Kill()
		t.Fatal("child not recorded in a job")
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		t.Fatalf("child exited early: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	signalGroup(cmd.Process, true)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("child still running after its job was terminated")
	}
	jobsMu.Lock()
	defer jobsMu.Unlock()
	if _, ok := jobs[cmd.Process.Pid]; ok {
		t.Fatal("job handle kept after the hard kill")
	}
}
