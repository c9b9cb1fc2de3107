package kernel

// Boot: from an entry path's hand-off to the kernel's Go runtime. Boot
// context: runs once, before the runtime exists: //go:nosplit, no
// allocation, no Go pointers stored in the heap.

import (
	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/kernel/sched"
)

// MemRegion is one entry of the boot memory map (E820 types: 1 = RAM).
type MemRegion struct {
	Base, Size uint64
	Type       uint32
}

// MemRAM is the memory-map type of usable RAM (ACPI 6.5, table 15.1).
const MemRAM = 1

// BootInfo is what an entry path tells the kernel.
type BootInfo struct {
	Mem  [64]MemRegion
	NMem int
	// Keep lists physical ranges the kernel must not reuse: boot data,
	// modules, the command line, SEV-SNP's shared window. NKeep beyond
	// len(Keep) means some did not fit, and Boot refuses to go on.
	Keep  [8]MemRegion
	NKeep int
	// Cmdline is the physical address of the NUL-terminated command line.
	Cmdline uint64
	// Initrd is the physical range of the first boot module, if any.
	Initrd, InitrdSize uint64
	// ImageStart and ImageEnd bound the kernel image in memory (virtual),
	// bss included.
	ImageStart, ImageEnd uintptr
	// CBit is the page-table encryption bit on SEV-SNP (every private
	// mapping carries it), zero elsewhere.
	CBit uint64
	// VC serves #VC on encrypted-state platforms (the platform itself,
	// set by the entry path: a type assertion here, before the runtime
	// runs, would take the runtime's itab lock); nil elsewhere.
	VC hal.VCHandler
}

// Boot takes over the machine from an entry path and starts the kernel's
// Go runtime. It does not return.
//
//go:nosplit
func Boot(p hal.Platform, info *BootInfo) {
	platform = p
	vcHandler = info.VC
	ptePrivate, pteFrame = info.CBit, pteAddr&^info.CBit
	imageStart, imageEnd = info.ImageStart, info.ImageEnd
	loadImageSegments()
	if info.Initrd+info.InitrdSize <= uint64(cpu.DirectMapSize) {
		initrdPhys, initrdSize = info.Initrd, info.InitrdSize
	}

	for i := 0; i < info.NMem; i++ {
		if r := info.Mem[i]; r.Type == MemRAM {
			phys.AddRAM(r.Base, r.Size)
		}
	}
	// The whole image, bss included, must be RAM: on a machine given
	// too little memory the loader drops what lies past its end, and
	// writes there are lost.
	if end := uint64(cpu.Phys(imageEnd)); !inRAM(info, uint64(cpu.Phys(imageStart)), end) {
		kprint("cocoon: the kernel image needs RAM up to ")
		kprintDec(int64((end + 1<<20 - 1) >> 20))
		kprint(" MiB, more than this machine has: give it more memory (mkimage run says how much)\n")
		powerOff(1)
	}
	phys.Reserve(0, 1<<20) // real-mode area, BIOS data, firmware tables
	phys.Reserve(uint64(cpu.Phys(imageStart)), uint64(imageEnd-imageStart))
	if info.NKeep > len(info.Keep) {
		// A range lost here could be handed out as free memory: under
		// SEV-SNP the shared window, visible to the host.
		kprint("cocoon: more boot ranges to keep than BootInfo holds; cannot boot\n")
		powerOff(1)
	}
	for i := 0; i < info.NKeep; i++ {
		phys.Reserve(info.Keep[i].Base, info.Keep[i].Size)
	}
	if a := cmdlineHex(info.Cmdline, "cocoon.secrets="); a != 0 && a%pageSize == 0 && a < uint64(cpu.DirectMapSize) {
		secretsPhys = a
		phys.Reserve(a, pageSize)
	}
	if phys.FreeFrames() < 1024 {
		kprint("cocoon: less than 4 MiB of free RAM; cannot boot: give the machine more memory\n")
		powerOff(1)
	}
	setReserve()
	if !setupZeroFrame() {
		kprint("cocoon: no memory for the zero page; cannot boot: give the machine more memory\n")
		powerOff(1)
	}

	setupDescriptors()
	useXSAVE = cpu.HasXSAVE()

	// The identity map (PML4 slot 0) only served the jump to the high
	// half; slot 0 belongs to the application's address space.
	kernelPML4 = currentTables()
	*cpu.Ptr64(cpu.Virt(kernelPML4)) = 0
	// Give every kernel PML4 slot (252..255) its PDPT now, so the slots
	// copied into application address spaces never change later.
	for slot := uintptr(252); slot < 256; slot++ {
		e := cpu.Ptr64(cpu.Virt(kernelPML4) + slot*8)
		if *e&ptePresent == 0 {
			p, ok := phys.Alloc()
			if !ok {
				kprint("cocoon: out of memory for page tables\n")
				powerOff(1)
			}
			cpu.ZeroPage(cpu.Virt(uintptr(p)))
			*e = p | ptePresent | pteWrite | ptePrivate
		}
	}
	loadTables(kernelPML4)
	enableProtections()
	Mark(PhaseTables)
	timelineOn = cmdlineHex(info.Cmdline, "cocoon.timeline=") == 1

	kspaceInit(cpu.HeapBase, cpu.HeapEnd)
	kpager = &thePager

	if _, ok := platform.Random(); !ok {
		kprint("cocoon: this CPU has no hardware random number generator (RDSEED or RDRAND);\n")
		kprint("cocoon: refusing to boot without an unpredictable entropy source\n")
		powerOff(1)
	}

	initClock()
	protectKernel() // after initVDSO wrote the vDSO's code page
	platform.TimerInit(vecTimer)
	Mark(PhaseClock)

	b := threads.Init()
	idle := &threads.T[sched.Idle].Frame
	idle.RIP = uint64(funcAddr(0))
	idle.CS = cpu.KCode
	idle.SS = cpu.KData
	idle.RSP = uint64(addrOf(&idleStack[0])+uintptr(len(idleStack))) &^ 15
	idle.RFLAGS = cpu.FlagsKernel
	// Boot's dummy TLS serves the boot thread until its runtime sets its
	// own, and the idle thread for good: Go's ABI wrappers in the trap
	// path read g from -8(FS), so no kernel context may have FS = 0.
	fs := cpu.Rdmsr(0xc0000100) // IA32_FS_BASE
	threads.T[b].FSBase = fs
	threads.T[sched.Idle].FSBase = fs
	fsWant, fsLoaded, kernelFS = fs, fs, fs
	fpArea = areaOf(b)
	kernelFPArea = fpArea

	sp := initialStack(info.Cmdline)
	Mark(PhaseRuntime)
	enterRuntime(sp)
}

