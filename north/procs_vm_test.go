package north_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/u-root/u-root/pkg/cpio"
)

// procsScript exercises processes through busybox's shell: pipelines,
// command substitution, subshells, background jobs and wait, kill,
// xargs and find -exec, exit statuses, a pipeline inside a piped shell
// (its cat runs as /proc/self/exe, and its start reads the link: the
// kernel once recursed through it until out of memory). It runs from
// /tmp and prints the same on any system: the shell's "Terminated" for
// the killed job is printed only if the wait builtin reaps it, not if an
// earlier reap did (busybox ash dowait), a race natively too, so the
// wait's standard error goes to /dev/null.
const procsScript = `cd /tmp
D=/tmp/procs.$$
echo start
echo a b c | tr ' ' '\n' | sort -r | head -n 2
x=$(echo hello | tr a-z A-Z); echo "subst $x"
(cd / && echo "subshell $(pwd)"); echo "after $(pwd)"
(exit 3); echo "status $?"
sh -c 'exit 7' & pid=$!; wait $pid; echo "wait $?"
sleep 10 & kill $!; wait $! 2>/dev/null; echo "killed $?"
true & false & wait; echo "wait all $?"
mkdir -p $D/d; echo 1 > $D/a; echo 2 > $D/d/b
find $D -type f | sort | xargs cat
find $D -name b -exec cat {} \;
seq 1 5 | xargs -n 2 echo
echo x | { read v; echo "read $v"; }
sh -c 'echo nested | cat' | cat
false | true; echo "pipe status $?"
echo $(( $(seq 1 10 | wc -l) * 2 ))
cat $D/a /nonexistent 2>/dev/null; echo "cat status $?"
echo "$(echo "$(echo nested)")"
rm -rf $D
echo end
exit 5
`

// applets are the busybox commands the script runs as programs.
var applets = []string{"sh", "cat", "tr", "sort", "head", "sleep", "mkdir", "find", "xargs", "seq", "wc", "rm", "echo", "true", "false", "kill"}

// TestVMShellProcesses runs procsScript under busybox sh inside Cocoon
// and natively, and compares the output and the exit status.
func TestVMShellProcesses(t *testing.T) {
	cocoonKernel(t)
	bb := busybox(t)
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}

	// Natively: busybox sh with the applets on PATH.
	bin := appletDir(t, bb, applets)
	script := filepath.Join(t.TempDir(), "s.sh")
	os.WriteFile(script, []byte(procsScript), 0o644)
	cmd := exec.Command(bb, "sh", script)
	cmd.Env = []string{"PATH=" + bin}
	want, err := cmd.CombinedOutput() // the console carries both
	wantStatus := 0
	if ee, ok := err.(*exec.ExitError); ok {
		wantStatus = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(want, []byte("end\n")) {
		t.Fatalf("native run did not finish: %q", want)
	}

	// Inside Cocoon: busybox as /init and /bin/busybox, applets in /bin.
	recs := []cpio.Record{
		cpio.StaticFile("init", string(data), 0o755),
		cpio.Directory("bin", 0o755),
		cpio.StaticFile("bin/busybox", string(data), 0o755),
		cpio.StaticFile("s.sh", procsScript, 0o644),
		cpio.Directory("tmp", 0o1777),
	}
	for _, a := range applets {
		recs = append(recs, cpio.Symlink("bin/"+a, "busybox"))
	}
	initrd := packRecords(t, "procs.cpio", recs)
	console, err := runApp(t, initrd, "cocoon.argv0=sh -- /s.sh")
	got := console
	if i := strings.Index(got, "start\n"); i >= 0 {
		got = got[i:]
	}
	if i := strings.Index(got, "end\n"); i >= 0 {
		got = got[:i+4]
	}
	if got != string(want) {
		t.Errorf("output inside Cocoon:\n%s\nnatively:\n%s", got, want)
	}
	if s := status(err); s != wantStatus {
		t.Errorf("exit status %d, natively %d", s, wantStatus)
	}
}

