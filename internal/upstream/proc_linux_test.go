package upstream

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestCloseKillsProcessGroup(t *testing.T) {
	reg := newFakeRegistry()
	logger, _ := newTestLogger(t)
	m := newManager(reg, configMap(fakeConfig(t, "tree", "basic")), &Options{Logger: logger}, testTuning)
	m.Start(context.Background())
	got, err := reg.call(t, "tree", "spawn", nil)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	pid := int(got.(map[string]any)["pid"].(float64))
	if !alive(pid) {
		t.Fatalf("grandchild %d not running", pid)
	}
	m.Close()
	eventually(t, fmt.Sprintf("grandchild %d to be gone", pid), func() bool { return !alive(pid) })
	if _, ok := reg.get("tree"); ok {
		t.Fatal("namespace still registered after Close")
	}
	if st := statusOf(m, "tree"); st.State != StateClosed {
		t.Fatalf("status = %+v", st)
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no procfs: kill(0) is all we know
	}
	// Format: pid (comm) state ...
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
