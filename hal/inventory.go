package hal

// PCExits is the generic PC platform's host interface (hal/pc): every
// port, MMIO range, MSR and instruction by which an image on it reaches the
// host. It lives here, in a package without privileged code, so host tools
// (mkimage inspect) can show it.
var PCExits = []HostExit{
	{Kind: "port", Where: "0x3f8-0x3ff", What: "COM1 16550 UART: console"},
	{Kind: "port", Where: "0x2f8-0x2ff", What: "COM2 16550 UART: host channel (simulated PSP), when present"},
	{Kind: "port", Where: "0x40, 0x43", What: "8254 PIT channel 0: TSC and APIC timer calibration at boot"},
	{Kind: "port", Where: "0x70-0x71", What: "CMOS RTC: wall clock at boot"},
	{Kind: "port", Where: "0x21, 0xa1", What: "8259 PICs: masked at boot"},
	{Kind: "port", Where: "0xf4", What: "QEMU isa-debug-exit: power off with status"},
	{Kind: "mmio", Where: "0xfee00000-0xfee00fff", What: "local APIC: one-shot timer, EOI"},
	{Kind: "msr", Where: "0x1b", What: "IA32_APIC_BASE: locate the local APIC"},
	{Kind: "instruction", Where: "hlt", What: "idle"},
}

// KernelExits are the host-visible operations of the kernel itself, on
// any platform: instructions a hypervisor may intercept (AMD APM vol. 2,
// 15.9-15.12 "Instruction Intercepts"; under SEV-SNP they raise #VC).
var KernelExits = []HostExit{
	{Kind: "instruction", Where: "cpuid", What: "feature detection at boot and by the Go runtimes (kernel and application)"},
	{Kind: "instruction", Where: "xsetbv", What: "enable x87/SSE/AVX state at boot"},
	{Kind: "msr", Where: "0xc0000080", What: "EFER: long mode, NX, SYSCALL at boot"},
	{Kind: "msr", Where: "0xc0000081-0xc0000084", What: "STAR, LSTAR, SFMASK: the SYSCALL entry at boot"},
	{Kind: "msr", Where: "0xc0000100", What: "FS base: thread-local storage on every switch"},
	{Kind: "instruction", Where: "rdtsc", What: "the clock (kernel and vDSO)"},
	{Kind: "instruction", Where: "rdrand, rdseed", What: "entropy"},
}

// SNPExits is the SEV-SNP platform's host interface (package snp). The
// same devices as PCExits are reached through #VC and the GHCB instead of
// direct exits, so each appears as the GHCB event that carries it; the
// MSR protocol and the SNP events come on top. CPUID never reaches the
// host: the #VC handler answers it from the CPUID page.
var SNPExits = []HostExit{
	{Kind: "msr", Where: "0xc0010130", What: "GHCB MSR: MSR protocol (SEV information, hypervisor features, page state changes of the shared window at boot, GHCB registration, termination) and the GHCB address on every exit"},
	{Kind: "instruction", Where: "vmgexit", What: "every exit to the hypervisor"},
	{Kind: "ghcb", Where: "IOIO (0x7b)", What: "the ports of PCExits (COM1, COM2, PIT, RTC, PICs, isa-debug-exit), from #VC"},
	{Kind: "ghcb", Where: "MMIO read/write (0x80000001/2)", What: "local APIC at 0xfee00000, shared (C-bit clear) mapping only, from #VC"},
	{Kind: "ghcb", Where: "MSR (0x7c)", What: "IA32_APIC_BASE (0x1b), from #VC; EFER and the SYSCALL MSRs only if the hypervisor intercepts them (KVM does not for SEV-ES guests)"},
	{Kind: "ghcb", Where: "RDTSC/RDTSCP (0x6e/0x87)", What: "only if the hypervisor intercepts them, from #VC"},
	{Kind: "ghcb", Where: "SNP guest request, extended (0x80000011/12)", What: "attestation reports and derived keys (/dev/sev-guest), sealed with VMPCK0"},
	{Kind: "instruction", Where: "pvalidate", What: "rescind the shared window's validation at boot (no exit, RMP only)"},
}
