package vsm_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/hvtest"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// Layout: 64 MiB of RAM, the secure kernel at 32-48 MiB, its log ring two
// pages at 33 MiB, the hypercall and SIMP pages inside it.
const (
	ram      = 64 << 20
	skStart  = 32 << 20
	skEnd    = 48 << 20
	logGPA   = 33 << 20
	logPages = 2
	inGPA    = skStart + 0x3000
	outGPA   = skStart + 0x4000
	simpGPA  = skStart + 0x2000
)

type rig struct {
	h   *hvtest.Hypervisor
	s   *vsm.Secure
	app *vsm.Channel
}

func rigChannel(r *rig) *vsm.Channel { return r.app }

func newRig(t testing.TB, mutate func(*hvtest.Hypervisor, *vsm.Config)) *rig {
	h := hvtest.New(ram / hv.PageSize)
	h.MSRs[hv.MSRSIMP] = simpGPA | 1
	cfg := vsm.Config{
		HV:     &hv.Client{HC: h, In: h.Page(inGPA), Out: h.Page(outGPA)},
		Mem:    h,
		Log:    h.Mem(logGPA, logPages*hv.PageSize),
		LogGPA: logGPA,
		App:    &vsm.Channel{},
	}
	if mutate != nil {
		mutate(h, &cfg)
	}
	s, err := vsm.Boot(cfg, vtlcall.BootArgs{CPUs: 1, Start: skStart, End: skEnd, MaxPhys: ram})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{h, s, cfg.App}
}

func (r *rig) call(id, a1, a2, a3 uint64) (vtlcall.Args, int) {
	out := r.s.Call(vtlcall.Args{A0: id, A1: a1, A2: a2, A3: a3})
	return out, -vtlcall.StatusOf(out.A3)
}

// intercept delivers the pending intercept to VTL1 as an interrupt entry
// does.
func (r *rig) intercept(t *testing.T) {
	t.Helper()
	slot := r.h.InterceptSlot()
	if binary.LittleEndian.Uint32(slot) == 0 {
		t.Fatal("no intercept message posted")
	}
	if r.s.Intercept(slot) {
		r.h.WriteMSR(hv.MSREOM, 0)
	}
	if binary.LittleEndian.Uint32(slot) != 0 && len(r.h.Calls) == 0 {
		t.Fatal("slot not emptied")
	}
}

func TestBootProtectsSecureKernel(t *testing.T) {
	r := newRig(t, nil)
	for _, gpa := range []uint64{skStart, skStart + 0x5000, logGPA - hv.PageSize, logGPA + logPages*hv.PageSize, skEnd - hv.PageSize} {
		if f, ok := r.h.Prot[gpa/hv.PageSize]; !ok || f != hv.MapNone {
			t.Errorf("secure page %#x: VTL0 access %v (set %v), want none", gpa, f, ok)
		}
	}
	for p := uint64(0); p < logPages; p++ {
		if f := r.h.Prot[logGPA/hv.PageSize+p]; f != hv.MapRead {
			t.Errorf("log page %d: VTL0 access %v, want read-only", p, f)
		}
	}
	if _, ok := r.h.Prot[skEnd/hv.PageSize]; ok {
		t.Error("the page after the secure kernel was restricted")
	}
	cfg := hv.PartitionConfig(r.h.VTL1[hv.RegVsmPartitionConfig].Low)
	if cfg&1 == 0 || cfg>>1&0xF != 0xF {
		t.Errorf("VSM partition config %#x: want EnableVtlProtection and default RWX", uint64(cfg))
	}
	if !strings.Contains(string(r.s.Log()), "secure kernel 0x2000000-0x3000000") {
		t.Errorf("log: %q", r.s.Log())
	}
	// VTL0 writes to its log ring are refused and reported.
	if !r.h.VTL0Write(logGPA+8, []byte("forged")) {
		t.Fatal("VTL0 wrote the log ring")
	}
	r.intercept(t)
	if len(r.h.Injected) != 1 || !strings.Contains(string(r.s.Log()), "refused VTL0 write of GPA 0x2100008 (the secure kernel)") {
		t.Errorf("injected %v; log %q", r.h.Injected, r.s.Log())
	}
}