// nativeOnTerminal runs prog natively as the leader of a new session
// whose controlling terminal is a new pseudo-terminal on its fd 0, as
// Cocoon's pid 1 has the console; stdout and stderr are collected.
func nativeOnTerminal(t *testing.T, prog string, args ...string) string {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		testenv.Missing(t, "no pseudo-terminals (/dev/ptmx: %v): the native run needs a terminal", err)
	}
	defer ptmx.Close()
	// unlockpt and ptsname (TIOCSPTLCK, TIOCGPTN: include/uapi/asm-generic/ioctls.h).
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 { // unsafe: the ioctl's int argument
		t.Fatalf("TIOCSPTLCK: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 { // unsafe: the ioctl's int argument
		t.Fatalf("TIOCGPTN: %v", e)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	cmd := exec.Command(prog, args...)
	cmd.Stdin = tty
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s natively: %v\n%s", prog, err, out.String())
	}
	return out.String()
}

// TestVMProcessesDifferential runs north/testdata/procdiff natively (on
// a pseudo-terminal) and inside Cocoon (pid 1, on the console): job
// control, stop reports, isolation, names, PR_SET_PDEATHSIG, /proc/PID,
// System V segments and futexes across fork, execve from a threaded
// process. The outputs must be the same.
func TestVMProcessesDifferential(t *testing.T) {
	cocoonKernel(t)
	prog := buildC(t, "testdata/procdiff/procdiff.c")
	dir := t.TempDir()
	want := nativeOnTerminal(t, prog, dir)
	if !strings.Contains(want, "procdiff: done") || strings.Contains(want, "FAIL") {
		t.Fatalf("natively the program fails:\n%s", want)
	}
	console, err := runApp(t, packELF(t, prog), "/tmp")
	if err != nil {
		t.Fatalf("in Cocoon: %v", err)
	}
	if got := appOutput(console); got != want {
		t.Errorf("output differs from Linux's:\n%s--- Cocoon, in full:\n%s", lineDiff(got, "Cocoon", want, "Linux"), got)
	}
}

// debianBinary returns the program at path in Debian package pkg: the
// installed one if the package is installed, else the one unpacked from
// the package file (apt-get download needs no root).
func debianBinary(t *testing.T, pkg, path string) string {
	t.Helper()
	if out, err := exec.Command("dpkg", "-L", pkg).Output(); err == nil {
		for _, l := range strings.Fields(string(out)) {
			if l == path {
				return l
			}
		}
	}
	dir := t.TempDir()
	dl := exec.Command("apt-get", "download", pkg)
	dl.Dir = dir
	if b, err := dl.CombinedOutput(); err != nil {
		testenv.Missing(t, "%s is not installed and cannot be downloaded (%v: %s): apt-get install %s", pkg, err, b, pkg)
	}
	debs, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if len(debs) == 0 {
		testenv.Missing(t, "apt-get download %s produced no package: apt-get install %s", pkg, pkg)
	}
	if b, err := exec.Command("dpkg-deb", "-x", debs[0], filepath.Join(dir, "root")).CombinedOutput(); err != nil {
		testenv.Missing(t, "dpkg-deb -x: %v: %s: apt-get install %s", err, b, pkg)
	}
	return filepath.Join(dir, "root", path)
}

// bashTools are the programs north/testdata/bash/script.sh runs besides
// bash itself (busybox applets).
var bashTools = []string{"cat", "sort", "tr", "head", "wc", "rm"}

