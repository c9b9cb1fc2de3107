package north_test

// Targeted hostile probes (north/testdata/probe): resource exhaustion and
// deadlock from CPL3, beyond the random fuzzer's single operations. The
// kernel survives every one: the probe (pid 1) runs each mode in its own
// process group, reports how it ended, and at the end a fresh fork and
// pipe still work ("probe: kernel alive"). Deterministic modes print the
// same as on Linux; exhaustion modes end with an errno of the class Linux
// gives there, or the program killed and reported.

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/qemu"
)

// probeKernelAlive runs the probe with modes in one guest and checks the
// kernel neither failed nor stopped serving; it returns the application's
// output.
func probeKernelAlive(t *testing.T, app string, memMiB int, modes ...string) (console, out string) {
	t.Helper()
	res, err := qemu.Run(context.Background(), qemu.Config{
		Profile: qemu.Microvm, Kernel: cocoonKernel(t), Initrd: app, Append: strings.Join(modes, " ") + " /tmp",
		MemoryMiB: memMiB, Timeout: 8 * time.Minute,
	})
	if res == nil {
		t.Fatalf("qemu: %v", err)
	}
	console = strings.ReplaceAll(res.Console, "\r", "")
	for _, bad := range kernelFailures {
		if strings.Contains(console, bad) {
			t.Fatalf("KERNEL FAILURE: %q on the console running %v:\n%s", bad, modes, console)
		}
	}
	if err != nil {
		t.Fatalf("running %v: %v (the probe, pid 1, must end by itself with status 0)\n%s", modes, err, console)
	}
	out = appOutput(console)
	if !strings.HasSuffix(out, "probe: kernel alive\n") {
		t.Fatalf("the kernel did not serve a fresh fork and pipe after %v:\n%s", modes, console)
	}
	if strings.Contains(out, "WATCHDOG") {
		t.Errorf("a mode was still running after 200 s:\n%s", console)
	}
	return console, out
}

// nativeArgs runs prog on the host with args and returns its output.
func nativeArgs(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s natively: %v\n%s", prog, err, out)
	}
	return string(out)
}

// probeDeterministic are the modes whose output is Linux's, line for line.
var probeDeterministic = []string{"epoll", "scmloop", "e2big", "sigrecurse", "altrecurse", "altbad",
	"sigstorm", "spin", "deadlock", "robust", "blocked", "deepdirs"}

// TestVMProbeDeterministic: epoll nesting and cycles (ELOOP), SCM_RIGHTS
// garbage loops, execve and iovec limits (E2BIG, EINVAL), signal-handler
// recursion on the stack and the alternate stack (killed by SIGSEGV),
// signal storms with stops, a busy loop with every signal blocked (only
// SIGKILL ends it), an ABBA futex deadlock, robust lists that loop or
// point nowhere, readers blocked while their peer exits, directories
// nested past PATH_MAX and symbolic-link loops: as Linux.
func TestVMProbeDeterministic(t *testing.T) {
	cocoonKernel(t)
	prog := buildC(t, "testdata/probe/probe.c")
	dir := t.TempDir()
	want := nativeArgs(t, prog, append(probeDeterministic, dir)...)
	_, got := probeKernelAlive(t, packELF(t, prog), 256, probeDeterministic...)
	if got != want {
		t.Errorf("output differs from Linux's:\n%s--- Cocoon:\n%s--- Linux:\n%s", lineDiff(got, "Cocoon", want, "Linux"), got, want)
	}
}

// probeOutcome is a mode and the lines it must print: regular
// expressions that list the outcomes Linux allows (its errno class,
// never a count).
type probeOutcome struct {
	mode string
	want []string
}

// probeExhaustion run a resource out.
var probeExhaustion = []probeOutcome{
	{"forkbomb", []string{`forkbomb: fork failed with: (EAGAIN|ENOMEM|EAGAIN ENOMEM)`, `forkbomb: root killed: Killed`}},
	{"threadbomb", []string{`threadbomb: clone failed with: (EAGAIN|ENOMEM)`, `threadbomb: fork after: ok`}},
	{"fdbomb", []string{`fdbomb: dup at the soft limit: EMFILE, table full: yes`,
		`fdbomb: eventfd in 8 processes failed with: ` + probeErrs(`EMFILE|ENFILE|ENOMEM`)}},
	{"timerstorm", []string{`timerstorm: 500 timerfds firing every nanosecond: read`}},
	{"timerbomb", []string{`timerbomb: timer_create failed with: (EAGAIN|ENOMEM)`}},
	{"sigqueue", []string{`sigqueue: failed with: EAGAIN`, `sigqueue: kill with the queue full: ok`}},
	{"mmapmany", []string{`mmapmany: mmap failed with: ENOMEM`, `mmapmany: split a mapping at the limit: ENOMEM`,
		`mmapmany: fork with every mapping: ok`}},
}