// initialStack writes the Linux process stack the runtime's _rt0 expects
// (System V AMD64 ABI, 3.4.1 "Initial Stack and Register State") at the
// top of m0Stack: argc, argv, NULL, envp, NULL, auxv, AT_NULL. argv[0] is
// "cocoon"; the command line's words follow, except that words containing
// '=' go to the environment, as Linux does for init (a "--" word makes
// every later word an argument; double quotes group words).
//
//go:nosplit
func initialStack(cmdline uint64) uintptr {
	argv, envp := &bootArgv, &bootEnvp
	const maxWords = len(bootArgv)
	top := (addrOf(&m0Stack[0]) + uintptr(len(m0Stack))) &^ 15
	str := top // strings grow down from the top

	nargv, nenv := 0, 0
	str = pushStr(str, "cocoon")
	argv[nargv] = str
	nargv++
	// First, so it wins over any GODEBUG on the command line (which is
	// meant for the application).
	str = pushStr(str, runtimeGodebug)
	envp[nenv] = str
	nenv++

	if cmdline != 0 {
		line := cpu.Bytes(cpu.Virt(uintptr(cmdline)), 4096)
		end := 0
		for end < len(line) && line[end] != 0 {
			end++
		}
		line = line[:end]
		allArgs := false
		for i := 0; i < len(line); {
			for i < len(line) && line[i] == ' ' {
				i++
			}
			// A word runs to the next space outside double quotes; the
			// quotes themselves are dropped (as Linux's next_arg does).
			j, n := i, 0
			hasEq, quoted := false, false
			for j < len(line) && (quoted || line[j] != ' ') {
				if line[j] == '"' {
					quoted = !quoted
				} else {
					hasEq = hasEq || line[j] == '=' && !quoted
					n++
				}
				j++
			}
			if j == i {
				break
			}
			w := line[i:j]
			i = j
			if !allArgs && len(w) == 2 && w[0] == '-' && w[1] == '-' {
				allArgs = true
				continue
			}
			str -= uintptr(n) + 1
			b := cpu.Bytes(str, uintptr(n)+1)
			k := 0
			for _, c := range w {
				if c != '"' {
					b[k] = c
					k++
				}
			}
			b[n] = 0
			if hasEq && !allArgs {
				if nenv < maxWords {
					envp[nenv] = str
					nenv++
				}
			} else if nargv < maxWords {
				argv[nargv] = str
				nargv++
			}
		}
	}

	// 16 random bytes for AT_RANDOM.
	str = (str - 16) &^ 15
	random := str
	for i := uintptr(0); i < 16; i += 8 {
		v, _ := platform.Random()
		*cpu.Ptr64(random + i) = v
	}

	words := 1 + nargv + 1 + nenv + 1 + 2*4
	sp := (str - uintptr(words)*8) &^ 15
	w := sp
	*cpu.Ptr64(w) = uint64(nargv)
	w += 8
	for i := 0; i < nargv; i++ {
		*cpu.Ptr64(w) = uint64(argv[i])
		w += 8
	}
	*cpu.Ptr64(w) = 0
	w += 8
	for i := 0; i < nenv; i++ {
		*cpu.Ptr64(w) = uint64(envp[i])
		w += 8
	}
	*cpu.Ptr64(w) = 0
	w += 8
	auxv := [8]uint64{linux.AtPagesz, pageSize, linux.AtRandom, uint64(random),
		linux.AtSysinfoEhdr, uint64(vdsoBase()), linux.AtNull, 0}
	for _, v := range auxv {
		*cpu.Ptr64(w) = v
		w += 8
	}
	return sp
}

