package vmspace

import (
	"math/rand"
	"testing"
)

const (
	lo = 0x10000000
	hi = 0x20000000
	pg = PageSize
)

func newSpace() *Space {
	s := new(Space)
	s.Init(lo, hi)
	return s
}

func regions(s *Space) []Region {
	var out []Region
	for i := 0; i < s.Len(); i++ {
		out = append(out, s.At(i))
	}
	return out
}

func TestReserveCommitUnmap(t *testing.T) {
	s := newSpace()
	// A PROT_NONE reservation, then read-write commits inside it, as the Go
	// runtime does (sysReserve then sysMap).
	base, ok := s.FindFree(0, 64*pg, pg)
	if !ok || base != lo {
		t.Fatalf("FindFree = %#x, %v; want %#x, true", base, ok, lo)
	}
	if !s.Set(base, 64*pg, 0) {
		t.Fatal("Set(reserve) failed")
	}
	if !s.Set(base+8*pg, 4*pg, Read|Write) {
		t.Fatal("Set(commit) failed")
	}
	want := []Region{{base, base + 8*pg, 0, Anon}, {base + 8*pg, base + 12*pg, Read | Write, Anon}, {base + 12*pg, base + 64*pg, 0, Anon}}
	if got := regions(s); !equal(got, want) {
		t.Fatalf("regions = %x, want %x", got, want)
	}
	// Adjacent commit merges.
	s.Set(base+12*pg, 4*pg, Read|Write)
	if r, _ := s.Lookup(base + 9*pg); r.Start != base+8*pg || r.End != base+16*pg {
		t.Fatalf("Lookup after merge = %x", r)
	}
	if !s.Covered(base+8*pg, 8*pg, Read|Write) || s.Covered(base+7*pg, 2*pg, Read) {
		t.Fatal("Covered gives wrong answer around a commit")
	}
	// Unmap the middle of a region splits it.
	s.Clear(base+10*pg, 2*pg)
	if _, ok := s.Lookup(base + 10*pg); ok {
		t.Fatal("Lookup in unmapped hole succeeded")
	}
	if r, ok := s.Lookup(base + 12*pg); !ok || r.Start != base+12*pg || r.Prot != Read|Write {
		t.Fatalf("right half after split = %x, %v", r, ok)
	}
	// Hints: taken when free, ignored when not.
	if a, ok := s.FindFree(base+10*pg, 2*pg, pg); !ok || a != base+10*pg {
		t.Fatalf("FindFree(free hint) = %#x, %v", a, ok)
	}
	if a, ok := s.FindFree(base, 2*pg, pg); !ok || a != base+64*pg && a != base+10*pg {
		t.Fatalf("FindFree(busy hint) = %#x, %v", a, ok)
	}
	if _, ok := s.FindFree(0x1000, pg, pg); !ok {
		t.Fatal("FindFree(hint outside window) failed, want a fallback")
	}
}

func TestInvalidRanges(t *testing.T) {
	s := newSpace()
	for _, c := range []struct{ start, length uintptr }{
		{lo + 1, pg}, {lo, 0}, {lo, pg + 1}, {lo - pg, 2 * pg}, {hi - pg, 2 * pg}, {^uintptr(0) &^ (pg - 1), 2 * pg},
	} {
		if s.Set(c.start, c.length, Read) {
			t.Errorf("Set(%#x, %#x) = true, want false", c.start, c.length)
		}
	}
	if s.Protect(lo, pg, Read) {
		t.Error("Protect of unmapped range = true, want false")
	}
	if _, ok := s.FindFree(0, hi-lo+pg, pg); ok {
		t.Error("FindFree larger than the window succeeded")
	}
}

func TestAlignedFindFree(t *testing.T) {
	s := newSpace()
	s.Set(lo, pg, Read)
	a, ok := s.FindFree(0, pg, 1<<20)
	if !ok || a != lo+1<<20 {
		t.Fatalf("FindFree(align 1MiB) = %#x, %v; want %#x", a, ok, lo+1<<20)
	}
}

// TestAgainstModel applies random operations to a Space and to a page-level
// model and checks they agree.
func TestAgainstModel(t *testing.T) {
	const pages = 256
	s := new(Space)
	s.Init(lo, lo+pages*pg)
	model := make([]int, pages) // -1 unmapped, else prot
	for i := range model {
		model[i] = -1
	}
	rng := rand.New(rand.NewSource(1))
	for step := 0; step < 5000; step++ {
		p := rng.Intn(pages)
		n := 1 + rng.Intn(pages-p)
		prot := Prot(rng.Intn(8))
		switch rng.Intn(3) {
		case 0:
			if !s.Set(lo+uintptr(p)*pg, uintptr(n)*pg, prot) {
				t.Fatalf("step %d: Set failed", step)
			}
			for i := p; i < p+n; i++ {
				model[i] = int(prot)
			}
		case 1:
			s.Clear(lo+uintptr(p)*pg, uintptr(n)*pg)
			for i := p; i < p+n; i++ {
				model[i] = -1
			}
		case 2:
			mapped := true
			for i := p; i < p+n; i++ {
				mapped = mapped && model[i] >= 0
			}
			if got := s.Protect(lo+uintptr(p)*pg, uintptr(n)*pg, prot); got != mapped {
				t.Fatalf("step %d: Protect = %v, want %v", step, got, mapped)
			}
			if mapped {
				for i := p; i < p+n; i++ {
					model[i] = int(prot)
				}
			}
		}
		for i := 0; i < pages; i++ {
			r, ok := s.Lookup(lo + uintptr(i)*pg)
			if ok != (model[i] >= 0) || ok && int(r.Prot) != model[i] {
				t.Fatalf("step %d: page %d: Lookup = %v,%v; model %d", step, i, r, ok, model[i])
			}
		}
		for i := 1; i < s.Len(); i++ {
			a, b := s.At(i-1), s.At(i)
			if a.End > b.Start || a.End == b.Start && a.Prot == b.Prot {
				t.Fatalf("step %d: regions %x and %x overlap or were not merged", step, a, b)
			}
		}
	}
}

func equal(a, b []Region) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestKindsDoNotMergeAndSurviveProtect(t *testing.T) {
	const pg = PageSize
	var s Space
	s.Init(0x10000, 0x10000+64*pg)
	base := uintptr(0x10000)
	if !s.Set(base, 4*pg, Read|Write) || !s.SetKind(base+4*pg, 4*pg, Read|Write, Filled) {
		t.Fatal("Set failed")
	}
	if s.Len() != 2 {
		t.Fatalf("an anonymous and a filled region merged: %d regions, want 2", s.Len())
	}
	if !s.Protect(base+2*pg, 4*pg, Read) {
		t.Fatal("Protect failed")
	}
	for _, c := range []struct {
		addr uintptr
		prot Prot
		kind Kind
	}{{base, Read | Write, Anon}, {base + 2*pg, Read, Anon}, {base + 4*pg, Read, Filled}, {base + 6*pg, Read | Write, Filled}} {
		r, ok := s.Lookup(c.addr)
		if !ok || r.Prot != c.prot || r.Kind != c.kind {
			t.Errorf("at %#x: %+v, want prot %d kind %d", c.addr, r, c.prot, c.kind)
		}
	}
}
