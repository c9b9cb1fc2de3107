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
	n *memNode
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
		return nil, ENODEV
	}
	return r.n.mapping(inv), nil
}

// NewMemFile returns an unnamed tmpfs file open read-write (shared
// anonymous memory, memfd_create, SysV shared memory) of size bytes.
func (fs *FS) NewMemFile(name string, size int64) (*File, error) {
	n := fs.anon.root.(*memNode).fsys.newNode(linux.SIfreg | 0o600)
	n.nlink = 0
	if err := n.truncate(size); err != nil {
		return nil, err
	}
	n.opens++
	return NewFile(&regFile{n: n, loc: Loc{fs.anon, n}}, linux.ORdwr, name), nil
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
func (m *Mapping) Clone(inv func(from, to int64)) mem.Pager { return m.n.mapping(inv) }

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
	n.opens--
	if n.opens == 0 && n.nlink == 0 {
		n.data.release(n.fsys)
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
	f, _, err := n.data.page(n.fsys, i)
	if err != nil {
		return 0, err
	}
	if err := n.fsys.frames.Ref(f); err != nil {
		return 0, err
	}
	return f, nil
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
