package keyring

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	gokeyring "github.com/zalando/go-keyring"
)

// fakeKeychain behaves like go-keyring's providers, refusing values over max bytes as
// macOS does.
type fakeKeychain struct {
	mu  sync.Mutex
	m   map[[2]string]string
	max int
}

func newFakeKeychain(max int) *fakeKeychain {
	return &fakeKeychain{m: map[[2]string]string{}, max: max}
}

func (k *fakeKeychain) Get(s, a string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[[2]string{s, a}]
	if !ok {
		return "", gokeyring.ErrNotFound
	}
	return v, nil
}

func (k *fakeKeychain) Set(s, a, v string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.max > 0 && len(v) > k.max {
		return gokeyring.ErrSetDataTooBig
	}
	k.m[[2]string{s, a}] = v
	return nil
}

func (k *fakeKeychain) Delete(s, a string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[[2]string{s, a}]; !ok {
		return gokeyring.ErrNotFound
	}
	delete(k.m, [2]string{s, a})
	return nil
}

// stores returns every backend over fresh state; the "auto" ones use a fake keychain
// that answers, and one that does not.
func stores(t *testing.T) map[string]Store {
	t.Helper()
	up := &osStore{kc: newFakeKeychain(100), probe: func(keychain) error { return nil }}
	down := &osStore{kc: newFakeKeychain(0), probe: func(keychain) error { return errors.New("no bus") }}
	return map[string]Store{
		"file":          NewFile(t.TempDir()),
		"memory":        NewMemory(),
		"auto/keychain": &auto{os: up, file: NewFile(t.TempDir()), log: discard()},
		"auto/headless": &auto{os: down, file: NewFile(t.TempDir()), log: discard()},
	}
}

func TestStoreContract(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Get("svc", "acct"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get of a missing entry: %v, want ErrNotFound", err)
			}
			if err := s.Delete("svc", "acct"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Delete of a missing entry: %v, want ErrNotFound", err)
			}
			values := []string{"v1", "v2 with spaces\nand lines", strings.Repeat("x", 500)}
			for _, v := range values {
				if err := s.Set("svc", "acct", v); err != nil {
					t.Fatalf("Set: %v", err)
				}
				got, err := s.Get("svc", "acct")
				if err != nil || got != v {
					t.Fatalf("Get after Set(%.10q) = %.10q, %v", v, got, err)
				}
			}
			// Entries are told apart by service and by account.
			if err := s.Set("svc", "other", "o"); err != nil {
				t.Fatal(err)
			}
			if err := s.Set("svc2", "acct", "s2"); err != nil {
				t.Fatal(err)
			}
			for _, c := range [][3]string{{"svc", "acct", values[2]}, {"svc", "other", "o"}, {"svc2", "acct", "s2"}} {
				if got, err := s.Get(c[0], c[1]); err != nil || got != c[2] {
					t.Errorf("Get(%s, %s) = %.10q, %v; want %.10q", c[0], c[1], got, err, c[2])
				}
			}
			if err := s.Delete("svc", "acct"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := s.Get("svc", "acct"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
			}
			if s.Where() == "" {
				t.Error("Where is empty")
			}
		})
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	dir := filepath.Join(t.TempDir(), "keyring")
	s := NewFile(dir)
	if err := s.Set("svc", "acct", "secret"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v, %v; want 0700", st.Mode().Perm(), err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 {
		t.Fatalf("files %v, want exactly one (no temporary files left)", files)
	}
	fi, err := os.Stat(files[0])
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if strings.Contains(filepath.Base(files[0]), "svc") || strings.Contains(filepath.Base(files[0]), "acct") {
		t.Errorf("file name %s shows the service or account", files[0])
	}
}

func TestFileDamagedAndForeign(t *testing.T) {
	dir := t.TempDir()
	s := NewFile(dir)
	if err := s.Set("svc", "acct", "secret"); err != nil {
		t.Fatal(err)
	}
	p := s.path("svc", "acct")
	// A file whose recorded entry is another one does not answer for this one.
	if err := os.WriteFile(p, []byte(`{"service":"x","account":"y","value":"z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("svc", "acct"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("foreign entry: %v, want ErrNotFound", err)
	}
	if err := os.WriteFile(p, []byte(`{"service":`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get("svc", "acct")
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged file: %v, want an error saying so", err)
	}
	if err := os.WriteFile(p, []byte(`{"service":"svc","account":"acct","value":"`+strings.Repeat("a", maxFileBytes)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("svc", "acct"); err == nil {
		t.Fatal("a file over the size limit was read")
	}
}

func TestAutoPlacement(t *testing.T) {
	kc := newFakeKeychain(100)
	file := NewFile(t.TempDir())
	s := &auto{os: &osStore{kc: kc, probe: func(keychain) error { return nil }}, file: file, log: discard()}

	// Small values go to the keychain.
	if err := s.Set("svc", "small", "v"); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Get("svc", "small"); err != nil {
		t.Errorf("small value not in the keychain: %v", err)
	}
	if _, err := file.Get("svc", "small"); !errors.Is(err, ErrNotFound) {
		t.Errorf("small value also in a file: %v", err)
	}
	// A value the keychain refuses for its size goes to a file, and a smaller one
	// stored earlier under the same name must not shadow it.
	if err := s.Set("svc", "grows", "old"); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("b", 200)
	if err := s.Set("svc", "grows", big); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get("svc", "grows"); err != nil || got != big {
		t.Fatalf("after growing: %.10q, %v", got, err)
	}
	if _, err := kc.Get("svc", "grows"); err == nil {
		t.Error("the old keychain value is still there")
	}
	// A file left from a headless run is found, and replaced by the keychain on the next Set.
	if err := file.Set("svc", "headless", "from-file"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get("svc", "headless"); got != "from-file" {
		t.Fatalf("file entry not found through auto: %q", got)
	}
	if err := s.Set("svc", "headless", "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := file.Get("svc", "headless"); !errors.Is(err, ErrNotFound) {
		t.Errorf("stale file entry kept: %v", err)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, b := range []string{"", BackendAuto, BackendOS, BackendFile} {
		s, err := Open(&Options{Backend: b, Dir: dir})
		if err != nil || s == nil {
			t.Errorf("Open(%q): %v", b, err)
		}
	}
	if _, err := Open(&Options{Backend: "vault"}); err == nil || !strings.Contains(err.Error(), `"vault"`) {
		t.Errorf("unknown backend: %v", err)
	}
	t.Setenv(EnvBackend, BackendFile)
	t.Setenv(EnvDir, dir)
	s, err := FromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("svc", "acct", "v"); err != nil {
		t.Fatal(err)
	}
	if got, err := NewFile(dir).Get("svc", "acct"); err != nil || got != "v" {
		t.Errorf("FromEnv did not use %s: %q, %v", dir, got, err)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
