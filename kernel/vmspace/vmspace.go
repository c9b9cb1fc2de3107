// Package vmspace records which virtual ranges of an address space are
// mapped and with what protection: the kernel's VMA list. It knows nothing
// of page tables; the kernel populates pages on demand from it.
//
// Trap context: every function here is //go:nosplit and allocates nothing.
// The regions live in page-sized chunks the owner of a Space gives it
// (Give) before a change, from memory it may allocate where it can: a
// change takes at most Reserve of them and fails, changing nothing, if it
// has fewer; chunks a change empties become spares again (Take returns
// them).
package vmspace

import "unsafe"

// PageSize is the granularity of every range.
const PageSize = 4096

// MaxMapCount is Linux's default limit on the mappings of one address
// space, vm.max_map_count (DEFAULT_MAX_MAP_COUNT, include/linux/mm.h:
// USHRT_MAX - MAPCOUNT_ELF_CORE_MARGIN). The kernel enforces it; a Space
// holds at least MaxChunks*ChunkRegions/2 regions, more than it.
const MaxMapCount = 65530

// ChunkRegions is the number of regions one chunk holds: a page of them.
const ChunkRegions = PageSize / 24

// Chunk is the memory of one chunk, a page: its regions, then the
// largest gap between two of them (gapUnknown until FindDown needs it).
type Chunk [PageSize / 8]uintptr

// gapOff is where a chunk keeps its largest gap, in the page's last 16
// bytes; gapUnknown marks it stale.
const (
	gapOff     = ChunkRegions * 24
	gapUnknown = ^uintptr(0)
)

var _ = [1]struct{}{}[unsafe.Sizeof(Region{})-24]
var _ = [1]struct{}{}[PageSize-ChunkRegions*unsafe.Sizeof(Region{})-16]
var _ = [1]struct{}{}[PageSize-unsafe.Sizeof(Chunk{})]

// MaxChunks bounds the chunks of one Space. Every chunk but a lone one is
// at least half full, so MaxChunks of them hold MaxMapCount regions and
// more (1024*85 = 87,040).
const MaxChunks = 1024

// Reserve is the number of spare chunks a change may need: a split of a
// region at each end of its range, each into a full chunk.
const Reserve = 2

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

// Region is one mapped range [Start, End). (Four fields at most, so
// that the compiler keeps one in registers: trap context's stack is
// small.)
type Region struct {
	Start, End uintptr
	Attr
}

// Attr is what a region maps.
type Attr struct {
	Prot Prot
	Kind Kind
	// Tag tells mappings apart that Linux would not merge: adjacent
	// regions merge only if their tags are equal too. For a file's pages
	// the personality makes it the file's identity plus its page offset
	// less the page number of Start, as vma_merge wants the same file at
	// contiguous offsets; 0 for anonymous memory.
	Tag uint32
}

// mergeable reports whether regions a and b, adjacent, are one mapping.
//
//go:nosplit
func mergeable(a, b *Region) bool {
	return a.Attr == b.Attr
}

// Space is the set of regions of one address space, confined to the window
// [Lo, Hi). Regions are kept sorted, disjoint and merged when adjacent with
// equal protection and kind, in chunks of ChunkRegions: a two-level B-tree
// whose root is c, so a lookup is two binary searches.
type Space struct {
	Lo, Hi uintptr
	c      [MaxChunks]chunkRef
	nc     int // chunks in use, c[:nc], in address order
	n      int // regions
	spare  uintptr
	nspare int
}

// chunkRef is a chunk in use: its address and how many regions it holds
// (1 to ChunkRegions).
type chunkRef struct {
	p uintptr
	n int
}

// Init empties s and sets its window. Its chunks and spares are
// forgotten: their owner takes them back first (Release, Take).
//
//go:nosplit
func (s *Space) Init(lo, hi uintptr) {
	s.Lo, s.Hi, s.nc, s.n, s.spare, s.nspare = lo, hi, 0, 0, 0, 0
}

// Give adds the memory of a Chunk at p to s's spares.
//
//go:nosplit
func (s *Space) Give(p uintptr) {
	*(*uintptr)(unsafe.Add(nil, p)) = s.spare
	s.spare = p
	s.nspare++
}

