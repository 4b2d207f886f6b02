package oauth

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// errNoBrowser: nothing here can show a web page (a headless machine, an SSH session).
var errNoBrowser = errors.New("no browser available")

// OpenBrowser opens u in the user's browser: $BROWSER if set, else open(1) on macOS,
// the URL handler on Windows, xdg-open where a display is available. It returns
// errNoBrowser on a machine without one (no display, or an SSH session without X
// forwarding), so the caller only prints the URL.
func OpenBrowser(u string) error {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return errors.New("refusing to open a non-http URL")
	}
	var cmd *exec.Cmd
	switch b := os.Getenv("BROWSER"); {
	case b != "":
		cmd = exec.Command(b, u)
	case runtime.GOOS == "darwin":
		if os.Getenv("SSH_CONNECTION") != "" {
			return errNoBrowser
		}
		cmd = exec.Command("open", u)
	case runtime.GOOS == "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errNoBrowser
		}
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }() // reap it; the browser outlives us
	return nil
}
