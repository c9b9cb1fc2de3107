package layers

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

// goList runs `go list` with args for the kernel's target in the module
// root and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// local returns the module-relative paths among pkgs.
func local(pkgs []string) []string {
	var out []string
	for _, p := range pkgs {
		if r, ok := strings.CutPrefix(p, Module+"/"); ok {
			out = append(out, r)
		}
	}
	return out
}

// tree lists the module's import graph as a build with the tags sees it.
func tree(t *testing.T, tags string) Graph {
	g := Graph{Imports: map[string][]string{}, Deps: map[string][]string{}}
	for _, line := range goList(t, "-tags", tags, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...") {
		f := strings.Fields(line)
		if pkg, ok := strings.CutPrefix(f[0], Module+"/"); ok {
			g.Imports[pkg] = local(f[1:])
		}
	}
	for _, m := range KernelMains {
		g.Deps[m] = local(goList(t, "-tags", tags, "-deps", "./"+m))
	}
	return g
}

// TestLayers checks the tree against the rules, as the kernel with
// network and the one without (kbuild.NoNetworkTag) are built.
func TestLayers(t *testing.T) {
	for _, tags := range []string{"", kbuild.NoNetworkTag} {
		t.Run("tags="+tags, func(t *testing.T) {
			g := tree(t, tags)
			for _, must := range append([]string{"hal", "hal/pc", "snp", "kernel", "north/run"}, KernelMains...) {
				if _, ok := g.Imports[must]; !ok {
					t.Fatalf("go list found no package %s: the rules would check nothing", must)
				}
			}
			deps := g.Deps["north/cocoon"]
			if !contains(deps, "snp") || !contains(deps, "hal/pc/guestwire") {
				t.Fatalf("north/cocoon deps %v lack the platforms: go list -deps did not work", deps)
			}
			// The tags reached go list: only the kernel with network
			// links the TCP/IP stack.
			if inet := contains(deps, "north/socket/inet"); inet != (tags == "") {
				t.Fatalf("with tags %q, north/cocoon links north/socket/inet: %v", tags, inet)
			}
			for _, bad := range Check(g) {
				t.Error(bad)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCheckCatches shows each rule failing on a small graph with one
// wrong import, and passing on the same graph without it.
func TestCheckCatches(t *testing.T) {
	good := map[string][]string{
		"hal":          nil,
		"kernel/cpu":   {"hal"},
		"kernel":       {"hal", "kernel/cpu"},
		"hal/pc":       {"hal", "kernel/cpu", "hal/pc/guestwire"},
		"snp":          {"hal", "hal/pc", "kernel/cpu", "snp/guestmsg"},
		"north/run":    {"hal", "kernel", "snp/guestmsg"},
		"north/cocoon": {"boot", "north/run"},
		"boot":         {"kernel", "hal/pc", "snp"},
		"snp/simpsp":   {"hal/pc/guestwire", "snp/guestmsg"},
		"snp/measure":  {"snp/guestmsg"},
	}
	if bad := Check(Graph{Imports: good, Deps: map[string][]string{"north/cocoon": {"boot", "snp", "hal/pc/guestwire"}}}); len(bad) != 0 {
		t.Fatalf("a graph that keeps the rules fails: %v", bad)
	}
	for _, c := range []struct{ pkg, imp, want string }{
		{"hal", "kernel/cpu", "standard library only"},
		{"snp", "kernel", "no kernel package"},
		{"hal/pc", "north/run", "neither north nor boot"},
		{"kernel", "snp", "through hal only"},
		{"north/run", "snp", "not a platform"},
		{"north/run", "hal/pc/guestwire", "not a platform"},
		{"north/run", "boot", "does not import boot"},
	} {
		g := map[string][]string{}
		for k, v := range good {
			g[k] = v
		}
		g[c.pkg] = append(append([]string(nil), g[c.pkg]...), c.imp)
		bad := Check(Graph{Imports: g})
		if len(bad) != 1 || !strings.Contains(bad[0], c.want) {
			t.Errorf("%s importing %s: got %v, want one report saying %q", c.pkg, c.imp, bad, c.want)
		}
	}
	for _, sim := range []string{"snp/simpsp", "snp/snptest", "qemu", "snp/measure"} {
		bad := Check(Graph{Deps: map[string][]string{"north/cocoon": {"boot", sim}}})
		if len(bad) != 1 || !strings.Contains(bad[0], "host-side") {
			t.Errorf("north/cocoon linking %s: got %v, want one host-side report", sim, bad)
		}
	}
}
