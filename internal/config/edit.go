package config

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"
)

//go:embed starter.toml
var starter []byte

// Init writes a commented starter pctx.toml at path. An existing file is kept and the
// error wraps fs.ErrExist, unless force is set.
func Init(path string, force bool) error {
	if force {
		return writeFileAtomic(path, starter)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("config: init: %w", err)
	}
	_, err = f.Write(starter)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("config: init: %w", err)
	}
	return nil
}

// AddServer appends a [servers.NAME] table for u (named by u.Name) to the file at path,
// creating the file if it is missing. The rest of the file is kept byte for byte. A name
// already present is an error, and so is a result that would not load; ${env:NAME}
// variables need not be set.
func AddServer(path string, u Upstream) error {
	if err := ValidServerName(u.Name); err != nil {
		return fmt.Errorf("config: add server: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("config: add server: %w", err)
	}
	old, err := load(path, data, loadOptions{checkOnly: true})
	if err != nil {
		return fmt.Errorf("config: add server %q: %s has problems already:\n%w", u.Name, path, err)
	}
	if _, ok := old.Servers[u.Name]; ok {
		return fmt.Errorf("config: add server: %s already has a server named %q", path, u.Name)
	}
	out := slices.Clip(data)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	if len(out) > 0 {
		out = append(out, '\n')
	}
	out = append(out, renderUpstream(u)...)
	if _, err := load(path, out, loadOptions{checkOnly: true}); err != nil {
		return fmt.Errorf("config: add server %q: %w", u.Name, err)
	}
	return writeFileAtomic(path, out)
}

// RemoveServer deletes the [servers.NAME] table from the file at path: its header
// through its last key, its sub-tables such as [servers.NAME.env], and any key elsewhere
// under servers.NAME. Comments and blank lines between those go too; everything else is
// kept byte for byte. The file need only be valid TOML, so a broken table can be
// removed. A name that is not there is an error.
func RemoveServer(path, name string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: remove server: %w", err)
	}
	out, err := removeServer(path, data, name)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, out)
}

// removeServer returns data without the lines of server name; file names it in errors.
func removeServer(file string, data []byte, name string) ([]byte, error) {
	raw, err := parseTOML(file, data)
	if err != nil {
		return nil, fmt.Errorf("config: remove server %q: %w", name, err)
	}
	if !has(raw, "servers", name) {
		return nil, fmt.Errorf("config: remove server: %s has no server named %q", file, name)
	}
	l, err := parseLayout(data)
	if err != nil {
		return nil, fmt.Errorf("config: remove server: %w", err)
	}
	target := kp("servers", name)
	drop := map[int]bool{}
	for _, e := range l.exprs {
		if e.kind != unstable.Comment && len(e.path) >= 2 && slices.Equal(e.path[:2], target) {
			for line := e.start; line <= e.end; line++ {
				drop[line] = true
			}
		}
	}
	n := len(l.lineStart)
	// Blank and comment lines between two removed lines belong to the removed table.
	for line := 2; line <= n; line++ {
		if drop[line] || !drop[line-1] {
			continue
		}
		end := line
		for end <= n && !drop[end] && l.blankOrComment(end) {
			end++
		}
		if end <= n && drop[end] {
			for ; line < end; line++ {
				drop[line] = true
			}
		}
	}
	// A removed block takes one neighbouring blank line with it, so that adding and
	// then removing a server restores the file.
	for line := 1; line <= n; line++ {
		if !drop[line] || drop[line-1] {
			continue
		}
		end := line
		for drop[end+1] {
			end++
		}
		switch {
		case line > 1 && l.blank(line-1):
			drop[line-1] = true
		case end < n && l.blank(end+1) && len(l.lineBytes(end+1)) > 0:
			drop[end+1] = true
		}
		line = end
	}
	var out []byte
	for line := 1; line <= n; line++ {
		if !drop[line] {
			out = append(out, l.lineBytes(line)...)
		}
	}
	return out, nil
}

// renderUpstream writes u as a TOML table, leaving out empty and default values.
func renderUpstream(u Upstream) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "[servers.%s]\n", tomlKey(u.Name))
	str := func(key, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s = %s\n", key, tomlString(v))
		}
	}
	table := func(key string, m map[string]string) {
		if len(m) == 0 {
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = tomlKey(k) + " = " + tomlString(m[k])
		}
		fmt.Fprintf(&b, "%s = { %s }\n", key, strings.Join(parts, ", "))
	}
	str("command", u.Command)
	if len(u.Args) > 0 {
		parts := make([]string, len(u.Args))
		for i, a := range u.Args {
			parts[i] = tomlString(a)
		}
		fmt.Fprintf(&b, "args = [%s]\n", strings.Join(parts, ", "))
	}
	table("env", u.Env)
	str("cwd", u.Cwd)
	if u.InheritEnv {
		b.WriteString("inherit_env = true\n")
	}
	str("url", u.URL)
	str("transport", u.Transport)
	table("headers", u.Headers)
	if u.Timeout != 0 && u.Timeout != DefaultUpstreamTimeout {
		str("timeout", formatDuration(u.Timeout))
	}
	if u.ProtocolVersion != DefaultProtocolVersion {
		str("protocol_version", u.ProtocolVersion)
	}
	if u.Disabled {
		b.WriteString("disabled = true\n")
	}
	if u.Scope != ScopeShared {
		str("scope", u.Scope)
	}
	if u.MaxSessions > 0 {
		fmt.Fprintf(&b, "max_sessions = %d\n", u.MaxSessions)
	}
	return []byte(b.String())
}

// formatDuration drops the zero units time.Duration.String leaves in ("2m0s" → "2m").
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// tomlKey writes k bare when TOML allows it, else as a quoted key.
func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, c := range []byte(k) {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return tomlString(k)
		}
	}
	return k
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		case utf8.RuneError:
			b.WriteString(`\uFFFD`)
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteString(`\u` + fmt.Sprintf("%04X", r))
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// writeFileAtomic replaces the file at path (following a symlink) through a temporary
// file in the same directory, keeping the old file's permissions.
func writeFileAtomic(path string, data []byte) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	mode := fs.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("config: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("config: write %s: %w", path, err)
	}
	return nil
}
