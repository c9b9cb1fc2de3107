package main

// QEMU integration tests of 'mkimage run': what the application is given
// and what comes back.

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

// guestApp is the application of these tests (testdata/guestapp).
const guestApp = "./tools/mkimage/testdata/guestapp"

// guestImage builds an image of guestApp with the host directory dir as
// the image's directory dst, and returns its name.
func guestImage(t testing.TB, dir, dst string) string {
	t.Helper()
	name := attestImage(t, guestApp)
	app, err := appimage.BuildGo(context.Background(), guestApp, repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(app)
	if err := packArchive(app, []appimage.File{{Src: dir, Dst: dst}}, name+".cpio", io.Discard); err != nil {
		t.Fatal(err)
	}
	return name
}

// shown parses guestapp show's output: the hex strings of the lines with
// each prefix.
func shown(t *testing.T, out string) (args, env []string, dir string) {
	t.Helper()
	for line := range strings.Lines(out) {
		kind, h, ok := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		if !ok || kind != "ARG" && kind != "ENV" && kind != "DIR" {
			continue
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		switch kind {
		case "ARG":
			args = append(args, string(b))
		case "ENV":
			env = append(env, string(b))
		case "DIR":
			dir = string(b)
		}
	}
	return args, env, dir
}

// randWord returns a random string of the bytes that break naive
// command lines, and any other non-NUL byte.
func randWord(r *rand.Rand) string {
	special := []byte(" \"'=,%\\\t\n-é\xff")
	b := make([]byte, r.IntN(10))
	for i := range b {
		if r.IntN(2) == 0 {
			b[i] = special[r.IntN(len(special))]
		} else {
			b[i] = byte(1 + r.IntN(255))
		}
	}
	return string(b)
}

// TestRunArgvEnvWorkdirVM checks that random arguments and environment
// entries, and a working directory with a space and non-ASCII in its
// name, reach the application byte for byte, with Linux's defaults for
// what is not given.
func TestRunArgvEnvWorkdirVM(t *testing.T) {
	t.Parallel()
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	const dir = "/work dir é"
	img := guestImage(t, host, dir)

	r := rand.New(rand.NewPCG(7, uint64(os.Getpid())))
	args := []string{"show", "-test.run=X", "", "a b", `"quoted"`, "--format=esm", "if=/dev/zero", "--", "ünï"}
	var env []string
	for i := 0; i < 15; i++ {
		args = append(args, randWord(r))
		env = append(env, "K"+hex.EncodeToString([]byte{byte(i)})+"="+randWord(r))
	}
	env = append(env, "HOME=/home/me", "EMPTY=")
	flags := []string{"run", "--workdir", dir}
	for _, e := range env {
		flags = append(flags, "--env", e)
	}
	var stdout, stderr bytes.Buffer
	if code := run(append(append(flags, img), args...), nil, &stdout, &stderr); code != 0 {
		t.Fatalf("mkimage run: exit %d\nstderr: %s\nstdout: %s", code, stderr.String(), stdout.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q, want nothing", stderr.String())
	}
	gotArgs, gotEnv, gotDir := shown(t, stdout.String())
	if want := append([]string{"/init"}, args...); !reflect.DeepEqual(gotArgs, want) {
		t.Errorf("argv:\n got %q\nwant %q", gotArgs, want)
	}
	// HOME is overridden; PATH is Linux's default; no TERM, since the
	// application's streams are not a terminal.
	wantEnv := append([]string{"PATH=/sbin:/usr/sbin:/bin:/usr/bin"}, env...)
	if !reflect.DeepEqual(gotEnv, wantEnv) {
		t.Errorf("environment:\n got %q\nwant %q", gotEnv, wantEnv)
	}
	if gotDir != dir {
		t.Errorf("working directory %q, want %q", gotDir, dir)
	}
}

// TestRunRefusesLongCommandLine checks that arguments longer than the
// kernel command line are refused before anything boots.
func TestRunRefusesLongCommandLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "/nonexistent/image", strings.Repeat("é", 1500)}, nil, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "4095") {
		t.Errorf("exit %d, stderr %q; want 1 and the limit named", code, stderr.String())
	}
}

