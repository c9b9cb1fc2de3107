package sigframe

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// probeSource is a C program that takes two signals on the host Linux
// kernel, a SIGSEGV on its alternate stack and a SIGUSR1 on its own stack,
// and prints where the kernel put each frame and what it wrote.
const probeSource = `#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <ucontext.h>

static char alt[1 << 16] __attribute__((aligned(4096)));
static sigjmp_buf env;

static void handler(int sig, siginfo_t *si, void *ctx) {
	ucontext_t *uc = ctx;
	uintptr_t frame = (uintptr_t)ctx - 8;
	uintptr_t fp = (uintptr_t)uc->uc_mcontext.fpregs;
	uint32_t *sw = fp ? (uint32_t *)(fp + 464) : 0;
	uint64_t mask;
	memcpy(&mask, &uc->uc_sigmask, 8);
	printf("sig=%d frame=%lu info=%lu pretcode=%lu rsp=%llu ucflags=%lu ssp=%lu sflags=%d ssize=%lu "
	       "trapno=%llu err=%llu cr2=%llu sicode=%d siaddr=%lu sigmask=%lu fpstate=%lu altsp=%lu altsize=%lu",
	       sig, frame, (uintptr_t)si, *(unsigned long *)frame, uc->uc_mcontext.gregs[REG_RSP],
	       uc->uc_flags, (uintptr_t)uc->uc_stack.ss_sp, uc->uc_stack.ss_flags, (unsigned long)uc->uc_stack.ss_size,
	       uc->uc_mcontext.gregs[REG_TRAPNO], uc->uc_mcontext.gregs[REG_ERR], uc->uc_mcontext.gregs[REG_CR2],
	       si->si_code, (uintptr_t)si->si_addr, (unsigned long)mask, fp, (uintptr_t)alt, (unsigned long)sizeof alt);
	if (sw)
		printf(" magic1=%u ext=%u xfeat=%lu xsize=%u magic2=%u", sw[0], sw[1], *(unsigned long *)(sw + 2), sw[4],
		       *(uint32_t *)(fp + sw[4]));
	printf(" minsigstksz=%lu\n", getauxval(51)); /* AT_MINSIGSTKSZ */
	fflush(stdout);
	if (sig == SIGSEGV)
		siglongjmp(env, 1);
}

int main(void) {
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
	struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO | SA_ONSTACK};
	sigaltstack(&ss, 0);
	sigaction(SIGSEGV, &sa, 0);
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, 0);
	if (!sigsetjmp(env, 1))
		*(volatile int *)0x1234 = 1;
	raise(SIGUSR1);
	return 0;
}
`

// TestAgainstHostLinux checks Place and the frame contents against the
// frames the host's Linux kernel builds, when the host is x86-64 Linux
// with a C compiler.
func TestAgainstHostLinux(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		testenv.Missing(t, "needs an x86-64 Linux host")
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		testenv.Missing(t, "no C compiler (cc): apt-get install gcc libc6-dev to compare frames with the host kernel's")
	}
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "probe.c"), filepath.Join(dir, "probe")
	if err := os.WriteFile(src, []byte(probeSource), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-O1", "-o", bin, src).CombinedOutput(); err != nil {
		testenv.Missing(t, "cc cannot build the probe (apt-get install gcc libc6-dev): %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		v := map[string]uint64{}
		for _, kv := range strings.Fields(sc.Text()) {
			k, val, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				u, err2 := strconv.ParseUint(val, 10, 64)
				if err2 != nil {
					t.Fatalf("probe output %q: %v", kv, err)
				}
				n = int64(u)
			}
			v[k] = uint64(n)
		}
		seen++
		checkHostFrame(t, v)
	}
	if seen != 2 {
		t.Fatalf("probe printed %d frames, want 2:\n%s", seen, out)
	}
}

func checkHostFrame(t *testing.T, v map[string]uint64) {
	t.Helper()
	sig := v["sig"]
	fpu := FPU{Size: FXSaveSize, Features: v["xfeat"]}
	if v["magic1"] == FPXstateMagic1 && v["ucflags"]&UCFPXstate != 0 {
		fpu = FPU{XSave: true, Size: int(v["xsize"]), Features: v["xfeat"]}
		if v["magic2"] != FPXstateMagic2 || v["ext"] != v["xsize"]+FPXstateMagic2Size {
			t.Errorf("signal %d: host magic2 %#x ext %d for xstate_size %d", sig, v["magic2"], v["ext"], v["xsize"])
		}
	}
	d := &Delivery{
		AltStack: AltStack{SP: v["altsp"], Size: v["altsize"]},
		FPU:      fpu,
		FPState:  make([]byte, fpu.Size),
	}
	if sig == linux.SigSegv {
		d.Flags = linux.SaOnstack
	}
	pl, err := Place(v["rsp"], d)
	if err != nil {
		t.Fatalf("signal %d: Place = %v", sig, err)
	}
	if pl.Frame != v["frame"] || pl.FPState != v["fpstate"] || pl.OnAltStack != (sig == linux.SigSegv) {
		t.Errorf("signal %d from RSP %#x: Place = frame %#x fpstate %#x (alt %v), host kernel frame %#x fpstate %#x",
			sig, v["rsp"], pl.Frame, pl.FPState, pl.OnAltStack, v["frame"], v["fpstate"])
	}
	// Linux's AT_MINSIGSTKSZ adds room for 32-bit frames and larger
	// states, so it is an upper bound for ours.
	if got := MinSigStackSize(fpu); v["minsigstksz"] != 0 && got > v["minsigstksz"] {
		t.Errorf("MinSigStackSize = %d, more than the host's AT_MINSIGSTKSZ %d", got, v["minsigstksz"])
	}
	if v["info"] != v["frame"]+frameInfo || v["pretcode"] == 0 {
		t.Errorf("signal %d: host siginfo at frame+%d, pretcode %#x", sig, v["info"]-v["frame"], v["pretcode"])
	}
	wantFlags := uint64(UCSigcontextSS | UCStrictRestoreSS)
	if fpu.XSave {
		wantFlags |= UCFPXstate
	}
	if v["ucflags"] != wantFlags {
		t.Errorf("signal %d: host uc_flags %#x, ours %#x", sig, v["ucflags"], wantFlags)
	}
	// uc_stack records the registered alternate stack, flags as
	// registered (0), wherever the handler runs.
	if v["ssp"] != v["altsp"] || v["ssize"] != v["altsize"] || v["sflags"] != 0 {
		t.Errorf("signal %d: host uc_stack = %#x %#x %d, want %#x %#x 0", sig, v["ssp"], v["ssize"], v["sflags"], v["altsp"], v["altsize"])
	}
	if v["sigmask"] != 0 {
		t.Errorf("signal %d: host uc_sigmask %#x, want the mask before delivery (0)", sig, v["sigmask"])
	}
	if sig == linux.SigSegv {
		info := SigInfo{Signo: linux.SigSegv, Code: int32(v["sicode"]), Addr: v["siaddr"]}
		if info.Code != linux.SegvMaperr || info.Addr != 0x1234 || info.Layout() != LayoutFault {
			t.Errorf("host SIGSEGV siginfo code %d addr %#x", info.Code, info.Addr)
		}
		// #PF (vector 14), error code 6: user-mode write to a
		// non-present page; CR2 the address.
		if v["trapno"] != 14 || v["err"] != 6 || v["cr2"] != 0x1234 {
			t.Errorf("host SIGSEGV trapno %d err %#x cr2 %#x", v["trapno"], v["err"], v["cr2"])
		}
	}
}
