package hal

import "fmt"

// The host interface registry: every way an image can reach the host,
// by platform, and the functions (accessors) that hold the instructions
// that do it. `mkimage inspect` prints Inventory; tools/hostcheck
// disassembles each kernel image and fails if an instruction that can
// exit to the host (IN, OUT, INS, OUTS, RDMSR, WRMSR, CPUID, HLT,
// VMMCALL, VMCALL, VMGEXIT) lies outside Accessors, or if a port or MSR
// the code names is missing from the inventory (or one listed there is
// touched nowhere). It lives here, in a package without privileged code,
// so host tools can read it.
//
// Adding a device (a virtio-net driver, say): reach its ports through
// cpu.Inb/Outb/Inl/Outl with constant port numbers and add the range to
// the platform's list below (PCExits); map its MMIO registers with
// cpu.Device, which refuses a window outside the platform's KindMMIO
// ranges (MMIOAllowed), and list the range here. An accessor of a new
// kind (a new instruction, or a function whose port or window is not a
// constant at its call sites) goes into Accessors with what it touches.

// Kinds of HostExit.
const (
	KindPort        = "port"
	KindMSR         = "msr"
	KindMMIO        = "mmio"
	KindInstruction = "instruction"
	KindGHCB        = "ghcb"
)

// HostExit is one kind of access to the host: the image's host interface
// is the list of these.
type HostExit struct {
	Kind string
	// Lo and Hi bound, inclusive, the ports, MSR numbers or physical
	// addresses a port, msr or mmio exit touches.
	Lo, Hi uint64
	// Where names an instruction or GHCB event, for the other kinds.
	Where string
	What  string // the device or purpose
}

// Place is where the exit goes: its range, or Where.
func (e HostExit) Place() string {
	switch {
	case e.Kind != KindPort && e.Kind != KindMSR && e.Kind != KindMMIO:
		return e.Where
	case e.Lo == e.Hi:
		return fmt.Sprintf("%#x", e.Lo)
	}
	return fmt.Sprintf("%#x-%#x", e.Lo, e.Hi)
}

// Contains reports whether exit e of kind kind covers n.
func (e HostExit) Contains(kind string, n uint64) bool {
	return e.Kind == kind && e.Lo <= n && n <= e.Hi
}