// TestRunStdioVM checks that standard input, output and error are
// separate exact byte streams: 1 MiB of random bytes (every byte value,
// "\n" and 0xff included) copied from standard input to standard output,
// the program's own line on standard error, and nothing else on either.
func TestRunStdioVM(t *testing.T) {
	t.Parallel()
	img := guestImage(t, t.TempDir(), "/d")
	in := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(3, uint64(os.Getpid())))
	for i := range in {
		in[i] = byte(r.Uint32())
	}
	in[0], in[1], in[2] = '\n', 0xff, 0x00
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", img, "copy"}, bytes.NewReader(in), &stdout, &stderr); code != 0 {
		t.Fatalf("mkimage run: exit %d\nstderr: %s", code, stderr.String())
	}
	if !bytes.Equal(stdout.Bytes(), in) {
		i := 0
		for i < len(in) && i < stdout.Len() && in[i] == stdout.Bytes()[i] {
			i++
		}
		t.Errorf("stdout: %d bytes, want the %d of stdin; they differ from byte %d", stdout.Len(), len(in), i)
	}
	if want := "copied 1048576 bytes\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}

	// No input at all: end of file at once.
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"run", img, "copy"}, nil, &stdout, &stderr); code != 0 || stdout.Len() != 0 || stderr.String() != "copied 0 bytes\n" {
		t.Errorf("no input: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

// BenchmarkStdioVM measures the application's standard streams, in
// bytes per second: standard input into guestapp sink on the virtio
// console (microvm) and on COM3 (q35, where the 16550 takes 14 bytes per
// turn of QEMU's I/O loop), and standard output from guestapp source (1
// MiB) on COM3. A run moving n bytes less a run moving none is the time
// n bytes took. make bench prints it.
func BenchmarkStdioVM(b *testing.B) {
	img := guestImage(b, b.TempDir(), "/d")
	timed := func(b *testing.B, profile, mode string, in []byte, want int) time.Duration {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		if code := run([]string{"run", "--profile", profile, img, mode}, bytes.NewReader(in), &stdout, &stderr); code != 0 || stdout.Len() != want {
			b.Fatalf("%s %s: exit %d, %d bytes out (want %d), stderr %q", profile, mode, code, stdout.Len(), want, stderr.String())
		}
		return time.Since(start)
	}
	rate := func(b *testing.B, n int, full, empty time.Duration) {
		b.ReportMetric(float64(n)/1024/max(full-empty, time.Millisecond).Seconds(), "KiB/s")
	}
	for _, c := range []struct {
		name, profile string
		n             int
	}{
		{"stdin-virtio-console", "microvm", 4 << 20},
		{"stdin-COM3", "q35", 64 << 10},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				empty := timed(b, c.profile, "sink", nil, 0)
				full := timed(b, c.profile, "sink", make([]byte, c.n), 0)
				rate(b, c.n, full, empty)
			}
		})
	}
	b.Run("stdout-COM3", func(b *testing.B) {
		for range b.N {
			empty := timed(b, "microvm", "sink", nil, 0)
			full := timed(b, "microvm", "source", nil, 1<<20)
			rate(b, 1<<20, full, empty)
		}
	})
}

// TestRunFailureShowsConsole checks that the kernel's messages, quiet on
// success, reach standard error when the application cannot start.
func TestRunFailureShowsConsole(t *testing.T) {
	t.Parallel()
	img := guestImage(t, t.TempDir(), "/d")
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "--workdir", "/no/such/dir", img, "show"}, nil, &stdout, &stderr)
	if code != 127 || !strings.Contains(stderr.String(), "working directory") || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want 127 and the kernel's reason on stderr", code, stdout.String(), stderr.String())
	}
}

