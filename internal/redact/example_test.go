package redact_test

import (
	"errors"
	"fmt"

	"github.com/pctx-dev/pctx/internal/redact"
)

func ExampleSet() {
	secrets := redact.New("ghp_abcdef123456")
	err := secrets.Error(errors.New(`Post "https://api.example/mcp?token=ghp_abcdef123456": connection refused`))
	fmt.Println(err)
	// Output:
	// Post "https://api.example/mcp?token=[redacted]": connection refused
}
