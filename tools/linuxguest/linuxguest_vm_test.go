package linuxguest

import (
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/qemu"
)

// A test that boots images/sysbench under Debian's cloud kernel in QEMU
// with TCG. It skips where QEMU is missing or no kernel can be found or
// fetched, and never asserts on timings.

// logWriter sends what it is given to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\r\n"))
	return len(p), nil
}

func TestRunSysbench(t *testing.T) {
	bin := cmp.Or(os.Getenv(qemu.BinaryEnv), "qemu-system-x86_64")
	if _, err := exec.LookPath(bin); err != nil {
		testenv.Missing(t, "skipping VM test: %s not found: install the qemu-system-x86 package", bin)
	}
	kernel, err := Kernel(t.Context(), "")
	if err != nil {
		testenv.Missing(t, "skipping VM test: no Linux kernel to boot: %v", err)
	}
	sysbench := filepath.Join(t.TempDir(), "sysbench")
	if err := BuildStatic(t.Context(), SysbenchPackage, sysbench); err != nil {
		t.Fatal(err)
	}

	var console strings.Builder
	res, err := Run(t.Context(), Options{
		Binary:  sysbench,
		Args:    []string{"-n=20000"},
		Kernel:  kernel,
		Timeout: 2 * time.Minute,
		Console: &console,
		Log:     logWriter{t},
	})
	if err != nil {
		t.Fatalf("Run(sysbench under %s) = %v", kernel, err)
	}
	t.Logf("console:\n%s", console.String())
	if len(res.Boots) != 1 {
		t.Fatalf("Run made %d boots, want 1", len(res.Boots))
	}
	b := res.Boots[0]
	if b.ToMain <= 0 || b.Wall < b.ToMain {
		t.Errorf("boot times: to main %v, wall %v; want 0 < to main <= wall", b.ToMain, b.Wall)
	}
	f := b.Figures
	if f.Getpid <= 0 || f.GetpidSyscall <= 0 || f.ClockGettime <= 0 {
		t.Errorf("figures = %+v, want all positive", f)
	}
	if !strings.Contains(b.Console, "(20000 calls)") {
		t.Errorf("sysbench did not get -n=20000 from the kernel command line; console:\n%s", b.Console)
	}
}