// PCExits is the generic PC platform's host interface (hal/pc): every
// port, MMIO range and MSR by which an image on it reaches the host.
var PCExits = []HostExit{
	{Kind: KindPort, Lo: 0x3f8, Hi: 0x3ff, What: "COM1 16550 UART: console"},
	{Kind: KindPort, Lo: 0x2f8, Hi: 0x2ff, What: "COM2 16550 UART: host channel (guest requests to a host-side PSP), when present"},
	{Kind: KindPort, Lo: 0x3e8, Hi: 0x3ef, What: "COM3 16550 UART: the application's stdout, and its stdin when there is no virtio console, with cocoon.stdio=serial"},
	{Kind: KindPort, Lo: 0x2e8, Hi: 0x2ef, What: "COM4 16550 UART: the application's stderr, with cocoon.stdio=serial"},
	{Kind: KindPort, Lo: 0x40, Hi: 0x40, What: "8254 PIT channel 0: TSC and APIC timer calibration at boot, unless the hypervisor's CPUID leaf 0x40000010 states both (time is the host's word either way)"},
	{Kind: KindPort, Lo: 0x43, Hi: 0x43, What: "8254 PIT mode/command"},
	{Kind: KindPort, Lo: 0x70, Hi: 0x71, What: "CMOS RTC: wall clock at boot (host-controlled on every platform, SEV-SNP included)"},
	{Kind: KindPort, Lo: 0x21, Hi: 0x21, What: "8259 master PIC: masked at boot"},
	{Kind: KindPort, Lo: 0xa1, Hi: 0xa1, What: "8259 slave PIC: masked at boot"},
	{Kind: KindPort, Lo: 0xf4, Hi: 0xf4, What: "QEMU isa-debug-exit: power off with status"},
	{Kind: KindMMIO, Lo: 0xfee00000, Hi: 0xfee00fff, What: "local APIC: one-shot timer, EOI"},
	{Kind: KindMMIO, Lo: 0xfec00000, Hi: 0xfec0001f, What: "IO-APIC (IOREGSEL, IOWIN): its version register and the redirection entry of the microvm virtio-net device's interrupt, set once at boot"},
	{Kind: KindMMIO, Lo: 0xfeb00000, Hi: 0xfeb02fff, What: "virtio-mmio transports of QEMU microvm (24 windows of 0x200), probed at boot: a virtio-net device's registers and configuration (MAC, read under its configuration generation), the registers of the virtio console that carries the application's stdin (with cocoon.stdio=serial; no configuration read); their rings and buffers are pages of their own, the only kernel memory the devices read or write"},
	{Kind: KindMSR, Lo: 0x1b, Hi: 0x1b, What: "IA32_APIC_BASE: locate the local APIC"},
	{Kind: KindPort, Lo: 0xcf8, Hi: 0xcff, What: "PCI configuration mechanism #1 (CONFIG_ADDRESS, CONFIG_DATA), bus 0 and the buses behind its PCI-to-PCI bridges (q35, OVMF): find a virtio-net function, size its memory BARs, place one the firmware left above 4 GiB, read its capabilities, enable memory decoding and bus mastering"},
	{Kind: KindMMIO, Lo: 0xc0000000, Hi: 0xfebfffff, What: "PCI memory BARs of a virtio-net function (q35, OVMF), in the PCI hole below 4 GiB: its virtio-pci common configuration, notification, ISR and device configuration (MAC) structures; its rings and packet buffers are pages of their own, the only kernel memory the device reads or writes"},
}

// KernelExits are the host-visible operations of the kernel itself, on
// any platform: instructions a hypervisor may intercept (AMD APM vol. 2,
// 15.9-15.12 "Instruction Intercepts"; under SEV-SNP they raise #VC).
var KernelExits = []HostExit{
	{Kind: KindInstruction, Where: "hlt", What: "idle, and stop after a fatal error"},
	{Kind: KindInstruction, Where: "cpuid", What: "feature detection at boot and by the Go runtimes (kernel and application)"},
	{Kind: KindInstruction, Where: "xsetbv", What: "enable x87/SSE/AVX state at boot"},
	{Kind: KindMSR, Lo: 0x174, Hi: 0x176, What: "SYSENTER_CS/ESP/EIP: cleared at boot"},
	{Kind: KindMSR, Lo: 0xc0000080, Hi: 0xc0000080, What: "EFER: long mode, NX, SYSCALL at boot"},
	{Kind: KindMSR, Lo: 0xc0000081, Hi: 0xc0000084, What: "STAR, LSTAR, CSTAR, SFMASK: the SYSCALL entry at boot"},
	{Kind: KindMSR, Lo: 0xc0000100, Hi: 0xc0000100, What: "FS base: thread-local storage on every switch"},
	{Kind: KindInstruction, Where: "rdtsc", What: "the clock (kernel and vDSO)"},
	{Kind: KindInstruction, Where: "rdrand, rdseed", What: "entropy"},
}