// enableProtections turns on what stops the kernel from executing (SMEP)
// or touching (SMAP) application pages by accident, and the application
// from reading descriptor-table addresses (UMIP: SGDT, SIDT, SLDT, SMSW
// and STR #GP at CPL3), AMD APM vol. 2, 3.1.3, 5.6.5 and 5.6.6; CPUID
// Fn0000_0007_EBX bits 7 and 20, ECX bit 2. The kernel reaches
// application memory only through the direct map. It says on the console
// which are on, and refuses to boot without SMEP and SMAP unless the
// image was built with the opt-out (kbuild.Options.AllowNoSMEPSMAP).
//
//go:nosplit
func enableProtections() {
	_, b, c, _ := cpu.Cpuid(7, 0)
	smep, smap, umip := b&(1<<7) != 0, b&(1<<20) != 0, c&(1<<2) != 0
	var cr4 uintptr
	if smep {
		cr4 |= 1 << 20
	}
	if smap {
		cr4 |= 1 << 21
		haveSMAP = true
	}
	if umip {
		cr4 |= 1 << 11
	}
	if cr4 != 0 {
		cpu.Lcr4(cpu.Rcr4() | cr4)
	}
	kprint("cocoon: protections:")
	kprintFeature(" SMEP", smep)
	kprintFeature(" SMAP", smap)
	kprintFeature(" UMIP", umip)
	kprint("\n")
	if !smep || !smap {
		if noSMEPSMAPOptOut != "yes" {
			kprint("cocoon: this CPU lacks SMEP or SMAP; refusing to boot (choose a CPU model that has\n")
			kprint("cocoon: them, e.g. QEMU -cpu max, or build the image with the AllowNoSMEPSMAP opt-out)\n")
			powerOff(1)
		}
		kprint("cocoon: running without SMEP or SMAP: the image was built with the opt-out\n")
	}
}

//go:nosplit
func kprintFeature(name string, on bool) {
	kprint(name)
	if on {
		kprint(" on")
	} else {
		kprint(" OFF")
	}
}

// noSMEPSMAPOptOut is "yes" in an image built to boot on CPUs without
// SMEP or SMAP (set with the linker's -X by kbuild).
var noSMEPSMAPOptOut string

// haveSMAP says CR4.SMAP is on, and with it CLAC and STAC exist (the
// trap entry's CLAC, trap_amd64.s).
var haveSMAP bool

// inRAM reports whether the RAM regions of info cover [start, end).
//
//go:nosplit
func inRAM(info *BootInfo, start, end uint64) bool {
	for n := 0; start < end && n <= info.NMem; n++ {
		for i := 0; i < info.NMem; i++ {
			if r := info.Mem[i]; r.Type == MemRAM && r.Base <= start && start < r.Base+r.Size {
				start = r.Base + r.Size
				break
			}
		}
	}
	return start >= end
}

// The boot module (initrd), kept out of the page allocator.
var initrdPhys, initrdSize uint64

// cmdlineHex finds key (like "cocoon.secrets=") in the NUL-terminated
// command line at physical address cmdline and parses the hexadecimal
// number after it ("0x" prefix optional); 0 if absent or malformed.
//
//go:nosplit
func cmdlineHex(cmdline uint64, key string) uint64 {
	if cmdline == 0 {
		return 0
	}
	line := cpu.Bytes(cpu.Virt(uintptr(cmdline)), 4096)
	for i := 0; i+len(key) <= len(line) && line[i] != 0; i++ {
		if (i > 0 && line[i-1] != ' ') || string(line[i:i+len(key)]) != key {
			continue
		}
		j := i + len(key)
		if j+1 < len(line) && line[j] == '0' && (line[j+1] == 'x' || line[j+1] == 'X') {
			j += 2
		}
		var v uint64
		n := 0
		for ; j < len(line) && n < 16; j, n = j+1, n+1 {
			c := line[j]
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 | uint64(c-'0')
			case c >= 'a' && c <= 'f':
				v = v<<4 | uint64(c-'a'+10)
			case c >= 'A' && c <= 'F':
				v = v<<4 | uint64(c-'A'+10)
			default:
				if n == 0 {
					return 0
				}
				return v
			}
		}
		return v
	}
	return 0
}

// runtimeGodebug is RuntimeGodebug as a variable: copying the constant
// into the stack trips an internal compiler error in go1.26's memmove
// lowering (isInlinableMemmove on a pointer made from a uintptr).
var runtimeGodebug = RuntimeGodebug

// Word tables of initialStack, kept off its nosplit stack frame.
var bootArgv, bootEnvp [64]uintptr

// pushStr copies s and a NUL below str and returns the new start.
//
//go:nosplit
func pushStr(str uintptr, s string) uintptr {
	str -= uintptr(len(s)) + 1
	b := cpu.Bytes(str, uintptr(len(s))+1)
	copy(b, s)
	b[len(s)] = 0
	return str
}
