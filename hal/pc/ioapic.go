package pc

// Routing a device's interrupt through the IO-APIC. Goroutine context:
// the kernel routes an interrupt once, at boot, before it is enabled.

import (
	"errors"
	"fmt"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

// The local APIC's ID register (Intel SDM vol. 3A, 10.4.6: the xAPIC ID
// in bits 31:24).
const lapicID = 0x020

// IO-APIC (Intel 82093AA I/O Advanced Programmable Interrupt Controller
// datasheet, 3.0 and 3.1): registers are reached indirectly, IOREGSEL at
// +0x00 selecting the one IOWIN at +0x10 reads and writes. IOAPICVER
// (0x01) holds the highest redirection entry in bits 23:16; entry n is
// the dwords 0x10+2n (vector 7:0, delivery mode 10:8, destination mode
// 11, polarity 13, trigger mode 15, mask 16) and 0x11+2n (destination
// APIC ID 31:24). The architectural base is 0xFEC00000, where QEMU's
// machines put it.
const (
	ioapicBase     = 0xfec00000
	ioapicWindow   = 0x20
	ioapicRegSel   = 0x00
	ioapicWin      = 0x10
	ioapicVer      = 0x01
	ioapicRedirTbl = 0x10
)

// RouteInterrupt programs the IO-APIC's redirection entry gsi: fixed
// delivery of vector to this CPU's local APIC (physical destination),
// edge-triggered, active high, unmasked.
func (p *PC) RouteInterrupt(gsi uint32, vector uint8) error {
	if p.lapic == 0 || vector < 32 {
		return errors.New("pc: no local APIC to deliver an interrupt to")
	}
	va, ok := cpu.Device(ioapicBase, ioapicWindow, "pc")
	if !ok {
		return errors.New("pc: the IO-APIC is not in the host interface")
	}
	ver := ioapicRead(va, ioapicVer)
	if ver == 0xffffffff {
		return errors.New("pc: no IO-APIC answers at 0xfec00000")
	}
	if max := ver >> 16 & 0xff; gsi > max {
		return fmt.Errorf("pc: the IO-APIC has %d inputs, not GSI %d", max+1, gsi)
	}
	id := p.apicRead(lapicID) >> 24
	ioapicWrite(va, ioapicRedirTbl+2*gsi+1, id<<24)
	ioapicWrite(va, ioapicRedirTbl+2*gsi, uint32(vector))
	return nil
}

// ioapicRead and ioapicWrite reach IO-APIC register reg through the
// window at va. Not inlined, so the compiler neither merges nor drops
// the stores to IOREGSEL.
//
//go:noinline
func ioapicRead(va uintptr, reg uint32) uint32 {
	*cpu.Ptr32(va + ioapicRegSel) = reg
	return *cpu.Ptr32(va + ioapicWin)
}

//go:noinline
func ioapicWrite(va uintptr, reg, v uint32) {
	*cpu.Ptr32(va + ioapicRegSel) = reg
	*cpu.Ptr32(va + ioapicWin) = v
}
