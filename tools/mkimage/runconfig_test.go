package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunConfigOvercommit checks that an image's overcommit policy
// becomes the kernel's sysctl word ahead of the application's words, the
// command line a measurement covers and a disk embeds, and that a run
// configuration with a policy there is not is refused.
func TestRunConfigOvercommit(t *testing.T) {
	for _, c := range []struct {
		rc   runConfig
		want string
	}{
		{runConfig{}, ""},
		{runConfig{Args: []string{"a"}}, "cocoon.args=a,"},
		{runConfig{Overcommit: "always"}, "sysctl.vm.overcommit_memory=1"},
		{runConfig{Overcommit: "always", Args: []string{"a b"}}, "sysctl.vm.overcommit_memory=1 cocoon.args=a%20b,"},
	} {
		if got, err := c.rc.line(); err != nil || got != c.want {
			t.Errorf("%+v: line %q, %v; want %q", c.rc, got, err, c.want)
		}
	}
	name := filepath.Join(t.TempDir(), "img")
	if err := os.WriteFile(runConfigPath(name), []byte(`{"overcommit": "never"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readRunConfig(name); err == nil || !strings.Contains(err.Error(), "not implemented") {
		t.Errorf("overcommit never: %v, want a refusal", err)
	}
}
