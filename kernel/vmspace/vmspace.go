// Package vmspace records which virtual ranges of an address space are
// mapped and with what protection: the kernel's VMA list. It knows nothing
// of page tables; the kernel populates pages on demand from it.
//
// Trap context: every function here is //go:nosplit and allocates nothing.
package vmspace

// PageSize is the granularity of every range.
const PageSize = 4096

// MaxRegions bounds the number of distinct regions in one Space.
const MaxRegions = 1024

// Prot is a protection, with the bits of Linux PROT_READ, PROT_WRITE and
// PROT_EXEC (include/uapi/asm-generic/mman-common.h). Zero is PROT_NONE: a
// reservation that faults when touched.
type Prot uint8

const (
	Read  Prot = 1
	Write Prot = 2
	Exec  Prot = 4
)

// Kind says where a region's pages come from.
type Kind uint8

const (
	// Anon regions get a zero page on first touch, in trap context.
	Anon Kind = iota
	// Filled regions get their pages from the Linux personality (file
	// pages, shared memory): a fault leaves trap context to be served.
	Filled
)

// Region is one mapped range [Start, End).
type Region struct {
	Start, End uintptr
	Prot       Prot
	Kind       Kind
}

// Space is the set of regions of one address space, confined to the window
// [Lo, Hi). Regions are kept sorted, disjoint and merged when adjacent with
// equal protection.
type Space struct {
	Lo, Hi uintptr
	r      [MaxRegions]Region
	n      int
}

// Init empties s and sets its window.
//
//go:nosplit
func (s *Space) Init(lo, hi uintptr) {
	s.Lo, s.Hi, s.n = lo, hi, 0
}

// Len is the number of regions.
//
//go:nosplit
func (s *Space) Len() int { return s.n }

// At returns region i (0 <= i < Len()).
//
//go:nosplit
func (s *Space) At(i int) Region { return s.r[i] }

// valid reports whether [start, start+length) is page aligned, non-empty
// and inside the window.
//
//go:nosplit
func (s *Space) valid(start, length uintptr) bool {
	return start%PageSize == 0 && length > 0 && length%PageSize == 0 &&
		start >= s.Lo && start+length > start && start+length <= s.Hi
}

// Lookup returns the region containing addr.
//
//go:nosplit
func (s *Space) Lookup(addr uintptr) (Region, bool) {
	lo, hi := 0, s.n
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case addr < s.r[m].Start:
			hi = m
		case addr >= s.r[m].End:
			lo = m + 1
		default:
			return s.r[m], true
		}
	}
	return Region{}, false
}

// Covered reports whether every byte of [addr, addr+length) lies in
// regions whose protection includes want.
//
//go:nosplit
func (s *Space) Covered(addr, length uintptr, want Prot) bool {
	if addr+length < addr {
		return false
	}
	end := addr + length
	for addr < end {
		r, ok := s.Lookup(addr)
		if !ok || r.Prot&want != want {
			return false
		}
		addr = r.End
	}
	return true
}

// Free reports whether no region overlaps [start, start+length).
//
//go:nosplit
func (s *Space) Free(start, length uintptr) bool {
	for i := 0; i < s.n; i++ {
		if s.r[i].Start < start+length && start < s.r[i].End {
			return false
		}
	}
	return true
}

// FindFree returns a free, page-aligned range of length bytes: hint itself
// if that range is free and inside the window, else the lowest free range
// at or above the window start whose start is a multiple of align (a power
// of two, at least PageSize).
//
//go:nosplit
func (s *Space) FindFree(hint, length, align uintptr) (uintptr, bool) {
	if length == 0 || length%PageSize != 0 || align < PageSize || align&(align-1) != 0 {
		return 0, false
	}
	if hint != 0 && hint%align == 0 && s.valid(hint, length) && s.Free(hint, length) {
		return hint, true
	}
	cand := (s.Lo + align - 1) &^ (align - 1)
	for i := 0; i <= s.n; i++ {
		gapEnd := s.Hi
		if i < s.n {
			gapEnd = s.r[i].Start
		}
		if cand+length >= cand && cand+length <= gapEnd {
			return cand, true
		}
		if i < s.n && s.r[i].End > cand {
			cand = (s.r[i].End + align - 1) &^ (align - 1)
		}
	}
	return 0, false
}

