package keyring

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// maxFileBytes bounds one entry's file: these are tokens and keys, not documents.
const maxFileBytes = 1 << 20

// File keeps each entry in a 0600 file of its own in a 0700 directory, named by a hash
// of service and account so that neither needs escaping. One file per entry means no
// locking: writers replace a file atomically, and two processes only ever race on the
// same entry.
type File struct {
	dir string
}

// NewFile returns a file store in dir, created on the first Set.
func NewFile(dir string) *File { return &File{dir: dir} }

func (f *File) Where() string { return "0600 files in " + f.dir }

// entry is a file's content; service and account are kept so a hash collision, or a
// file copied in by hand, cannot answer for another entry.
type entry struct {
	Service string `json:"service"`
	Account string `json:"account"`
	Value   string `json:"value"`
}

func (f *File) path(service, account string) string {
	sum := sha256.Sum256([]byte(service + "\x00" + account))
	return filepath.Join(f.dir, hex.EncodeToString(sum[:20])+".json")
}

func (f *File) Get(service, account string) (string, error) {
	p := f.path(service, account)
	fh, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("keyring: %s/%s: %w", service, account, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("keyring: %w", err)
	}
	defer fh.Close()
	var e entry
	dec := json.NewDecoder(&limitReader{r: fh, n: maxFileBytes})
	if err := dec.Decode(&e); err != nil {
		return "", fmt.Errorf("keyring: %s is damaged (delete it): %w", p, err)
	}
	if e.Service != service || e.Account != account {
		return "", fmt.Errorf("keyring: %s/%s: %w", service, account, ErrNotFound)
	}
	return e.Value, nil
}

func (f *File) Set(service, account, value string) error {
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	data, err := json.Marshal(entry{Service: service, Account: account, Value: value})
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	tmp, err := os.CreateTemp(f.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	// CreateTemp makes the file 0600 already; Chmod keeps it so on systems whose umask
	// or ACLs differ.
	if err := tmp.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path(service, account)); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	return nil
}

func (f *File) Delete(service, account string) error {
	if _, err := f.Get(service, account); err != nil {
		return err
	}
	if err := os.Remove(f.path(service, account)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("keyring: %s/%s: %w", service, account, ErrNotFound)
		}
		return fmt.Errorf("keyring: %w", err)
	}
	return nil
}

// limitReader fails, rather than truncates, past n bytes.
type limitReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("more than %d bytes", maxFileBytes)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
