package vmspace

import (
	"fmt"
	"math/rand"
	"testing"
	"unsafe"
)

const (
	lo = 0x10000000
	hi = 0x20000000
	pg = PageSize
)

func newSpace() *Space {
	s := new(Space)
	s.Init(lo, hi)
	give(s, 8)
	return s
}

// chunks keeps the host memory given to Spaces alive.
var chunks []*Chunk

// give adds n chunks of host memory to s's spares.
func give(s *Space, n int) {
	for i := 0; i < n; i++ {
		c := new(Chunk)
		chunks = append(chunks, c)
		s.Give(uintptr(unsafe.Pointer(c)))
	}
}

// refill tops s's spares up to Reserve, as the kernel does before each
// change.
func refill(s *Space) {
	give(s, max(0, Reserve-s.Spares()))
}

func regions(s *Space) []Region {
	var out []Region
	for a := s.Lo; ; {
		r, ok := s.Next(a)
		if !ok {
			break
		}
		out = append(out, r)
		a = r.End
	}
	if len(out) != s.Len() {
		panic(fmt.Sprintf("walk found %d regions, Len is %d", len(out), s.Len()))
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
	want := []Region{{base, base + 8*pg, Attr{0, Anon, 0}}, {base + 8*pg, base + 12*pg, Attr{Read | Write, Anon, 0}}, {base + 12*pg, base + 64*pg, Attr{0, Anon, 0}}}
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
	give(s, 4)
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
		rs := regions(s)
		for i := 1; i < len(rs); i++ {
			a, b := rs[i-1], rs[i]
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
	give(&s, 4)
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

// TestManyRegionsAgainstModel is TestAgainstModel over thousands of
// regions, so chunks split, merge and share their regions; the spares are
// topped up before each change, as the kernel does, and every chunk but a
// lone one must stay at least half full.
func TestManyRegionsAgainstModel(t *testing.T) {
	const pages = 6000
	s := new(Space)
	s.Init(lo, lo+pages*pg)
	model := make([]int, pages)
	for i := range model {
		model[i] = -1
	}
	rng := rand.New(rand.NewSource(2))
	for step := 0; step < 4000; step++ {
		refill(s)
		p := rng.Intn(pages)
		n := 1 + rng.Intn(min(pages-p, 1+rng.Intn(2)*rng.Intn(3000)))
		prot := Prot(rng.Intn(3))
		switch rng.Intn(4) {
		case 0, 3:
			if !s.Set(lo+uintptr(p)*pg, uintptr(n)*pg, prot) {
				t.Fatalf("step %d: Set failed", step)
			}
			for i := p; i < p+n; i++ {
				model[i] = int(prot)
			}
		case 1:
			if !s.Clear(lo+uintptr(p)*pg, uintptr(n)*pg) {
				t.Fatalf("step %d: Clear failed", step)
			}
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
		checkModel(t, s, model, step)
		checkFindDown(t, s, model, step, rng)
	}
}

// checkFindDown compares FindDown with the highest free range the model
// has, for a few lengths and tops.
func checkFindDown(t *testing.T, s *Space, model []int, step int, rng *rand.Rand) {
	t.Helper()
	for i := 0; i < 3; i++ {
		n := 1 + rng.Intn(1+rng.Intn(40))
		top := 1 + rng.Intn(len(model))
		want, free := -1, 0
		for p := top - 1; p >= 0; p-- {
			if model[p] >= 0 {
				free = 0
				continue
			}
			if free++; free == n {
				want = p
				break
			}
		}
		a, ok := s.FindDown(lo, lo+uintptr(top)*pg, uintptr(n)*pg, pg)
		if ok != (want >= 0) || ok && a != lo+uintptr(want)*pg {
			t.Fatalf("step %d: FindDown(top page %d, %d pages) = %#x, %v; model: page %d", step, top, n, a, ok, want)
		}
	}
}

// checkModel compares s with a page-level model and checks its chunks.
func checkModel(t *testing.T, s *Space, model []int, step int) {
	t.Helper()
	var want []Region
	for i, p := range model {
		a := lo + uintptr(i)*pg
		if p < 0 {
			continue
		}
		if k := len(want) - 1; k >= 0 && want[k].End == a && want[k].Prot == Prot(p) {
			want[k].End += pg
			continue
		}
		want = append(want, Region{a, a + pg, Attr{Prot(p), Anon, 0}})
	}
	if got := regions(s); !equal(got, want) {
		t.Fatalf("step %d: %d regions, model %d", step, len(got), len(want))
	}
	for i := 0; i < s.nc; i++ {
		if n := s.c[i].n; n < 1 || n > ChunkRegions || s.nc > 1 && n < ChunkRegions/2 {
			t.Fatalf("step %d: chunk %d of %d holds %d regions", step, i, s.nc, n)
		}
	}
	for i := 0; i < 50; i++ {
		p := rand.Intn(len(model))
		r, ok := s.Lookup(lo + uintptr(p)*pg)
		if ok != (model[p] >= 0) || ok && int(r.Prot) != model[p] {
			t.Fatalf("step %d: page %d: Lookup = %v,%v; model %d", step, p, r, ok, model[p])
		}
	}
}

// TestCapacity: a Space holds MaxMapCount regions and more, made as a
// program makes them (every other page of a mapping protected, from the
// bottom up and from the top down), and gives its chunks back as they
// empty.
func TestCapacity(t *testing.T) {
	const n = MaxMapCount/2 + 100
	for _, down := range []bool{false, true} {
		s := new(Space)
		s.Init(lo, lo+2*n*pg)
		refill(s)
		if !s.Set(lo, 2*n*pg, Read|Write) {
			t.Fatal("Set failed")
		}
		for i := 0; i < n; i++ {
			j := i
			if down {
				j = n - 1 - i
			}
			refill(s)
			if !s.Protect(lo+uintptr(2*j)*pg, pg, Read) {
				t.Fatalf("Protect %d failed: %d regions, %d chunks", i, s.Len(), s.Chunks())
			}
		}
		if s.Len() != 2*n {
			t.Fatalf("%d regions, want %d", s.Len(), 2*n)
		}
		if r, ok := s.Lookup(lo + uintptr(2*n-1)*pg); !ok || r.Prot != Read|Write || r.Start != lo+uintptr(2*n-1)*pg {
			t.Fatalf("Lookup(last page) = %+v, %v", r, ok)
		}
		used := s.Chunks()
		if used > 2*(2*n)/ChunkRegions+1 {
			t.Errorf("%d chunks for %d regions", used, 2*n)
		}
		// Unmapping all but the first and last page leaves two regions
		// and one chunk; the rest are spares again.
		before := s.Spares()
		refill(s)
		before = s.Spares()
		if !s.Clear(lo+pg, (2*n-2)*pg) {
			t.Fatal("Clear failed")
		}
		if s.Len() != 2 || s.Chunks() != 1 || s.Spares() != before+used-1 {
			t.Fatalf("after Clear: %d regions, %d chunks, %d spares (had %d, %d used)", s.Len(), s.Chunks(), s.Spares(), before, used)
		}
	}
}

// TestChangeWithoutSparesChangesNothing: a change that may need a chunk
// fails, leaving s as it was, when s has fewer than Reserve spares.
func TestChangeWithoutSparesChangesNothing(t *testing.T) {
	s := new(Space)
	s.Init(lo, hi)
	give(s, Reserve)
	if !s.Set(lo, 16*pg, Read) {
		t.Fatal("Set failed")
	}
	before := regions(s)
	if s.Set(lo+4*pg, pg, Write) || s.Protect(lo+4*pg, pg, Write) || s.Clear(lo+4*pg, pg) {
		t.Fatal("a change succeeded with one spare chunk")
	}
	if got := regions(s); !equal(got, before) {
		t.Fatalf("regions = %x, want %x", got, before)
	}
}

func TestFindDown(t *testing.T) {
	s := newSpace()
	s.Set(hi-4*pg, 4*pg, Read)
	s.Set(hi-10*pg, 2*pg, Read)
	for _, c := range []struct {
		lo, hi, length, align, want uintptr
		ok                          bool
	}{
		{lo, hi, pg, pg, hi - 5*pg, true},
		{lo, hi, 2 * pg, pg, hi - 6*pg, true},
		{lo, hi, 3 * pg, pg, hi - 7*pg, true},
		{lo, hi, 5 * pg, pg, hi - 15*pg, true},
		{lo, hi - 10*pg, pg, pg, hi - 11*pg, true},
		{lo, hi, pg, 1 << 20, hi - 1<<20, true},
		{hi - 13*pg, hi, 5 * pg, pg, 0, false},
		{lo, hi, hi - lo, pg, 0, false},
	} {
		a, ok := s.FindDown(c.lo, c.hi, c.length, c.align)
		if a != c.want || ok != c.ok {
			t.Errorf("FindDown(%#x, %#x, %#x, %#x) = %#x, %v; want %#x, %v", c.lo, c.hi, c.length, c.align, a, ok, c.want, c.ok)
		}
	}
	// Against FindUp's answers, in a random layout: the highest fitting
	// range is one whose next page up is taken or past hi.
	rng := rand.New(rand.NewSource(3))
	s = new(Space)
	s.Init(lo, lo+2000*pg)
	for i := 0; i < 300; i++ {
		refill(s)
		s.Set(lo+uintptr(rng.Intn(1990))*pg, uintptr(1+rng.Intn(8))*pg, Read)
	}
	for i := 0; i < 200; i++ {
		length := uintptr(1+rng.Intn(12)) * pg
		top := lo + uintptr(1+rng.Intn(2000))*pg
		a, ok := s.FindDown(lo, top, length, pg)
		if !ok {
			if b, ok := s.FindUp(lo, top, length, pg); ok {
				t.Fatalf("FindDown(%#x, %#x) failed, FindUp finds %#x", top, length, b)
			}
			continue
		}
		if !s.Free(a, length) || a+length > top || a < lo {
			t.Fatalf("FindDown(%#x, %#x) = %#x: not free or outside", top, length, a)
		}
		if a+length < top && s.Free(a+pg, length) {
			t.Fatalf("FindDown(%#x, %#x) = %#x: a higher range is free", top, length, a)
		}
	}
}

// TestAppend: a fork's copy of regions in order, merging equal neighbours
// and refusing one out of order.
func TestAppend(t *testing.T) {
	src := newSpace()
	rng := rand.New(rand.NewSource(4))
	for i := 0; i < 3000; i++ {
		refill(src)
		src.Set(lo+uintptr(rng.Intn(20000))*pg, uintptr(1+rng.Intn(4))*pg, Prot(rng.Intn(3)))
	}
	d := new(Space)
	d.Init(lo, hi)
	for r := src.First(); r.End != 0; r = src.After(r) {
		refill(d)
		if !d.Append(r) {
			t.Fatalf("Append(%+v) failed", r)
		}
	}
	if got, want := regions(d), regions(src); !equal(got, want) {
		t.Fatalf("copy has %d regions, source %d", len(got), len(want))
	}
	refill(d)
	if d.Append(Region{lo, lo + pg, Attr{Read, Anon, 0}}) {
		t.Fatal("Append below the last region succeeded")
	}
}

// TestTagsKeepMappingsApart: adjacent regions of equal protection and
// kind merge only with equal tags, and a protection change keeps a part's
// tag, so restoring it merges the parts again.
func TestTagsKeepMappingsApart(t *testing.T) {
	s := newSpace()
	if !s.SetTagged(lo, 4*pg, Read, Filled, 7) || !s.SetTagged(lo+4*pg, 4*pg, Read, Filled, 8) {
		t.Fatal("SetTagged failed")
	}
	if s.Len() != 2 {
		t.Fatalf("%d regions, want 2", s.Len())
	}
	refill(s)
	if !s.Protect(lo+pg, pg, Read|Write) || s.Len() != 4 {
		t.Fatalf("Protect: %d regions, want 4", s.Len())
	}
	refill(s)
	if !s.Protect(lo+pg, pg, Read) || s.Len() != 2 {
		t.Fatalf("Protect back: %d regions, want 2", s.Len())
	}
	if r, _ := s.Lookup(lo + pg); r.Tag != 7 || r.End != lo+4*pg {
		t.Fatalf("region %+v, want tag 7 up to %#x", r, lo+4*pg)
	}
}

// TestFindDownSeesNewHoles: FindDown skips a chunk by its largest gap,
// which a change must mark stale: a hole punched anywhere in a dense
// layout of thousands of regions is found again, and one filled is not.
func TestFindDownSeesNewHoles(t *testing.T) {
	const pages = 5000
	s := new(Space)
	s.Init(lo, lo+pages*pg)
	for i := 0; i < pages; i++ {
		refill(s)
		s.Set(lo+uintptr(i)*pg, pg, Prot(i%2+1))
	}
	if _, ok := s.FindDown(lo, s.Hi, pg, pg); ok {
		t.Fatal("FindDown found room in a full window")
	}
	rng := rand.New(rand.NewSource(5))
	for step := 0; step < 300; step++ {
		p := rng.Intn(pages)
		n := min(1+rng.Intn(3), pages-p)
		refill(s)
		switch step % 3 {
		case 0:
			n = 1
			s.Clear(lo+uintptr(p)*pg, pg)
		case 1:
			s.Clear(lo+uintptr(p)*pg, uintptr(n)*pg)
		case 2:
			// A hole in a run a Set merged.
			s.Set(lo+uintptr(p)*pg, uintptr(n)*pg, Read)
			refill(s)
			s.Clear(lo+uintptr(p)*pg, pg)
			n = 1
		}
		want := lo + uintptr(p+n-1)*pg
		a, ok := s.FindDown(lo, s.Hi, pg, pg)
		if !ok || a != want {
			t.Fatalf("step %d: FindDown after a hole at pages %d-%d = %#x, %v; want %#x", step, p, p+n-1, a, ok, want)
		}
		refill(s)
		s.Set(lo+uintptr(p)*pg, uintptr(n)*pg, Prot(p%2+1)) // fill it again
		if r, ok := s.FindDown(lo, s.Hi, pg, pg); ok {
			t.Fatalf("step %d: FindDown found %#x in a full window", step, r)
		}
	}
}