// probeKernelMemory make the kernel allocate for eight processes at once
// (pipe and socket buffers, open files, timers, mappings, epoll watches)
// until refused: Linux's errno for a failed kernel allocation or limit,
// or processes killed out of memory; never the kernel's heap exhausted.
var probeKernelMemory = []probeOutcome{
	{"pipefill", []string{`pipefill: 8 processes stopped with: ` + probeErrs(`EMFILE|ENFILE|ENOMEM`)}},
	{"sockfill", []string{`sockfill: 8 processes stopped with: ` + probeErrs(`EMFILE|ENFILE|ENOMEM|ENOBUFS`)}},
	{"timerbomb8", []string{`timerbomb8: 8 processes stopped with: ` + probeErrs(`EAGAIN`)}},
	{"mmapmany8", []string{`mmapmany8: 8 processes stopped with: ` + probeErrs(`ENOMEM`)}},
	{"epollbomb", []string{`epollbomb: 8 processes stopped with: ` + probeErrs(`ENOSPC|ENOMEM|EMFILE|ENFILE`)}},
}

// probeErrs matches the probe's list of the errnos processes stopped
// with, each one of alts, or "none" when every process was killed.
func probeErrs(alts string) string {
	one := `(` + alts + `)`
	return `(` + one + `( ` + one + `)*( \(some killed\))?|none \(some killed\))`
}

// checkProbe checks each mode printed its lines and ended by itself.
func checkProbe(t *testing.T, console, out string, modes []probeOutcome) {
	t.Helper()
	for _, m := range modes {
		for _, w := range m.want {
			if !regexp.MustCompile(`(?m)^` + w + `$`).MatchString(out) {
				t.Errorf("%s: no line matches %q", m.mode, w)
			}
		}
		if !strings.Contains(out, "probe "+m.mode+": exit 0\n") {
			t.Errorf("%s: did not end with exit 0", m.mode)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", console)
	}
}

func probeModes(ms []probeOutcome) []string {
	var modes []string
	for _, m := range ms {
		modes = append(modes, m.mode)
	}
	return modes
}

// TestVMProbeExhaustion: fork and thread bombs, descriptors of many
// processes, timers firing every nanosecond and created until refused,
// signals queued until refused, mappings until the map count limit. Each
// mode's outcome is Linux's errno class; the kernel serves on.
func TestVMProbeExhaustion(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildC(t, "testdata/probe/probe.c"))
	console, out := probeKernelAlive(t, app, 256, probeModes(probeExhaustion)...)
	checkProbe(t, console, out, probeExhaustion)
}

// TestVMProbeKernelMemory runs probeKernelMemory in a 128 MiB guest (less
// to fill under TCG). Before kernel.MemoryShort, pipefill and sockfill
// ended in a kernel page fault: the kernel's heap had no frame left.
func TestVMProbeKernelMemory(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildC(t, "testdata/probe/probe.c"))
	console, out := probeKernelAlive(t, app, 128, probeModes(probeKernelMemory)...)
	checkProbe(t, console, out, probeKernelMemory)
}

// TestVMProbeSocketMemory: internet sockets' memory. tcpreuse: 400
// loopback TCP connections, each sent 64 KiB never read, are closed, and
// the probe then touches the memory they had taken; before reclaim
// collected twice, netstack's buffer pools (sync.Pools, freed only by a
// second collection) kept about 25 MiB and the out-of-memory killer
// killed the probe. tcphoard: connections written a byte at a time and
// never read hold a packet buffer per byte; the sends stop where the
// kernel stops taking data buffers (EAGAIN, not writable) and a fork
// still works, where before socket() ended in ENFILE with the kernel's
// memory gone.
func TestVMProbeSocketMemory(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildC(t, "testdata/probe/probe.c"))
	console, out := probeKernelAlive(t, app, 128, "tcpreuse", "tcphoard")
	checkProbe(t, console, out, []probeOutcome{
		{"tcpreuse", []string{`tcpreuse: 400 connections closed, then their memory touched: ok`}},
		{"tcphoard", []string{`tcphoard: fork with 12 connections full: ok`}},
	})
}
