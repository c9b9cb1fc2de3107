package lvbs

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

// x87, SSE and AVX state is shared between VTLs (TLFS vsm.md, "Shared
// State"), and Cocoon's Go code uses SSE. So the switch keeps two XSAVE
// areas: before a VTL return it saves VTL1's state and restores VTL0's;
// after the next entry it saves VTL0's and restores VTL1's. VTL0 thus gets
// back exactly the state it had when it entered VTL1, even when an
// intercept stopped it mid-instruction, and never sees VTL1's registers:
// until VTL0's state was first saved, its area holds the initial state
// (zero registers, default MXCSR), which scrubs VTL1's values.
const (
	fpAreaMax   = 4096   // the largest XSAVE area accepted (CPUID 0xD.0 EBX)
	fpAlign     = 64     // XSAVE areas are 64-byte aligned (Intel SDM vol. 1, 13.4)
	mxcsrOffset = 24     // MXCSR in the legacy region (Intel SDM vol. 1, table 13-1)
	mxcsrInit   = 0x1F80 // its power-up value: all exceptions masked
)

// fpAreas is what switch_amd64.s reads: the two areas' addresses.
type fpAreas struct {
	vtl0, vtl1 uintptr
}

// FPState holds both VTLs' extended state on one VP.
type FPState struct {
	buf   [2*fpAreaMax + fpAlign]byte
	areas fpAreas
}

// NewFPState returns the areas for this processor. It needs XSAVE enabled
// by the kernel (CPUID.1:ECX[27] OSXSAVE) and an area of at most 4 KiB for
// the features XCR0 enables.
func NewFPState() (*FPState, error) {
	if _, _, c, _ := cpu.Cpuid(1, 0); c&(1<<27) == 0 {
		return nil, fmt.Errorf("lvbs: XSAVE is not enabled (CPUID.1:ECX.OSXSAVE clear): VTL0's extended state could not be kept")
	}
	if _, b, _, _ := cpu.Cpuid(0xd, 0); b == 0 || b > fpAreaMax {
		return nil, fmt.Errorf("lvbs: XSAVE area of %d bytes (CPUID 0xD.0 EBX); at most %d supported", b, fpAreaMax)
	}
	f := new(FPState)
	// unsafe: the buffer's address, to align the areas for XSAVE; f is
	// heap-allocated and Go does not move it, and the switcher keeps f.
	base := (uintptr(unsafe.Pointer(&f.buf[0])) + fpAlign - 1) &^ (fpAlign - 1)
	off := base - uintptr(unsafe.Pointer(&f.buf[0]))
	f.areas = fpAreas{vtl0: base, vtl1: base + fpAreaMax}
	binary.LittleEndian.PutUint32(f.buf[off+mxcsrOffset:], mxcsrInit)
	return f, nil
}

// VTL0 returns VTL0's saved area (as of its last entry into VTL1).
func (f *FPState) VTL0() []byte {
	off := f.areas.vtl0 - uintptr(unsafe.Pointer(&f.buf[0])) // unsafe: the area's place in buf
	return f.buf[off : off+fpAreaMax]
}
