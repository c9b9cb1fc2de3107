// Package hal is the South contract: the only ways Cocoon's kernel reaches
// the machine or the host. A platform (hal/pc, snp, lvbs) implements
// Platform; the kernel uses nothing else.
//
// The kernel calls these methods from trap context, so implementations
// must be //go:nosplit, must not allocate and must not block.
package hal

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

// InterruptRouter is an optional Platform capability: delivering a
// device's interrupt line (a global system interrupt, GSI) to this CPU
// as vector, edge-triggered and active high. Goroutine context, at boot.
type InterruptRouter interface {
	RouteInterrupt(gsi uint32, vector uint8) error
}

// DeviceMemory is an optional Platform capability of confidential guests
// (SEV-SNP), whose devices can reach only memory the platform shares
// with the host: DeviceMemory returns pages shared for devices alone
// (virtqueue rings and bounce buffers), as the kernel's view and their
// guest-physical address. Nothing else of the kernel's lives there, and
// it is the only memory a device may be given. Goroutine context.
type DeviceMemory interface {
	DeviceMemory() (mem []byte, gpa uint64)
}

// VCHandler is an optional Platform capability of encrypted-state guests
// (SEV-ES, SEV-SNP): it serves the #VC exception (AMD APM vol. 2, 15.35.5)
// by emulating the instruction that raised it, and advances f past it.
// On false it has already asked the host to terminate the guest. Trap
// context, on its own stack; it must not raise #VC itself.
type VCHandler interface {
	ServeVC(f *Frame) bool
}

// SecureClock is an optional Platform capability of a confidential
// platform whose TSC the host cannot change: SEV-SNP Secure TSC (package
// snp). SecureTSC reports, after TSCFrequency, whether that is on and the
// frequency and TSC_FACTOR the kernel calibrated with, for the PSP's
// TSC_INFO to confirm. A platform without it, or with ok false, runs on
// time the host controls.
type SecureClock interface {
	SecureTSC() (hz uint64, factor uint32, ok bool)
}

// GuestRequester is an optional Platform capability of a machine with an
// AMD Secure Processor to attest to: it carries sealed SEV-SNP guest
// messages (SNP Firmware ABI, chapter 7 "Guest Messages") to the PSP.
// The messages are sealed and opened above it (snp/guestmsg); the
// platform only moves bytes: through the GHCB's guest request exits on
// SNP hardware (package snp), over the host channel to a host-side PSP on
// the PC platform (hal/pc, hal/pc/guestwire). Goroutine context.
type GuestRequester interface {
	// GuestRequests returns the transport, or nil when this machine has
	// none (no SNP, no host channel).
	GuestRequests() GuestTransport
	// SecretsPage returns the SNP secrets page the firmware placed in
	// the guest (SNP Firmware ABI, 8.17.2.5 "Secrets Page"), or nil when
	// the platform has none of its own.
	SecretsPage() []byte
}

// GuestTransport sends one guest request: the SNP Guest Request or, with
// a non-nil certs, the SNP Extended Guest Request (GHCB spec, sections
// 4.1.7 and 4.1.8) offering len(certs)/4096 pages for the certificate
// table. It copies the sealed response into resp. A non-nil error means
// the exchange failed without a result: whether the PSP saw the request
// is then unknown.
type GuestTransport interface {
	MaxCertPages() int
	Send(req, resp, certs []byte) (GuestResult, error)
}

// GuestResult is what a guest request exit returns (GHCB spec, 4.1.7 and
// 4.1.8): SW_EXITINFO2 split into the VMM error (bits 63:32) and the
// firmware status (bits 31:0), and, with VMM error 1 (invalid length),
// the number of certificate pages the host needs (RBX).
type GuestResult struct {
	VMM, Firmware uint32
	CertPages     uint64
}

// Stdio is an optional Platform capability: byte streams to the launcher
// for the application's standard input, output and error, apart from the
// console, so that neither the kernel's messages nor a terminal's line
// endings mix into them. Goroutine context: never called from trap
// context.
type Stdio interface {
	// StdioInit sets the streams up and reports whether they exist.
	StdioInit() bool
	// StdioWrite writes all of p to standard output (fd 1) or standard
	// error (fd 2).
	StdioWrite(fd int, p []byte)
	// StdioRead reads what has arrived on standard input, up to len(p)
	// bytes; 0 if none.
	StdioRead(p []byte) int
}
