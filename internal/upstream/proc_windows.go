//go:build windows

package upstream

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Windows has no process groups to signal, so each stdio child runs in a job object of
// its own with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: terminating the job ends the child and
// every descendant (the node under npx.cmd), and when pctx dies, however it dies, the
// kernel closes its handle and kills them too. The child is created suspended and put in
// the job before its first instruction, so no grandchild can start outside it.

// sysProcAttr has nothing to add for processes pctx does not put in a job.
func sysProcAttr() *syscall.SysProcAttr { return nil }

var (
	jobsMu sync.Mutex
	jobs   = map[int]windows.Handle{} // pid of a stdio child -> its job
)

// startChild starts cmd suspended, assigns it to a new kill-on-close job and resumes it.
func startChild(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CreationFlags |= windows.CREATE_SUSPENDED
	job, err := newKillOnCloseJob()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		_ = windows.CloseHandle(job)
		return err
	}
	pid := cmd.Process.Pid
	if err := adopt(job, pid); err != nil {
		_ = cmd.Process.Kill()
		_ = windows.CloseHandle(job)
		return err
	}
	jobsMu.Lock()
	jobs[pid] = job
	jobsMu.Unlock()
	return nil
}

func newKillOnCloseJob() (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil) // nil attributes: the handle is not inherited
	if err != nil {
		return 0, fmt.Errorf("job object: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		_ = windows.CloseHandle(job)
		return 0, fmt.Errorf("job object: set kill-on-close: %w", err)
	}
	return job, nil
}

// adopt puts the suspended process pid in job, then resumes its threads.
func adopt(job windows.Handle, pid int) error {
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(pid))
	if err != nil {
		return fmt.Errorf("job object: open process %d: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		return fmt.Errorf("job object: assign process %d: %w", pid, err)
	}
	return resumeThreads(pid)
}

// resumeThreads resumes every thread of pid (a process created suspended has one).
func resumeThreads(pid int) error {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return fmt.Errorf("resume process %d: snapshot: %w", pid, err)
	}
	defer windows.CloseHandle(snap)
	entry := windows.ThreadEntry32{Size: uint32(unsafe.Sizeof(windows.ThreadEntry32{}))}
	resumed := 0
	for err = windows.Thread32First(snap, &entry); err == nil; err = windows.Thread32Next(snap, &entry) {
		if entry.OwnerProcessID != uint32(pid) {
			continue
		}
		th, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, entry.ThreadID)
		if err != nil {
			return fmt.Errorf("resume process %d: open thread %d: %w", pid, entry.ThreadID, err)
		}
		_, err = windows.ResumeThread(th)
		_ = windows.CloseHandle(th)
		if err != nil {
			return fmt.Errorf("resume process %d: thread %d: %w", pid, entry.ThreadID, err)
		}
		resumed++
	}
	if !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return fmt.Errorf("resume process %d: threads: %w", pid, err)
	}
	if resumed == 0 {
		return fmt.Errorf("resume process %d: no threads found", pid)
	}
	return nil
}

// signalGroup ends p's whole job: Windows has no SIGTERM for console programs, so the
// polite step is the stdin close before it. The hard call (always the last) also closes
// the job handle.
func signalGroup(p *os.Process, hard bool) {
	jobsMu.Lock()
	job, ok := jobs[p.Pid]
	if ok && hard {
		delete(jobs, p.Pid)
	}
	jobsMu.Unlock()
	if !ok {
		_ = p.Kill()
		return
	}
	_ = windows.TerminateJobObject(job, 1)
	if hard {
		_ = windows.CloseHandle(job)
	}
}