// Spares is the number of spare chunks s holds.
//
//go:nosplit
func (s *Space) Spares() int { return s.nspare }

// Take removes a spare chunk from s and returns its address, 0 if s has
// none.
//
//go:nosplit
func (s *Space) Take() uintptr {
	p := s.spare
	if p != 0 {
		s.spare = *(*uintptr)(unsafe.Add(nil, p))
		s.nspare--
	}
	return p
}

// Release empties s, making every chunk it used a spare.
//
//go:nosplit
func (s *Space) Release() {
	for i := 0; i < s.nc; i++ {
		s.Give(s.ref(i).p)
	}
	s.nc, s.n = 0, 0
}

// Len is the number of regions.
//
//go:nosplit
func (s *Space) Len() int { return s.n }

// Chunks is the number of chunks in use.
//
//go:nosplit
func (s *Space) Chunks() int { return s.nc }

// The accessors below index without bounds checks (the callers keep to
// c[:nc] and each chunk's count): a bounds check's panic path is deeper
// than trap context's stack allows under the private calls' frames.

// ref returns chunk reference i.
//
//go:nosplit
func (s *Space) ref(i int) *chunkRef {
	return (*chunkRef)(unsafe.Add(unsafe.Pointer(&s.c), uintptr(i)*unsafe.Sizeof(chunkRef{})))
}

// at returns region k of chunk i.
//
//go:nosplit
func (s *Space) at(i, k int) *Region { return reg(s.ref(i).p, k) }

// cnt is the number of regions of chunk i.
//
//go:nosplit
func (s *Space) cnt(i int) int { return s.ref(i).n }

// reg returns region k of the chunk at p.
//
//go:nosplit
func reg(p uintptr, k int) *Region {
	return (*Region)(unsafe.Add(nil, p+uintptr(k)*unsafe.Sizeof(Region{})))
}

// move copies n regions from index from of the chunk at sp to index to
// of the chunk at dp; the ranges may overlap.
//
//go:nosplit
//go:noinline
func move(dp uintptr, to int, sp uintptr, from, n int) {
	if dp == sp && to > from {
		for i := n - 1; i >= 0; i-- {
			*reg(dp, to+i) = *reg(sp, from+i)
		}
		return
	}
	for i := 0; i < n; i++ {
		*reg(dp, to+i) = *reg(sp, from+i)
	}
}

// moveRefs is move for chunk references.
//
//go:nosplit
//go:noinline
func (s *Space) moveRefs(to, from, n int) {
	if to > from {
		for i := n - 1; i >= 0; i-- {
			*s.ref(to + i) = *s.ref(from + i)
		}
		return
	}
	for i := 0; i < n; i++ {
		*s.ref(to + i) = *s.ref(from + i)
	}
}

// gap returns the largest gap between two regions of chunk i, computing
// it if it is stale.
//
//go:nosplit
func (s *Space) gap(i int) uintptr {
	c := s.ref(i)
	g := (*uintptr)(unsafe.Add(nil, c.p+gapOff))
	if *g == gapUnknown {
		*g = 0
		for k := 1; k < c.n; k++ {
			*g = max(*g, reg(c.p, k).Start-reg(c.p, k-1).End)
		}
	}
	return *g
}

// stale marks the largest gaps of the chunks around [start, end) stale:
// every change ends with it for the range it changed, which covers the
// chunks whose regions moved (a split, a merge or a share between
// neighbours).
//
//go:nosplit
func (s *Space) stale(start, end uintptr) {
	a, _ := s.find(start - 1)
	b, _ := s.find(end)
	for i := max(a-1, 0); i <= min(b+1, s.nc-1); i++ {
		*(*uintptr)(unsafe.Add(nil, s.ref(i).p+gapOff)) = gapUnknown
	}
}

// find returns the place of the first region that ends above addr: its
// chunk and index there; chunk s.nc if there is none.
//
//go:nosplit
func (s *Space) find(addr uintptr) (int, int) {
	lo, hi := 0, s.nc
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.at(m, s.cnt(m)-1).End > addr {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == s.nc {
		return lo, 0
	}
	p := s.ref(lo).p
	a, b := 0, s.cnt(lo)
	for a < b {
		m := int(uint(a+b) >> 1)
		if reg(p, m).End > addr {
			b = m
		} else {
			a = m + 1
		}
	}
	return lo, a
}

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
	ci, k := s.find(addr)
	if ci == s.nc {
		return Region{}, false
	}
	r := *s.at(ci, k)
	if r.Start > addr {
		return Region{}, false
	}
	return r, true
}

