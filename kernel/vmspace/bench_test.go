package vmspace

import "testing"

// setup makes a Space of n regions: a mapping with every fourth page of
// its first half given another protection.
func setup(n int) *Space {
	s := new(Space)
	s.Init(lo+1<<30, lo+1<<30+uintptr(4*n+16)*pg)
	refill(s)
	s.Set(s.Lo, uintptr(4*n+16)*pg, Read)
	for i := 0; i < n/2; i++ {
		refill(s)
		s.Protect(s.Lo+uintptr(4*i)*pg, pg, Read|Write)
	}
	return s
}

func benchLookup(b *testing.B, n int) {
	s := setup(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Lookup(s.Lo + uintptr(i%(4*n))*pg)
	}
}

// benchSplitJoin: an mprotect that cuts a region in three, and the one
// that joins it again (a guard page set and cleared).
func benchSplitJoin(b *testing.B, n int) {
	s := setup(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := s.Lo + uintptr(4*(i%(n/2))+2)*pg
		refill(s)
		s.Protect(a, pg, Write)
		s.Protect(a, pg, Read)
	}
}

func BenchmarkLookup1000(b *testing.B)            { benchLookup(b, 1000) }
func BenchmarkLookup65000(b *testing.B)           { benchLookup(b, 65000) }
func BenchmarkProtectSplitJoin1000(b *testing.B)  { benchSplitJoin(b, 1000) }
func BenchmarkProtectSplitJoin65000(b *testing.B) { benchSplitJoin(b, 65000) }

// BenchmarkFindDown65000: a top-down search that passes every region of
// a 65,000-region mapping to the free range below it.
func BenchmarkFindDown65000(b *testing.B) {
	s := setup(65000)
	hi := s.Hi
	s.Hi = hi + 1<<30
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.FindDown(s.Lo, hi, 1<<20, pg)
	}
}