// TestRunEFIStdioVM checks the streams through OVMF: the firmware writes
// to the console, never into the application's streams; and that too
// little memory for the firmware ends the run with a clear error.
func TestRunEFIStdioVM(t *testing.T) {
	t.Parallel()
	img := guestImage(t, t.TempDir(), "/d")
	if err := writeEFI(img, "efi", nil, "", io.Discard); err != nil {
		t.Fatal(err)
	}
	in := "a\nb\r\n\xff\x00é"
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", img + ".efi", "copy"}, strings.NewReader(in), &stdout, &stderr); code != 0 {
		t.Fatalf("mkimage run: exit %d\nstderr: %s", code, stderr.String())
	}
	if stdout.String() != in || stderr.String() != fmt.Sprintf("copied %d bytes\n", len(in)) {
		t.Errorf("stdout %q (want %q), stderr %q", stdout.String(), in, stderr.String())
	}

	// Too little memory for the firmware, the image and its initrd:
	// OVMF gives up on it (or the kernel finds its range taken), and
	// mkimage run says so instead of waiting for the timeout at the
	// firmware's prompt. Too little for the firmware itself is refused.
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"run", "-m", "40", img + ".efi", "copy"}, nil, &stdout, &stderr)
	if e := stderr.String(); code != 1 || strings.Contains(e, "timed out") ||
		!strings.Contains(e, "the firmware (OVMF) did not start the image") && !strings.Contains(e, "cannot move the kernel there") {
		t.Errorf("-m 40: exit %d, stderr %q; want the firmware's or the kernel's refusal", code, e)
	}
	stderr.Reset()
	if code := run([]string{"run", "-m", "32", img + ".efi", "copy"}, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "at least 40 MiB") {
		t.Errorf("-m 32: exit %d, stderr %q; want a refusal naming 40 MiB", code, stderr.String())
	}
}

