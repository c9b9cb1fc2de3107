package vfs

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Mapping is one mapping of a file's pages into an address space, as the
// file sees it: when pages leave the file (truncate, a punched hole) the
// file calls Invalidate so that the mapping drops them, and the
// mapping keeps the file's data alive until Unmap, as on Linux, after
// close and unlink.
type Mapping struct {
	n        *memNode
	writable bool // a shared mapping that may write the file (Share)
	// name, dev and ino are the file as /proc/PID/maps shows it.
	name     string
	dev, ino uint64
	// Invalidate is called, without the file's locks held, with the
	// range of page indexes [from, to) (to < 0: to the end) that left
	// the file.
	Invalidate func(from, to int64)
}

// Map returns a new Mapping of the file behind f with inv as its
// Invalidate, or ENODEV if f is not a file whose pages can be mapped.
func (f *File) Map(inv func(from, to int64)) (*Mapping, error) {
	r, ok := f.impl.(*regFile)
	if !ok {
		if n, ok := f.loc.n.(procNode); ok && n.procReg() {
			return nil, EIO
		}
		return nil, ENODEV
	}
	m := r.n.mapping(inv)
	a := f.Stat()
	m.name, m.dev, m.ino = f.Name(), a.Dev, a.Ino
	return m, nil
}

// MapsAnonymous reports whether mapping f gives fresh anonymous memory
// instead of f's pages: /dev/zero, whose mmap makes a private mapping
// anonymous and a shared one shared anonymous memory (drivers/char/mem.c
// mmap_zero). /dev/full has no mmap.
func (f *File) MapsAnonymous() bool {
	z, ok := f.impl.(*zeroDev)
	return ok && !z.full
}

// Shmem reports whether the file is a tmpfs file's (one made in memory:
// under /tmp or /dev/shm, memfd_create, shared anonymous memory, or
// created anywhere at run time), whose mapped pages Linux counts as
// RssShmem (swap-backed, mm_counter_file); a file of the archive counts
// as RssFile, as a disk file's page cache.
func (m *Mapping) Shmem() bool { return m.n.lower == nil }

// Describe returns the file's device and inode numbers and name, for
// /proc/PID/maps.
func (m *Mapping) Describe() (dev, ino uint64, name string) { return m.dev, m.ino, m.name }

// NewMemFile returns an unnamed tmpfs file open read-write (shared
// anonymous memory, memfd_create, SysV shared memory) of size bytes, mode
// 0777 whatever the umask, as mm/shmem.c __shmem_file_setup makes them
// (S_IRWXUGO).
func (fs *FS) NewMemFile(name string, size int64) (*File, error) {
	return fs.NewMemFileFor(nil, name, size)
}

// NewMemFileFor is NewMemFile for process p, which owns the file (its fs
// user and group IDs).
func (fs *FS) NewMemFileFor(p Process, name string, size int64) (*File, error) {
	n := fs.anon.root.(*memNode).fsys.newNode(linux.SIfreg | 0o777)
	n.uid, n.gid = (&ctx{cred: credOf(p, false)}).owner()
	n.nlink = 0
	if err := n.truncate(size); err != nil {
		return nil, err
	}
	n.opens++
	l := Loc{fs.anon, n}
	f := NewFile(&regFile{n: n, loc: l}, linux.ORdwr, name)
	f.loc = l // reopened through /proc/self/fd, as Linux allows
	return f, nil
}

func (n *memNode) mapping(inv func(from, to int64)) *Mapping {
	m := &Mapping{n: n, Invalidate: inv}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.opens++
	if n.mappings == nil {
		n.mappings = map[*Mapping]struct{}{}
	}
	n.mappings[m] = struct{}{}
	return m
}

// Clone returns another Mapping of the same file (a mapping split in two
// by munmap or mprotect) with inv as its Invalidate.
func (m *Mapping) Clone(inv func(from, to int64)) mem.Pager {
	c := m.n.mapping(inv)
	c.name, c.dev, c.ino = m.name, m.dev, m.ino
	if m.writable {
		m.n.mu.Lock()
		c.writable = true
		m.n.writableMaps++
		m.n.mu.Unlock()
	}
	return c
}

