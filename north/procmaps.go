package north

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// regioner is a Machine that lists its regions (the kernel's Space).
type regioner interface {
	Regions(fn func(start, end uint64, prot uint8, filled bool))
}

// describer is a Pager that names its file (vfs.Mapping).
type describer interface {
	Describe() (dev, ino uint64, name string)
}

// mapping is one VMA as Linux would have it: a line of /proc/PID/maps, an
// entry of smaps. The address space's regions are cut where its file
// mappings (fileVMA) begin and end, and where the ranges that are
// flags of a VMA on Linux (its vm_flags, which mlock, madvise and mseal
// change, splitting the VMA: mm/vma.c vma_modify_flags) begin and end.
type mapping struct {
	start, end uint64
	prot       uint8
	vma        *fileVMA // the file or shared memory mapped; nil: private anonymous memory
	off        uint64   // the file offset of start
	dev, ino   uint64
	name       string
	// special is the vDSO's mapping it is, "[vdso]" or "[vvar]", else
	// "".
	special string
	// The flags of the ranges it lies in.
	stack, locked, dontfork, wipeonfork, sealed, grows bool
}

// mappings calls fn with each mapping of the process's address space,
// in address order, and then the vsyscall page (gate_vma); false if its
// address space cannot list its regions. The caller holds p.mm.mu.
func (p *Process) mappings(fn func(m *mapping)) bool {
	r, ok := p.m.(regioner)
	if !ok {
		return false
	}
	p.mu.Lock()
	brkStart, brk := p.brkStart, p.brk
	p.mu.Unlock()
	sp := p.mm.stackSP.Load()
	s := p.mm
	// The range sets that cut mappings, each with what it marks.
	sets := []struct {
		set  []span
		mark func(m *mapping)
	}{
		{s.vdso, func(m *mapping) { m.special = "[vdso]" }},
		{s.vvar, func(m *mapping) { m.special = "[vvar]" }},
		{s.locked, func(m *mapping) { m.locked = true }},
		{s.dontfork, func(m *mapping) { m.dontfork = true }},
		{s.wipeonfork, func(m *mapping) { m.wipeonfork = true }},
		{s.sealed, func(m *mapping) { m.sealed = true }},
		{s.grows, func(m *mapping) { m.grows = true }},
		{s.drop, func(*mapping) {}},
	}
	// emit cuts m at the ranges' bounds and gives fn each piece. Each
	// set is sorted and disjoint: the range at or after an address is
	// found by binary search.
	emit := func(m mapping) {
		start, end := m.start, m.end
		for start < end {
			piece, next := m, end
			piece.start = start
			for _, st := range sets {
				i := sort.Search(len(st.set), func(i int) bool { return st.set[i].end > start })
				if i == len(st.set) {
					continue
				}
				switch l := st.set[i]; {
				case l.start <= start:
					// Ranges that touch are one: Linux merges
					// VMAs whose flags agree.
					for ; i+1 < len(st.set) && st.set[i+1].start == l.end; i++ {
						l.end = st.set[i+1].end
					}
					st.mark(&piece)
					next = min(next, l.end)
				case l.start < next:
					next = l.start
				}
			}
			piece.end = next
			if piece.vma != nil {
				piece.off = m.off + (start - m.start)
			}
			if piece.vma == nil {
				switch {
				case piece.special != "":
					piece.name = piece.special
				case brk > brkStart && start < brk && brkStart < next:
					piece.name = "[heap]"
				case start < sp && sp <= next:
					piece.name, piece.stack = "[stack]", true
				}
			}
			fn(&piece)
			start = next
		}
	}
	r.Regions(func(start, end uint64, prot uint8, filled bool) {
		if !filled {
			emit(mapping{start: start, end: end, prot: prot})
			return
		}
		// The file mappings are sorted and disjoint too.
		first := sort.Search(len(s.vmas), func(i int) bool { return s.vmas[i].end > start })
		for _, v := range s.vmas[first:] {
			if v.start >= end {
				break
			}
			lo, hi := max(start, v.start), min(end, v.end)
			if lo >= hi {
				continue
			}
			m := mapping{start: lo, end: hi, prot: prot, vma: v}
			if d, ok := v.pager.(describer); ok {
				m.dev, m.ino, m.name = d.Describe()
			}
			m.off = uint64(v.pgoff)*mem.PageSize + (lo - v.start)
			emit(m)
		}
	})
	// Every process shows the emulated vsyscall page, execute-only
	// (gate_vma, arch/x86/entry/vsyscall/vsyscall_64.c).
	fn(&mapping{start: vsyscallPage, end: vsyscallPage + mem.PageSize, prot: uint8(mem.Exec), name: "[vsyscall]", special: "[vsyscall]"})
	return true
}

// appendMapLine appends m's line of /proc/PID/maps (fs/proc/task_mmu.c
// show_map_vma): "start-end perms offset major:minor inode" and, from
// column 74, the name.
func appendMapLine(b []byte, m *mapping) []byte {
	perm := []byte("---p")
	if m.prot&uint8(mem.Read) != 0 {
		perm[0] = 'r'
	}
	if m.prot&uint8(mem.Write) != 0 {
		perm[1] = 'w'
	}
	if m.prot&uint8(mem.Exec) != 0 {
		perm[2] = 'x'
	}
	if m.vma != nil && m.vma.shared {
		perm[3] = 's'
	}
	return appendHeader(b, m.start, m.end, string(perm), m.off, m.dev, m.ino, m.name)
}