// Next returns the first region that ends above addr: the one holding
// addr, or the first above it. Walking from Lo by each region's End
// visits every region in order.
//
//go:nosplit
func (s *Space) Next(addr uintptr) (Region, bool) {
	ci, k := s.find(addr)
	if ci == s.nc {
		return Region{}, false
	}
	return *s.at(ci, k), true
}

// First returns the lowest region, or an empty Region (End 0) if there
// is none.
//
//go:nosplit
func (s *Space) First() Region {
	r, _ := s.Next(0)
	return r
}

// After returns the region after r, or an empty Region (End 0).
//
//go:nosplit
func (s *Space) After(r Region) Region {
	n, _ := s.Next(r.End)
	return n
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
	r, ok := s.Next(start)
	return !ok || r.Start >= start+length
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
	return s.FindUp(s.Lo, s.Hi, length, align)
}

// FindUp returns the lowest free range of length bytes inside [lo, hi)
// and the window whose start is a multiple of align (a power of two, at
// least PageSize): vm_unmapped_area's bottom-up search.
//
//go:nosplit
func (s *Space) FindUp(lo, hi, length, align uintptr) (uintptr, bool) {
	if length == 0 || length%PageSize != 0 || align < PageSize || align&(align-1) != 0 {
		return 0, false
	}
	lo, hi = max(lo, s.Lo), min(hi, s.Hi)
	cand := (lo + align - 1) &^ (align - 1)
	if cand < lo {
		return 0, false
	}
	ci, k := s.find(cand)
	for {
		gapEnd := hi
		if ci < s.nc {
			r := *s.at(ci, k)
			gapEnd = min(r.Start, hi)
			if cand+length >= cand && cand+length <= gapEnd {
				return cand, true
			}
			if r.End >= hi {
				return 0, false
			}
			if r.End > cand {
				cand = (r.End + align - 1) &^ (align - 1)
			}
			if k++; k == s.cnt(ci) {
				ci, k = ci+1, 0
			}
			continue
		}
		if cand+length >= cand && cand+length <= gapEnd {
			return cand, true
		}
		return 0, false
	}
}

// FindDown returns the highest free range of length bytes inside [lo,
// hi) and the window whose start is a multiple of align (a power of two,
// at least PageSize): vm_unmapped_area's top-down search
// (unmapped_area_topdown).
//
//go:nosplit
func (s *Space) FindDown(lo, hi, length, align uintptr) (uintptr, bool) {
	if length == 0 || length%PageSize != 0 || align < PageSize || align&(align-1) != 0 {
		return 0, false
	}
	lo, hi = max(lo, s.Lo), min(hi, s.Hi)
	if hi < lo || hi-lo < length {
		return 0, false
	}
	// The gaps from hi down: [prev.End, r.Start) for each region r
	// below hi, then [lo, lowest.Start).
	ci, k := s.find(hi - 1)
	top := hi
	if ci < s.nc {
		if r := *s.at(ci, k); r.Start < hi {
			top = r.Start
		}
	}
	// (ci, k) is the first region at or above top; step back from it.
	for {
		bottom := lo
		var r Region
		have := false
		if k > 0 {
			k--
			r, have = *s.at(ci, k), true
		} else if ci > 0 {
			ci--
			k = s.cnt(ci) - 1
			r, have = *s.at(ci, k), true
		}
		if have && r.End > bottom {
			bottom = r.End
		}
		if top >= bottom && top-bottom >= length {
			a := (top - length) &^ (align - 1)
			if a >= bottom {
				return a, true
			}
		}
		if have && k > 0 && k == s.cnt(ci)-1 && s.gap(ci) < length {
			// No gap inside this chunk is wide enough: on to its
			// first region.
			k = 0
			r = *s.at(ci, 0)
		}
		if !have || r.Start <= lo {
			return 0, false
		}
		top = r.Start
	}
}