// Set maps [start, start+length) with prot, replacing whatever was there.
// It fails, changing nothing, if the range is invalid or the table would
// overflow.
//
//go:nosplit
func (s *Space) Set(start, length uintptr, prot Prot) bool {
	return s.SetKind(start, length, prot, Anon)
}

// SetKind is Set for a region of kind k.
//
//go:nosplit
func (s *Space) SetKind(start, length uintptr, prot Prot, k Kind) bool {
	if !s.valid(start, length) {
		return false
	}
	if !s.clear(start, start+length) {
		return false
	}
	return s.insert(Region{start, start + length, prot, k})
}

// Clear unmaps [start, start+length). Unmapping what is not mapped is not
// an error.
//
//go:nosplit
func (s *Space) Clear(start, length uintptr) bool {
	if !s.valid(start, length) {
		return false
	}
	return s.clear(start, start+length)
}

// Protect changes the protection of [start, start+length), which must be
// fully mapped, keeping each part's kind.
//
//go:nosplit
func (s *Space) Protect(start, length uintptr, prot Prot) bool {
	if !s.valid(start, length) {
		return false
	}
	end := start + length
	for a := start; a < end; {
		r, ok := s.Lookup(a)
		if !ok {
			return false
		}
		a = r.End
	}
	for a := start; a < end; {
		r, _ := s.Lookup(a)
		e := min(r.End, end)
		if r.Prot != prot && !s.SetKind(a, e-a, prot, r.Kind) {
			return false
		}
		a = e
	}
	return true
}

// clear removes [start, end) from every region, splitting at the edges.
//
//go:nosplit
func (s *Space) clear(start, end uintptr) bool {
	// A region strictly containing the range splits in two: one more slot.
	for i := 0; i < s.n; i++ {
		if s.r[i].Start < start && s.r[i].End > end && s.n == MaxRegions {
			return false
		}
	}
	for i := 0; i < s.n; {
		r := s.r[i]
		if r.End <= start || r.Start >= end {
			i++
			continue
		}
		switch {
		case r.Start < start && r.End > end:
			s.r[i].End = start
			s.insertAt(i+1, Region{end, r.End, r.Prot, r.Kind})
			return true
		case r.Start < start:
			s.r[i].End = start
			i++
		case r.End > end:
			s.r[i].Start = end
			i++
		default:
			s.removeAt(i)
		}
	}
	return true
}

// insert adds r, which overlaps nothing, merging with equal neighbours.
//
//go:nosplit
func (s *Space) insert(r Region) bool {
	i := 0
	for i < s.n && s.r[i].Start < r.Start {
		i++
	}
	if i > 0 && s.r[i-1].End == r.Start && s.r[i-1].Prot == r.Prot && s.r[i-1].Kind == r.Kind {
		s.r[i-1].End = r.End
		if i < s.n && s.r[i].Start == r.End && s.r[i].Prot == r.Prot && s.r[i].Kind == r.Kind {
			s.r[i-1].End = s.r[i].End
			s.removeAt(i)
		}
		return true
	}
	if i < s.n && s.r[i].Start == r.End && s.r[i].Prot == r.Prot && s.r[i].Kind == r.Kind {
		s.r[i].Start = r.Start
		return true
	}
	if s.n == MaxRegions {
		return false
	}
	s.insertAt(i, r)
	return true
}

//go:nosplit
func (s *Space) insertAt(i int, r Region) {
	copy(s.r[i+1:s.n+1], s.r[i:s.n])
	s.r[i] = r
	s.n++
}

//go:nosplit
func (s *Space) removeAt(i int) {
	copy(s.r[i:s.n-1], s.r[i+1:s.n])
	s.n--
}
