package keyring_test

import (
	"fmt"
	"os"

	"github.com/pctx-dev/pctx/internal/keyring"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "keyring")
	defer os.RemoveAll(dir)
	// "file" never touches the OS keychain: what headless machines and CI use.
	s, err := keyring.Open(&keyring.Options{Backend: keyring.BackendFile, Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = s.Set("github", "token", "s3cret")
	v, _ := s.Get("github", "token")
	fmt.Println(v)
	_, err = s.Get("github", "other")
	fmt.Println(err)
	// Output:
	// s3cret
	// keyring: github/other: not found
}
