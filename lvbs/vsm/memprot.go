package vsm

import (
	"encoding/binary"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
)

// Memory attributes VTL0 asks for (lvbs-linux include/linux/mem_attr.h):
// MEM_ATTR_READ, _WRITE, _EXEC, _IMMUTABLE. Cocoon treats every protection
// as immutable.
const (
	AttrRead      = 1 << 0
	AttrWrite     = 1 << 1
	AttrExec      = 1 << 2
	AttrImmutable = 1 << 3
	attrAll       = AttrRead | AttrWrite | AttrExec | AttrImmutable
)

// mapFlags turns MEM_ATTR_* bits into VTL0's access, as
// mshv_vsm_protect_memory does (read grants user-mode execute too, for
// MBEC; exec grants kernel-mode execute), and refuses combinations that
// are none of the TLFS's protection types (TLFS VSM, "Memory Access
// Protections": no access, read-only, read-execute, read-write,
// read-write-execute).
func mapFlags(attr uint64) (hv.MapFlags, bool) {
	if attr&^attrAll != 0 {
		return 0, false
	}
	var f hv.MapFlags
	if attr&AttrRead != 0 {
		f |= hv.MapRead | hv.MapUserExec
	}
	if attr&(AttrWrite|AttrExec) != 0 && attr&AttrRead == 0 {
		return 0, false
	}
	if attr&AttrWrite != 0 {
		f |= hv.MapWrite
	}
	if attr&AttrExec != 0 {
		f |= hv.MapKernelExec
	}
	return f, true
}

// protectPages is Cocoon's PROTECT_PAGES: a1 GPA (page-aligned), a2
// pages, a3 MEM_ATTR_* bits.
func (s *Secure) protectPages(gpa, pages, attr uint64) int {
	f, ok := mapFlags(attr)
	if !ok || gpa%hv.PageSize != 0 || pages == 0 || pages > MaxProtectedPages {
		return vtlcall.EINVAL
	}
	if errno := s.vtl0Range(gpa, pages*hv.PageSize); errno != 0 {
		return errno
	}
	return s.restrict(gpa/hv.PageSize, pages, f)
}

// restrict lowers VTL0's access to n pages from pfn to at most f: each
// page keeps only the accesses both its current protection and f allow.
// Runs of pages that end with the same access share a hypercall.
func (s *Secure) restrict(pfn, n uint64, f hv.MapFlags) int {
	added := uint64(0)
	for i := range n {
		if _, ok := s.prot[pfn+i]; !ok {
			added++
		}
	}
	if uint64(len(s.prot))+added > MaxProtectedPages {
		return vtlcall.ENOSPC
	}
	want := func(p uint64) hv.MapFlags {
		cur, ok := s.prot[p]
		if !ok {
			cur = hv.MapAll
		}
		return cur & f
	}
	for i := uint64(0); i < n; {
		first, flags := pfn+i, want(pfn+i)
		j := i + 1
		for j < n && want(pfn+j) == flags {
			j++
		}
		if err := s.cfg.HV.ModifyVtlProtectionMask(0, flags, first, int(j-i)); err != nil {
			s.Logf("cocoon vtl1: HvCallModifyVtlProtectionMask(%#x, %d pages, %v): %v", first*hv.PageSize, j-i, flags, err)
			return vtlcall.EIO
		}
		for p := first; p < pfn+j; p++ {
			s.prot[p] = flags
		}
		s.Logf("cocoon vtl1: VTL0 pages %#x-%#x now %v for VTL0", first*hv.PageSize, (pfn+j)*hv.PageSize, flags)
		i = j
	}
	return 0
}

// The heki_page list of LVBS PROTECT_MEMORY (lvbs-linux
// include/linux/heki.h): one page each, linked by physical address.
//
//	0  next (8: a VTL0 virtual address, ignored)
//	8  next_pa (8)
//	16 nranges (8)
//	24 ranges: struct heki_range {va, pa, epa, attributes}, 32 bytes each
const (
	hekiHeader    = 24
	hekiRangeSize = 32
	hekiPerPage   = (hv.PageSize - hekiHeader) / hekiRangeSize // 127
)

type hekiRange struct{ pa, epa, attr uint64 }

// protectHeki is LVBS PROTECT_MEMORY: a1 the GPA of the first heki_page,
// a2 the number of ranges in the whole list. Every range is checked before
// any protection changes (as mshv_vsm_protect_memory does).
func (s *Secure) protectHeki(pa, nranges uint64) int {
	if nranges == 0 || nranges > MaxHekiRanges || pa%hv.PageSize != 0 {
		return vtlcall.EINVAL
	}
	ranges := make([]hekiRange, 0, nranges)
	page := make([]byte, hv.PageSize)
	for uint64(len(ranges)) < nranges {
		if pa%hv.PageSize != 0 {
			return vtlcall.EINVAL
		}
		if errno := s.readVTL0(pa, page); errno != 0 {
			return errno
		}
		cur := binary.LittleEndian.Uint64(page[16:])
		if cur == 0 || cur > hekiPerPage || cur > nranges-uint64(len(ranges)) {
			return vtlcall.EINVAL
		}
		for i := range cur {
			r := page[hekiHeader+hekiRangeSize*i:]
			ranges = append(ranges, hekiRange{pa: binary.LittleEndian.Uint64(r[8:]), epa: binary.LittleEndian.Uint64(r[16:]), attr: binary.LittleEndian.Uint64(r[24:])})
		}
		pa = binary.LittleEndian.Uint64(page[8:])
	}
	total := uint64(0)
	for _, r := range ranges {
		if _, ok := mapFlags(r.attr); !ok || r.attr == 0 || r.pa%hv.PageSize != 0 || r.epa%hv.PageSize != 0 || r.epa <= r.pa {
			return vtlcall.EINVAL
		}
		if errno := s.vtl0Range(r.pa, r.epa-r.pa); errno != 0 {
			return errno
		}
		total += (r.epa - r.pa) / hv.PageSize
		if total > MaxProtectedPages {
			return vtlcall.ENOSPC
		}
	}
	for _, r := range ranges {
		f, _ := mapFlags(r.attr)
		if errno := s.restrict(r.pa/hv.PageSize, (r.epa-r.pa)/hv.PageSize, f); errno != 0 {
			return errno
		}
	}
	return 0
}

// Protection reports VTL0's access to the page holding gpa as Cocoon set
// it, and whether Cocoon restricted it at all.
func (s *Secure) Protection(gpa uint64) (hv.MapFlags, bool) {
	f, ok := s.prot[gpa/hv.PageSize]
	return f, ok
}