// TestRunMemoryVM checks both sides of too little memory on the hello
// image as mkimage builds it (a PVH-only kernel at 2 MiB, its bss
// trimmed): mkimage run refuses -m 16 before booting and names the
// minimum, hello runs in that minimum and, with --overcommit always for
// the run, in 32 MiB; and the kernel, given less RAM
// than its image spans by a launcher that did not check, says so and
// stops instead of hanging.
func TestRunMemoryVM(t *testing.T) {
	t.Parallel()
	img := filepath.Join(t.TempDir(), "hello")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"build", "--spec", "none", "-o", img, "../../images/hello"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("build: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	// hello makes no sockets: its kernel has no network, and mkimage
	// run refuses to give it one.
	kernel, err := os.ReadFile(img + ".elf")
	if err != nil {
		t.Fatal(err)
	}
	if !kbuild.WithoutNetwork(kernel) || !strings.Contains(stderr.String(), "the kernel has no network") {
		t.Errorf("hello's kernel has network (stderr %q)", stderr.String())
	}
	stdout.Reset()
	if code := run([]string{"inspect", img}, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "network: none") {
		t.Errorf("inspect: exit %d, stdout %q; want network: none", code, stdout.String())
	}
	stderr.Reset()
	if code := run([]string{"run", "--net", "user", img}, nil, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "mkimage build --network on") {
		t.Errorf("--net user on a kernel without network: exit %d, stderr %q", code, stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	min, err := qemu.MinMemoryMiB(img+".elf", img+".cpio", "")
	if err != nil || min <= 16 {
		t.Fatalf("MinMemoryMiB = %d, %v", min, err)
	}
	always, err := qemu.MinMemoryMiB(img+".elf", img+".cpio", "sysctl.vm.overcommit_memory=1")
	if err != nil || always >= min {
		t.Fatalf("MinMemoryMiB with overcommit always = %d, %v; want less than %d", always, err, min)
	}
	t.Logf("hello's minimum: %d MiB (%d with overcommit always)", min, always)
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"run", "-m", "16", img}, nil, &stdout, &stderr)
	if want := fmt.Sprintf("at least %d MiB", min); code != 1 || !strings.Contains(stderr.String(), want) ||
		!strings.Contains(stderr.String(), fmt.Sprintf("'mkimage build --overcommit always' (the kernel word sysctl.vm.overcommit_memory=1) needs only %d MiB", always)) {
		t.Errorf("-m 16: exit %d, stderr %q; want 1, %q and the minimum under overcommit always", code, stderr.String(), want)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"run", "-m", strconv.Itoa(min), img, "at", "the minimum"}, nil, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), `args=["at" "the minimum"]`) {
		t.Errorf("-m %d (the minimum): exit %d, stdout %q, stderr %q", min, code, stdout.String(), stderr.String())
	}
	// The policy chosen for one run.
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"run", "-m", "32", "--overcommit", "always", img}, nil, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), "hello from /init") {
		t.Errorf("-m 32 --overcommit always: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}

	// Bypass the check, with no initrd (QEMU would refuse one over the
	// kernel): RAM ends inside the kernel's bss.
	f, err := elf.Open(img + ".elf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var end uint64
	for _, p := range f.Progs {
		end = max(end, p.Paddr+p.Memsz)
	}
	short := strconv.Itoa(int(end>>20) - 1)
	res, err := qemu.Run(context.Background(), qemu.Config{
		Kernel: img + ".elf", Extra: []string{"-m", short}, Timeout: 2 * time.Minute,
	})
	if res == nil {
		t.Fatalf("-m %s past the check: %v", short, err)
	}
	if !strings.Contains(res.Console, "cocoon: the kernel image needs RAM up to") {
		t.Errorf("-m %s past the check: %v, console %q; want the kernel's message", short, err, res.Console)
	}
}

// TestRun32VM checks the hello image built with --overcommit always: it
// runs in 32 MiB, and in the minimum mkimage run names, which is below
// that; one MiB less is refused before booting, naming it, and so is a
// build that records it.
func TestRun32VM(t *testing.T) {
	t.Parallel()
	img := filepath.Join(t.TempDir(), "hello")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"build", "--spec", "none", "--overcommit", "always", "-o", img, "../../images/hello"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("build: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	rc, err := readRunConfig(img)
	if err != nil || rc.Overcommit != "always" {
		t.Fatalf("NAME.run.json: %+v, %v; want overcommit always", rc, err)
	}
	min, err := qemu.MinMemoryMiB(img+".elf", img+".cpio", "sysctl.vm.overcommit_memory=1")
	if err != nil || min > 32 {
		t.Fatalf("MinMemoryMiB = %d, %v; want at most 32", min, err)
	}
	t.Logf("hello's minimum with overcommit always: %d MiB", min)
	for _, m := range []int{32, min} {
		stdout.Reset()
		stderr.Reset()
		if code := run([]string{"run", "-m", strconv.Itoa(m), img, "in", fmt.Sprintf("%d MiB", m)}, nil, &stdout, &stderr); code != 0 ||
			!strings.Contains(stdout.String(), fmt.Sprintf(`args=["in" "%d MiB"]`, m)) {
			t.Errorf("-m %d: exit %d, stdout %q, stderr %q", m, code, stdout.String(), stderr.String())
		}
	}
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"run", "-m", strconv.Itoa(min - 1), img}, nil, &stdout, &stderr)
	if want := fmt.Sprintf("at least %d MiB", min); code != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("-m %d: exit %d, stderr %q; want 1 and %q", min-1, code, stderr.String(), want)
	}
	// Past the check, RAM for the kernel's image, the initrd and its
	// first MiB, and 5 MiB more: the kernel boots, and says why /init
	// cannot start.
	f, err := elf.Open(img + ".elf")
	if err != nil {
		t.Fatal(err)
	}
	var start, end uint64 = ^uint64(0), 0
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if p.Paddr < start {
			start = p.Paddr
		}
		if p.Paddr+p.Memsz > end {
			end = p.Paddr + p.Memsz
		}
	}
	f.Close()
	st, err := os.Stat(img + ".cpio")
	if err != nil {
		t.Fatal(err)
	}
	short := strconv.Itoa(int((1<<20+end-start+uint64(st.Size())+1<<20-1)>>20) + 5)
	res, err := qemu.Run(context.Background(), qemu.Config{
		Kernel: img + ".elf", Initrd: img + ".cpio", Append: "sysctl.vm.overcommit_memory=1", Extra: []string{"-m", short}, Timeout: 5 * time.Minute,
	})
	if res == nil || !strings.Contains(res.Console, "leave too little for the application") || !strings.Contains(res.Console, "give the machine more memory") {
		t.Errorf("-m %s past the check: %v, console %q; want the kernel's message", short, err, res.Console)
	}

	// A build that records too little memory for 'mkimage run' is
	// refused, naming the minimum.
	stdout.Reset()
	stderr.Reset()
	code = run([]string{"build", "--spec", "none", "--overcommit", "always", "-m", strconv.Itoa(min - 1), "-o", img, "../../images/hello"}, nil, &stdout, &stderr)
	if want := fmt.Sprintf("the image needs at least %d MiB", min); code != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("build -m %d: exit %d, stderr %q; want 1 and %q", min-1, code, stderr.String(), want)
	}
}