// SNPExits is the SEV-SNP platform's host interface (package snp). The
// same devices as PCExits are reached through #VC and the GHCB instead of
// direct exits, so each appears as the GHCB event that carries it; the
// MSR protocol and the SNP events come on top. CPUID never reaches the
// host: the #VC handler answers it from the CPUID page.
var SNPExits = []HostExit{
	{Kind: KindMSR, Lo: 0xc0010130, Hi: 0xc0010130, What: "GHCB MSR: MSR protocol (SEV information, hypervisor features, page state changes of the shared window at boot, GHCB registration, termination) and the GHCB address on every exit"},
	{Kind: KindMSR, Lo: 0xc0010131, Hi: 0xc0010131, What: "SEV_STATUS: detect SEV-SNP and Secure TSC at boot (never exits: the processor answers)"},
	{Kind: KindMSR, Lo: 0xc0010134, Hi: 0xc0010134, What: "GUEST_TSC_FREQ: the TSC frequency under Secure TSC, at boot (the processor answers; the hypervisor must not intercept it, and a #VC for it terminates). Without Secure TSC the TSC rate comes from the PIT or CPUID leaf 0x40000010 the host supplies, and time is host-controlled"},
	{Kind: KindInstruction, Where: "vmgexit", What: "every exit to the hypervisor"},
	{Kind: KindGHCB, Where: "IOIO (0x7b)", What: "the ports of the PC platform (COM1-COM4, PIT, RTC, PICs, isa-debug-exit, PCI configuration), from #VC"},
	{Kind: KindGHCB, Where: "MMIO read/write (0x80000001/2)", What: "local APIC at 0xfee00000 and a virtio-net function's BAR in the PCI hole (0xc0000000-0xfebfffff), shared (C-bit clear) mapping only, from #VC"},
	{Kind: KindGHCB, Where: "device memory (shared window)", What: "the virtio-net rings and bounce buffers: 128 pages of the shared window, the only memory the device is given; frames are copied in and out, every used-ring entry checked"},
	{Kind: KindGHCB, Where: "MSR (0x7c)", What: "IA32_APIC_BASE (0x1b), from #VC; EFER and the SYSCALL MSRs only if the hypervisor intercepts them (KVM does not for SEV-ES guests)"},
	{Kind: KindGHCB, Where: "RDTSC/RDTSCP (0x6e/0x87)", What: "only if the hypervisor intercepts them, from #VC: the host then supplies the time; refused (terminate) under Secure TSC, where it must not intercept them"},
	{Kind: KindGHCB, Where: "SNP guest request, extended (0x80000011/12)", What: "attestation reports and derived keys (/dev/sev-guest), and under Secure TSC one TSC_INFO before the application starts, sealed with VMPCK0"},
	{Kind: KindInstruction, Where: "pvalidate", What: "rescind the shared window's validation at boot (no exit, RMP only)"},
}

// TimeSources says, by platform, where the kernel's clock comes from and
// who controls it: time is part of what the host provides. `mkimage
// inspect` prints it with the host interface.
var TimeSources = map[string]string{
	"pc": "host-controlled: the hypervisor sets the TSC's offset and rate; its rate is read from the hypervisor's CPUID leaf 0x40000010 " +
		"or measured against the PIT it emulates; the wall clock is its RTC at boot",
	"snp": "host-controlled, as on the PC platform, unless the launch enables Secure TSC: then the TSC's rate is GUEST_TSC_FREQ, " +
		"confirmed by the PSP's TSC_INFO before the application starts, and the host cannot change the TSC (an intercepted RDTSC terminates the guest); " +
		"the wall clock at boot is the host's RTC either way (docs/SNP.md, \"Time\")",
	"lvbs": "host-controlled: as on the PC platform (the hypervisor's TSC, CPUID leaf 0x40000010 or the PIT, the RTC)",
}

// MMIOAllowed reports whether the device window [phys, phys+size) lies in
// one MMIO range of platform's inventory. The SEV-SNP platform reaches
// the PC platform's devices (through #VC and the GHCB), so "snp" allows
// the PC ranges. It allocates nothing: cpu.Device calls it at boot.
//
//go:nosplit
func MMIOAllowed(platform string, phys, size uint64) bool {
	if platform != "pc" && platform != "snp" && platform != "lvbs" || size == 0 || phys+size < phys {
		return false
	}
	for i := range PCExits {
		if e := &PCExits[i]; e.Kind == KindMMIO && e.Lo <= phys && phys+size-1 <= e.Hi {
			return true
		}
	}
	return false
}