// appendHeader appends a maps line of the given fields; the name, if
// any, padded to column 74 (seq_pad: 25 + 6*8 - 1 columns before it).
func appendHeader(b []byte, start, end uint64, perm string, off, dev, ino uint64, name string) []byte {
	n := len(b)
	b = fmt.Appendf(b, "%08x-%08x %s %08x %02x:%02x %d ", start, end, perm, off, linux.DevMajor(dev), linux.DevMinor(dev), ino)
	if name == "" {
		return append(b[:len(b)-1], '\n')
	}
	for len(b)-n < 73 {
		b = append(b, ' ')
	}
	return append(append(b, name...), '\n')
}

// mapsText is /proc/PID/maps: a line per mapping in address order, the
// vsyscall page last. Nothing for a zombie.
func (p *Process) mapsText() []byte {
	if p.LiveFiles() == nil {
		return nil
	}
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	var b []byte
	p.mappings(func(m *mapping) { b = appendMapLine(b, m) })
	return b
}

// vmFlags is the VmFlags line's flags of m (fs/proc/task_mmu.c
// show_smap_vma_flags, in the order of their vm_flags bits): its
// protection; sh and ms for a shared mapping (sh only where it may be
// written: shared memory, or a file open for writing), mr, mw and me as
// mmap sets them (no mw on a shared mapping of a read-only file); gd for
// the stack and MAP_GROWSDOWN; lo for locked memory; dc, wf for the fork
// advice; ac for private writable memory (VM_ACCOUNT,
// accountable_mapping); sl for sealed memory. The vDSO's code is de
// (VM_DONTEXPAND), its data page pf io de dd as _install_special_mapping
// makes them, the vsyscall page ex alone. Cocoon keeps no soft-dirty
// bits (sd), and no flags of hints it does not act on (MADV_DONTDUMP,
// MADV_HUGEPAGE, MADV_SEQUENTIAL, MAP_NORESERVE).
func (m *mapping) vmFlags() string {
	if m.special == "[vsyscall]" {
		return "ex "
	}
	var f []string
	add := func(on bool, name string) {
		if on {
			f = append(f, name)
		}
	}
	shared := m.vma != nil && m.vma.shared
	mayWrite := !shared || m.vma.shmem || m.vma.mayWrite
	vvar := m.special == "[vvar]"
	add(m.prot&uint8(mem.Read) != 0, "rd")
	add(m.prot&uint8(mem.Write) != 0, "wr")
	add(m.prot&uint8(mem.Exec) != 0, "ex")
	add(shared && mayWrite, "sh")
	add(true, "mr")
	add(mayWrite && !vvar, "mw")
	add(!vvar, "me")
	add(shared, "ms")
	add(m.stack || m.grows, "gd")
	add(vvar, "pf")
	add(m.locked, "lo")
	add(vvar, "io")
	add(m.dontfork, "dc")
	add(m.special != "", "de")
	add(!shared && m.special == "" && m.prot&uint8(mem.Write) != 0, "ac")
	add(m.wipeonfork, "wf")
	add(vvar, "dd")
	add(m.sealed, "sl")
	return strings.Join(f, " ") + " "
}

// memUse is what smaps counts of a mapping's pages, in pages.
type memUse struct {
	rss, anon, file, shmem       uint64
	sharedClean, privateClean    uint64
	privateDirty, locked, dirtyP uint64
}

func (u *memUse) add(o memUse) {
	u.rss += o.rss
	u.anon += o.anon
	u.file += o.file
	u.shmem += o.shmem
	u.sharedClean += o.sharedClean
	u.privateClean += o.privateClean
	u.privateDirty += o.privateDirty
	u.locked += o.locked
	u.dirtyP += o.dirtyP
}

// use counts m's resident pages (fs/proc/task_mmu.c smaps_pte_entry),
// from the page tables as VmRSS is: anonymous memory and the private
// copies of a private file mapping's pages are Anonymous and dirty; the
// file's own pages clean, a shared mapping's dirty where it may be
// written; shared memory and tmpfs files' pages are shmem. The
// vDSO's code page is shared by every process (Shared_Clean); its data
// page is a PFN mapping, which Linux does not count. Cocoon keeps no map
// count of a page: every other page counts as the process's own
// (Private_*, Pss = Rss), where Linux splits pages a fork left shared
// among their mappers.
func (m *mapping) use(c rssCounter) memUse {
	var u memUse
	if m.special == "[vvar]" || m.special == "[vsyscall]" {
		return u
	}
	u.rss = c.Resident(m.start, m.end, false)
	write := m.prot&uint8(mem.Write) != 0
	switch v := m.vma; {
	case m.special == "[vdso]":
		u.file, u.sharedClean = u.rss, u.rss
	case v == nil:
		u.anon, u.privateDirty = u.rss, u.rss
	case v.shared:
		sp, ok := v.pager.(shmemPager)
		if v.shmem || ok && sp.Shmem() {
			u.shmem = u.rss
		} else {
			u.file = u.rss
		}
		if write {
			u.privateDirty = u.rss
		} else {
			u.privateClean = u.rss
		}
	default:
		u.anon = c.Resident(m.start, m.end, true)
		u.file = u.rss - u.anon
		u.privateDirty, u.privateClean = u.anon, u.file
	}
	u.dirtyP = u.privateDirty
	if m.locked {
		u.locked = u.rss
	}
	return u
}

