// Package run starts the application of a Cocoon image: it mounts the
// initrd, loads /init into a fresh address space, builds its stack and runs
// it under the Linux personality until it exits.
package run

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"syscall"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/layout"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north"
	"github.com/cocoon-vm/cocoon/north/loader"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/sevguest"
	"github.com/cocoon-vm/cocoon/north/vfs"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

// Options configure the application.
type Options struct {
	Argv0     string
	Args, Env []string
	// Dir is the working directory; empty means /.
	Dir   string
	Trace bool
	// Stdout and Stdin are the console, for the kernel's messages and,
	// without Stdio, the application's descriptors 0-2.
	Stdout io.Writer
	Stdin  io.Reader
	// IP is cocoon.ip=: the network device's static IPv4 configuration
	// (ADDRESS/PREFIX[,GATEWAY[,DNS...]]); empty asks DHCP.
	IP string
	// IP6 is cocoon.ip6=: a static IPv6 address (ADDRESS/PREFIX[,GATEWAY])
	// on top of the link-local one and SLAAC.
	IP6 string
	// Stdio, if set, are the application's descriptors 0-2 instead.
	Stdio *vfs.Stdio
	// Overcommit is vm.overcommit_memory (north.OvercommitGuess or
	// north.OvercommitAlways).
	Overcommit int
}

// stackTop is where the main thread's stack ends: near the top of the
// application's range (kernel/layout.UserEnd), as on Linux.
const stackTop = uint64(layout.UserEnd) - 1<<28

// stackExpand is what an exec maps of the stack below its arguments and
// environment (fs/exec.c setup_arg_pages: stack_expand, 128 KiB); the
// rest of RLIMIT_STACK is mapped as the stack grows (north/stackgrow.go).
const stackExpand = 128 << 10

// hwcap is CPUID 1's EDX (ELF_HWCAP).
func hwcap() uint32 {
	_, _, _, edx := cpu.Cpuid(1, 0)
	return edx
}

// vdsoAddr is where the application's copy of the vDSO goes: above its
// stack, below the end of its address range.
const vdsoAddr = uint64(layout.UserEnd) - 1<<26

// mapVDSO maps the kernel's vDSO (kernel/vdso) into the application: the
// ELF page read-execute, the clock data page read-only.
func mapVDSO(m north.Machine) (uint64, error) {
	img := kernel.VDSO()
	if _, err := m.Map(vdsoAddr, 4096, mem.Read|mem.Exec, true); err != nil {
		return 0, err
	}
	if _, err := m.Map(vdsoAddr+4096, 4096, mem.Read, true); err != nil {
		return 0, err
	}
	return vdsoAddr, m.Load(vdsoAddr, img)
}

// sevGuest returns /dev/sev-guest when the platform carries guest
// requests to a PSP (hal.GuestRequester) and there is a secrets page: on
// an SEV-SNP guest the GHCB guest requests with the firmware's secrets
// page; on the PC platform the host channel to a host-side PSP, with the
// secrets page the launcher gave the guest (cocoon.secrets=ADDR), as
// qemu.RunWithPSP does. Otherwise nil, and applications then find no
// device, as on Linux without SEV-SNP.
func sevGuest(log io.Writer) *sevguest.Device {
	g, ok := kernel.Platform().(hal.GuestRequester)
	if !ok {
		return nil
	}
	page := g.SecretsPage()
	if page == nil {
		page = kernel.SecretsPage()
	}
	if page == nil {
		return nil
	}
	t := g.GuestRequests()
	if t == nil {
		fmt.Fprintln(log, "cocoon: a secrets page but no host channel (COM2) to the PSP: no /dev/sev-guest")
		return nil
	}
	dev, err := sevguest.New(guestmsg.PlatformTransport(t), page)
	if err != nil {
		fmt.Fprintf(log, "cocoon: no /dev/sev-guest: %v\n", err)
		return nil
	}
	return dev
}

