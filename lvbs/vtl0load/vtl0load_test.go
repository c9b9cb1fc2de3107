package vtl0load

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/hvtest"
)

const (
	ram   = 128 << 20
	start = 64 << 20
	end   = 96 << 20
)

// walk translates va through 4-level page tables read from mem (AMD APM
// vol. 2, 5.3.3, 4-Kbyte page translation), independently of Tables.
func walk(t *testing.T, h *hvtest.Hypervisor, cr3, va uint64) (uint64, bool) {
	t.Helper()
	table := cr3 &^ 0xFFF
	for level, shift := 0, 39; level < 4; level, shift = level+1, shift-9 {
		var b [8]byte
		if err := h.ReadPhys(table+8*(va>>uint(shift)&0x1FF), b[:]); err != nil {
			t.Fatal(err)
		}
		e := binary.LittleEndian.Uint64(b[:])
		if e&1 == 0 || e&2 == 0 {
			return 0, false
		}
		table = e & 0x000F_FFFF_FFFF_F000
	}
	return table | va&0xFFF, true
}

func TestContext(t *testing.T) {
	c := Context(start)
	// hv_vsm_boot.c hv_vsm_init_cpu/gdt/idt/page_tables, values typed in.
	want := hv.InitialVPContext{
		Rip: 0x400_0000, Rsp: 0x400_0000 + 0xFFF_FFF, Rflags: 2,
		Cs:   hv.SegmentRegister{Selector: 0x08, Attributes: 0x209B},
		Ds:   hv.SegmentRegister{Selector: 0x10, Attributes: 0x4093},
		Es:   hv.SegmentRegister{Selector: 0x10, Attributes: 0x4093},
		Fs:   hv.SegmentRegister{Selector: 0x10, Attributes: 0x4093},
		Gs:   hv.SegmentRegister{Selector: 0x10, Attributes: 0x4093},
		Tr:   hv.SegmentRegister{Base: 0x400_0000 + 4083*4096, Limit: 55, Selector: 0x18, Attributes: 0x8B},
		Idtr: hv.TableRegister{Base: 0x400_0000 + 4082*4096, Limit: 351},
		Gdtr: hv.TableRegister{Base: 0x400_0000 + 4081*4096, Limit: 39},
		Efer: 0xD01, Cr0: 0x8001_0033, Cr3: 0x400_0000 + 4084*4096, Cr4: 0xB0, MsrCrPat: 0x0007_0406_0007_0406,
	}
	if c != want {
		t.Errorf("context\n%+v\nwant\n%+v", c, want)
	}
}

func TestLoad(t *testing.T) {
	h := hvtest.New(ram / hv.PageSize)
	c := &hv.Client{HC: h, In: h.Page(0x10_0000), Out: h.Page(0x10_1000)}
	h.WritePhys(start+0x5000, []byte("stale VTL0 data"))
	img := Image{Loader: []byte("\xeb\xfe stage 0"), Kernel: bytes.Repeat([]byte{0xCC}, 3<<20)}
	off, args, err := Load(c, h, start, end, img, 2, ram)
	if err != nil {
		t.Fatal(err)
	}
	if off != hvtest.DefaultOff || args.CPUs != 2 || args.Start != start || args.End != end || args.MaxPhys != ram || args.Validate() != nil {
		t.Errorf("offsets %#x, boot args %+v", uint64(off), args)
	}
	if !h.PartitionVTL1 || !h.MBEC || h.VPVTL1 == nil || *h.VPVTL1 != Context(start) {
		t.Fatalf("hypervisor saw partition %v MBEC %v context %+v", h.PartitionVTL1, h.MBEC, h.VPVTL1)
	}
	// The reservation was zeroed, then filled.
	if got := h.Mem(start+0x5000, 15); !bytes.Equal(got, make([]byte, 15)) {
		t.Errorf("reservation not zeroed: %q", got)
	}
	if !bytes.Equal(h.Mem(start, len(img.Loader)), img.Loader) || !bytes.Equal(h.Mem(start+2<<20, 16), img.Kernel[:16]) {
		t.Error("image not at start and start + 2 MiB")
	}
	// The first 16 MiB are identity-mapped, nothing after them.
	for va := uint64(start); va < start+16<<20; va += 0x1F000 {
		if pa, ok := walk(t, h, h.VPVTL1.Cr3, va+0x123); !ok || pa != va+0x123 {
			t.Fatalf("VA %#x -> %#x, %v", va+0x123, pa, ok)
		}
	}
	if _, ok := walk(t, h, h.VPVTL1.Cr3, start+16<<20); ok {
		t.Error("VA past the first 16 MiB is mapped")
	}
	// GDT entries as the loader's macros build them.
	gdt := h.Mem(start+4081*4096, 40)
	for i, want := range []uint64{0x0020_1800_0000_0000, 0x0020_9800_0000_0000, 0x0000_9000_0000_0000} {
		if got := binary.LittleEndian.Uint64(gdt[8*i:]); got != want {
			t.Errorf("GDT[%d] = %#016x, want %#016x", i, got, want)
		}
	}
	// TSS at 0x4ff3000: limit 0x38, base 23:0 at bits 39:16, type 9,
	// present, base 31:24 at 63:56; base 63:32 (zero) in the next 8.
	if got := binary.LittleEndian.Uint64(gdt[24:]); got != 0x0400_89FF_3000_0038 || binary.LittleEndian.Uint64(gdt[32:]) != 0 {
		t.Errorf("TSS descriptor %#x", got)
	}
	// A second load finds VTL1 enabled: the hypervisor refuses.
	var he *hv.Error
	if _, _, err := Load(c, h, start, end, img, 2, ram); !errors.As(err, &he) || he.Status != hv.StatusVtlAlreadyEnabled {
		t.Errorf("second load: %v", err)
	}
}

func TestCheck(t *testing.T) {
	ok := Image{Loader: make([]byte, 4096), Kernel: make([]byte, MaxKernel)}
	if err := Check(start, end, ok.Loader, ok.Kernel); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s, e         uint64
		loader, kern int
	}{
		{start + 4096, end, 1, 1},            // not 2 MiB-aligned
		{start, start + 8<<20, 1, 1},         // too small
		{1<<30 - 8<<20, 1<<30 + 8<<20, 1, 1}, // crosses 1 GiB
		{start, end, MaxLoader + 1, 1},       // loader into the kernel
		{start, end, 1, MaxKernel + 1},       // kernel onto the GDT
	} {
		if Check(c.s, c.e, make([]byte, c.loader), make([]byte, c.kern)) == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
