package north_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/u-root/u-root/pkg/cpio"
)

// busybox returns the static busybox of Debian's busybox-static package:
// the installed one if the package is installed, else the binary unpacked
// from the package file (apt-get download needs no root).
func busybox(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command("dpkg", "-L", "busybox-static").Output(); err == nil {
		for _, l := range strings.Fields(string(out)) {
			if strings.HasSuffix(l, "/bin/busybox") {
				return l
			}
		}
	}
	dir := t.TempDir()
	dl := exec.Command("apt-get", "download", "busybox-static")
	dl.Dir = dir
	if b, err := dl.CombinedOutput(); err != nil {
		testenv.Missing(t, "busybox-static is not installed and cannot be downloaded (%v: %s): apt-get install busybox-static", err, b)
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "busybox-static_*.deb"))
	if len(debs) == 0 {
		testenv.Missing(t, "apt-get download busybox-static produced no package: apt-get install busybox-static")
	}
	if b, err := exec.Command("dpkg-deb", "-x", debs[0], filepath.Join(dir, "root")).CombinedOutput(); err != nil {
		testenv.Missing(t, "dpkg-deb -x: %v: %s: apt-get install busybox-static", err, b)
	}
	return filepath.Join(dir, "root", "bin", "busybox")
}

// packBusybox makes an initrd with busybox at /init and a few files.
func packBusybox(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(busybox(t))
	if err != nil {
		t.Fatal(err)
	}
	return packRecords(t, "busybox.cpio", []cpio.Record{
		cpio.StaticFile("init", string(data), 0o755),
		cpio.Directory("etc", 0o755),
		cpio.StaticFile("etc/motd", "welcome to cocoon\n", 0o644),
		cpio.Directory("tmp", 0o1777),
	})
}

// TestVMBusybox runs Debian's static (glibc) busybox, a C program, as
// the application.
func TestVMBusybox(t *testing.T) {
	cocoonKernel(t)
	initrd := packBusybox(t)
	for _, c := range []struct {
		cmdline string
		want    []string
	}{
		{"cocoon.argv0=echo hello from busybox", []string{"hello from busybox"}},
		{"cocoon.argv0=ls /", []string{"etc", "init", "tmp"}},
		{"cocoon.argv0=cat /etc/motd", []string{"welcome to cocoon"}},
		// Shell builtins only (TestVMShellProcesses runs programs).
		{`cocoon.argv0=sh -- -c "echo one; echo two > /tmp/f; read x < /tmp/f; echo got $x"`, []string{"one", "got two"}},
	} {
		t.Run(strings.Fields(c.cmdline)[0][len("cocoon.argv0="):], func(t *testing.T) {
			console, err := runApp(t, initrd, c.cmdline)
			if err != nil {
				t.Fatalf("exit: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(console, w) {
					t.Errorf("console lacks %q", w)
				}
			}
		})
	}
}
