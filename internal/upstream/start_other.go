//go:build !windows

package upstream

import "os/exec"

// startChild starts cmd; its process group was set up by sysProcAttr.
func startChild(cmd *exec.Cmd) error { return cmd.Start() }