// Set maps [start, start+length) with prot, replacing whatever was there.
// It fails, changing nothing, if the range is invalid or s has fewer than
// Reserve spare chunks.
//
//go:nosplit
func (s *Space) Set(start, length uintptr, prot Prot) bool {
	return s.SetKind(start, length, prot, Anon)
}

// SetKind is Set for a region of kind k.
//
//go:nosplit
func (s *Space) SetKind(start, length uintptr, prot Prot, k Kind) bool {
	return s.SetTagged(start, length, prot, k, 0)
}

// SetTagged is Set for a region of kind k with tag tag.
//
//go:nosplit
func (s *Space) SetTagged(start, length uintptr, prot Prot, k Kind, tag uint32) bool {
	if !s.valid(start, length) || !s.room() {
		return false
	}
	s.clear(start, start+length)
	if ci, k := s.insert(Region{start, start + length, Attr{prot, k, tag}}); ci >= 0 {
		s.removeRange(ci, k, 1)
	}
	s.stale(start, start+length)
	return true
}

// Append adds r above every region, merging it with the last if they
// are adjacent and equal (a fork's copy of its parent's regions). It
// fails, changing nothing, if r is not above them all or inside the
// window, or if s has fewer than Reserve spare chunks.
//
//go:nosplit
func (s *Space) Append(r Region) bool {
	if r.End <= r.Start || !s.valid(r.Start, r.End-r.Start) || !s.room() {
		return false
	}
	if s.nc > 0 {
		last := s.at(s.nc-1, s.cnt(s.nc-1)-1)
		if last.End > r.Start {
			return false
		}
		if last.End == r.Start && mergeable(last, &r) {
			last.End = r.End
		} else {
			s.insertAt(s.nc-1, s.cnt(s.nc-1), r)
		}
	} else {
		s.insertAt(0, 0, r)
	}
	s.stale(r.Start, r.End)
	return true
}

// room reports whether s has the spare chunks a change may take, and
// room in c for them.
//
//go:nosplit
func (s *Space) room() bool {
	return s.nspare >= Reserve && s.nc+Reserve <= MaxChunks
}

// Clear unmaps [start, start+length). Unmapping what is not mapped is not
// an error. Only a range strictly inside one region, which splits it,
// needs a spare chunk: the rest never fails for want of one.
//
//go:nosplit
func (s *Space) Clear(start, length uintptr) bool {
	if !s.valid(start, length) {
		return false
	}
	if r, ok := s.Lookup(start); ok && r.Start < start && r.End > start+length && !s.room() {
		return false
	}
	s.clear(start, start+length)
	s.stale(start, start+length)
	return true
}

// Protect changes the protection of [start, start+length), which must be
// fully mapped, keeping each part's kind.
//
//go:nosplit
func (s *Space) Protect(start, length uintptr, prot Prot) bool {
	if !s.valid(start, length) || !s.room() {
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
		if r.Prot != prot {
			// Each part but the first and the last is a whole region,
			// whose replacement takes no chunk (Reserve covers both
			// ends): the spares are checked anyway.
			if !s.room() {
				return false
			}
			s.clear(a, e)
			if ci, k := s.insert(Region{a, e, Attr{prot, r.Kind, r.Tag}}); ci >= 0 {
				s.removeRange(ci, k, 1)
			}
		}
		a = e
	}
	s.stale(start, end)
	return true
}

// clear removes [start, end) from every region, splitting at the edges.
// It takes at most one spare chunk.
//
//go:nosplit
func (s *Space) clear(start, end uintptr) {
	for {
		ci, k := s.find(start)
		if ci == s.nc {
			return
		}
		rp := s.at(ci, k)
		r := *rp
		switch {
		case r.Start >= end:
			return
		case r.Start < start && r.End > end:
			// Strictly inside one region: it splits in two.
			rp.End = start
			s.insertAt(ci, k+1, Region{end, r.End, r.Attr})
			return
		case r.Start < start:
			rp.End = start
		case r.End > end:
			rp.Start = end
			return
		default:
			// A run of whole regions of this chunk goes at once.
			j := k + 1
			for j < s.cnt(ci) && s.at(ci, j).End <= end {
				j++
			}
			s.removeRange(ci, k, j-k)
		}
	}
}

