package config_test

import (
	"fmt"
	"os"

	"github.com/pctx-dev/pctx/internal/config"
)

func ExampleLoad() {
	os.Setenv("EXAMPLE_TOKEN", "s3cret")
	c, err := config.Load("testdata/basic.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name, c.Server.HTTP, c.Runtime.Timeout, c.Runtime.MaxMemory)
	gh := c.Servers["github"]
	fmt.Println(gh.URL, gh.Headers["Authorization"], gh.Timeout, gh.ProtocolVersion)
	fmt.Println(c.Servers["everything"].Command, c.Servers["everything"].Args)
	// Output:
	// team-pctx 127.0.0.1:8080 45s 134217728
	// https://example.com/mcp Bearer s3cret 1m0s 2025-06-18
	// npx [-y @modelcontextprotocol/server-everything]
}

func ExampleLoad_errors() {
	_, err := config.Load("testdata/bad.toml")
	fmt.Println(err)
	// Output:
	// testdata/bad.toml:4: servers.github: set either command (stdio) or url (HTTP), not both
	// testdata/bad.toml:7: servers.github.timeout: invalid duration "soon": use a number with a unit, like "30s", "1m30s" or "500ms"
	// testdata/bad.toml:8: servers.github.header: unknown key; did you mean "headers"?
}