// appendUse appends the lines smaps and smaps_rollup share
// (fs/proc/task_mmu.c __show_smap), in kB: rollup adds Pss_Anon,
// Pss_File and Pss_Shmem after Pss_Dirty. No page is huge, swapped,
// lazily freed, merged by KSM or hugetlbfs's.
func appendUse(b []byte, u memUse, rollup bool) []byte {
	kb := func(name string, pages uint64) {
		b = fmt.Appendf(b, "%-16s%8d kB\n", name+":", kib(pages))
	}
	kb("Rss", u.rss)
	kb("Pss", u.rss)
	kb("Pss_Dirty", u.dirtyP)
	if rollup {
		kb("Pss_Anon", u.anon)
		kb("Pss_File", u.file)
		kb("Pss_Shmem", u.shmem)
	}
	kb("Shared_Clean", u.sharedClean)
	kb("Shared_Dirty", 0)
	kb("Private_Clean", u.privateClean)
	kb("Private_Dirty", u.privateDirty)
	kb("Referenced", u.rss)
	kb("Anonymous", u.anon)
	for _, name := range []string{"KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss"} {
		kb(name, 0)
	}
	kb("Locked", u.locked)
	return b
}

// smapsRecords returns /proc/PID/smaps (fs/proc/task_mmu.c show_smap)
// record by record, as a seq_file makes it: the mappings are listed
// when it is opened, each one's text made when it is read, with its
// resident pages as they are then (none once no process uses the
// address space). A record is the mapping's maps line, then its sizes
// and VmFlags. THPeligible is 0: there are no transparent huge pages.
// There is no ProtectionKey line: Cocoon does not enable protection
// keys (no OSPKE, as on a CPU without pku). Nothing for an exited task.
func (p *Process) smapsRecords(exited bool) func(i int) []byte {
	p.mu.Lock()
	m := p.m
	p.mu.Unlock()
	c, ok := m.(rssCounter)
	if exited || p.LiveFiles() == nil || !ok {
		return func(int) []byte { return nil }
	}
	mm := p.mm
	mm.mu.Lock()
	var ms []mapping
	p.mappings(func(m *mapping) { ms = append(ms, *m) })
	mm.mu.Unlock()
	return func(i int) []byte {
		if i >= len(ms) {
			return nil
		}
		if !pinSpace(m) {
			return nil
		}
		defer dropSpace(m)
		mm.mu.Lock()
		defer mm.mu.Unlock()
		r := &ms[i]
		b := appendMapLine(nil, r)
		b = fmt.Appendf(b, "%-16s%8d kB\n", "Size:", (r.end-r.start)>>10)
		b = fmt.Appendf(b, "%-16s%8d kB\n%-16s%8d kB\n", "KernelPageSize:", mem.PageSize>>10, "MMUPageSize:", mem.PageSize>>10)
		b = appendUse(b, r.use(c), false)
		b = fmt.Appendf(b, "%-16s%8d\n", "THPeligible:", 0)
		return append(append(append(b, "VmFlags: "...), r.vmFlags()...), '\n')
	}
}

// ProcRecords returns the text of /proc/PID/name, or for tid != 0 of
// /proc/PID/task/TID/name, record by record, for the files made so
// (smaps): next(i) is the i-th record, nil past the last; false for the
// other names (ProcText makes them).
func (p *Process) ProcRecords(tid int32, name string) (next func(i int) []byte, ok bool, err error) {
	if name != "smaps" {
		return nil, false, nil
	}
	var t *Task
	if tid != 0 {
		if t = p.procTask(tid); t == nil {
			return nil, true, ErrNoProcFile
		}
	}
	return p.smapsRecords(p.taskExited(t)), true, nil
}

// smapsRollupText is /proc/PID/smaps_rollup (show_smaps_rollup): the
// sums of smaps over the mappings, under a line spanning them, from the
// first's start to the last's end (the vsyscall page is none of them);
// false for an exited task (ESRCH).
func (p *Process) smapsRollupText() ([]byte, bool) {
	if p.LiveFiles() == nil {
		return nil, false
	}
	c, ok := p.m.(rssCounter)
	if !ok {
		return nil, false
	}
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	var u memUse
	var first, last uint64
	p.mappings(func(m *mapping) {
		if m.special == "[vsyscall]" {
			return
		}
		if first == 0 && last == 0 {
			first = m.start
		}
		last = m.end
		u.add(m.use(c))
	})
	b := appendHeader(nil, first, last, "---p", 0, 0, 0, "[rollup]")
	return appendUse(b, u, true), true
}