// insert adds r, which overlaps nothing, merging with equal neighbours;
// it returns where a region then merged into the one before it still is
// (to be removed by the caller, removeRange), or chunk -1. It takes at
// most one spare chunk.
//
//go:nosplit
func (s *Space) insert(r Region) (int, int) {
	ci, k := s.find(r.Start) // the region after r, if any
	// The region before r: pc, pk (pc < 0: none).
	pc, pk := ci, k-1
	if ci == s.nc || k == 0 {
		pc = ci - 1
		if pc >= 0 {
			pk = s.cnt(pc) - 1
		}
	}
	var next *Region
	if ci < s.nc {
		next = s.at(ci, k)
	}
	if pc >= 0 {
		prev := s.at(pc, pk)
		if prev.End == r.Start && mergeable(prev, &r) {
			prev.End = r.End
			if next != nil && next.Start == r.End && mergeable(next, &r) {
				prev.End = next.End
				return ci, k
			}
			return -1, 0
		}
	}
	if next != nil && next.Start == r.End && mergeable(next, &r) {
		next.Start = r.Start
		return -1, 0
	}
	if ci == s.nc && s.nc > 0 {
		ci, k = s.nc-1, s.cnt(s.nc-1)
	}
	s.insertAt(ci, k, r)
	return -1, 0
}

// insertAt puts r at index k of chunk ci (k may be its count: at its end;
// ci may be 0 in an empty s), splitting the chunk if it is full. The
// caller made sure of a spare chunk (room).
//
//go:nosplit
func (s *Space) insertAt(ci, k int, r Region) {
	if s.nc == 0 {
		*s.ref(0) = chunkRef{s.Take(), 0}
		*(*uintptr)(unsafe.Add(nil, s.ref(0).p+gapOff)) = gapUnknown
		s.nc = 1
		ci, k = 0, 0
	}
	if s.cnt(ci) == ChunkRegions {
		// Split: the upper half moves to a new chunk after it.
		p := s.Take()
		s.moveRefs(ci+2, ci+1, s.nc-ci-1)
		s.nc++
		h := ChunkRegions / 2
		move(p, 0, s.ref(ci).p, h, ChunkRegions-h)
		s.ref(ci).n = h
		*s.ref(ci + 1) = chunkRef{p, ChunkRegions - h}
		*(*uintptr)(unsafe.Add(nil, p+gapOff)) = gapUnknown
		if k > h {
			ci, k = ci+1, k-h
		}
	}
	c := s.ref(ci)
	move(c.p, k+1, c.p, k, c.n-k)
	*reg(c.p, k) = r
	c.n++
	s.n++
}

// removeRange removes regions k to k+n-1 of chunk ci, then keeps every
// chunk but a lone one at least half full: an emptied chunk is a spare
// again, one below half merges with a neighbour or takes some of its
// regions.
//
//go:nosplit
func (s *Space) removeRange(ci, k, n int) {
	c := s.ref(ci)
	move(c.p, k, c.p, k+n, c.n-k-n)
	c.n -= n
	s.n -= n
	if c.n == 0 {
		s.dropChunk(ci)
		return
	}
	if c.n >= ChunkRegions/2 || s.nc == 1 {
		return
	}
	l := ci
	if ci+1 == s.nc {
		l = ci - 1
	}
	A, B := s.ref(l), s.ref(l+1)
	a, b := A.n, B.n
	if a+b <= ChunkRegions {
		move(A.p, a, B.p, 0, b)
		A.n = a + b
		s.dropChunk(l + 1)
		return
	}
	na := (a + b) / 2
	if a > na {
		m := a - na
		move(B.p, m, B.p, 0, b)
		move(B.p, 0, A.p, na, m)
	} else {
		m := na - a
		move(A.p, a, B.p, 0, m)
		move(B.p, 0, B.p, m, b-m)
	}
	A.n, B.n = na, a+b-na
}

// dropChunk makes chunk ci a spare and removes it from c.
//
//go:nosplit
func (s *Space) dropChunk(ci int) {
	s.Give(s.ref(ci).p)
	s.moveRefs(ci, ci+1, s.nc-ci-1)
	s.nc--
}
