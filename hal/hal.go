// Package hal is the South contract: the only ways Cocoon's kernel reaches
// the machine or the host. A platform (hal/pc, snp, lvbs) implements
// Platform; the kernel uses nothing else.
//
// The kernel calls these methods from trap context, so implementations
// must be //go:nosplit, must not allocate and must not block.
package hal

import "github.com/cocoon-vm/cocoon/kernel/cpu"

// Platform is one machine personality.
type Platform interface {
	// Name is a short name ("pc", "snp", ...).
	Name() string

	// ConsoleWrite writes bytes to the console.
	ConsoleWrite(p []byte)
	// ConsoleRead reads bytes the console has ready; 0 if none.
	ConsoleRead(p []byte) int

	// TSCFrequency calibrates and returns the time-stamp counter frequency
	// in Hz. Called once at boot.
	TSCFrequency() uint64
	// WallClock returns the real time in seconds since the Unix epoch.
	// Called once at boot.
	WallClock() int64

	// TimerInit prepares a one-shot timer that raises the given interrupt
	// vector. Called once at boot after TSCFrequency.
	TimerInit(vector uint8)
	// TimerArm makes the timer fire once after ns nanoseconds, replacing
	// any earlier arming. 0 disarms it.
	TimerArm(ns uint64)
	// EOI acknowledges the interrupt being handled.
	EOI()

	// Random returns 64 bits from the platform's entropy source, or false
	// if it has none to give.
	Random() (uint64, bool)

	// PowerOff stops the machine and reports status to the host. It does
	// not return.
	PowerOff(status int)

	// HostExits lists every way the platform reaches the host.
	HostExits() []HostExit
}

// HostExit is one kind of access to the host: the image's host interface
// is the list of these, which `mkimage inspect` shows.
type HostExit struct {
	Kind  string // "port", "mmio", "msr", "instruction", ...
	Where string // port or address range, MSR number, instruction
	What  string // the device or purpose
}

// VCHandler is an optional Platform capability of encrypted-state guests
// (SEV-ES, SEV-SNP): it serves the #VC exception (AMD APM vol. 2, 15.35.5)
// by emulating the instruction that raised it, and advances f past it.
// On false it has already asked the host to terminate the guest. Trap
// context, on its own stack; it must not raise #VC itself.
type VCHandler interface {
	ServeVC(f *cpu.Frame) bool
}

// HostChannel is an optional Platform capability: a byte stream to a
// host-side helper, such as the simulated PSP that answers SEV-SNP guest
// messages under plain QEMU. Goroutine context: methods may be called
// from ordinary Go code, and never from trap context.
type HostChannel interface {
	// ChannelPresent reports whether the channel exists on this machine.
	ChannelPresent() bool
	// ChannelWrite writes all of p.
	ChannelWrite(p []byte)
	// ChannelRead reads what has arrived, up to len(p) bytes; 0 if none.
	ChannelRead(p []byte) int
}
