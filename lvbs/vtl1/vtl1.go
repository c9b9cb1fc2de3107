// Package vtl1 is the LVBS platform as Cocoon's kernel runs it: the
// hal.Platform of a Hyper-V VTL1 secure kernel (docs/LVBS.md). The boot
// entry (boot/lvbs.go) fills in what the boot call gave and hands it to
// kernel.Boot; the kernel's devices are the PC platform's (COM1 console,
// local APIC timer, PIT calibration, CMOS clock, isa-debug-exit), which
// VTL1 reaches in the same partition; the Hyper-V interface (detection,
// hypercall page, VP assist page, SynIC) comes up in goroutine context,
// when North starts the services for VTL0 (SecureKernel.ServeLowerVTL).
//
// Trap context: the hal.Platform methods the kernel calls from trap
// context. //go:nosplit, no allocation. serve.go and machine.go are
// goroutine context.
package vtl1

import (
	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/hal/pc"
	"github.com/cocoon-vm/cocoon/lvbs"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// Platform is the LVBS platform.
type Platform struct {
	// PC is the partition's devices. Not embedded: the PC platform's
	// other capabilities (the host channel to a simulated PSP, COM3/COM4
	// streams) are not LVBS's.
	PC pc.PC

	// BootRegs are the shared registers of the boot call (VTL0's first
	// VTL call, which started VTL1 at the loader's initial context).
	BootRegs vtlcall.Regs
	// BootDebug are VTL0's CR2 and debug registers at the boot call,
	// given back at every return to VTL0 (lvbs.DebugRegs).
	BootDebug lvbs.DebugRegs
	// Start and End bound the secure kernel's reservation.
	Start, End uint64
	// Mailbox is the simulated VSM's mailbox GPA (lvbs/simwire), from
	// skloader.bin's header; 0 on Hyper-V.
	Mailbox uint64

	ch vsm.Channel
}

// Name implements hal.Platform.
//
//go:nosplit
func (p *Platform) Name() string { return "lvbs" }

// HostExits implements hal.Platform.
//
//go:nosplit
func (p *Platform) HostExits() []hal.HostExit { return hal.LVBSExits }

// ConsoleWrite implements hal.Platform: COM1.
//
//go:nosplit
func (p *Platform) ConsoleWrite(b []byte) { p.PC.ConsoleWrite(b) }

// ConsoleRead implements hal.Platform: COM1.
//
//go:nosplit
func (p *Platform) ConsoleRead(b []byte) int { return p.PC.ConsoleRead(b) }

// TSCFrequency implements hal.Platform: calibrated as on the PC platform.
//
//go:nosplit
func (p *Platform) TSCFrequency() uint64 { return p.PC.TSCFrequency() }

// WallClock implements hal.Platform: the CMOS clock.
//
//go:nosplit
func (p *Platform) WallClock() int64 { return p.PC.WallClock() }

// TimerInit implements hal.Platform: VTL1's local APIC timer.
//
//go:nosplit
func (p *Platform) TimerInit(vector uint8) { p.PC.TimerInit(vector) }

// TimerArm implements hal.Platform.
//
//go:nosplit
func (p *Platform) TimerArm(ns uint64) { p.PC.TimerArm(ns) }

// EOI implements hal.Platform.
//
//go:nosplit
func (p *Platform) EOI() { p.PC.EOI() }

// Random implements hal.Platform: RDSEED or RDRAND.
//
//go:nosplit
func (p *Platform) Random() (uint64, bool) { return p.PC.Random() }

// PowerOff implements hal.Platform: the status goes to QEMU's
// isa-debug-exit under the simulated VSM; on Hyper-V, where VTL1 has no
// power-off of its own, the VP halts (VTL0 then waits in its VTL call).
//
//go:nosplit
func (p *Platform) PowerOff(status int) { p.PC.PowerOff(status) }
