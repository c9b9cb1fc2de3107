package north

import (
	"fmt"

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

// mapsText is /proc/PID/maps (fs/proc/task_mmu.c show_map_vma): a line
// per mapping in address order, "start-end perms offset major:minor inode"
// and, from column 74, the file's path or [heap], [stack], [vdso] or
// [vvar]. The
// regions are the address space's own; a file mapping is cut where its
// file mappings (fileVMA) begin and end. Nothing for a zombie.
func (p *Process) mapsText() []byte {
	if p.LiveFiles() == nil {
		return nil
	}
	r, ok := p.m.(regioner)
	if !ok {
		return nil
	}
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	p.mu.Lock()
	brkStart, brk := p.brkStart, p.brk
	p.mu.Unlock()
	sp := p.mm.stackSP.Load()
	var b []byte
	line := func(start, end uint64, prot uint8, shared bool, off uint64, dev, ino uint64, name string) {
		perm := []byte("---p")
		if prot&uint8(mem.Read) != 0 {
			perm[0] = 'r'
		}
		if prot&uint8(mem.Write) != 0 {
			perm[1] = 'w'
		}
		if prot&uint8(mem.Exec) != 0 {
			perm[2] = 'x'
		}
		if shared {
			perm[3] = 's'
		}
		n := len(b)
		b = fmt.Appendf(b, "%08x-%08x %s %08x %02x:%02x %d ", start, end, perm, off, linux.DevMajor(dev), linux.DevMinor(dev), ino)
		if name == "" {
			b = append(b[:len(b)-1], '\n')
			return
		}
		// seq_pad: the name starts after 25 + 6*8 - 1 columns.
		for len(b)-n < 73 {
			b = append(b, ' ')
		}
		b = append(append(b, name...), '\n')
	}
	// anon writes the line of anonymous memory [start, end), cut where
	// the vDSO's special mappings begin and end: those are their own
	// VMAs on Linux, whatever their neighbours.
	anon := func(start, end uint64, prot uint8) {
		for start < end {
			name, next := "", end
			for _, sm := range []struct {
				set  []span
				name string
			}{{p.mm.vdso, "[vdso]"}, {p.mm.vvar, "[vvar]"}} {
				for _, l := range sm.set {
					switch {
					case l.start <= start && start < l.end:
						name, next = sm.name, min(next, l.end)
					case start < l.start && l.start < next:
						next = l.start
					}
				}
			}
			if name == "" {
				switch {
				case brk > brkStart && start <= brkStart && brkStart < next:
					name = "[heap]"
				case start < sp && sp <= next:
					name = "[stack]"
				}
			}
			line(start, next, prot, false, 0, 0, 0, name)
			start = next
		}
	}
	r.Regions(func(start, end uint64, prot uint8, filled bool) {
		if !filled {
			anon(start, end, prot)
			return
		}
		for _, v := range p.mm.vmas {
			lo, hi := max(start, v.start), min(end, v.end)
			if lo >= hi {
				continue
			}
			var dev, ino uint64
			var name string
			if d, ok := v.pager.(describer); ok {
				dev, ino, name = d.Describe()
			}
			off := uint64(v.pgoff)*mem.PageSize + (lo - v.start)
			line(lo, hi, prot, v.shared, off, dev, ino, name)
		}
	})
	// Every process shows the emulated vsyscall page, execute-only
	// (gate_vma, arch/x86/entry/vsyscall/vsyscall_64.c).
	line(vsyscallPage, vsyscallPage+mem.PageSize, uint8(mem.Exec), false, 0, 0, 0, "[vsyscall]")
	return b
}
