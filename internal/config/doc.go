// Package config loads pctx.toml: the server's name, its [server] listener, the
// [runtime] limits of one execution and the upstream MCP servers under [servers.NAME].
//
// Resolve finds the file (--config, then $PCTX_CONFIG, then ./pctx.toml) and loads it,
// or returns Default when there is none. Load decodes strictly with koanf: unknown keys,
// wrong types, bad durations and sizes, invalid server names and inconsistent servers
// are errors, all reported at once, each as an *Error naming the file, line and key:
//
//	pctx.toml:12: servers.github.url: must be an http:// or https:// URL, not ftp://
//
// After decoding, ${env:NAME} in any string value is replaced by the environment
// variable NAME ("$${env:" escapes it); an unset variable is an error naming it.
//
// Init, AddServer and RemoveServer edit a file for the CLI while keeping everything
// they do not touch byte for byte.
//
// Nothing here keeps state; all functions are safe for concurrent use (the edit
// functions replace the file atomically, but two concurrent edits may lose one).
package config
