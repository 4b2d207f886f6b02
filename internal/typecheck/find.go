package typecheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// EnvVar names the environment variable Find reads: the path of a tsgo executable.
const EnvVar = "PCTX_TSGO"

// ErrNotFound is wrapped by Find's error when no tsgo was found where it looked.
var ErrNotFound = errors.New("tsgo not found")

// Find locates the tsgo executable, in this order:
//
//  1. configured, when not empty (the [runtime] tsgo setting): it must exist;
//  2. $PCTX_TSGO, when set: it must exist;
//  3. beside the running executable: tsgo, or tsgo/tsgo (a release puts tsgo and its
//     lib.*.d.ts files in a tsgo directory next to pctx), or ../lib/pctx/tsgo/tsgo (an
//     install into a prefix: the Python wheel puts pctx in PREFIX/bin, or Scripts on
//     Windows, and tsgo in PREFIX/lib/pctx/tsgo);
//  4. tsgo on PATH.
//
// A launcher script, as npm installs for @typescript/native-preview, resolves to the
// native binary of the platform package beside it, so that pctx runs (and limits) the
// compiler itself rather than a node process. The error wraps ErrNotFound and says
// where Find looked.
func Find(configured string) (string, error) {
	if configured != "" {
		return resolve(configured, "[runtime] tsgo")
	}
	if env := os.Getenv(EnvVar); env != "" {
		return resolve(env, "$"+EnvVar)
	}
	var looked []string
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		for _, p := range besideCandidates(exe) {
			if isFile(p) {
				return resolve(p, "beside pctx")
			}
			looked = append(looked, p)
		}
	}
	if p, err := exec.LookPath("tsgo"); err == nil {
		return resolve(p, "PATH")
	}
	looked = append(looked, "tsgo on PATH")
	return "", fmt.Errorf("%w: looked at $%s, %s", ErrNotFound, EnvVar, strings.Join(looked, ", "))
}

// besideCandidates lists where a release puts tsgo relative to the pctx executable exe,
// in the order Find tries them.
func besideCandidates(exe string) []string {
	name := "tsgo"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	dir := filepath.Dir(exe)
	return []string{
		filepath.Join(dir, name),
		filepath.Join(dir, "tsgo", name),
		filepath.Join(dir, "..", "lib", "pctx", "tsgo", name),
	}
}

// resolve checks that p is a file and turns an npm launcher into its native binary.
func resolve(p, from string) (string, error) {
	if !isFile(p) {
		return "", fmt.Errorf("%w: %s (from %s) is not a file", ErrNotFound, p, from)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if !isScript(abs) {
		return abs, nil
	}
	if native := npmNative(abs); native != "" {
		return native, nil
	}
	return "", fmt.Errorf("%w: %s (from %s) is a script, and no native tsgo of @typescript/native-preview-%s is installed beside it", ErrNotFound, p, from, npmPlatform())
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// isScript reports whether the file starts with "#!".
func isScript(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 2)
	_, err = io.ReadFull(f, head)
	return err == nil && bytes.Equal(head, []byte("#!"))
}

// npmNative finds the native tsgo for a launcher at
// node_modules/@typescript/native-preview/bin/tsgo (or a link to it, as in
// node_modules/.bin): the platform package is a sibling, or nested under it.
func npmNative(launcher string) string {
	real, err := filepath.EvalSymlinks(launcher)
	if err != nil {
		return ""
	}
	pkg := filepath.Dir(filepath.Dir(real)) // .../@typescript/native-preview
	platform := "native-preview-" + npmPlatform()
	name := "tsgo"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	for _, p := range []string{
		filepath.Join(filepath.Dir(pkg), platform, "lib", name),
		filepath.Join(pkg, "node_modules", "@typescript", platform, "lib", name),
	} {
		if isFile(p) {
			return p
		}
	}
	return ""
}

// npmPlatform is Node's process.platform-process.arch for this machine.
func npmPlatform() string {
	osName := runtime.GOOS
	if osName == "windows" {
		osName = "win32"
	}
	arch := runtime.GOARCH
	switch arch {
	case "amd64":
		arch = "x64"
	case "386":
		arch = "ia32"
	}
	return osName + "-" + arch
}