// Inventory returns the host interface of platform ("pc", "snp" or "lvbs"): its
// own exits and the kernel's.
func Inventory(platform string) []HostExit {
	var own []HostExit
	switch platform {
	case "pc":
		own = PCExits
	case "snp":
		own = SNPExits
	case "lvbs":
		own = LVBSExits
	default:
		return nil
	}
	return append(append([]HostExit(nil), own...), KernelExits...)
}

// InventoryPlatforms are the platforms Inventory knows.
var InventoryPlatforms = []string{"pc", "snp", "lvbs"}

// Accessor is a function of the image that executes an instruction that
// can exit to the host. Func is its symbol, relative to the module for
// Cocoon's packages ("kernel/cpu.Outb"); Ops the exiting instructions it
// holds (lower-case mnemonics). With Arg set, the port or MSR number is
// its first argument, and every call site must pass a constant that lies
// in a registered range of that kind; without it the function names what
// it touches itself (an MSR number loaded into ECX before RDMSR or WRMSR,
// checked the same way), or touches no numbered resource (CPUID, HLT,
// VMGEXIT).
type Accessor struct {
	Func string
	Ops  []string
	Arg  string // KindPort, KindMSR, KindMMIO or ""
	// Passes lists, for a function that calls an Arg accessor with a
	// number it does not name as a constant (it gets it from its own
	// caller through an interface), the numbers it passes.
	Passes []uint64
	// Maps marks a function that passes cpu.Device a window address it
	// finds at run time; Device checks it against the inventory then.
	Maps bool
	What string
}

