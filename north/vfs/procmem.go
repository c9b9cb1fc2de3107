package vfs

import "github.com/cocoon-vm/cocoon/kernel/linux"

// /proc/PID/mem (fs/proc/base.c proc_mem_operations).

// ProcMem is a ProcInfo whose address space its mem file reads and
// writes.
type ProcMem interface {
	// OpenMem opens it for a caller of process caller with file-system
	// IDs fsuid and fsgid and effective capabilities caps (mem_open's
	// ptrace access check): EACCES if the caller may not trace it,
	// ESRCH if it has exited.
	OpenMem(caller int32, fsuid, fsgid uint32, caps uint64) (MemAccess, error)
}

// MemAccess is an open mem file's address space.
type MemAccess interface {
	// Access reads (or with write writes) b at addr, forcing past the
	// protection as FOLL_FORCE does, and returns how many bytes it
	// moved: EIO if none at addr could be, 0 once the address space is
	// gone (the process exited or ran another program).
	Access(b []byte, addr uint64, write bool) (int, error)
}

// memFile is an open /proc/PID/mem: offsets are addresses.
type memFile struct {
	FileDefaults
	loc Loc
	m   MemAccess
}

func (c *ctx) openMem(l Loc, info ProcInfo) (FileImpl, error) {
	pm, ok := info.(ProcMem)
	if !ok {
		return nil, ENOENT
	}
	uid, gid, caps := uint32(0), uint32(0), ^uint64(0)
	if c.cred != nil {
		uid, gid, caps = c.cred.uid, c.cred.gid, c.cred.caps
	}
	m, err := pm.OpenMem(c.pid(), uid, gid, caps)
	if err != nil {
		return nil, err
	}
	return &memFile{loc: l, m: m}, nil
}

// memChunk is how much mem_rw moves at a time (a page).
const memChunk = 4096

// rw is mem_rw: the offset, taken as unsigned (FMODE_UNSIGNED_OFFSET),
// is the address; it stops at the first chunk it cannot move whole and
// reports what it moved before, or the error if nothing.
func (f *memFile) rw(b Buf, off int64, write bool) (int64, error) {
	var chunk [memChunk]byte
	done := int64(0)
	for done < b.Len() {
		part := b.DropFirst(done).TakeFirst(memChunk)
		n := int(part.Len())
		if write {
			if k, err := part.CopyIn(chunk[:n]); k < n || err != nil {
				return doneOr(done, EFAULT)
			}
		}
		k, err := f.m.Access(chunk[:n], uint64(off)+uint64(done), write)
		if k == 0 {
			return doneOr(done, err)
		}
		if !write {
			if c, err := part.CopyOut(chunk[:k]); c < k || err != nil {
				return doneOr(done, EFAULT)
			}
		}
		done += int64(k)
		if k < n {
			break
		}
	}
	return done, nil
}

// doneOr is done if it is not 0, else err.
func doneOr(done int64, err error) (int64, error) {
	if done > 0 {
		return done, nil
	}
	return 0, err
}

func (f *memFile) Read(_ *File, dst Buf, off int64) (int64, error)  { return f.rw(dst, off, false) }
func (f *memFile) Write(_ *File, src Buf, off int64) (int64, error) { return f.rw(src, off, true) }
func (f *memFile) Stream() bool                                     { return false }
func (f *memFile) Stat(*File) Attr                                  { return f.loc.Attr() }

// Seek is mem_lseek: any offset, "negative" ones included (the file's
// offsets are unsigned); no SEEK_END.
func (f *memFile) Seek(_ *File, cur, off int64, whence int) (int64, error) {
	switch whence {
	case linux.SeekSet:
		return off, nil
	case linux.SeekCur:
		return cur + off, nil
	}
	return 0, EINVAL
}
