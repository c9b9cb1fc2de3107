package north_test

// TestVMProfile: cocoon.prof=PERIOD_US makes the kernel sample its own
// stacks and print them ("PROF" lines) when the application exits, and
// tools/pgo turns them and the kernel ELF into a CPU profile naming the
// kernel's functions (make pgo regenerates north/cocoon/default.pgo so).

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

func TestVMProfile(t *testing.T) {
	kernel := cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/hello"))
	console, err := runAppQuiet(t, app, "cocoon.prof=20")
	if err != nil {
		t.Fatalf("%v\n%s", err, console)
	}
	if !strings.Contains(console, "hello from /init") {
		t.Fatalf("the application did not run:\n%s", console)
	}
	m := regexp.MustCompile(`cocoon: cocoon.prof: (\d+) samples`).FindStringSubmatch(console)
	n := strings.Count(console, "\nPROF ")
	if m == nil || m[1] == "0" || n == 0 {
		t.Fatalf("no samples (%d PROF lines, summary %q); console tail:\n%s", n, m, console[max(0, len(console)-2000):])
	}
	dir := t.TempDir()
	con := filepath.Join(dir, "console.txt")
	if err := os.WriteFile(con, []byte(console), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "k.pgo")
	cmd := exec.Command("go", "run", "./tools/pgo", "-drop", "idleLoop", "-period", "20", "-o", out, kernel, con)
	cmd.Dir = ".."
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tools/pgo: %v\n%s", err, b)
	}
	t.Logf("%d PROF lines; %s", n, b)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	kernelFuncs, starts := 0, 0
	for _, fn := range p.Function {
		if strings.HasPrefix(fn.Name, "github.com/cocoon-vm/cocoon/") || strings.HasPrefix(fn.Name, "runtime.") {
			kernelFuncs++
		}
		if fn.StartLine > 0 {
			starts++
		}
	}
	if len(p.Sample) == 0 || kernelFuncs == 0 || starts == 0 {
		t.Errorf("profile: %d samples, %d functions (%d of the kernel or runtime, %d with a start line)", len(p.Sample), len(p.Function), kernelFuncs, starts)
	}
}