func TestBootRefusesBadArguments(t *testing.T) {
	for _, b := range []vtlcall.BootArgs{
		{CPUs: 0, Start: skStart, End: skEnd, MaxPhys: ram},
		{CPUs: 65, Start: skStart, End: skEnd, MaxPhys: ram},
		{CPUs: 1, Start: skStart + 1, End: skEnd, MaxPhys: ram},
		{CPUs: 1, Start: skStart, End: skStart + 8<<20, MaxPhys: ram},
		{CPUs: 1, Start: skStart, End: skEnd, MaxPhys: skEnd - hv.PageSize},
		{CPUs: 1, Start: skEnd, End: skStart, MaxPhys: ram},
		{CPUs: 1, Start: skStart, End: skEnd, MaxPhys: 1 << 60},
	} {
		h := hvtest.New(ram / hv.PageSize)
		cfg := vsm.Config{HV: &hv.Client{HC: h, In: h.Page(inGPA), Out: h.Page(outGPA)}, Mem: h, Log: h.Mem(logGPA, hv.PageSize), LogGPA: logGPA}
		if _, err := vsm.Boot(cfg, b); err == nil {
			t.Errorf("%+v accepted", b)
		}
		if len(h.Calls) != 0 {
			t.Errorf("%+v: %d hypercalls before the arguments were checked", b, len(h.Calls))
		}
	}
	h := hvtest.New(ram / hv.PageSize)
	cfg := vsm.Config{HV: &hv.Client{HC: h, In: h.Page(inGPA), Out: h.Page(outGPA)}, Mem: h, Log: h.Mem(0x1000, hv.PageSize), LogGPA: 0x1000}
	if _, err := vsm.Boot(cfg, vtlcall.BootArgs{CPUs: 1, Start: skStart, End: skEnd, MaxPhys: ram}); err == nil {
		t.Error("a log ring outside the secure kernel accepted")
	}
	h.Fail[hv.CallModifyVtlProtectionMask] = hv.StatusAccessDenied
	cfg.Log, cfg.LogGPA = h.Mem(logGPA, hv.PageSize), logGPA
	if _, err := vsm.Boot(cfg, vtlcall.BootArgs{CPUs: 1, Start: skStart, End: skEnd, MaxPhys: ram}); err == nil {
		t.Error("boot succeeded though the secure kernel could not be protected")
	}
}

func TestProtectPagesThenWriteRefused(t *testing.T) {
	r := newRig(t, nil)
	page := uint64(0x40_0000)
	copy(r.h.Mem(page, 8), "original")
	if _, errno := r.call(vtlcall.FuncProtectPages, page, 1, vsm.AttrRead); errno != 0 {
		t.Fatalf("errno %d", errno)
	}
	if f, _ := r.s.Protection(page); f != hv.MapRead|hv.MapUserExec || r.h.Prot[page/hv.PageSize] != f {
		t.Errorf("protection %v, hypervisor has %v", f, r.h.Prot[page/hv.PageSize])
	}
	if !r.h.VTL0Write(page+4, []byte("EVIL")) {
		t.Fatal("write to a read-only page was not intercepted")
	}
	r.intercept(t)
	if string(r.h.Mem(page, 8)) != "original" {
		t.Errorf("memory changed: %q", r.h.Mem(page, 8))
	}
	if len(r.h.Injected) != 1 || r.h.Injected[0] != hv.PendingException(hv.VectorGP, 0, true, 0) {
		t.Errorf("injected %v, want one #GP", r.h.Injected)
	}
	if !strings.Contains(string(r.s.Log()), "refused VTL0 write of GPA 0x400004") {
		t.Errorf("log %q", r.s.Log())
	}
	// The neighbouring page stays writable.
	if r.h.VTL0Write(page+hv.PageSize, []byte("fine")) {
		t.Error("the next page was protected too")
	}
	// Protections only tighten: asking for RWX again keeps read-only.
	if _, errno := r.call(vtlcall.FuncProtectPages, page, 2, vsm.AttrRead|vsm.AttrWrite|vsm.AttrExec); errno != 0 {
		t.Fatalf("errno %d", errno)
	}
	if f, _ := r.s.Protection(page); f&hv.MapWrite != 0 {
		t.Errorf("write access given back: %v", f)
	}
	if f, _ := r.s.Protection(page + hv.PageSize); f != hv.MapAll {
		t.Errorf("second page %v", f)
	}
	// After end of boot nothing more can be protected.
	r.call(vtlcall.FuncEndOfBoot, 0, 0, 0)
	if _, errno := r.call(vtlcall.FuncProtectPages, page+2*hv.PageSize, 1, vsm.AttrRead); errno != vtlcall.EINVAL {
		t.Errorf("after end of boot: errno %d", errno)
	}
}

