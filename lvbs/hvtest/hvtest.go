// Package hvtest is a fake Hyper-V for host tests of the LVBS platform:
// guest memory, the hypervisor CPUID leaves, the synthetic MSRs, the
// hypercalls Cocoon makes (checked the way the TLFS says the hypervisor
// checks them), VTL0's protections and registers, and secure intercepts:
// a simulated VTL0 access that a protection or a register intercept
// forbids becomes an intercept message in the SIMP page, as Hyper-V
// delivers it.
//
// Its exported fields make it hostile: wrong CPUID, failing hypercalls,
// lies about reps completed, garbage in the VP assist page and the SynIC
// messages. The zero value of each is honest. It is a test double, not
// Hyper-V: it checks what the TLFS says, and nothing it does proves how
// Hyper-V behaves.
package hvtest

import (
	"fmt"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
)

// Hypervisor is the fake. Guest memory is one range from GPA 0.
type Hypervisor struct {
	// Memory is allocated in chunks on first use, so a fake with
	// gigabytes of RAM costs what the test touches.
	chunks map[uint64][]byte
	size   uint64
	// backing, when set (NewOn), is guest memory itself: the simulated
	// VSM's RAM, shared with QEMU.
	backing []byte

	// CPUID answers CPUID; New fills in an honest VSM-capable Hyper-V.
	Leaves map[uint32][4]uint32

	// MSRs holds VTL1's synthetic MSRs.
	MSRs map[uint32]uint64
	// RefuseHypercallPage leaves the hypercall MSR's enable bit clear.
	RefuseHypercallPage bool

	// VTL0 and VTL1 hold each VTL's VP registers as HvCallGet/
	// SetVpRegisters see them (TLFS VSM, "Private State").
	VTL0, VTL1 map[hv.RegisterName]hv.RegisterValue

	// Prot is VTL0's access per page number; a page not in it has full
	// access (TLFS VSM, "Default Protection Mask").
	Prot map[uint64]hv.MapFlags

	// Hostile knobs.
	Fail        map[hv.CallCode]hv.Status // every call of the code fails so
	MaxReps     int                       // process at most this many reps per call
	LieReps     func(start, count, done int) int
	FailAfter   int // fail every call after this many (0: never)
	calls       int
	queue       []message
	InterceptVP uint32 // VpIndex written into intercept messages

	// VSM enablement by VTL0 (HvCallEnablePartitionVtl,
	// HvCallEnableVpVtl): what the loader asked for.
	PartitionVTL1, MBEC bool
	VPVTL1              *hv.InitialVPContext

	// Observations.
	Calls []hv.Control
	// Injected counts exceptions pended for VTL0 through
	// HvRegisterPendingEvent0.
	Injected []hv.RegisterValue
}

// Default register values of a plausible VTL0 Linux and the VSM registers.
var (
	DefaultCR0 = uint64(0x8005_0033)           // PG WP AM NE ET MP PE
	DefaultCR4 = uint64(0x0037_06F0)           // with SMEP, SMAP, PGE, PAE
	DefaultOff = hv.CodePageOffsets(0x0040_20) // call at 0x20, return at 0x40
)

// NewOn returns an honest fake whose guest memory is mem (a whole number
// of 64 KiB chunks), for a simulator whose guest runs in that memory.
func NewOn(mem []byte) *Hypervisor {
	if len(mem)%chunkSize != 0 {
		panic("hvtest: NewOn with memory that is not whole 64 KiB chunks")
	}
	h := New(len(mem) / hv.PageSize)
	h.backing = mem
	return h
}

