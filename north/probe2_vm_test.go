package north_test

// CPU-level hostile probes (north/testdata/probe2): privileged and odd
// instructions, forged iretq and rt_sigreturn frames (selectors, flags,
// extended state), signal delivery onto bad stacks, the top of the user
// address space, the vsyscall page, arch_prctl, modify_ldt and iopl. Each
// case runs in its own child of the probe; the probe reports how the child
// ended (exit status or killing signal) and what its fault handler saw
// (signal, si_code, si_addr, trapno, error code). The same binary runs
// natively on this Linux host and inside Cocoon; the reports must match
// case by case, except where probe2Differs says why they cannot.

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/qemu"
)

// probe2Cases splits the probe's output into its cases' reports.
func probe2Cases(out string) (names []string, reports map[string]string) {
	reports = map[string]string{}
	name := ""
	for _, l := range strings.SplitAfter(out, "\n") {
		if strings.HasPrefix(l, "case ") && strings.HasSuffix(l, ":\n") {
			name = strings.TrimSuffix(strings.TrimPrefix(l, "case "), ":\n")
			names = append(names, name)
			continue
		}
		if name != "" && strings.HasPrefix(l, "  ") {
			reports[name] += l
		}
	}
	return names, reports
}

// probe2Differs are the cases whose report depends on the machine, not
// on the kernel, with the reason.
var probe2Differs = map[string]string{
	// QEMU 7.2 TCG pops the IRETQ and far-RET frame of a CPL3 program
	// with a supervisor access, which SMAP refuses: a #PF with error
	// code 1 on the stack where hardware raises #GP or returns.
	"iret-self": tcgPop, "iret-kcs": tcgPop, "iret-noncanon": tcgPop, "iret-flags": tcgPop,
	"iret-ss-null": tcgPop, "iret-ss-cs": tcgPop, "iret-tf": tcgPop, "iret-nt": tcgPop,
	"far-jmp-kernel": tcgPop, "far-ret-null": tcgPop, "far-ret-rpl0": tcgPop, "far-ret-data": tcgPop,
	"icebp":         "QEMU TCG raises #UD for ICEBP (F1), hardware #DB",
	"tf-movss-int1": "QEMU TCG raises #UD for ICEBP (F1), hardware #DB",
	// The forged RSP is not canonical: landing's first push raises #SS
	// on hardware (SIGBUS, trapno 12), #GP under QEMU TCG, which checks
	// every address the same way.
	"sr-rsp-noncanon-alt": "QEMU TCG raises #GP, not #SS, for a stack access at a non-canonical address",
	"sysexit":             "SYSEXIT in long mode: #UD on QEMU's CPU model, #GP on this host's",
	"ac-misaligned":       "QEMU TCG does not raise #AC",
	"sse-div0":            noXM, "sse-invalid": noXM, "sse-inexact": noXM,
	"x87-stack": "QEMU TCG does not detect x87 stack underflow",
	// Linux runs int $0x80 as a 32-bit system call (CONFIG_IA32_EMULATION);
	// Cocoon has no 32-bit ABI and answers as Linux booted with
	// ia32_emulation=false: #GP(0x80*8+2), SIGSEGV.
	"int80-getpid": noIA32, "int80-bad": noIA32, "tf-int80": noIA32, "tf-movss-int80": noIA32,
	// Linux's GDT has a 32-bit user code segment (__USER32_CS), which a
	// forged frame's IRETQ enters; Cocoon's has none: #GP(0x20).
	"sr-cs-user32": noIA32, "sel-user32": noIA32,
	// UMIP: Linux emulates SGDT, SIDT, SMSW, SLDT and STR for CPL3 with
	// dummy values (arch/x86/kernel/umip.c); Cocoon lets them #GP.
	"sgdt": noUMIPEmu, "sidt": noUMIPEmu, "sldt": noUMIPEmu, "str": noUMIPEmu, "smsw": noUMIPEmu,
	// Cocoon rewrites the FS base on every return to user mode: a
	// selector loaded into FS does not take effect for long.
	"mov-fs-cs":     "the FS base is the kernel's copy, not the selector's",
	"ldt":           "modify_ldt is ENOSYS, as Linux built without CONFIG_MODIFY_LDT_SYSCALL",
	"arch-prctl-gs": "ARCH_SET_GS and ARCH_GET_GS are refused (EINVAL)",
	"alt-overflow":  "the signal frame's size follows the CPU's XSAVE area: QEMU's is smaller",
	// The initial stack is an 8 MiB mapping (RLIMIT_STACK's default)
	// that faults fill: a lower limit the program sets does not stop
	// its growth, as it stops Linux's expand_stack (acct_stack_growth).
	"stack-overflow-2m": "the stack is a fixed 8 MiB mapping, not a VMA that grows to the RLIMIT_STACK in force",
	// Cocoon's user memory ends at 0x7e0000000000 (its kernel lives
	// above): nothing maps the top pages below TASK_SIZE_MAX
	// (gap-syscall is the same case at Cocoon's end).
	"sr-rsp-top": noTop, "top-syscall": noTop, "deliver-rsp-top": noTop,
}