// Punch removes the pages with index in [from, to): the file reads zeros
// there and every mapping drops them.
func (m *Mapping) Punch(from, to int64) error {
	n := m.n
	n.mu.Lock()
	n.data.punch(n.fsys, from, to)
	n.mu.Unlock()
	n.invalidate(from, to)
	return nil
}

// Unmap ends the mapping; the file's data goes with its last name, open
// file and mapping.
func (m *Mapping) Unmap() {
	n := m.n
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.mappings, m)
	if m.writable {
		n.writableMaps--
	}
	n.opens--
	if n.opens == 0 && n.nlink == 0 {
		n.data.release(n.fsys)
		n.releaseXattrs()
	}
}

// Size is the file's size in bytes.
func (m *Mapping) Size() int64 {
	m.n.mu.Lock()
	defer m.n.mu.Unlock()
	return m.n.data.size
}

// Page returns the frame holding page i of the file, making it (a zero
// page for a hole, a copy of the archive's bytes) if it has none yet,
// with a reference the caller must Free. It fails with mem.ErrBeyondEOF past
// the end of the file, ENOSPC when no memory is left for it.
func (m *Mapping) Page(i int64) (uint64, error) {
	n := m.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if i < 0 || i*pageSize >= n.data.size {
		return 0, mem.ErrBeyondEOF
	}
	f, _, err := n.data.mapPage(n.fsys, i)
	if err == ENOMEM {
		return 0, mem.ErrNoMemory
	}
	if err != nil {
		return 0, err
	}
	if err := n.fsys.frames.Ref(f); err != nil {
		return 0, err
	}
	return f, nil
}

// Populate makes the file's pages with index in [from, to) present in
// frames, as Page does (those past the end of the file excepted), and
// calls fn once with the first index and the frames in order, with the
// file's lock held: fn may map the frames (taking its own references)
// but not call back into the file. It fails with the allocation's error
// (mem.ErrNoMemory when memory is exhausted) or fn's.
func (m *Mapping) Populate(from, to int64, fn func(first int64, frames []uint64) error) error {
	n := m.n
	n.mu.Lock()
	defer n.mu.Unlock()
	from, to = max(from, 0), min(to, (n.data.size+pageSize-1)/pageSize)
	if from >= to {
		return nil
	}
	frames := make([]uint64, 0, to-from)
	if n.data.pages == nil {
		n.data.pages = make(map[int64]uint64, to-from) // grown once, not page by page
	}
	for i := from; i < to; i++ {
		f, _, err := n.data.mapPage(n.fsys, i)
		if err == ENOMEM {
			return mem.ErrNoMemory
		}
		if err != nil {
			return err
		}
		frames = append(frames, f)
	}
	return fn(from, frames)
}

// Cached calls fn, with the file's lock held as Populate does, for each
// run of consecutive pages with index in [from, to) that the file holds
// in frames already: none is made, none past the end of the file
// (fault-around maps only what the page cache has, mm/filemap.c
// filemap_map_pages). It stops at fn's first error.
func (m *Mapping) Cached(from, to int64, fn func(first int64, frames []uint64) error) error {
	n := m.n
	n.mu.Lock()
	defer n.mu.Unlock()
	from, to = max(from, 0), min(to, (n.data.size+pageSize-1)/pageSize)
	var run [16]uint64
	k, first := 0, from
	for i := from; i < to; i++ {
		f, ok := n.data.pages[i]
		if ok {
			if k == 0 {
				first = i
			}
			run[k] = f
			k++
		}
		if k > 0 && (!ok || k == len(run) || i == to-1) {
			if err := fn(first, run[:k]); err != nil {
				return err
			}
			k = 0
		}
	}
	return nil
}

// Frames is where the file's pages live.
func (m *Mapping) Frames() mem.Frames { return m.n.fsys.frames }

