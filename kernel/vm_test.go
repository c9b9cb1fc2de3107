package kernel_test

// QEMU integration tests: boot images/selftest on each machine profile
// (TCG) and check what it prints and the exit status the host sees.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// kernelImage builds the kernel main package ./images/<name> once.
func kernelImage(t *testing.T, name string) string {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		testenv.Missing(t, "qemu-system-x86_64 not found: install the qemu-system-x86 package to run VM tests")
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "cocoon-vm-test")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".elf")
	if err := kbuild.Kernel(context.Background(), "./images/"+name, p, kbuild.Options{Dir: ".."}); err != nil {
		t.Fatalf("building images/%s: %v", name, err)
	}
	built[name] = p
	return p
}

func boot(t *testing.T, profile qemu.Profile, args string) (string, error) {
	t.Helper()
	return bootImage(t, "selftest", profile, args)
}

func bootImage(t *testing.T, name string, profile qemu.Profile, args string) (string, error) {
	t.Helper()
	res, err := qemu.Run(context.Background(), qemu.Config{
		Profile:   profile,
		Kernel:    kernelImage(t, name),
		Append:    args,
		MemoryMiB: 128,
		Timeout:   5 * time.Minute,
	})
	if res == nil {
		t.Fatalf("qemu.Run: %v", err)
	}
	console := strings.ReplaceAll(res.Console, "\r", "")
	t.Logf("%s %q: %v\n%s", profile, args, err, console)
	return console, err
}

var profiles = []qemu.Profile{qemu.Microvm, qemu.Q35}

func TestVMSelftest(t *testing.T) {
	for _, p := range profiles {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			console, err := boot(t, p, "all GREETING=hi")
			if err != nil {
				t.Fatalf("selftest all: %v", err)
			}
			for _, want := range []string{
				"selftest: main reached",
				`hello: args=["cocoon" "all"] env=["GREETING=hi"]`,
				"goroutines: ok: 10000 goroutines",
				"gc: ok",
				"sleep: ok",
				"wx: ok",
				"selftest: PASS",
				"cocoon: exit status 0",
			} {
				if !strings.Contains(console, want) {
					t.Errorf("console lacks %q", want)
				}
			}
			// The GC line carries the figures the acceptance asks for.
			m := regexp.MustCompile(`gc: allocated (\d+) MiB with (\d+) MiB of RAM, (\d+) GC cycles`).FindStringSubmatch(console)
			if m == nil {
				t.Fatal("no gc figures on the console")
			}
			alloc, _ := strconv.Atoi(m[1])
			ram, _ := strconv.Atoi(m[2])
			cycles, _ := strconv.Atoi(m[3])
			if alloc <= 8*ram || cycles < 50 {
				t.Errorf("gc allocated %d MiB with %d MiB RAM in %d cycles; want > 8x RAM and >= 50 cycles", alloc, ram, cycles)
			}
			if m := regexp.MustCompile(`threads: \d+ kernel threads alive, (\d+) created`).FindStringSubmatch(console); m == nil || m[1] < "2" {
				t.Errorf("want at least 2 runtime threads created, console says %v", m)
			}
		})
	}
}

// TestVMPanicIsAKernelBug: a panic in the kernel's Go program (here the
// selftest kernel's deliberate one) is announced as a kernel bug, with
// its stack, and ends with ExitKernelFault, which no application exit
// status can be mistaken for.
func TestVMPanicIsAKernelBug(t *testing.T) {
	for _, p := range profiles {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			console, err := boot(t, p, "panic")
			var ee *qemu.ExitError
			if !errors.As(err, &ee) || ee.Status != kernel.ExitKernelFault {
				t.Fatalf("panic run: err = %v, want exit status %d", err, kernel.ExitKernelFault)
			}
			for _, want := range []string{"Cocoon kernel bug", "panic: selftest: deliberate panic", "goroutine 1 [running]",
				"cocoon: kernel bug (runtime exit status 2)", "cocoon: exit status 126"} {
				if !strings.Contains(console, want) {
					t.Errorf("console lacks %q", want)
				}
			}
			if strings.Index(console, "Cocoon kernel bug") > strings.Index(console, "panic: selftest") {
				t.Error("the banner comes after the panic message")
			}
		})
	}
}

