// Package pc is the generic PC/KVM platform: what QEMU's microvm and q35
// machines (and any KVM VMM with a 16550 UART) provide. Every host access
// it makes is listed in Exits.
//
// Trap context: methods are //go:nosplit and allocate nothing.
package pc

import (
	"math/bits"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/hal/pc/guestwire"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

// I/O ports (PC/AT conventions; QEMU hw/char/serial.c, hw/timer/i8254.c,
// hw/rtc/mc146818rtc.c, hw/misc/debugexit.c).
const (
	com1      = 0x3f8 // 16550 UART
	com2      = 0x2f8 // 16550 UART: the host channel
	com3      = 0x3e8 // 16550 UART: application stdout and stdin
	com4      = 0x2e8 // 16550 UART: application stderr
	pitCh0    = 0x40  // 8254 channel 0 data
	pitCmd    = 0x43  // 8254 mode/command
	cmosIndex = 0x70
	cmosData  = 0x71
	pic1Data  = 0x21
	pic2Data  = 0xa1
	debugExit = 0xf4 // QEMU isa-debug-exit
)

// Local APIC (Intel SDM vol. 3A, 10.4.1 and table 10-1; AMD APM vol. 2,
// 16.3 "Local APIC"): MMIO at the address in IA32_APIC_BASE.
const (
	msrAPICBase    = 0x1b
	lapicEOI       = 0x0b0
	lapicSVR       = 0x0f0
	lapicLVTTimer  = 0x320
	lapicInitCount = 0x380
	lapicCurCount  = 0x390
	lapicDivide    = 0x3e0
)

// lapicDefault is the local APIC's architectural base (Intel SDM vol. 3A,
// 10.4.1; AMD APM vol. 2, 16.3.1).
const lapicDefault = 0xfee00000

// PC is the platform. The zero value is ready after Init.
type PC struct {
	lapic     uintptr // virtual address of the local APIC registers
	tscHz     uint64
	apicHz    uint64 // APIC timer ticks per second at divide-by-1
	apicReady bool
	cal       calibrator
	requests  guestwire.Requests
}

var _ hal.Platform = (*PC)(nil)

// Init sets up the console and silences the legacy interrupt controllers.
//
//go:nosplit
func (p *PC) Init() {
	cpu.Outb(com1+1, 0x00) // IER: no interrupts
	cpu.Outb(com1+3, 0x80) // LCR: DLAB
	cpu.Outb(com1+0, 0x01) // DLL: 115200 baud
	cpu.Outb(com1+1, 0x00) // DLM
	cpu.Outb(com1+3, 0x03) // LCR: 8N1
	cpu.Outb(com1+2, 0xc7) // FCR: enable and clear FIFOs
	cpu.Outb(com1+4, 0x03) // MCR: DTR, RTS
	cpu.Outb(pic1Data, 0xff)
	cpu.Outb(pic2Data, 0xff)
}

//go:nosplit
func (p *PC) Name() string { return "pc" }

//go:nosplit
func (p *PC) HostExits() []hal.HostExit { return hal.PCExits }

// ConsoleWrite writes p to COM1, turning "\n" into "\r\n".
//
//go:nosplit
func (p *PC) ConsoleWrite(b []byte) {
	for _, c := range b {
		if c == '\n' {
			putc('\r')
		}
		putc(c)
	}
}

//go:nosplit
func putc(c byte) {
	for i := 0; i < 1<<16 && cpu.Inb(com1+5)&0x20 == 0; i++ { // LSR.THRE
		cpu.Pause()
	}
	cpu.Outb(com1, c)
}

// ConsoleRead reads what COM1 has received.
//
//go:nosplit
func (p *PC) ConsoleRead(b []byte) int {
	n := 0
	for n < len(b) && cpu.Inb(com1+5)&0x01 != 0 { // LSR.DR
		b[n] = cpu.Inb(com1)
		n++
	}
	return n
}

// TSCFrequency returns the TSC and APIC timer frequencies the hypervisor
// states (hypervisorFrequencies), or else measures both against PIT
// channel 0 (pitCalibrate). Channel 0 works on every PC machine QEMU
// has; the channel 2 gate at port 0x61 does not exist on microvm. The
// PIT's IRQ 0 stays masked at the PIC.
//
// A vCPU can be preempted by the host at any instruction, and time lost
// between reading the PIT and reading the TSC skews the result (once, at
// load ~20, by 25x: the guest's clock ran 13 minutes in 30 s, and TLS
// certificates it made were not yet valid for the host). So every PIT
// edge is bracketed by TSC reads, a window whose brackets are too wide
// is not used, and calibration ends only when two consecutive windows
// agree (calibrator). When none do, the lowest usable window's rate is
// used and the console says so.
//
//go:nosplit
func (p *PC) TSCFrequency() uint64 {
	if p.tscHz != 0 {
		return p.tscHz
	}
	p.lapic = lapicWindow(apicBase(cpu.Rdmsr(msrAPICBase)))
	if tsc, apic, ok := hypervisorFrequencies(); ok {
		p.tscHz, p.apicHz = tsc, apic
		return p.tscHz
	}
	tsc, apic, agreed := p.pitCalibrate()
	if !agreed {
		p.ConsoleWrite([]byte("cocoon: TSC calibration: no two PIT windows agreed (a busy host?); using the best one, the clock may drift\n"))
	}
	p.tscHz, p.apicHz = tsc, apic
	return p.tscHz
}

// KnownTSCFrequency takes hz, a TSC frequency the platform knows from a
// source the host cannot change (SEV-SNP Secure TSC), and measures the
// APIC timer against the TSC for 10 ms. The APIC timer stays the host's:
// it decides when the guest is interrupted, not what time it reads.
//
//go:nosplit
func (p *PC) KnownTSCFrequency(hz uint64) {
	p.lapic = lapicWindow(apicBase(cpu.Rdmsr(msrAPICBase)))
	p.tscHz = hz
	p.apicWrite(lapicDivide, 0xb) // divide by 1
	p.apicWrite(lapicLVTTimer, 1<<16)
	p.apicWrite(lapicInitCount, 0xffffffff)
	t0 := cpu.Rdtsc()
	t1 := t0
	for t1-t0 < hz/100 {
		cpu.Pause()
		t1 = cpu.Rdtsc()
	}
	a1 := p.apicRead(lapicCurCount)
	p.apicWrite(lapicInitCount, 0)
	// count * hz / elapsed in 128 bits: the count is whatever the host's
	// APIC says, and the product may not fit 64.
	hi, lo := bits.Mul64(uint64(0xffffffff-a1), hz)
	if hi >= t1-t0 {
		p.apicHz = uint64(0xffffffff-a1) * 100 // the nominal 10 ms window
		return
	}
	p.apicHz, _ = bits.Div64(hi, lo, t1-t0)
}

// hypervisorFrequencies reads the TSC and APIC bus frequencies from the
// hypervisor's timing leaf 0x40000010 (EAX = TSC kHz, EBX = APIC bus kHz;
// Linux arch/x86/kernel/cpu/vmware.c and KVM's KVM_CPUID_SIGNATURE range,
// QEMU's vmware-cpuid-freq), present when CPUID.1:ECX[31] (hypervisor)
// is set and the hypervisor range reaches it (CPUID 0x40000000 EAX).
// Values outside 100 MHz..20 GHz (TSC) or 1 MHz..20 GHz (APIC) are not
// believed.
//
//go:nosplit
func hypervisorFrequencies() (tscHz, apicHz uint64, ok bool) {
	if _, _, c, _ := cpu.Cpuid(1, 0); c&(1<<31) == 0 {
		return 0, 0, false
	}
	if max, _, _, _ := cpu.Cpuid(0x40000000, 0); max < 0x40000010 || max > 0x400000ff {
		return 0, 0, false
	}
	a, b, _, _ := cpu.Cpuid(0x40000010, 0)
	tscHz, apicHz = uint64(a)*1000, uint64(b)*1000
	if tscHz < 100_000_000 || tscHz > 20_000_000_000 || apicHz < 1_000_000 || apicHz > 20_000_000_000 {
		return 0, 0, false
	}
	return tscHz, apicHz, true
}

// TimerInit enables the local APIC with the timer in one-shot mode.
//
//go:nosplit
func (p *PC) TimerInit(vector uint8) {
	p.apicWrite(lapicSVR, 0x100|0xff) // APIC enable, spurious vector 0xff
	p.apicWrite(lapicDivide, 0xb)
	p.apicWrite(lapicLVTTimer, uint32(vector)) // one-shot, unmasked
	p.apicReady = p.apicHz != 0
}

// TimerArm programs the one-shot count for ns nanoseconds.
//
//go:nosplit
func (p *PC) TimerArm(ns uint64) {
	if !p.apicReady {
		return
	}
	if ns == 0 {
		p.apicWrite(lapicInitCount, 0)
		return
	}
	count := ns * (p.apicHz / 1000) / 1_000_000
	if ns > 1<<34 { // avoid overflow: more than ~17 s is capped
		count = 0xffffffff
	}
	if count == 0 {
		count = 1
	}
	if count > 0xffffffff {
		count = 0xffffffff
	}
	p.apicWrite(lapicInitCount, uint32(count))
}

//go:nosplit
func (p *PC) EOI() {
	if p.lapic != 0 {
		p.apicWrite(lapicEOI, 0)
	}
}

// apicBase returns the local APIC's physical address from IA32_APIC_BASE
// (AMD APM vol. 2, 16.3.1: bits 51:12), or the architectural default
// 0xFEE00000 when the value lies outside the 3-4 GiB MMIO hole. The
// hypervisor answers this MSR (under SEV-SNP through #VC): an address in
// RAM would turn the kernel's APIC writes into writes to its own private
// memory, where no #VC catches them.
//
//go:nosplit
func apicBase(msr uint64) uintptr {
	base := msr & 0x000f_ffff_ffff_f000
	if base < 3<<30 || base+0x1000 > 4<<30 {
		return lapicDefault
	}
	return uintptr(base)
}

// lapicWindow maps the local APIC's registers at base, or at the
// architectural default when the host interface does not list base.
// Not inlined: tools/hostcheck names it as the caller that maps a
// window found at run time.
//
//go:noinline
//go:nosplit
func lapicWindow(base uintptr) uintptr {
	if va, ok := cpu.Device(uint64(base), 0x1000, "pc"); ok {
		return va
	}
	va, _ := cpu.Device(lapicDefault, 0x1000, "pc")
	return va
}

//go:nosplit
func (p *PC) apicWrite(reg uintptr, v uint32) { *cpu.Ptr32(p.lapic + reg) = v }

//go:nosplit
func (p *PC) apicRead(reg uintptr) uint32 { return *cpu.Ptr32(p.lapic + reg) }

// Random prefers RDSEED (an entropy source) and falls back to RDRAND.
//
//go:nosplit
func (p *PC) Random() (uint64, bool) {
	if cpu.HasRDSEED() {
		if v, ok := cpu.Rdseed(); ok {
			return v, true
		}
	}
	if cpu.HasRDRAND() {
		return cpu.Rdrand()
	}
	return 0, false
}

// PowerOff writes status to isa-debug-exit: QEMU exits with
// (status<<1)|1. If nothing is there, the CPU halts.
//
//go:nosplit
func (p *PC) PowerOff(status int) {
	cpu.Outl(debugExit, uint32(status))
	cpu.Halt()
}

// WallClock reads the CMOS RTC (MC146818 registers 0x00-0x09, status B at
// 0x0b for BCD and 12-hour mode, century at 0x32 per the ACPI FADT
// convention QEMU follows).
//
//go:nosplit
func (p *PC) WallClock() int64 {
	for i := 0; i < 1<<20 && cmos(0x0a)&0x80 != 0; i++ { // update in progress
	}
	sec, min, hour := cmos(0x00), cmos(0x02), cmos(0x04)
	day, mon, year, cent := cmos(0x07), cmos(0x08), cmos(0x09), cmos(0x32)
	b := cmos(0x0b)
	pm := hour & 0x80
	hour &= 0x7f
	if b&0x04 == 0 { // BCD
		sec, min, hour = bcd(sec), bcd(min), bcd(hour)
		day, mon, year, cent = bcd(day), bcd(mon), bcd(year), bcd(cent)
	}
	if b&0x02 == 0 && pm != 0 { // 12-hour clock
		hour = (hour + 12) % 24
	}
	y := int64(cent)*100 + int64(year)
	if cent == 0 {
		y = 2000 + int64(year)
	}
	return UnixSeconds(y, int64(mon), int64(day), int64(hour), int64(min), int64(sec))
}

//go:nosplit
func cmos(reg uint8) uint8 {
	cpu.Outb(cmosIndex, reg)
	return cpu.Inb(cmosData)
}

//go:nosplit
func bcd(v uint8) uint8 { return v>>4*10 + v&0xf }

// UnixSeconds converts a proleptic Gregorian UTC date to seconds since the
// Unix epoch (days-from-civil, H. Hinnant's algorithm).
//
//go:nosplit
func UnixSeconds(y, m, d, hh, mm, ss int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := era*146097 + doe - 719468
	return days*86400 + hh*3600 + mm*60 + ss
}

var (
	_ hal.GuestRequester = (*PC)(nil)
	_ guestwire.Serial   = (*PC)(nil)
)

// GuestRequests implements hal.GuestRequester: guest requests framed by
// guestwire over COM2 to a host-side PSP, when COM2 exists.
//
//go:nosplit
func (p *PC) GuestRequests() hal.GuestTransport { return p.requests.Open(p) }

// SecretsPage implements hal.GuestRequester: the PC platform has no
// firmware secrets page (a launcher may provide one: kernel.SecretsPage).
func (p *PC) SecretsPage() []byte { return nil }

// ChannelPresent probes COM2 through its scratch register (16550
// register 7): an absent port reads back 0xff.
//
//go:nosplit
func (p *PC) ChannelPresent() bool {
	cpu.Outb(com2+7, 0x5a)
	if cpu.Inb(com2+7) != 0x5a {
		return false
	}
	cpu.Outb(com2+1, 0x00) // IER: no interrupts
	cpu.Outb(com2+3, 0x80) // LCR: DLAB
	cpu.Outb(com2+0, 0x01) // 115200 baud
	cpu.Outb(com2+1, 0x00)
	cpu.Outb(com2+3, 0x03) // 8N1
	cpu.Outb(com2+2, 0xc7) // FIFOs on and cleared
	cpu.Outb(com2+4, 0x03) // DTR, RTS
	return true
}

// ChannelWrite writes p to COM2, byte by byte (no translation).
//
//go:nosplit
func (p *PC) ChannelWrite(b []byte) {
	for _, c := range b {
		for cpu.Inb(com2+5)&0x20 == 0 { // LSR.THRE
			cpu.Pause()
		}
		cpu.Outb(com2, c)
	}
}

// ChannelRead reads what COM2 has received.
//
//go:nosplit
func (p *PC) ChannelRead(b []byte) int {
	n := 0
	for n < len(b) && cpu.Inb(com2+5)&0x01 != 0 { // LSR.DR
		b[n] = cpu.Inb(com2)
		n++
	}
	return n
}

var _ hal.Stdio = (*PC)(nil)

// StdioInit probes COM3 (standard output and input) and COM4 (standard
// error) as ChannelPresent probes COM2, and sets them up the same way.
// The port numbers stay constants at every cpu.Inb/Outb call, as
// tools/hostcheck requires.
//
//go:nosplit
func (p *PC) StdioInit() bool {
	cpu.Outb(com3+7, 0x5a)
	cpu.Outb(com4+7, 0x5a)
	if cpu.Inb(com3+7) != 0x5a || cpu.Inb(com4+7) != 0x5a {
		return false
	}
	cpu.Outb(com3+1, 0x00) // IER: no interrupts
	cpu.Outb(com3+3, 0x80) // LCR: DLAB
	cpu.Outb(com3+0, 0x01) // 115200 baud
	cpu.Outb(com3+1, 0x00)
	cpu.Outb(com3+3, 0x03) // 8N1
	cpu.Outb(com3+2, 0xc7) // FIFOs on and cleared
	cpu.Outb(com3+4, 0x03) // DTR, RTS
	cpu.Outb(com4+1, 0x00)
	cpu.Outb(com4+3, 0x80)
	cpu.Outb(com4+0, 0x01)
	cpu.Outb(com4+1, 0x00)
	cpu.Outb(com4+3, 0x03)
	cpu.Outb(com4+2, 0xc7)
	cpu.Outb(com4+4, 0x03)
	return true
}

// StdioWrite writes b to COM3 (fd 1) or COM4 (fd 2), byte by byte, with
// no translation.
//
//go:nosplit
func (p *PC) StdioWrite(fd int, b []byte) {
	for _, c := range b {
		if fd == 2 {
			for cpu.Inb(com4+5)&0x20 == 0 { // LSR.THRE
				cpu.Pause()
			}
			cpu.Outb(com4, c)
			continue
		}
		for cpu.Inb(com3+5)&0x20 == 0 {
			cpu.Pause()
		}
		cpu.Outb(com3, c)
	}
}

// StdioRead reads what COM3 has received.
//
//go:nosplit
func (p *PC) StdioRead(b []byte) int {
	n := 0
	for n < len(b) && cpu.Inb(com3+5)&0x01 != 0 { // LSR.DR
		b[n] = cpu.Inb(com3)
		n++
	}
	return n
}
