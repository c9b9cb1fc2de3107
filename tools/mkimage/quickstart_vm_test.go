package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/internal/testenv"
)

// userProgram is the user's own main package of TestQuickStartVM.
const userProgram = `package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	in, _ := io.ReadAll(os.Stdin)
	dir, _ := os.Getwd()
	fmt.Printf("args=%q stdin=%q dir=%s greeting=%s\n", os.Args[1:], in, dir, os.Getenv("GREETING"))
	fmt.Fprintln(os.Stderr, "to stderr")
}
`

// quickStart returns the commands of README's quick start.
func quickStart(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- quickstart:")
	block, _, ok2 := strings.Cut(rest, "<!-- quickstart end -->")
	_, block, ok3 := strings.Cut(block, "```sh\n")
	block, _, ok4 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 || !ok4 {
		t.Fatal("README.md has no quick start block between <!-- quickstart: and <!-- quickstart end -->")
	}
	var cmds []string
	for line := range strings.Lines(block) {
		if i := strings.Index(line, "   #"); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// TestQuickStartVM runs README's quick start as a new user would, in a
// module of their own outside this repository that knows nothing of
// Cocoon: it installs mkimage (from this checkout, through a replace
// directive, so that it works offline), which builds the user's package
// with the user's go.mod and the kernel from mkimage's own Cocoon, and
// boots it.
func TestQuickStartVM(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		testenv.Missing(t, "qemu-system-x86_64 not found: install the qemu-system-x86 package to run VM tests")
	}
	repo, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin, installer, app := filepath.Join(tmp, "bin"), filepath.Join(tmp, "installer"), filepath.Join(tmp, "myapp")
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]string{
		// 'go install ...@latest' stands for this: the same mkimage,
		// from this checkout.
		filepath.Join(installer, "go.mod"): "module example.com/installer\n\ngo 1.26\n\nrequire " + cocoonModule + " v0.0.0\n\nreplace " + cocoonModule + " => " + repo + "\n",
		filepath.Join(installer, "go.sum"): string(sum),
		filepath.Join(app, "go.mod"):       "module example.com/myapp\n\ngo 1.26\n",
		filepath.Join(app, "main.go"):      userProgram,
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOBIN="+bin, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")

	outputs := map[string]string{}
	for _, c := range quickStart(t) {
		dir := app
		if rest, ok := strings.CutPrefix(c, "go install "); ok {
			c, dir = "go install "+strings.TrimSuffix(rest, "@latest"), installer
		}
		cmd := exec.Command("sh", "-c", c)
		cmd.Dir, cmd.Env = dir, env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", c, err, stdout.String(), stderr.String())
		}
		t.Logf("%s\n%s%s", c, stdout.String(), stderr.String())
		outputs[c] = stdout.String()
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(app, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for cmd, want := range map[string]string{
		"mkimage version": "kernel:  " + DefaultKernel + "@v0.0.0, from " + repo,
		`mkimage run out/myapp hello "two words" -flag=x`:                                 `args=["hello" "two words" "-flag=x"] stdin="" dir=/ greeting=` + "\n",
		"mkimage run --env GREETING=hi --workdir /tmp out/myapp":                          `args=[] stdin="" dir=/tmp greeting=hi` + "\n",
		"mkimage build . --overcommit always -o out/small && mkimage run -m 32 out/small": `args=[] stdin="" dir=/ greeting=` + "\n",
	} {
		got, ran := outputs[cmd]
		if !ran {
			t.Errorf("README's quick start no longer has %q", cmd)
		} else if exact := !strings.Contains(cmd, "&&") && cmd != "mkimage version"; exact && got != want ||
			!exact && !strings.Contains(got, want) {
			t.Errorf("%s: stdout %q, want %q", cmd, got, want)
		}
	}
	if got, want := read("out.txt"), `args=[] stdin="some input\n" dir=/ greeting=`+"\n"; got != want {
		t.Errorf("out.txt %q, want %q", got, want)
	}
	if got := read("err.txt"); got != "to stderr\n" {
		t.Errorf("err.txt %q, want %q", got, "to stderr\n")
	}
}