func TestVMExitStatus(t *testing.T) {
	for _, n := range []int{0, 7, 100} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			console, err := boot(t, qemu.Microvm, "exit "+strconv.Itoa(n))
			if n == 0 {
				if err != nil {
					t.Fatalf("exit 0: err = %v", err)
				}
			} else {
				var ee *qemu.ExitError
				if !errors.As(err, &ee) || ee.Status != n {
					t.Fatalf("exit %d: err = %v, want ExitError{%d}", n, err, n)
				}
			}
			if !strings.Contains(console, "cocoon: exit status "+strconv.Itoa(n)) {
				t.Errorf("console lacks the exit status line")
			}
		})
	}
}

// TestVMUserMode runs hand-assembled code at CPL3: system calls come back
// to the kernel with their arguments; reading kernel memory, HLT, WRMSR,
// UD2 and division by zero fault; a spinning program is interrupted.
func TestVMUserMode(t *testing.T) {
	for _, p := range profiles {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			console, err := bootImage(t, "usermode", p, "")
			if err != nil {
				t.Fatalf("usermode: %v", err)
			}
			for _, want := range []string{
				`usermode: application wrote "hello\n"`,
				"usermode: reading kernel memory: page fault at 0x7e0000200000",
				"usermode: hlt: fault vector 13",
				"usermode: wrmsr: fault vector 13",
				"usermode: spinning application interrupted 3 times",
				"usermode: PASS",
			} {
				if !strings.Contains(console, want) {
					t.Errorf("console lacks %q", want)
				}
			}
		})
	}
}

// TestVMProtections: the boot console says SMEP, SMAP and UMIP are on
// (QEMU's "max" CPU has them); on a CPU without SMEP and SMAP the kernel
// refuses to boot, unless built with the opt-out, which says so.
func TestVMProtections(t *testing.T) {
	console, err := boot(t, qemu.Microvm, "exit 0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(console, "cocoon: protections: SMEP on SMAP on UMIP on") {
		t.Error("the boot console does not say SMEP, SMAP and UMIP are on")
	}
	run := func(kernelPath string) (string, error) {
		res, err := qemu.Run(context.Background(), qemu.Config{
			Profile: qemu.Microvm, Kernel: kernelPath, Append: "exit 0", MemoryMiB: 128,
			CPU: "max,-smep,-smap", Timeout: 5 * time.Minute,
		})
		if res == nil {
			t.Fatalf("qemu.Run: %v", err)
		}
		c := strings.ReplaceAll(res.Console, "\r", "")
		t.Logf("%v\n%s", err, c)
		return c, err
	}
	console, err = run(kernelImage(t, "selftest"))
	var ee *qemu.ExitError
	if !errors.As(err, &ee) || ee.Status != 1 || !strings.Contains(console, "refusing to boot") {
		t.Errorf("without SMEP and SMAP: err = %v, want exit status 1 and a refusal", err)
	}
	if strings.Contains(console, "selftest: main reached") {
		t.Error("the kernel ran its program without SMEP and SMAP")
	}
	optOut := filepath.Join(t.TempDir(), "optout.elf")
	if err := kbuild.Kernel(context.Background(), "./images/selftest", optOut, kbuild.Options{Dir: "..", AllowNoSMEPSMAP: true}); err != nil {
		t.Fatal(err)
	}
	console, err = run(optOut)
	if err != nil {
		t.Fatalf("opt-out image without SMEP and SMAP: %v", err)
	}
	for _, want := range []string{"SMEP OFF SMAP OFF", "built with the opt-out", "cocoon: exit status 0"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
}
