package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	flagFile := filepath.Join(dir, "flag.toml")
	envFile := filepath.Join(dir, "env.toml")
	for _, f := range []string{flagFile, envFile} {
		if err := os.WriteFile(f, []byte("name = \""+filepath.Base(f)+"\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		flag    string
		env     string
		local   bool // ./pctx.toml exists
		want    string
		wantErr string
	}{
		{name: "nothing: defaults", want: ""},
		{name: "local file", local: true, want: FileName},
		{name: "env beats local", env: envFile, local: true, want: envFile},
		{name: "flag beats env and local", flag: flagFile, env: envFile, local: true, want: flagFile},
		{name: "missing flag file is an error", flag: "nope.toml", local: true,
			wantErr: "config file nope.toml (from --config) does not exist: file does not exist"},
		{name: "missing env file is an error", env: "gone.toml", local: true,
			wantErr: "config file gone.toml (from $PCTX_CONFIG) does not exist: file does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvVar, tt.env)
			os.Remove(FileName)
			if tt.local {
				if err := os.WriteFile(FileName, []byte("name = \"local\"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Find(tt.flag)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("Find = %q, %v; want error %q wrapping fs.ErrNotExist", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Find = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv(EnvVar, "")
	c, err := Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != "" || c.Name != DefaultName || c.Server.HTTP != DefaultHTTP || len(c.Servers) != 0 {
		t.Errorf("Resolve with no file = %+v, want the defaults", c)
	}
	if err := os.WriteFile(FileName, []byte("name = \"local\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err = Resolve(""); err != nil || c.Name != "local" || c.Path != FileName {
		t.Errorf("Resolve with ./pctx.toml = %+v, %v", c, err)
	}
	if _, err = Resolve("missing.toml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Resolve(missing) error = %v, want fs.ErrNotExist", err)
	}
}