// New returns an honest fake with pages of guest memory.
func New(pages int) *Hypervisor {
	h := &Hypervisor{
		chunks: make(map[uint64][]byte),
		size:   uint64(pages) * hv.PageSize,
		MSRs:   make(map[uint32]uint64),
		VTL0: map[hv.RegisterName]hv.RegisterValue{
			hv.RegCR0: {Low: DefaultCR0}, hv.RegCR4: {Low: DefaultCR4}, hv.RegEfer: {Low: 0xD01},
			hv.RegLstar: {Low: 0xFFFF_FFFF_8100_0000}, hv.RegStar: {Low: 0x0023_0010_0000_0000},
			hv.RegCstar: {Low: 0xFFFF_FFFF_8100_1000}, hv.RegApicBase: {Low: 0xFEE0_0900},
			hv.RegSysenterCs: {Low: 0x10}, hv.RegSysenterRsp: {Low: 0}, hv.RegSysenterRip: {Low: 0xFFFF_FFFF_8100_2000},
			hv.RegSfmask: {Low: 0x47700}, hv.RegRip: {Low: 0xFFFF_FFFF_8123_4000},
		},
		VTL1: map[hv.RegisterName]hv.RegisterValue{
			hv.RegVsmCodePageOffsets: {Low: uint64(DefaultOff)},
		},
		Prot: make(map[uint64]hv.MapFlags),
		Fail: make(map[hv.CallCode]hv.Status),
	}
	h.Leaves = map[uint32][4]uint32{
		hv.LeafVersionAndFeatures: {0, 0, 1 << 31, 0},
		hv.LeafVendorAndMax:       {hv.LeafNested, hv.VendorEBX, hv.VendorECX, hv.VendorEDX},
		hv.LeafInterface:          {hv.InterfaceHv1, 0, 0, 0},
		hv.LeafSystemIdentity:     {26100, 10<<16 | 0, 0, 0},
		hv.LeafFeatures:           {uint32(hv.Required & 0xFFFF_FFFF), uint32(hv.Required >> 32), 0, 0},
	}
	return h
}

// chunkSize is the unit of allocation; a Mem slice may not cross one.
const chunkSize = 64 << 10

func (h *Hypervisor) chunk(gpa uint64) []byte {
	if h.backing != nil {
		base := gpa / chunkSize * chunkSize
		return h.backing[base : base+chunkSize : base+chunkSize]
	}
	c, ok := h.chunks[gpa/chunkSize]
	if !ok {
		c = make([]byte, chunkSize)
		h.chunks[gpa/chunkSize] = c
	}
	return c
}

// Mem returns n bytes of guest memory at gpa, shared with the fake. The
// range may not cross a 64 KiB boundary.
func (h *Hypervisor) Mem(gpa uint64, n int) []byte {
	off := gpa % chunkSize
	if gpa+uint64(n) > h.size || off+uint64(n) > chunkSize {
		panic(fmt.Sprintf("hvtest: Mem(%#x, %d) beyond memory or across a %d KiB chunk", gpa, n, chunkSize>>10))
	}
	return h.chunk(gpa)[off : off+uint64(n) : off+uint64(n)]
}

// Page returns the page at gpa as an hv.Page.
func (h *Hypervisor) Page(gpa uint64) hv.Page { return hv.Page{GPA: gpa, Mem: h.Mem(gpa, hv.PageSize)} }

// Size is the guest memory size.
func (h *Hypervisor) Size() uint64 { return h.size }

// copyMem copies between p and guest memory at gpa, chunk by chunk.
func (h *Hypervisor) copyMem(gpa uint64, p []byte, write bool) error {
	if gpa+uint64(len(p)) > h.size || gpa+uint64(len(p)) < gpa {
		return fmt.Errorf("hvtest: access to %#x+%d beyond memory", gpa, len(p))
	}
	for len(p) > 0 {
		off := gpa % chunkSize
		c := h.chunk(gpa)[off:]
		n := min(len(p), len(c))
		if write {
			copy(c, p[:n])
		} else {
			copy(p[:n], c)
		}
		p, gpa = p[n:], gpa+uint64(n)
	}
	return nil
}

// CPUID implements hv.Prober.
func (h *Hypervisor) CPUID(leaf, _ uint32) (eax, ebx, ecx, edx uint32) {
	r := h.Leaves[leaf]
	return r[0], r[1], r[2], r[3]
}

// ReadMSR implements hv.MSRAccess.
func (h *Hypervisor) ReadMSR(msr uint32) uint64 { return h.MSRs[msr] }

// WriteMSR implements hv.MSRAccess, with the TLFS's rules for the
// hypercall MSR: it enables only after a nonzero guest OS ID, keeps the
// Locked bit once set, and preserves nothing else of what it refuses.
func (h *Hypervisor) WriteMSR(msr uint32, v uint64) {
	if msr == hv.MSRHypercall {
		old := hv.PageMSR(h.MSRs[msr])
		if old.Locked() {
			return
		}
		if h.MSRs[hv.MSRGuestOSID] == 0 || h.RefuseHypercallPage {
			v &^= 1
		}
	}
	h.MSRs[msr] = v
	if msr == hv.MSREOM {
		h.eom()
	}
}

// ReadPhys and WritePhys implement vsm.Memory: VTL1 sees all memory.
func (h *Hypervisor) ReadPhys(gpa uint64, p []byte) error { return h.copyMem(gpa, p, false) }

// WritePhys writes guest memory.
func (h *Hypervisor) WritePhys(gpa uint64, p []byte) error { return h.copyMem(gpa, p, true) }