// Accessors are the functions that may hold exiting instructions.
var Accessors = []Accessor{
	{Func: "kernel/cpu.Inb", Ops: []string{"in"}, Arg: KindPort, What: "port read, byte"},
	{Func: "kernel/cpu.Outb", Ops: []string{"out"}, Arg: KindPort, What: "port write, byte"},
	{Func: "kernel/cpu.Inl", Ops: []string{"in"}, Arg: KindPort, What: "port read, 32 bits"},
	{Func: "kernel/cpu.Outl", Ops: []string{"out"}, Arg: KindPort, What: "port write, 32 bits"},
	{Func: "kernel/cpu.Rdmsr", Ops: []string{"rdmsr"}, Arg: KindMSR, What: "MSR read"},
	{Func: "kernel/cpu.Wrmsr", Ops: []string{"wrmsr"}, Arg: KindMSR, What: "MSR write"},
	{Func: "kernel/cpu.Device", Arg: KindMMIO, What: "map a device's MMIO window (refused outside the inventory's MMIO ranges)"},
	{Func: "hal/pc.lapicWindow", Maps: true, What: "the local APIC, at the address IA32_APIC_BASE gives"},
	{Func: "kernel.virtioNetMMIO", Maps: true, What: "the virtio-mmio windows of microvm, probed for virtio-net"},
	{Func: "kernel.mapBAR", Maps: true, What: "a virtio-net function's memory BAR, at the address the firmware or the kernel gave it in the PCI hole"},
	{Func: "kernel.VirtioConsole", Maps: true, What: "the virtio-mmio windows of microvm, probed for a virtio console (cocoon.stdio=serial)"},
	{Func: "kernel/cpu.Cpuid", Ops: []string{"cpuid"}, What: "CPUID"},
	{Func: "kernel/cpu.Halt", Ops: []string{"hlt"}, What: "halt until an interrupt"},
	{Func: "kernel/cpu.Vmgexit", Ops: []string{"vmgexit"}, What: "exit to the hypervisor (SEV-SNP)"},
	{Func: "boot.(*prober).ReadMSR", Passes: []uint64{0xc0010131}, What: "snp.Detect's MSR read: SEV_STATUS"},
	{Func: "runtime.rt0_go", Ops: []string{"cpuid"}, What: "the Go runtime's processor check at start"},
	{Func: "internal/cpu.cpuid", Ops: []string{"cpuid"}, What: "the Go runtime's feature detection"},
	{Func: "crypto/internal/boring/sig.StandardCrypto", Ops: []string{"hlt"}, What: "never executed: its first instruction jumps over marker bytes (0xF4 among them) that name the Go crypto build (crypto/internal/boring/sig/sig_amd64.s); linked with gVisor's netstack"},
	{Func: "boot.pvhEntry", Ops: []string{"rdmsr", "wrmsr"}, What: "PVH entry: EFER"},
	{Func: "boot.entryHigh", Ops: []string{"hlt"}, What: "stop if the kernel returns"},
	{Func: "boot.loadEarlyTLS", Ops: []string{"wrmsr"}, What: "FS base for the boot TLS"},
	{Func: "boot.cpuSetup", Ops: []string{"cpuid"}, What: "feature checks at boot"},
	{Func: "boot.efiEncryptionBit", Ops: []string{"cpuid", "rdmsr"}, What: "UEFI entry: SEV detection (CPUID 0x8000001f, SEV_STATUS)"},
	{Func: "boot.efiKernelHigh", Ops: []string{"rdmsr", "wrmsr", "hlt"}, What: "UEFI entry: EFER; stop if the kernel returns"},
	{Func: "boot.efiStage2", Ops: []string{"hlt"}, What: "UEFI entry: stop on a failed stage"},
	{Func: "kernel.idleLoop", Ops: []string{"hlt"}, What: "idle"},
	{Func: "kernel.loadTrapTLS", Ops: []string{"wrmsr"}, What: "FS base on trap entry"},
	{Func: "kernel.syscallFastTail", Ops: []string{"wrmsr"}, What: "FS base on system call return"},
	{Func: "kernel.trapCommon", Ops: []string{"rdmsr", "wrmsr"}, What: "FS base on trap entry and exit"},
	{Func: "kernel.trapDispatch", Ops: []string{"wrmsr"}, What: "FS base on trap return"},
	{Func: "kernel.enterUserAsm", Ops: []string{"wrmsr"}, What: "FS base on entry to user mode"},
	{Func: "kernel.vcEntry", Ops: []string{"rdmsr", "wrmsr"}, What: "FS base around #VC"},
	{Func: "boot.lvbsStop", Ops: []string{"out", "hlt"}, What: "LVBS entry: the stop message on COM1 (0x3f8) when the image is not where it was linked"},
	{Func: "boot.lvbsHigh", Ops: []string{"hlt"}, What: "LVBS entry: stop if the kernel returns"},
	{Func: "lvbs/vtl1.(*cpuMachine).ReadMSR", Passes: []uint64{0x40000000, 0x40000001, 0x40000073, 0x40000080, 0x40000083, 0x40000090}, What: "lvbs.Start's synthetic MSR reads (lvbs.Machine on Hyper-V)"},
	{Func: "lvbs/vtl1.(*cpuMachine).WriteMSR", Passes: []uint64{0x40000000, 0x40000001, 0x40000073, 0x40000080, 0x40000083, 0x40000084, 0x40000090}, What: "lvbs.Start's synthetic MSR writes, and EOM after an intercept"},
}

// Kinds of HostExit of the LVBS platform: Hyper-V hypercalls by call code
// and the hypervisor-written pages Cocoon reads.
const (
	KindHypercall = "hypercall"
	KindSynIC     = "synic"
	KindVPAssist  = "vp-assist"
)

