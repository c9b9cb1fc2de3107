package measure

import (
	"encoding/binary"
	"testing"
)

func TestSaveAreaPage(t *testing.T) {
	u16 := func(p []byte, off int) uint64 { return uint64(binary.LittleEndian.Uint16(p[off:])) }
	u32 := func(p []byte, off int) uint64 { return uint64(binary.LittleEndian.Uint32(p[off:])) }
	u64 := func(p []byte, off int) uint64 { return binary.LittleEndian.Uint64(p[off:]) }
	type field struct {
		name string
		get  func([]byte, int) uint64
		off  int
		want uint64
	}
	tests := []struct {
		vmm     VMM
		address uint32
		fields  []field
	}{
		{VMMQEMU, BSPResetAddress, []field{
			{"CS.selector", u16, 0x10, 0xf000},
			{"CS.attrib", u16, 0x12, 0x9b},
			{"CS.limit", u32, 0x14, 0xffff},
			{"CS.base", u64, 0x18, 0xffff0000},
			{"SS.attrib", u16, 0x22, 0x93},
			{"LDTR.attrib", u16, 0x72, 0x82},
			{"TR.attrib", u16, 0x92, 0x8b},
			{"EFER", u64, 0xd0, 0x1000},
			{"CR4", u64, 0x148, 0x40},
			{"CR0", u64, 0x158, 0x10},
			{"DR7", u64, 0x160, 0x400},
			{"DR6", u64, 0x168, 0xffff0ff0},
			{"RFLAGS", u64, 0x170, 0x2},
			{"RIP", u64, 0x178, 0xfff0},
			{"G_PAT", u64, 0x268, 0x0007040600070406},
			{"RDX", u64, 0x310, 0x800f12},
			{"SEV_FEATURES", u64, 0x3b0, 0x21},
			{"XCR0", u64, 0x3e8, 0x1},
			// KVM_SEV_INIT2: VMSA bytes 1032..1033 = 80 1f, 1040..1041 = 7f 03.
			{"MXCSR", u32, 1032, 0x1f80},
			{"X87_FCW", u16, 1040, 0x37f},
		}},
		{VMMQEMU, 0x80b004, []field{
			{"CS.base", u64, 0x18, 0x800000},
			{"CS.attrib", u16, 0x12, 0x9b},
			{"RIP", u64, 0x178, 0xb004},
		}},
		{VMMEC2, BSPResetAddress, []field{
			{"CS.attrib", u16, 0x12, 0x9a},
			{"SS.attrib", u16, 0x22, 0x92},
			{"TR.attrib", u16, 0x92, 0x83},
			{"RDX", u64, 0x310, 0x600},
			{"MXCSR", u32, 0x408, 0},
			{"X87_FCW", u16, 0x410, 0},
		}},
		{VMMEC2, 0x80b004, []field{
			{"CS.attrib", u16, 0x12, 0x9b},
		}},
		{VMMGCE, BSPResetAddress, []field{
			{"CS.attrib", u16, 0x12, 0x9b},
			{"G_PAT", u64, 0x268, 0x70106},
			{"RDX", u64, 0x310, 0x600},
			{"MXCSR", u32, 0x408, 0},
		}},
	}
	for _, tt := range tests {
		s := tt.vmm.saveArea(tt.address, 0x800f12, 0x21)
		page := s.Page()
		if len(page) != PageSize {
			t.Fatalf("len(Page()) = %d, want %d", len(page), PageSize)
		}
		for _, f := range tt.fields {
			if got := f.get(page, f.off); got != f.want {
				t.Errorf("%v VMSA entering at %#x: %s (offset %#x) = %#x, want %#x", tt.vmm, tt.address, f.name, f.off, got, f.want)
			}
		}
	}
}