func TestProtectPagesRefusesBadRequests(t *testing.T) {
	r := newRig(t, nil)
	for _, c := range []struct {
		a1, a2, a3 uint64
		errno      int
	}{
		{0x40_0001, 1, vsm.AttrRead, vtlcall.EINVAL},                 // unaligned
		{0x40_0000, 0, vsm.AttrRead, vtlcall.EINVAL},                 // no pages
		{0x40_0000, 1, vsm.AttrWrite, vtlcall.EINVAL},                // write-only
		{0x40_0000, 1, vsm.AttrExec, vtlcall.EINVAL},                 // execute-only
		{0x40_0000, 1, 1 << 4, vtlcall.EINVAL},                       // unknown attribute
		{skStart, 1, vsm.AttrRead | vsm.AttrWrite, vtlcall.EFAULT},   // the secure kernel: cannot be given back
		{skStart - hv.PageSize, 2, vsm.AttrRead, vtlcall.EFAULT},     // overlapping it
		{ram - hv.PageSize, 2, vsm.AttrRead, vtlcall.EFAULT},         // beyond RAM
		{^uint64(0) &^ 0xFFF, 1 << 19, vsm.AttrRead, vtlcall.EFAULT}, // wrapping
		{0, 1 << 21, vsm.AttrRead, vtlcall.EINVAL},                   // more than MaxProtectedPages
	} {
		if _, errno := r.call(vtlcall.FuncProtectPages, c.a1, c.a2, c.a3); errno != c.errno {
			t.Errorf("PROTECT_PAGES(%#x, %d, %#x) errno %d, want %d", c.a1, c.a2, c.a3, errno, c.errno)
		}
	}
	if f := r.h.Prot[skStart/hv.PageSize]; f != hv.MapNone {
		t.Errorf("secure kernel page now %v", f)
	}
}

// hekiList writes a heki_page list (lvbs-linux include/linux/heki.h) at
// gpa: pages linked by next_pa (offset 8), nranges at 16, ranges of 32
// bytes (va, pa, epa, attributes) from 24.
func hekiList(h *hvtest.Hypervisor, gpa uint64, perPage int, ranges [][3]uint64) {
	for i := 0; i < len(ranges); i += perPage {
		p := h.Mem(gpa, hv.PageSize)
		clear(p)
		n := min(perPage, len(ranges)-i)
		binary.LittleEndian.PutUint64(p[8:], gpa+hv.PageSize)
		binary.LittleEndian.PutUint64(p[16:], uint64(n))
		for j := range n {
			e := p[24+32*j:]
			binary.LittleEndian.PutUint64(e[0:], 0xFFFF_8880_0000_0000+ranges[i+j][0])
			binary.LittleEndian.PutUint64(e[8:], ranges[i+j][0])
			binary.LittleEndian.PutUint64(e[16:], ranges[i+j][1])
			binary.LittleEndian.PutUint64(e[24:], ranges[i+j][2])
		}
		gpa += hv.PageSize
	}
}

func TestProtectMemoryHeki(t *testing.T) {
	r := newRig(t, nil)
	// Kernel text read-execute, rodata read-only, over two list pages.
	hekiList(r.h, 0x10_0000, 1, [][3]uint64{
		{0x100_0000, 0x120_0000, vsm.AttrRead | vsm.AttrExec},
		{0x120_0000, 0x130_0000, vsm.AttrRead | vsm.AttrImmutable},
	})
	if _, errno := r.call(vtlcall.FuncProtectMemory, 0x10_0000, 2, 0); errno != 0 {
		t.Fatalf("errno %d; log %s", errno, r.s.Log())
	}
	if f := r.h.Prot[0x100_0000/hv.PageSize]; f != hv.MapRead|hv.MapUserExec|hv.MapKernelExec {
		t.Errorf("text %v", f)
	}
	if f := r.h.Prot[0x12F_F000/hv.PageSize]; f != hv.MapRead|hv.MapUserExec {
		t.Errorf("rodata %v", f)
	}
	if _, ok := r.h.Prot[0x130_0000/hv.PageSize]; ok {
		t.Error("page past the last range protected")
	}
}