// LVBSExits is the LVBS platform's host interface (package lvbs, run by
// lvbs/vtl1): Cocoon as a Hyper-V VTL1 secure kernel. Every way it reaches
// the hypervisor: the synthetic MSRs, the hypercalls by call code, the VTL
// return, and what the hypervisor writes into its pages (TLFS;
// docs/LVBS.md); then the partition's PC devices VTL1 uses (the same
// ports and APIC as hal/pc), and the image's boot-time stop message.
var LVBSExits = []HostExit{
	{Kind: KindInstruction, Where: "cpuid 0x40000000-0x40000003", What: "Hyper-V detection: Hv#1 interface, AccessVsm/AccessVpRegisters/AccessSynicRegs privileges"},
	{Kind: KindMSR, Lo: 0x40000000, Hi: 0x40000000, What: "HV_X64_MSR_GUEST_OS_ID: guest identity, at boot"},
	{Kind: KindMSR, Lo: 0x40000001, Hi: 0x40000001, What: "HV_X64_MSR_HYPERCALL: hypercall page, at boot"},
	{Kind: KindMSR, Lo: 0x40000073, Hi: 0x40000073, What: "HV_X64_MSR_VP_ASSIST_PAGE: VTL entry reason, VTL return RAX/RCX, at boot"},
	{Kind: KindMSR, Lo: 0x40000080, Hi: 0x40000080, What: "SynIC SCONTROL: enable, at boot"},
	{Kind: KindMSR, Lo: 0x40000083, Hi: 0x40000083, What: "SynIC SIMP: message page for intercepts, at boot"},
	{Kind: KindMSR, Lo: 0x40000084, Hi: 0x40000084, What: "SynIC EOM: after an intercept message with more queued"},
	{Kind: KindMSR, Lo: 0x40000090, Hi: 0x40000090, What: "SynIC SINT0: intercept interrupt unmasked, at boot"},
	{Kind: KindHypercall, Where: "0x000c (rep)", What: "HvCallModifyVtlProtectionMask: secure kernel and log ring from VTL0 at boot; VTL0's protection requests"},
	{Kind: KindHypercall, Where: "0x0050 (rep)", What: "HvCallGetVpRegisters: VSM code page offsets at boot; VTL0 registers being pinned"},
	{Kind: KindHypercall, Where: "0x0051 (rep)", What: "HvCallSetVpRegisters: VSM partition config, VTL0 MBEC, intercept control and CR0/CR4 masks; VTL0 register writes it allows, #GP it injects"},
	{Kind: KindHypercall, Where: "VTL return", What: "hypercall page at the VtlReturnOffset of HvRegisterVsmCodePageOffsets: back to VTL0 after every VTL call and intercept"},
	{Kind: KindSynIC, Where: "SIMP SINT0 slot", What: "GPA, register and MSR intercept messages (read, validated)"},
	{Kind: KindVPAssist, Where: "bytes 8-31", What: "entry reason (read, validated); VTL0 RAX/RCX for the return (written)"},
	{Kind: KindPort, Lo: 0x3f8, Hi: 0x3ff, What: "COM1 16550 UART: console; the LVBS entry's stop message when the image is loaded at the wrong address"},
	{Kind: KindPort, Lo: 0x40, Hi: 0x40, What: "8254 PIT channel 0: TSC and APIC timer calibration at boot"},
	{Kind: KindPort, Lo: 0x43, Hi: 0x43, What: "8254 PIT mode/command"},
	{Kind: KindPort, Lo: 0x70, Hi: 0x71, What: "CMOS RTC: wall clock at boot"},
	{Kind: KindPort, Lo: 0x21, Hi: 0x21, What: "8259 master PIC: masked at boot"},
	{Kind: KindPort, Lo: 0xa1, Hi: 0xa1, What: "8259 slave PIC: masked at boot"},
	{Kind: KindPort, Lo: 0xf4, Hi: 0xf4, What: "QEMU isa-debug-exit: power off with status (the simulated VSM under QEMU; absent on Hyper-V)"},
	{Kind: KindMMIO, Lo: 0xfee00000, Hi: 0xfee00fff, What: "local APIC (VTL1's own, TLFS vsm.md \"Virtual Interrupts\"): one-shot timer, EOI"},
	{Kind: KindMSR, Lo: 0x1b, Hi: 0x1b, What: "IA32_APIC_BASE: locate the local APIC"},
}
