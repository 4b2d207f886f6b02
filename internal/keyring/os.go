package keyring

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// errTooBig: the keychain refused the value for its size.
var errTooBig = errors.New("value too big for the OS keychain")

// probeTimeout bounds the first keychain call: a Secret Service that waits for a user
// to unlock it must not hang a server.
const probeTimeout = 3 * time.Second

// keychain is the part of go-keyring osStore uses; tests put a fake in its place.
type keychain interface {
	Get(service, account string) (string, error)
	Set(service, account, value string) error
	Delete(service, account string) error
}

type goKeyring struct{}

func (goKeyring) Get(service, account string) (string, error) { return gokeyring.Get(service, account) }
func (goKeyring) Set(service, account, value string) error {
	return gokeyring.Set(service, account, value)
}
func (goKeyring) Delete(service, account string) error { return gokeyring.Delete(service, account) }

// osStore is the OS keychain through go-keyring.
type osStore struct {
	kc        keychain
	probe     func(keychain) error
	probeOnce sync.Once
	probeErr  error
	warnOnce  sync.Once
}

func newOS() *osStore { return &osStore{kc: goKeyring{}, probe: probe} }

func (s *osStore) Where() string { return "the OS keychain" }

// available reports, once per store, why the keychain cannot be used (nil if it can).
func (s *osStore) available() error {
	s.probeOnce.Do(func() { s.probeErr = s.probe(s.kc) })
	return s.probeErr
}

// probe reads an entry that does not exist: "not found" means the keychain answers. On
// a timeout the read is left behind on its goroutine; it happens once per process.
func probe(kc keychain) error {
	if runtime.GOOS == "linux" || runtime.GOOS == "freebsd" || runtime.GOOS == "openbsd" || runtime.GOOS == "netbsd" {
		// Without a session bus, godbus would try to autolaunch one.
		if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
			if _, err := os.Stat(filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "bus")); os.Getenv("XDG_RUNTIME_DIR") == "" || err != nil {
				return errors.New("no D-Bus session bus for the Secret Service ($DBUS_SESSION_BUS_ADDRESS is not set)")
			}
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := kc.Get("pctx", "keyring-probe")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, gokeyring.ErrNotFound) {
			return nil
		}
		return err
	case <-time.After(probeTimeout):
		return fmt.Errorf("the OS keychain did not answer within %s", probeTimeout)
	}
}

func (s *osStore) Get(service, account string) (string, error) {
	if err := s.available(); err != nil {
		return "", fmt.Errorf("keyring: %w", err)
	}
	v, err := s.kc.Get(service, account)
	if errors.Is(err, gokeyring.ErrNotFound) {
		return "", fmt.Errorf("keyring: %s/%s: %w", service, account, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("keyring: read %s/%s from the OS keychain: %w", service, account, err)
	}
	return v, nil
}

func (s *osStore) Set(service, account, value string) error {
	if err := s.available(); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	err := s.kc.Set(service, account, value)
	if errors.Is(err, gokeyring.ErrSetDataTooBig) {
		return fmt.Errorf("keyring: %s/%s: %w", service, account, errTooBig)
	}
	if err != nil {
		return fmt.Errorf("keyring: write %s/%s to the OS keychain: %w", service, account, err)
	}
	return nil
}

func (s *osStore) Delete(service, account string) error {
	if err := s.available(); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	err := s.kc.Delete(service, account)
	if errors.Is(err, gokeyring.ErrNotFound) {
		return fmt.Errorf("keyring: %s/%s: %w", service, account, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("keyring: delete %s/%s from the OS keychain: %w", service, account, err)
	}
	return nil
}
