package north_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

// The scripts of north/testdata/busybox run under Debian's static
// busybox sh, with every applet on PATH, natively and inside Cocoon; the
// outputs must be the same line for line. Each script prints "start"
// and "end" around what is compared, and takes an empty scratch
// directory on tmpfs as its argument ($1): /tmp inside Cocoon, a new
// directory of /dev/shm natively.

// scriptEnv is the environment both runs get besides PATH: Cocoon's init
// environment (HOME, TERM) and TZ=UTC, as the host's /etc/localtime is
// not the guest's.
var scriptEnv = []string{"HOME=/", "TERM=linux", "TZ=UTC"}

// busyboxApplets lists the applets of the busybox binary bb.
func busyboxApplets(t *testing.T, bb string) []string {
	t.Helper()
	out, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatalf("%s --list: %v", bb, err)
	}
	return strings.Fields(string(out))
}

// scratchDir makes the native run's scratch directory, on tmpfs like
// Cocoon's /tmp (du, stat's block counts and directory sizes are
// tmpfs's).
func scratchDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "cocoon-busybox")
	if err != nil {
		t.Fatalf("the native run needs tmpfs at /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// busyboxScript runs north/testdata/busybox/name, with the scratch
// directory and args as its arguments, natively and inside Cocoon and
// returns both outputs, from "start" to "end", and Cocoon's console in
// full.
func busyboxScript(t *testing.T, name string, args ...string) (got, want, console string) {
	t.Helper()
	cocoonKernel(t)
	// Cocoon's application runs as root; the scripts print ids, chown
	// and read files whatever their mode.
	if os.Geteuid() != 0 {
		t.Fatalf("the native run must be root, as the application inside Cocoon is (euid %d): run the test as root", os.Geteuid())
	}
	bb := busybox(t)
	applets := busyboxApplets(t, bb)
	script, err := os.ReadFile(filepath.Join("testdata/busybox", name))
	if err != nil {
		t.Fatal(err)
	}

	bin := appletDir(t, bb, applets)
	// The native run starts at nice 0, as Cocoon's application does,
	// whatever the test's own (ps and /proc/PID/stat show it).
	cmd := exec.Command(bb, append([]string{"sh", "-c", `renice 0 -p $$ >/dev/null && exec sh "$0" "$@"`,
		filepath.Join("testdata/busybox", name), scratchDir(t)}, args...)...)
	cmd.Env = append([]string{"PATH=" + bin}, scriptEnv...)
	out, _ := cmd.CombinedOutput() // the console carries both
	want = between(string(out))
	if !strings.HasSuffix(want, "end\n") {
		t.Fatalf("native run did not finish:\n%s", out)
	}

	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	recs := []cpio.Record{
		// /init leads to /bin/busybox, so the program's file and its
		// mappings are busybox's, as natively.
		cpio.Symlink("init", "bin/busybox"),
		cpio.Directory("bin", 0o755),
		cpio.StaticFile("bin/busybox", string(data), 0o755),
		cpio.StaticFile("s.sh", string(script), 0o644),
		// The names of uid and gid 0, which ls and tar print, as on the
		// host.
		cpio.Directory("etc", 0o755),
		cpio.StaticFile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644),
		cpio.StaticFile("etc/group", "root:x:0:\n", 0o644),
		cpio.Directory("tmp", 0o1777),
	}
	for _, a := range applets {
		if a != "busybox" {
			recs = append(recs, cpio.Symlink("bin/"+a, "busybox"))
		}
	}
	initrd := packRecords(t, "busybox.cpio", recs)
	// Natively the output goes to a pipe; inside Cocoon it goes to the
	// console, a terminal (ls prints columns there): a pipe to cat makes
	// it the same.
	console, err = runAppQuiet(t, initrd, "cocoon.argv0=sh "+strings.Join(scriptEnv, " ")+` -- -c "sh /s.sh /tmp `+strings.Join(args, " ")+` 2>&1 | cat"`)
	if err != nil {
		t.Errorf("inside Cocoon: %v", err)
	}
	return between(appOutput(console)), want, console
}

// between returns out from its "start" line to its "end" line.
func between(out string) string {
	if i := strings.Index(out, "start\n"); i >= 0 {
		out = out[i:]
	}
	if i := strings.Index(out, "\nend\n"); i >= 0 {
		out = out[:i+5]
	}
	return out
}

// compareScript fails t with the lines that differ.
func compareScript(t *testing.T, name string, args ...string) {
	t.Helper()
	got, want, console := busyboxScript(t, name, args...)
	if got != want {
		t.Errorf("%s: output inside Cocoon differs from Linux's:\n%s--- Cocoon's console:\n%s", name, lineDiff(got, "Cocoon", want, "Linux"), console)
	}
	for _, l := range strings.Split(console, "\n") {
		if strings.Contains(l, "unsupported") || strings.Contains(l, "unimplemented") {
			t.Logf("%s", l)
		}
	}
}

func TestVMBusyboxFiles(t *testing.T) { compareScript(t, "files.sh") }
func TestVMBusyboxShell(t *testing.T) { compareScript(t, "shell.sh") }

// TestVMBusyboxSystem: /proc, ps, id, uname, free, mount, df, and busybox
// httpd, wget and nc on the loopback. Natively the loopback is the
// host's: the ports are two the host has free.
func TestVMBusyboxSystem(t *testing.T) {
	compareScript(t, "system.sh", strconv.Itoa(freePort(t, "tcp")), strconv.Itoa(freePort(t, "tcp")))
}

// TestVMBusyboxMore: archivers and compressors round trips, text tools,
// find/xargs, process tools, fifos, sparse files.
func TestVMBusyboxMore(t *testing.T) { compareScript(t, "more.sh") }

// TestVMBusyboxProcSys: /proc/PID/cgroup and mountinfo as Go's runtime
// reads them, /sys's CPU lists against nproc and /proc/cpuinfo, the
// modes of /proc/PID/fd links, the times of /proc files, stat formats
// and ls -l of /dev.
func TestVMBusyboxProcSys(t *testing.T) { compareScript(t, "procsys.sh") }

// TestVMBusyboxBulk: find, xargs, sort and ls over five hundred files,
// readdir order, rm -r, dd with odd block sizes, offsets and conversions,
// touch -d/-r, date -r and ls -t.
func TestVMBusyboxBulk(t *testing.T) { compareScript(t, "bulk.sh") }
