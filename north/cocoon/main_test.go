package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/north"
)

// TestOptionsSysctl checks the kernel command line's sysctl words: the
// overcommit policy as Linux spells it ('.' or '/' between the parts,
// the last word counting), refusals naming the word for a value or a
// sysctl there is not, and that none reaches the application.
func TestOptionsSysctl(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want int
		err  string
	}{
		{nil, north.OvercommitGuess, ""},
		{[]string{"sysctl.vm.overcommit_memory=1"}, north.OvercommitAlways, ""},
		{[]string{"sysctl.vm/overcommit_memory=1"}, north.OvercommitAlways, ""},
		{[]string{"sysctl.vm.overcommit_memory=1", "sysctl.vm.overcommit_memory=0"}, north.OvercommitGuess, ""},
		{[]string{"sysctl.vm.overcommit_memory=2"}, 0, "sysctl.vm.overcommit_memory=2: strict overcommit accounting is not implemented"},
		{[]string{"sysctl.vm.overcommit_memory=yes"}, 0, "sysctl.vm.overcommit_memory=yes: want 0 or 1"},
		{[]string{"sysctl.vm.swappiness=10"}, 0, "sysctl.vm.swappiness: no such sysctl here"},
	} {
		cfg, _, err := options([]string{"arg"}, append([]string{"A=1"}, c.env...))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.env, err, c.err)
			}
			continue
		}
		if err != nil || cfg.Overcommit != c.want {
			t.Errorf("%q: Overcommit %d, %v; want %d", c.env, cfg.Overcommit, err, c.want)
		}
		if !slices.Equal(cfg.Args, []string{"arg"}) || slices.ContainsFunc(cfg.Env, func(e string) bool { return strings.HasPrefix(e, "sysctl.") }) ||
			!slices.Contains(cfg.Env, "A=1") {
			t.Errorf("%q: the application gets args %q, env %q", c.env, cfg.Args, cfg.Env)
		}
	}
	// A sysctl word without '=' is the kernel's too, not an argument.
	if cfg, _, err := options([]string{"sysctl.vm.overcommit_memory", "x"}, nil); err != nil || !slices.Equal(cfg.Args, []string{"x"}) {
		t.Errorf("bare sysctl word: args %q, %v", cfg.Args, err)
	}
}

// TestOptionsProf checks cocoon.prof's period: microseconds in range, the
// word kept from the application's environment.
func TestOptionsProf(t *testing.T) {
	for v, ok := range map[string]bool{"20": true, "10": true, "1000000": true, "9": false, "0": false, "-5": false, "2ms": false, "": false} {
		cfg, _, err := options(nil, []string{"cocoon.prof=" + v})
		if (err == nil) != ok {
			t.Errorf("cocoon.prof=%s: error %v, want ok=%v", v, err, ok)
		}
		if err == nil && slices.ContainsFunc(cfg.Env, func(e string) bool { return strings.HasPrefix(e, "cocoon.") }) {
			t.Errorf("cocoon.prof=%s reached the application: %q", v, cfg.Env)
		}
	}
}