// invalidate tells every mapping that pages [from, to) left the file.
func (n *memNode) invalidate(from, to int64) {
	n.mu.Lock()
	var fns []func(int64, int64)
	for m := range n.mappings {
		if m.Invalidate != nil {
			fns = append(fns, m.Invalidate)
		}
	}
	n.mu.Unlock()
	for _, fn := range fns {
		fn(from, to)
	}
}

// fallocate(2) modes (include/uapi/linux/falloc.h).
const (
	fallocKeepSize  = 0x01
	fallocPunchHole = 0x02
)

// Allocate is fallocate(2) for f: mode 0 allocates the pages of [off,
// off+length) and grows the file to cover them, FALLOC_FL_KEEP_SIZE
// allocates without growing it, FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE
// makes the range read zeros and frees its whole pages, as tmpfs does;
// the other modes are EOPNOTSUPP on tmpfs.
func (f *File) Allocate(mode uint32, off, length int64) error {
	if err := f.allocate(mode, off, length); err != nil {
		return err
	}
	notifyNode(f.loc.n, InModify) // fs/open.c vfs_fallocate: fsnotify_modify
	return nil
}

func (f *File) allocate(mode uint32, off, length int64) error {
	if off < 0 || length <= 0 {
		return EINVAL
	}
	if mode&^(fallocKeepSize|fallocPunchHole) != 0 {
		return EOPNOTSUPP
	}
	if mode&fallocPunchHole != 0 && mode&fallocKeepSize == 0 {
		return EOPNOTSUPP
	}
	if !f.Writable() {
		return EBADF
	}
	if off > maxFileSize-length {
		return EFBIG
	}
	r, ok := f.impl.(*regFile)
	if !ok {
		switch {
		case f.impl.Stream():
			return ESPIPE
		case f.Stat().Mode&linux.SIfmt == linux.SIfdir:
			return EISDIR
		}
		return ENODEV
	}
	n := r.n
	n.mu.Lock()
	seals := n.seals
	grows := off+length > n.data.size
	n.mu.Unlock()
	if mode&fallocPunchHole != 0 {
		if seals&(SealWrite|SealFutureWrite) != 0 {
			return EPERM
		}
		return n.punchRange(off, off+length)
	}
	if seals&SealGrow != 0 && grows {
		return EPERM
	}
	n.mu.Lock()
	var made []int64
	for i := off / pageSize; i <= (off+length-1)/pageSize; i++ {
		_, grew, err := n.data.page(n.fsys, i)
		if err != nil {
			// Linux undoes what this call allocated.
			for _, j := range made {
				n.data.drop(n.fsys, j, j+1)
			}
			n.mu.Unlock()
			return err
		}
		if grew > 0 {
			made = append(made, i)
		}
	}
	if mode&fallocKeepSize == 0 && off+length > n.data.size {
		n.data.size = off + length
	}
	n.ctime = n.fsys.clock()
	n.mu.Unlock()
	return nil
}

// punchRange makes [from, to) of the file read zeros: whole pages are
// dropped from the file and its mappings, partial ones zeroed in place.
func (n *memNode) punchRange(from, to int64) error {
	n.mu.Lock()
	to = min(to, n.data.size)
	if from >= to {
		n.mu.Unlock()
		return nil
	}
	first, last := (from+pageSize-1)/pageSize, to/pageSize // whole pages [first, last)
	zero := func(a, b int64) {
		if a >= b {
			return
		}
		if f, ok := n.data.pages[a/pageSize]; ok {
			clear(n.fsys.frames.Bytes(f)[a%pageSize : (b-1)%pageSize+1])
		} else if a < n.data.lowerLen {
			if _, _, err := n.data.page(n.fsys, a/pageSize); err == nil {
				clear(n.fsys.frames.Bytes(n.data.pages[a/pageSize])[a%pageSize : (b-1)%pageSize+1])
			}
		}
	}
	if first > last { // within one page
		zero(from, to)
	} else {
		zero(from, first*pageSize)
		zero(last*pageSize, to)
	}
	if first < last {
		n.data.punch(n.fsys, first, last)
	}
	now := n.fsys.clock()
	n.mtime, n.ctime = now, now
	n.mu.Unlock()
	if first < last {
		n.invalidate(first, last)
	}
	return nil
}