// TestVMBashStatic runs north/testdata/bash/script.sh (pipelines,
// functions, traps, subshells, command and process substitution, a
// child bash) under Debian's bash-static, natively and inside Cocoon,
// and compares the output and the exit status.
func TestVMBashStatic(t *testing.T) {
	cocoonKernel(t)
	bash := debianBinary(t, "bash-static", "/bin/bash-static")
	bb := busybox(t)
	script, err := os.ReadFile("testdata/bash/script.sh")
	if err != nil {
		t.Fatal(err)
	}
	bin := appletDir(t, bb, bashTools)
	if err := os.Symlink(bash, filepath.Join(bin, "bash")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, "testdata/bash/script.sh")
	cmd.Env = []string{"PATH=" + bin}
	want, err := cmd.CombinedOutput()
	wantStatus := 0
	if ee, ok := err.(*exec.ExitError); ok {
		wantStatus = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(want, []byte("\nend\n")) {
		t.Fatalf("native run did not finish: %q", want)
	}

	bashData, err := os.ReadFile(bash)
	if err != nil {
		t.Fatal(err)
	}
	bbData, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	recs := []cpio.Record{
		cpio.StaticFile("init", string(bashData), 0o755),
		cpio.Directory("bin", 0o755),
		cpio.StaticFile("bin/bash", string(bashData), 0o755),
		cpio.StaticFile("bin/busybox", string(bbData), 0o755),
		cpio.StaticFile("s.sh", string(script), 0o644),
		cpio.Directory("tmp", 0o1777),
	}
	for _, a := range bashTools {
		recs = append(recs, cpio.Symlink("bin/"+a, "busybox"))
	}
	initrd := packRecords(t, "bash.cpio", recs)
	console, err := runApp(t, initrd, "cocoon.argv0=bash -- /s.sh")
	got := appOutput(console)
	if i := strings.Index(got, "start\n"); i >= 0 {
		got = got[i:]
	}
	if got != string(want) {
		t.Errorf("output inside Cocoon differs:\n%s", lineDiff(got, "Cocoon", string(want), "Linux"))
	}
	if s := status(err); s != wantStatus {
		t.Errorf("exit status %d, natively %d", s, wantStatus)
	}
}

// cowGuestMiB is the RAM of TestVMForkCopyOnWrite's guest: room for the
// kernel and one copy of the 200 MiB heap, not for two.
const cowGuestMiB = 320

// TestVMForkCopyOnWrite forks a process holding a 200 MiB heap
// (north/testdata/cow) in a guest that could not hold two copies: the
// kernel's free-memory count shows fork copied none of it, and page
// counters show that writes after fork stay on their side. Natively the
// program must print the same but for the free-memory line.
func TestVMForkCopyOnWrite(t *testing.T) {
	cocoonKernel(t)
	prog := buildC(t, "testdata/cow/cow.c")
	out, err := exec.Command(prog).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "cow: done") || strings.Contains(string(out), "FAIL") {
		t.Fatalf("natively: %v\n%s", err, out)
	}
	want := strings.Replace(string(out), "heap written: ok\n", "heap written: ok\nfork copied less than 8 MiB: ok\n", 1)
	res, err := qemu.Run(context.Background(), qemu.Config{
		Profile: qemu.Microvm, Kernel: cocoonKernel(t), Initrd: packELF(t, prog), Append: "strict",
		MemoryMiB: cowGuestMiB, Timeout: 5 * time.Minute,
	})
	if res == nil {
		t.Fatalf("qemu: %v", err)
	}
	console := strings.ReplaceAll(res.Console, "\r", "")
	if err != nil {
		t.Fatalf("in Cocoon: %v\n%s", err, console)
	}
	if got := appOutput(console); got != want {
		t.Errorf("output differs:\n%s--- Cocoon, in full:\n%s", lineDiff(got, "Cocoon", want, "expected"), console)
	}
}

// TestVMForkLimit forks until fork fails: inside Cocoon the kernel's 64
// address spaces (kernel maxSpaces) run out first, and fork says EAGAIN,
// as Linux's process limits do; the refusal is reported, and once the
// children are reaped fork works again.
func TestVMForkLimit(t *testing.T) {
	cocoonKernel(t)
	console, err := runApp(t, packELF(t, buildC(t, "testdata/forklimit/forklimit.c")), "")
	if err != nil {
		t.Fatalf("in Cocoon: %v", err)
	}
	// pid 1's own space is one of the 64.
	for _, want := range []string{
		"forklimit: forked 63, then EAGAIN\n",
		"forklimit: reaped 63\n",
		"forklimit: fork after reaping: ok\n",
		"cocoon: application used unsupported fork beyond the kernel's 64 live address spaces: EAGAIN\n",
	} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
}

// TestVMForkResidentSet: a forked child's resident set starts without the
// pages of shared mappings and of private file mappings never written,
// which Linux's fork leaves to the child's faults, and what the child
// then reads and writes through each mapping is what Linux's sees
// (testdata/forkrss).
func TestVMForkResidentSet(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/forkrss/forkrss.c"), "forkrss: done")
}
