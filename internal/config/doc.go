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
// After decoding, secret references in any string value are replaced ("$${" escapes
// one): ${env:NAME} by the environment variable NAME; ${cmd:COMMAND} by the trimmed
// standard output of COMMAND, run once per load by the shell with a timeout
// (DefaultCommandTimeout); ${file:PATH} by the trimmed content of a file (relative to
// the config file; "~/" is home); ${keychain:SERVICE/ACCOUNT} by an entry of the OS
// keychain, or of pctx's 0600-file store where there is none (package keyring). A
// reference that cannot be resolved is an error naming the key and the reference,
// never a value or a command's text; a disabled server's commands, files and entries
// are not read. Config.Secrets lists every value substituted, for redaction.
//
// Init, AddServer and RemoveServer edit a file for the CLI while keeping everything
// they do not touch byte for byte.
//
// Nothing here keeps state; all functions are safe for concurrent use (the edit
// functions replace the file atomically, but two concurrent edits may lose one).
package config