// probe2Alt are reports Cocoon may give instead of this host's, because
// Linux gives them too, built or booted otherwise.
var probe2Alt = map[string]string{
	// Without CONFIG_X86_IOPL_IOPERM (Cocoon has no port I/O).
	"iopl": "  iopl 0: ENOSYS\n  iopl 4: ENOSYS\n  ioperm beyond: ENOSYS\n  => exit 0\n",
}

// probe2HostDependent are the cases this host's Linux answers by its own
// hardware or configuration, with the reason: CPUID faulting, 5-level
// paging (a 56-bit TASK_SIZE_MAX), no vsyscall page.
func probe2HostDependent(t *testing.T, native map[string]string) map[string]string {
	t.Helper()
	skip := map[string]string{}
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatalf("reading the host's /proc/cpuinfo: %v", err)
	}
	flags := " "
	for _, l := range strings.Split(string(cpuinfo), "\n") {
		if strings.HasPrefix(l, "flags") {
			flags = l + " "
			break
		}
	}
	if strings.Contains(flags, " cpuid_fault ") {
		skip["arch-prctl-cpuid"] = "this host's CPU has CPUID faulting; Cocoon offers none (ENODEV)"
	}
	if !strings.Contains(flags, " xsavec ") {
		skip["sr-xcomp-bv"] = "this host's CPU has no compacted XSAVE form: its XRSTOR refuses one"
		skip["xcomp-bits"] = skip["sr-xcomp-bv"]
	}
	if strings.Contains(flags, " la57 ") {
		for _, n := range []string{"sr-rip-47", "noncanon-read", "noncanon-jmp", "arch-prctl", "arch-prctl-gs", "top-map",
			"top-syscall", "sr-rsp-top", "deliver-rsp-top", "top-read", "sr-rip-top", "alt-noncanon"} {
			skip[n] = "this host has 5-level paging"
		}
	}
	if !strings.Contains(native["maps-vsyscall"], "[vsyscall]") {
		for _, n := range []string{"vsyscall-read", "vsyscall-write", "vsyscall-misaligned", "vsyscall-page2", "vsyscall-time",
			"vsyscall-gettimeofday", "vsyscall-getcpu", "vsyscall-time-kptr", "vsyscall-time-unmapped", "vsyscall-badstack", "maps-vsyscall"} {
			skip[n] = "this host's Linux has no vsyscall page (vsyscall=none)"
		}
	}
	return skip
}

// probe2TCGErr are error codes QEMU TCG gets wrong, mapped to the
// hardware's: an INT n through a DPL0 gate raises #GP(n*16+2) under TCG,
// #GP(n*8+2) on hardware (see tcgIntErr).
var probe2TCGErr = map[string][2]string{
	"int1": {"err 0x12", "err 0xa"}, "int-0x20": {"err 0x202", "err 0x102"}, "int-0xff": {"err 0xff2", "err 0x7fa"},
}

const (
	tcgPop    = "QEMU TCG: IRETQ and far RET at CPL3 pop with a supervisor access (SMAP #PF)"
	noIA32    = "no 32-bit system calls"
	noXM      = "QEMU TCG does not raise #XM for an unmasked SSE exception"
	noUMIPEmu = "UMIP instructions not emulated"
	noTop     = "Cocoon's user memory ends at 0x7e0000000000"
)

// TestVMProbe2 runs every case natively and in one Cocoon guest.
func TestVMProbe2(t *testing.T) {
	cocoonKernel(t)
	prog := buildC(t, "testdata/probe2/probe2.c")
	want := nativeArgs(t, prog)
	res, err := qemu.Run(context.Background(), qemu.Config{
		Profile: qemu.Microvm, Kernel: cocoonKernel(t), Initrd: packELF(t, prog),
		MemoryMiB: 256, Timeout: 5 * time.Minute,
	})
	if res == nil {
		t.Fatalf("qemu: %v", err)
	}
	console := strings.ReplaceAll(res.Console, "\r", "")
	for _, bad := range kernelFailures {
		if strings.Contains(console, bad) {
			t.Fatalf("KERNEL FAILURE: %q on the console:\n%s", bad, console)
		}
	}
	if err != nil {
		t.Fatalf("the probe (pid 1) must end by itself with status 0: %v\n%s", err, console)
	}
	got := appOutput(console)
	if !strings.HasSuffix(got, "probe2: kernel alive\n") {
		t.Fatalf("the kernel did not serve a fresh fork and pipe after the probes:\n%s", console)
	}
	names, gotCases := probe2Cases(got)
	wantNames, wantCases := probe2Cases(want)
	if len(names) != len(wantNames) {
		t.Errorf("Cocoon ran %d cases, Linux %d", len(names), len(wantNames))
	}
	hostOnly := probe2HostDependent(t, wantCases)
	for _, n := range wantNames {
		if alt, ok := probe2Alt[n]; ok && gotCases[n] == alt {
			continue
		}
		why, ok := probe2Differs[n]
		if !ok {
			why, ok = hostOnly[n]
		}
		if ok {
			t.Logf("%s: not compared (%s):\nCocoon:\n%sLinux:\n%s", n, why, gotCases[n], wantCases[n])
			continue
		}
		if e, ok := probe2TCGErr[n]; ok {
			gotCases[n] = strings.ReplaceAll(gotCases[n], e[0], e[1])
		}
		if gotCases[n] != wantCases[n] {
			t.Errorf("case %s: Cocoon\n%sLinux\n%s", n, gotCases[n], wantCases[n])
		}
	}
}
