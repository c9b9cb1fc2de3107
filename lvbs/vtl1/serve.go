package vtl1

// The services for VTL0 (hal.SecureKernel): Hyper-V bring-up, the boot
// call's answer, and the VTL call loop, on one goroutine that owns the
// boot VP's Hyper-V state. Goroutine context.

import (
	"fmt"
	"io"
	"time"
	"unsafe"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/lvbs"
	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
)

// Pages of the platform's own, in the kernel's bss and so in the secure
// kernel's range (lvbs.Platform.Boot refuses others): the VP assist page,
// the SynIC message page, the hypercall input and output pages, and two
// pages of log ring.
const (
	pageAssist = iota
	pageSIMP
	pageIn
	pageOut
	pageLog
	logPages = 2
	nPages   = pageLog + logPages
)

var pageArea [(nPages + 1) * hv.PageSize]byte

// AppWait bounds how long the boot call waits for the application to
// open /dev/vtl0 before VTL1 returns to VTL0: VTL1 runs only while VTL0
// waits in a VTL call, so the application must be ready first.
const AppWait = 60 * time.Second

var _ hal.SecureKernel = (*Platform)(nil)

// AppChannel implements hal.SecureKernel.
func (p *Platform) AppChannel() hal.AppChannel { return &p.ch }

// page returns page n of pageArea.
func page(n int) hv.Page {
	// unsafe: the address of a bss array the kernel maps 1:1 (KernBase + physical).
	base := (uintptr(unsafe.Pointer(&pageArea[0])) + hv.PageSize - 1) &^ (hv.PageSize - 1)
	va := base + uintptr(n)*hv.PageSize
	return hv.Page{GPA: uint64(cpu.Phys(va)), Mem: cpu.Bytes(va, hv.PageSize)}
}

// physMem is VTL1's view of guest physical memory: the kernel's direct
// map (4 GiB).
type physMem struct{}

func (physMem) span(gpa uint64, n int) ([]byte, error) {
	if gpa+uint64(n) < gpa || gpa+uint64(n) > uint64(cpu.DirectMapSize) {
		return nil, fmt.Errorf("vtl1: GPA %#x+%d beyond the direct map", gpa, n)
	}
	return cpu.Bytes(cpu.Virt(uintptr(gpa)), uintptr(n)), nil
}

func (m physMem) ReadPhys(gpa uint64, p []byte) error {
	b, err := m.span(gpa, len(p))
	if err == nil {
		copy(p, b)
	}
	return err
}

func (m physMem) WritePhys(gpa uint64, p []byte) error {
	b, err := m.span(gpa, len(p))
	if err == nil {
		copy(b, p)
	}
	return err
}

// ServeLowerVTL implements hal.SecureKernel: it brings up the Hyper-V
// interface (lvbs.Start), answers the boot call (lvbs.Platform.Boot) once
// the application has opened /dev/vtl0 (or AppWait passed), and serves
// VTL0's calls from then on. It returns only when it cannot serve: the
// Hyper-V interface did not come up, so there is no way back to VTL0.
func (p *Platform) ServeLowerVTL(log io.Writer) error {
	hcPage := HypercallPage()
	var m lvbs.Machine = &cpuMachine{page: hcPage}
	if p.Mailbox != 0 {
		fmt.Fprintf(log, "cocoon: LVBS: SIMULATED VSM: CPUID 0x40000000+ and the Hyper-V MSRs go to the simulator's mailbox at %#x; hypercalls and VTL returns through the hypercall page it wrote\n", p.Mailbox)
		m = &simMachine{page: hcPage, mb: cpu.Virt(uintptr(p.Mailbox))}
	}
	pages := lvbs.Pages{
		Hypercall: hv.Page{GPA: uint64(cpu.Phys(hcPage))},
		Assist:    page(pageAssist),
		SIMP:      page(pageSIMP),
		In:        page(pageIn),
		Out:       page(pageOut),
	}
	pl, err := lvbs.Start(m, pages)
	if err != nil {
		return fmt.Errorf("bringing up Hyper-V in VTL1: %w", err)
	}
	sw, err := lvbs.NewPageSwitcher(hcPage, pl.Offsets)
	if err != nil {
		return err
	}
	// VTL0's CR2 and debug registers from the boot call on: VTL1's own
	// page faults write CR2.
	dbg := p.BootDebug
	sw.Debug = &dbg
	logRing := page(pageLog)
	cfg := vsm.Config{
		HV:      pl.HV,
		Mem:     physMem{},
		Log:     cpu.Bytes(cpu.Virt(uintptr(logRing.GPA)), logPages*hv.PageSize),
		LogGPA:  logRing.GPA,
		App:     &p.ch,
		Console: log,
	}
	regs := p.BootRegs
	secure, err := pl.Boot(cfg, &regs)
	if err != nil {
		fmt.Fprintf(log, "cocoon: LVBS: the boot call fails: %v\n", err)
	}
	for deadline := time.Now().Add(AppWait); !p.ch.Opened() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if !p.ch.Opened() {
		fmt.Fprintln(log, "cocoon: LVBS: the application has not opened /dev/vtl0; returning to VTL0 without it (application calls fail with ENODEV)")
	}
	fmt.Fprintln(log, "cocoon: LVBS: boot call answered; serving VTL0")
	pl.Serve(sw, secure, &regs)
	return nil
}