// TestRunConfigVM checks that mkimage run starts an image as its
// NAME.run.json says, and that its own flags override that.
func TestRunConfigVM(t *testing.T) {
	t.Parallel()
	img := guestImage(t, t.TempDir(), "/d")
	rc := &runConfig{Args: []string{"show", "x y"}, Env: []string{"A=1"}, Workdir: "/d", Memory: 200}
	if err := writeRunConfig(img, rc, io.Discard); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", "--env", "B=2", img}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	args, env, dir := shown(t, stdout.String())
	if !reflect.DeepEqual(args, []string{"/init", "show", "x y"}) || !slices.Contains(env, "A=1") || !slices.Contains(env, "B=2") || dir != "/d" {
		t.Errorf("args %q env %q dir %q", args, env, dir)
	}
	stdout.Reset()
	if code := run([]string{"run", "--workdir", "/", img, "show"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if args, _, dir := shown(t, stdout.String()); !reflect.DeepEqual(args, []string{"/init", "show"}) || dir != "/" {
		t.Errorf("with ARGS and --workdir given: args %q dir %q", args, dir)
	}
}

// TestRunStopSignalVM sends SIGTERM to a running 'mkimage run' (its
// application blocked reading standard input): QEMU must be gone when
// mkimage has exited, and mkimage's status is 128+15. Before, QEMU ran on
// orphaned, holding the guest and its published ports.
func TestRunStopSignalVM(t *testing.T) {
	t.Parallel()
	img := guestImage(t, t.TempDir(), "/d")
	mk := goProgram(t, t.TempDir(), "./tools/mkimage")
	cmd := exec.Command(mk, "run", img, "copy")
	in, err := cmd.StdinPipe() // held open: the application waits for input
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	qemuPID := 0
	for deadline := time.Now().Add(2 * time.Minute); qemuPID == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		qemuPID = childPID(cmd.Process.Pid)
	}
	if qemuPID == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("mkimage run started no QEMU\nstderr: %s", stderr.String())
	}
	time.Sleep(time.Second) // mkimage is past starting QEMU
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Errorf("mkimage run did not end on SIGTERM")
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", qemuPID)); err == nil {
		syscall.Kill(qemuPID, syscall.SIGKILL)
		t.Errorf("QEMU (pid %d) outlived mkimage run, which SIGTERM ended", qemuPID)
	}
	if code := cmd.ProcessState.ExitCode(); code != 128+int(syscall.SIGTERM) {
		t.Errorf("mkimage run exited %d on SIGTERM, want %d\nstderr: %s", code, 128+int(syscall.SIGTERM), stderr.String())
	}
}

// childPID returns the pid of a child process of pid, or 0.
func childPID(pid int) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		if fs := strings.Fields(string(b)); len(fs) > 0 {
			n, _ := strconv.Atoi(fs[0])
			return n
		}
	}
	return 0
}