func TestProtectMemoryHekiHostile(t *testing.T) {
	for _, c := range []struct {
		name    string
		ranges  [][3]uint64
		perPage int
		nranges uint64
		list    uint64
	}{
		{"unaligned range", [][3]uint64{{0x100_0800, 0x100_1000, vsm.AttrRead}}, 1, 1, 0x10_0000},
		{"empty range", [][3]uint64{{0x100_0000, 0x100_0000, vsm.AttrRead}}, 1, 1, 0x10_0000},
		{"no attributes", [][3]uint64{{0x100_0000, 0x100_1000, 0}}, 1, 1, 0x10_0000},
		{"secure kernel", [][3]uint64{{skStart, skStart + hv.PageSize, vsm.AttrRead | vsm.AttrWrite}}, 1, 1, 0x10_0000},
		{"more ranges than claimed", [][3]uint64{{0x100_0000, 0x100_1000, vsm.AttrRead}, {0x100_1000, 0x100_2000, vsm.AttrRead}}, 2, 1, 0x10_0000},
		{"list in the secure kernel", nil, 1, 1, skStart},
		{"list unaligned", nil, 1, 1, 0x10_0008},
		{"too many ranges", nil, 1, vsm.MaxHekiRanges + 1, 0x10_0000},
		// The second range is bad: nothing may be applied.
		{"all or nothing", [][3]uint64{{0x100_0000, 0x100_1000, vsm.AttrRead}, {0x100_1000, 0x100_2000, 1 << 7}}, 2, 2, 0x10_0000},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, nil)
			before := len(r.h.Prot)
			if len(c.ranges) > 0 {
				hekiList(r.h, 0x10_0000, c.perPage, c.ranges)
			}
			if _, errno := r.call(vtlcall.FuncProtectMemory, c.list, c.nranges, 0); errno == 0 {
				t.Error("accepted")
			}
			if len(r.h.Prot) != before {
				t.Errorf("%d pages changed", len(r.h.Prot)-before)
			}
		})
	}
	// A list whose next_pa points back at itself is read no further than
	// the number of ranges VTL0 claims: the walk ends.
	r := newRig(t, nil)
	before := len(r.h.Prot)
	p := r.h.Mem(0x10_0000, hv.PageSize)
	binary.LittleEndian.PutUint64(p[8:], 0x10_0000)
	binary.LittleEndian.PutUint64(p[16:], 1)
	binary.LittleEndian.PutUint64(p[24+8:], 0x100_0000)
	binary.LittleEndian.PutUint64(p[24+16:], 0x100_1000)
	binary.LittleEndian.PutUint64(p[24+24:], vsm.AttrRead)
	if _, errno := r.call(vtlcall.FuncProtectMemory, 0x10_0000, 1000, 0); errno != 0 || len(r.h.Prot) != before+1 {
		t.Errorf("cyclic list: errno %d, %d pages changed", errno, len(r.h.Prot)-before)
	}
}

func TestHypervisorFailsMidway(t *testing.T) {
	r := newRig(t, nil)
	hekiList(r.h, 0x10_0000, 2, [][3]uint64{
		{0x100_0000, 0x100_2000, vsm.AttrRead},
		{0x120_0000, 0x120_1000, vsm.AttrRead},
	})
	// The hypervisor fails every call after the next one: the first range
	// is applied, the second is not, and VTL0 learns of the failure.
	r.h.FailAfter = len(r.h.Calls) + 1
	if _, errno := r.call(vtlcall.FuncProtectMemory, 0x10_0000, 2, 0); errno != vtlcall.EIO {
		t.Errorf("errno %d, want EIO", errno)
	}
	if f, ok := r.s.Protection(0x100_0000); !ok || f&hv.MapWrite != 0 {
		t.Errorf("first range %v %v", f, ok)
	}
	if _, ok := r.s.Protection(0x120_0000); ok {
		t.Error("the failed range is recorded as protected")
	}
	if !strings.Contains(string(r.s.Log()), "HvCallModifyVtlProtectionMask(0x1200000, 1 pages") {
		t.Errorf("log %q", r.s.Log())
	}
	// Injecting #GP fails too: the refusal is still logged.
	r.h.VTL0Write(0x100_0000, []byte{1})
	r.intercept(t)
	if !strings.Contains(string(r.s.Log()), "injecting #GP into VTL0") || len(r.h.Injected) != 0 {
		t.Errorf("log %q, injected %v", r.s.Log(), r.h.Injected)
	}
}
