package snptest

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/snp/ghcb"
)

// Guest is the privileged side of a fake SNP guest (snp.Machine): the
// Hypervisor it exits to, an RMP of validated pages, page tables, and
// instruction bytes. Guest-physical memory is the Hypervisor's; the
// guest's direct map puts it at DirectMap.
type Guest struct {
	*Hypervisor

	// DirectMap is the virtual address of guest-physical 0.
	DirectMap uint64
	// Validated holds the RMP Validated bit of each 4 KiB GFN.
	Validated map[uint64]bool
	// Small marks 2 MiB-aligned GFNs whose RMP entries are 4 KiB pages:
	// a 2 MiB PVALIDATE there fails with FAIL_SIZEMISMATCH.
	Small map[uint64]bool
	// PValidateFail, if nonzero, is returned by every PVALIDATE.
	PValidateFail uint32
	// Shared maps virtual pages with the C-bit clear to guest-physical
	// pages; every other address in the direct map is private.
	Shared map[uint64]uint64
	// Code holds instruction bytes by virtual address.
	Code map[uint64][]byte
	// GuestTSCFreq is what GUEST_TSC_FREQ reads (Secure TSC).
	GuestTSCFreqMSR uint64
	// OSXSAVE and XCR0 are the dynamic state CPUID reflects.
	OSXSAVE bool
	XCR0    uint64
}

// NewGuest returns a guest with pages of memory and an honest hypervisor.
func NewGuest(pages int) *Guest {
	return &Guest{
		Hypervisor: New(pages),
		DirectMap:  0x7e00_0000_0000,
		Validated:  make(map[uint64]bool),
		Small:      make(map[uint64]bool),
		Shared:     make(map[uint64]uint64),
		Code:       make(map[uint64][]byte),
		OSXSAVE:    true,
		XCR0:       3,
	}
}

// PValidate implements snp.Machine with the RMP semantics of AMD APM
// vol. 3, "PVALIDATE".
func (g *Guest) PValidate(va uintptr, huge, validate bool) (uint32, bool) {
	if g.PValidateFail != 0 {
		return g.PValidateFail, false
	}
	pa := uint64(va) - g.DirectMap
	gfn := pa / ghcb.PageSize
	n := uint64(1)
	if huge {
		if pa%(2<<20) != 0 {
			return 1, false // FAIL_INPUT
		}
		if g.Small[gfn] {
			return 6, false // FAIL_SIZEMISMATCH
		}
		n = 512
	}
	unchanged := true
	for i := gfn; i < gfn+n; i++ {
		if g.Validated[i] != validate {
			unchanged = false
		}
		g.Validated[i] = validate
	}
	return 0, unchanged
}

// Translate implements snp.Machine.
func (g *Guest) Translate(va uint64) (uint64, bool, bool) {
	if pa, ok := g.Shared[va&^0xfff]; ok {
		return pa | va&0xfff, false, true
	}
	if va >= g.DirectMap && va-g.DirectMap < uint64(len(g.mem)) {
		return va - g.DirectMap, true, true
	}
	return 0, false, false
}

// Fetch implements snp.Machine.
func (g *Guest) Fetch(va uint64, buf []byte) int {
	return copy(buf, g.Code[va])
}

// GuestTSCFreq implements snp.Machine.
func (g *Guest) GuestTSCFreq() uint64 { return g.GuestTSCFreqMSR }

// XState implements snp.Machine.
func (g *Guest) XState() (bool, uint64) { return g.OSXSAVE, g.XCR0 }

// PortAccess is one port access the hypervisor saw.
type PortAccess struct {
	Port  uint16
	Size  int
	In    bool
	Value uint32
}

// MMIOAccess is one MMIO access the hypervisor saw.
type MMIOAccess struct {
	GPA   uint64
	Size  int
	Write bool
	Value uint64
}

func (h *Hypervisor) ioio(g *ghcb.GHCB) {
	info := g.SwExitInfo1
	port := uint16(info >> 16)
	size := 0
	switch {
	case info&(1<<4) != 0:
		size = 1
	case info&(1<<5) != 0:
		size = 2
	case info&(1<<6) != 0:
		size = 4
	}
	mask := uint32(1<<(8*size) - 1)
	a := PortAccess{Port: port, Size: size, In: info&1 != 0}
	g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultOK, 0
	if size == 0 || info&(1<<2) != 0 {
		g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultGHCBError, uint64(ghcb.ErrInvalidInput)
		return
	}
	if a.In {
		a.Value = h.Ports[port] & mask
		if !h.DropOutputs {
			g.Set(ghcb.FieldRAX, uint64(a.Value))
		}
	} else {
		if !g.Valid.IsSet(ghcb.FieldRAX) {
			g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultGHCBError, uint64(ghcb.ErrMissingInput)
			return
		}
		a.Value = uint32(g.RAX) & mask
		h.Ports[port] = a.Value
	}
	h.PortLog = append(h.PortLog, a)
}

func (h *Hypervisor) msrExit(g *ghcb.GHCB) {
	msr := uint32(g.RCX)
	write := g.SwExitInfo1 == 1
	g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultOK, 0
	if !g.Valid.IsSet(ghcb.FieldRCX) {
		g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultGHCBError, uint64(ghcb.ErrMissingInput)
		return
	}
	if write {
		h.MSRs[msr] = uint64(uint32(g.RAX)) | g.RDX<<32
		return
	}
	v, ok := h.MSRs[msr]
	if !ok {
		// #GP(0) to inject: result 1, SW_EXITINFO2 the event (GHCB spec
		// section 4.1, exception injection).
		g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultException, 0x80000b0d
		return
	}
	if !h.DropOutputs {
		g.Set(ghcb.FieldRAX, uint64(uint32(v)))
		g.Set(ghcb.FieldRDX, v>>32)
	}
}

func (h *Hypervisor) mmio(g *ghcb.GHCB, gpa uint64, write bool) {
	addr, size := g.SwExitInfo1, int(g.SwExitInfo2)
	g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultOK, 0
	if g.SwScratch != gpa+ghcb.SharedBufferOffset || size < 1 || size > 8 {
		g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultGHCBError, uint64(ghcb.ErrInvalidScratchArea)
		return
	}
	var buf [8]byte
	a := MMIOAccess{GPA: addr, Size: size, Write: write}
	if write {
		copy(buf[:], g.SharedBuffer[:size])
		a.Value = binary.LittleEndian.Uint64(buf[:])
		h.MMIO[addr] = a.Value
	} else {
		a.Value = h.MMIO[addr]
		binary.LittleEndian.PutUint64(buf[:], a.Value)
		copy(g.SharedBuffer[:size], buf[:size])
	}
	h.MMIOLog = append(h.MMIOLog, a)
}

func (h *Hypervisor) rdtsc(g *ghcb.GHCB, rdtscp bool) {
	g.SwExitInfo1, g.SwExitInfo2 = ghcb.ResultOK, 0
	if h.DropOutputs {
		return
	}
	g.Set(ghcb.FieldRAX, uint64(uint32(h.TSC)))
	g.Set(ghcb.FieldRDX, h.TSC>>32)
	if rdtscp {
		g.Set(ghcb.FieldRCX, 0)
	}
}