// Init runs /init from the initrd and returns its exit status.
func Init(o Options) (int, error) {
	archive := kernel.Initrd()
	if archive == nil {
		return 0, fmt.Errorf("no application: boot with an initrd (QEMU -initrd app.cpio; 'mkimage build PACKAGE' makes one)")
	}
	files, err := newFiles(archive, o)
	if err != nil {
		return 0, err
	}
	kernel.Mark(kernel.PhaseInitrd)
	mem.SetKernelShort(kernel.MemoryShort)
	mem.SetBuffersShort(kernel.BuffersShort)
	mem.SetBuffersFit(kernel.BuffersFit)
	kernel.AddShrinker(vfs.ReclaimPipeRings)
	vfs.SetMaxUserWatches(kernel.Stats().RAM)
	if o.Dir != "" {
		if err := files.f.ChdirPath(o.Dir); err != nil {
			return 0, fmt.Errorf("working directory %q: %v", o.Dir, err)
		}
	}
	exe, _, e := files.OpenExec(linux.AtFdcwd, "/init", 0)
	if e != 0 {
		return 0, fmt.Errorf("opening /init from the initrd: %v", syscall.Errno(-e))
	}
	prog := north.NewProgramFile(exe)
	argv := append([]string{o.Argv0}, o.Args...)
	img, err := load(prog, "/init", argv, o.Env, 0, north.ExecIDs{}) // the default RLIMIT_STACK, root
	exe.Close()                                                      // the mappings keep what they map
	if errors.Is(err, mem.ErrNoMemory) {
		return 0, fmt.Errorf("/init: %v: the %d MiB of RAM the kernel manages (past its image and the initrd) leave too little for the application "+
			"besides the kernel's reserve: give the machine more memory ('mkimage run' names the least)", err, kernel.Stats().RAM>>20)
	}
	if err != nil {
		return 0, fmt.Errorf("/init: %v", err)
	}
	files.f.SetCmdline(argv)
	cfg := north.Config{
		Machine:    img.Machine,
		Random:     random,
		RAM:        kernel.Stats().RAM,
		FreeRAM:    func() uint64 { return kernel.Stats().FreeRAM },
		Overcommit: o.Overcommit,
		Load:       load,
	}
	if o.Trace {
		cfg.Trace = o.Stdout
	}
	p := north.NewProcess(cfg)
	p.SetProgramFile(prog)
	p.SetFiles(files)
	files.f.SetIOSignaler(p.IOSignaler())
	files.fs.SetProcTable(procTable{p})
	p.StartLoadAverage()
	files.fs.SetOvercommit(o.Overcommit)
	files.fs.SetKernelVersion(north.KernelVersion())
	sysctls := p.Sysctls()
	maps.Copy(sysctls, netSysctls())
	files.fs.SetSysctls(sysctls)
	hz, known := kernel.TSCHz()
	if !known {
		hz = 0
	}
	files.fs.SetCPUInfo(north.CPUInfo(cpu.Cpuid, hz))
	p.SetArgs("/init", argv)
	p.SetBrk(img.Brk)
	p.SetStackStrings(img)
	kernel.Mark(kernel.PhaseLoaded)
	if sk, ok := kernel.Platform().(hal.SecureKernel); ok {
		// The services for the lower VTL (LVBS): they answer its boot
		// call once the application has opened /dev/vtl0.
		go func() {
			if err := sk.ServeLowerVTL(o.Stdout); err != nil {
				fmt.Fprintf(o.Stdout, "cocoon: LVBS: %v; stopping\n", err)
				kernel.Platform().PowerOff(1)
			}
		}()
	}
	p.Start(img.Entry, img.SP)
	status := p.Wait()
	for name, n := range p.Unimplemented() {
		fmt.Fprintf(o.Stdout, "cocoon: unimplemented system call %s was called %d times\n", name, n)
	}
	return status, nil
}

// load loads a static ELF program into a new address space with the vDSO
// and its initial stack (the first program, and execve's): its segments
// are private mappings of the file's pages.
func load(prog *north.ProgramFile, path string, argv, env []string, stack uint64, ids north.ExecIDs) (north.Program, error) {
	elf, err := loader.Parse(prog, prog.Size())
	if err != nil {
		return north.Program{}, north.ErrNoExec
	}
	m, err := north.NewKernelMachine()
	if err != nil {
		return north.Program{}, err
	}
	fail := func(what string, err error) (north.Program, error) {
		north.FreeMachine(m)
		return north.Program{}, fmt.Errorf("%s: %w", what, err)
	}
	img, err := elf.Load(m, loader.Options{
		MapFile: func(addr, length uint64, prot mem.Prot, off, zeroFrom uint64) error {
			err := prog.MapPrivate(m, addr, length, prot, off, zeroFrom)
			if errors.Is(err, north.ErrNotMappable) {
				return loader.ErrNoMapping
			}
			return err
		},
	})
	if err != nil {
		return fail("loading", err)
	}
	vdsoAddr, err := mapVDSO(m)
	if err != nil {
		return fail("mapping the vDSO", err)
	}
	var rnd [16]byte
	random(rnd[:])
	st, err := img.BuildStack(m, loader.StackOptions{
		Top:         stackTop,
		Size:        stack,
		Expand:      stackExpand,
		Args:        argv,
		Env:         env,
		ExecFn:      path,
		Random:      rnd,
		SysinfoEhdr: vdsoAddr,
		// ELF_HWCAP, CPUID 1 EDX, and AT_MINSIGSTKSZ, which x86 Linux
		// gives every program (ARCH_DLINFO, arch/x86/include/asm/elf.h).
		HWCap: uint64(hwcap()),
		// ELF_HWCAP2 is 0: Cocoon leaves CR4.FSGSBASE clear (no
		// HWCAP2_FSGSBASE) and has no ring-3 MWAIT. ELF_PLATFORM is
		// the machine uname names.
		HWCap2:      0,
		Platform:    "x86_64",
		MinSigStkSz: north.MinSigStackSize(),
		UID:         ids.UID, EUID: ids.EUID, GID: ids.GID, EGID: ids.EGID, Secure: ids.Secure,
	})
	if err != nil {
		return fail("building the stack", err)
	}
	return north.Program{Machine: m, Entry: img.Entry, SP: st.SP, Brk: img.Brk,
		ArgStart: st.ArgStart, ArgEnd: st.ArgEnd, EnvStart: st.EnvStart, EnvEnd: st.EnvEnd,
		Segments: [4]uint64{img.CodeStart, img.CodeEnd, img.DataStart, img.DataEnd},
		StackLow: st.Low, StackHigh: stackTop, StackGuard: loader.DefaultStackGuard,
		Auxv: st.AuxvBytes(), VDSO: [2]uint64{vdsoAddr, vdsoAddr + 4096},
		VVar: [2]uint64{vdsoAddr + 4096, vdsoAddr + 8192}}, nil
}
