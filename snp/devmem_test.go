package snp

import (
	"testing"

	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

// TestDeviceMemory: the device pages are the end of the shared window,
// none before Start; after it every one of them lost its validation, is
// shared in the RMP, mapped C-bit clear and zeroed, and none of them is
// a page the platform uses for itself (GHCB, guest requests).
func TestDeviceMemory(t *testing.T) {
	if mem, gpa := new(Platform).DeviceMemory(); mem != nil || gpa != 0 {
		t.Errorf("an unstarted platform gave device memory at %#x", gpa)
	}
	s, va := startSetup(t)
	p := new(Platform)
	if r, ok := p.Start(&s.cfg, va, s.mapWindow); !ok {
		t.Fatalf("Start: %v", r)
	}
	mem, gpa := p.DeviceMemory()
	if len(mem) != DevicePages*ghcb.PageSize || gpa%ghcb.PageSize != 0 {
		t.Fatalf("device memory of %d bytes at %#x", len(mem), gpa)
	}
	end := uint64(testSharedGPA + SharedPages*ghcb.PageSize)
	if gpa < testSharedGPA+(sharedCerts+CertPages)*ghcb.PageSize || gpa+uint64(len(mem)) != end {
		t.Errorf("device memory [%#x, %#x) is not the window's tail (window [%#x, %#x))", gpa, gpa+uint64(len(mem)), uint64(testSharedGPA), end)
	}
	for i := uint64(0); i < DevicePages; i++ {
		gfn := gpa>>12 + i
		if s.g.Validated[gfn] || s.g.RMP[gfn] != ghcbmsr.PageShared {
			t.Fatalf("device page %d: validated %v, RMP %v", i, s.g.Validated[gfn], s.g.RMP[gfn])
		}
		pa, private, ok := s.g.Translate(uint64(va) + (gpa - testSharedGPA) + i*ghcb.PageSize)
		if !ok || private || pa != gpa+i*ghcb.PageSize {
			t.Fatalf("device page %d mapped at %#x, private %v, ok %v", i, pa, private, ok)
		}
	}
	for _, b := range mem {
		if b != 0 {
			t.Fatal("device memory holds what was there before Start")
		}
	}
}
