// Package keyring keeps small secrets (OAuth tokens, the values behind ${keychain:...})
// in the OS keychain, or in 0600 files where there is none: a headless Linux server, a
// container, CI.
//
// A Store holds values under a service and an account, as the OS keychains do (macOS
// Keychain via /usr/bin/security, the freedesktop Secret Service over D-Bus on Linux,
// the Windows Credential Manager; through github.com/zalando/go-keyring). The "auto"
// backend uses the OS keychain when it answers and files otherwise, and always looks in
// both when reading, so a secret stored on a headless run is still found later; a value
// too big for the keychain (macOS takes about 3000 bytes) goes to a file too.
//
// FromEnv picks the backend the pctx command uses: $PCTX_KEYRING ("auto", the default;
// "os"; "file") and $PCTX_KEYRING_DIR (the files' directory, default
// <user config dir>/pctx/keyring).
//
// Every Store is safe for concurrent use; the file backend replaces a file atomically, so
// several processes may share a directory (the last write of one entry wins).
package keyring

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// ErrNotFound is wrapped by Get and Delete when the entry does not exist.
var ErrNotFound = errors.New("not found")

// Store keeps values by service and account.
type Store interface {
	// Get returns the value, or an error wrapping ErrNotFound.
	Get(service, account string) (string, error)
	// Set creates or replaces the value.
	Set(service, account, value string) error
	// Delete removes the value; an error wrapping ErrNotFound if there was none.
	Delete(service, account string) error
	// Where says where values live, for messages ("the OS keychain", "files in DIR").
	Where() string
}

// Backends Options.Backend may name.
const (
	BackendAuto = "auto" // the OS keychain when it answers, files otherwise
	BackendOS   = "os"   // the OS keychain only
	BackendFile = "file" // 0600 files in Options.Dir only
)

// Environment variables FromEnv reads.
const (
	EnvBackend = "PCTX_KEYRING"
	EnvDir     = "PCTX_KEYRING_DIR"
)

// Options configures Open. A nil *Options means every default.
type Options struct {
	// Backend is BackendAuto, BackendOS or BackendFile; "" means BackendAuto.
	Backend string
	// Dir holds the file backend's files; "" means <user config dir>/pctx/keyring.
	Dir string
	// Logger is told, once, when "auto" falls back to files. Default: discard.
	Logger *slog.Logger
}

// Open returns the Store opts describe. It does not touch the keychain yet: "auto"
// probes it on first use.
func Open(opts *Options) (Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dir := o.Dir
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return nil, fmt.Errorf("keyring: no directory for the file store (set $%s): %w", EnvDir, err)
		}
		dir = filepath.Join(base, "pctx", "keyring")
	}
	switch o.Backend {
	case BackendFile:
		return NewFile(dir), nil
	case BackendOS:
		return newOS(), nil
	case "", BackendAuto:
		return &auto{os: newOS(), file: NewFile(dir), log: o.Logger}, nil
	default:
		return nil, fmt.Errorf("keyring: unknown backend %q (want %q, %q or %q)", o.Backend, BackendAuto, BackendOS, BackendFile)
	}
}

// FromEnv opens the Store that $PCTX_KEYRING and $PCTX_KEYRING_DIR describe.
func FromEnv(logger *slog.Logger) (Store, error) {
	s, err := Open(&Options{Backend: os.Getenv(EnvBackend), Dir: os.Getenv(EnvDir), Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", EnvBackend, err)
	}
	return s, nil
}

// auto is the OS keychain with files beside it.
type auto struct {
	os   *osStore
	file *File
	log  *slog.Logger
}

func (a *auto) Where() string {
	if err := a.os.available(); err != nil {
		return a.file.Where()
	}
	return a.os.Where() + " (large values: " + a.file.Where() + ")"
}

// usable reports whether the keychain answers, logging the first time it does not.
func (a *auto) usable() bool {
	err := a.os.available()
	if err != nil {
		a.os.warnOnce.Do(func() {
			a.log.Info("OS keychain unavailable; keeping secrets in 0600 files", "reason", err.Error(), "dir", a.file.dir)
		})
	}
	return err == nil
}

func (a *auto) Get(service, account string) (string, error) {
	if a.usable() {
		v, err := a.os.Get(service, account)
		if !errors.Is(err, ErrNotFound) {
			return v, err
		}
	}
	return a.file.Get(service, account)
}

func (a *auto) Set(service, account, value string) error {
	if !a.usable() {
		return a.file.Set(service, account, value)
	}
	err := a.os.Set(service, account, value)
	if errors.Is(err, errTooBig) {
		if err := a.file.Set(service, account, value); err != nil {
			return err
		}
		_ = a.os.Delete(service, account) // an older, smaller value would shadow the file
		return nil
	}
	if err != nil {
		return err
	}
	_ = a.file.Delete(service, account) // a file written while the keychain was away would be stale
	return nil
}

func (a *auto) Delete(service, account string) error {
	var osErr error = ErrNotFound
	if a.usable() {
		osErr = a.os.Delete(service, account)
	}
	fileErr := a.file.Delete(service, account)
	switch {
	case osErr == nil || fileErr == nil:
		return nil
	case !errors.Is(osErr, ErrNotFound):
		return osErr
	default:
		return fileErr
	}
}
