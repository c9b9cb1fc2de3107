package mem

import (
	"errors"
	"sort"
)

// PageSize is the application's page size.
const PageSize = 4096

// Prot is a mapping protection with the bits of Linux PROT_READ,
// PROT_WRITE and PROT_EXEC.
type Prot uint8

const (
	Read  Prot = 1
	Write Prot = 2
	Exec  Prot = 4
)

// ErrNoMemory is returned when a mapping cannot be placed (Linux ENOMEM).
var ErrNoMemory = errors.New("cannot allocate memory")

// ErrInvalid is returned for a misaligned or empty range (Linux EINVAL).
var ErrInvalid = errors.New("invalid argument")

// AddressSpace is an application address space: Memory plus mapping.
// CopyIn and CopyOut honour the mapping's protection as Linux does for
// system-call arguments (CopyOut needs Write, CopyIn needs Read); Load
// ignores it, for program loaders.
type AddressSpace interface {
	Memory
	// Map maps [addr, addr+length) to zero-filled anonymous memory with
	// prot. With fixed, exactly there, replacing what was mapped; without,
	// addr is a hint and the result is where the mapping went.
	Map(addr, length uint64, prot Prot, fixed bool) (uint64, error)
	// Unmap removes mappings in [addr, addr+length).
	Unmap(addr, length uint64) error
	// Protect changes the protection of the mapped range.
	Protect(addr, length uint64, prot Prot) error
	// Load writes data at addr, which must be mapped, ignoring protection.
	Load(addr uint64, data []byte) error
}

// FakeSpace is an AddressSpace kept in host memory, page by page, for
// tests. Its mappable range is [Lo, Hi).
type FakeSpace struct {
	Lo, Hi uint64
	pages  map[uint64]*fakePage
}

type fakePage struct {
	prot Prot
	data [PageSize]byte
}

// NewFakeSpace returns an empty FakeSpace over [lo, hi).
func NewFakeSpace(lo, hi uint64) *FakeSpace {
	return &FakeSpace{Lo: lo, Hi: hi, pages: map[uint64]*fakePage{}}
}

func (s *FakeSpace) Map(addr, length uint64, prot Prot, fixed bool) (uint64, error) {
	if length == 0 || addr%PageSize != 0 && fixed {
		return 0, ErrInvalid
	}
	length = (length + PageSize - 1) &^ (PageSize - 1)
	addr &^= PageSize - 1
	if !fixed && (addr < s.Lo || addr+length > s.Hi || !s.free(addr, length)) {
		addr = s.findFree(length)
		if addr == 0 {
			return 0, ErrNoMemory
		}
	}
	if addr < s.Lo || addr+length > s.Hi || addr+length < addr {
		return 0, ErrNoMemory
	}
	for a := addr; a < addr+length; a += PageSize {
		s.pages[a] = &fakePage{prot: prot}
	}
	return addr, nil
}

func (s *FakeSpace) free(addr, length uint64) bool {
	for a := addr; a < addr+length; a += PageSize {
		if s.pages[a] != nil {
			return false
		}
	}
	return true
}

func (s *FakeSpace) findFree(length uint64) uint64 {
	for a := s.Lo; a+length <= s.Hi; a += PageSize {
		if s.free(a, length) {
			return a
		}
	}
	return 0
}

func (s *FakeSpace) Unmap(addr, length uint64) error {
	if addr%PageSize != 0 || length == 0 {
		return ErrInvalid
	}
	for a := addr; a < addr+length; a += PageSize {
		delete(s.pages, a)
	}
	return nil
}

func (s *FakeSpace) Protect(addr, length uint64, prot Prot) error {
	if addr%PageSize != 0 {
		return ErrInvalid
	}
	for a := addr; a < addr+length; a += PageSize {
		if s.pages[a] == nil {
			return ErrNoMemory
		}
	}
	for a := addr; a < addr+length; a += PageSize {
		s.pages[a].prot = prot
	}
	return nil
}

// Mapped returns the mapped pages' addresses in order, for tests.
func (s *FakeSpace) Mapped() []uint64 {
	var out []uint64
	for a := range s.pages {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ProtAt returns the protection of the page holding addr.
func (s *FakeSpace) ProtAt(addr uint64) (Prot, bool) {
	p := s.pages[addr&^(PageSize-1)]
	if p == nil {
		return 0, false
	}
	return p.prot, true
}

func (s *FakeSpace) access(addr uint64, n int, want Prot, fn func(page []byte)) error {
	if addr+uint64(n) < addr {
		return ErrFault
	}
	for n > 0 {
		p := s.pages[addr&^(PageSize-1)]
		if p == nil || p.prot&want != want {
			return ErrFault
		}
		off := int(addr % PageSize)
		k := PageSize - off
		if k > n {
			k = n
		}
		fn(p.data[off : off+k])
		addr += uint64(k)
		n -= k
	}
	return nil
}

func (s *FakeSpace) CopyIn(addr uint64, dst []byte) error {
	done := 0
	return s.access(addr, len(dst), Read, func(b []byte) { done += copy(dst[done:], b) })
}

func (s *FakeSpace) CopyOut(addr uint64, src []byte) error {
	done := 0
	return s.access(addr, len(src), Write, func(b []byte) { done += copy(b, src[done:]) })
}

func (s *FakeSpace) Load(addr uint64, data []byte) error {
	done := 0
	return s.access(addr, len(data), 0, func(b []byte) { done += copy(b, data[done:]) })
}
