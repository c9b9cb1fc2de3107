package vfs

import "github.com/cocoon-vm/cocoon/kernel/linux"

// File seals (memfd_create(2), fcntl(2) "File Sealing"; mm/memfd.c).
// Every regular file of the in-memory file systems is a shmem file with
// a seal set, as on Linux: F_SEAL_SEAL from the start, so none can be
// added, except on a memfd made with MFD_ALLOW_SEALING.
const (
	SealSeal        = 0x01 // no more seals
	SealShrink      = 0x02 // the size may not decrease
	SealGrow        = 0x04 // the size may not increase
	SealWrite       = 0x08 // the contents may not change
	SealFutureWrite = 0x10 // no new ways to change the contents
	SealExec        = 0x20 // the execute bits may not change
	sealAll         = 0x3f
)

// AllowSealing lets seals be added to f, a new memfd (MFD_ALLOW_SEALING),
// with seals set already; F_SEAL_EXEC clears the execute bits.
func (f *File) AllowSealing(seals uint32) {
	if r, ok := f.impl.(*regFile); ok {
		r.n.mu.Lock()
		r.n.sealsOpen = true
		r.n.seals |= seals
		if seals&SealExec != 0 {
			r.n.perm &^= 0o111
		}
		r.n.mu.Unlock()
	}
}

// Seals is F_GET_SEALS: EINVAL for a file that is not a shmem file.
func (f *File) Seals() (uint32, error) {
	r, ok := f.impl.(*regFile)
	if !ok {
		return 0, EINVAL
	}
	r.n.mu.Lock()
	defer r.n.mu.Unlock()
	return r.n.sealSet(), nil
}

// AddSeals is F_ADD_SEALS (mm/memfd.c memfd_add_seals): EPERM on a file
// not open for writing or already sealed with F_SEAL_SEAL, EBUSY for
// F_SEAL_WRITE while a shared mapping may write the file. F_SEAL_EXEC on
// a file with an execute bit brings the write seals with it.
func (f *File) AddSeals(seals uint32) error {
	if !f.Writable() {
		return EPERM
	}
	if seals&^sealAll != 0 {
		return EINVAL
	}
	r, ok := f.impl.(*regFile)
	if !ok {
		return EINVAL
	}
	n := r.n
	n.mu.Lock()
	defer n.mu.Unlock()
	cur := n.sealSet()
	if cur&SealSeal != 0 {
		return EPERM
	}
	if seals&SealWrite != 0 && cur&SealWrite == 0 && n.writableMaps > 0 {
		return EBUSY
	}
	if seals&SealExec != 0 && n.perm&0o111 != 0 {
		seals |= SealShrink | SealGrow | SealWrite | SealFutureWrite
	}
	n.seals |= seals
	return nil
}

// sealSet is the node's seals. Called with n.mu held.
func (n *memNode) sealSet() uint32 {
	if !n.sealsOpen {
		return n.seals | SealSeal
	}
	return n.seals
}

// writable returns how many of length bytes at off a write may change
// under the seals (mm/shmem.c shmem_write_begin, a page at a time):
// EPERM for none. Called with n.mu held.
func (n *memNode) sealedWrite(off, length int64) (int64, error) {
	s := n.seals
	if s&(SealWrite|SealFutureWrite) != 0 {
		return 0, EPERM
	}
	if s&SealGrow == 0 || off+length <= n.data.size {
		return length, nil
	}
	// Whole page pieces up to the size may be written.
	end := off
	for end < off+length {
		next := min((end/pageSize+1)*pageSize, off+length)
		if next > n.data.size {
			break
		}
		end = next
	}
	if end == off {
		return 0, EPERM
	}
	return end - off, nil
}

// sealedResize is the seals' rule for a new size (mm/shmem.c
// shmem_setattr). Called with n.mu held.
func (n *memNode) sealedResize(size int64) error {
	if size < n.data.size && n.seals&SealShrink != 0 || size > n.data.size && n.seals&SealGrow != 0 {
		return EPERM
	}
	return nil
}

// sealedMode is F_SEAL_EXEC's rule for chmod. Called with n.mu held.
func (n *memNode) sealedMode(mode uint32) error {
	if n.seals&SealExec != 0 && (mode^n.perm)&0o111 != 0 {
		return EPERM
	}
	return nil
}

// Share registers m as a shared mapping of a file open for writing that
// asks to write it if write (mm/memfd.c memfd_check_seals_mmap): EPERM
// under F_SEAL_WRITE or F_SEAL_FUTURE_WRITE, where a read-only mapping
// is allowed but can never become writable (mayWrite false). A mapping
// that may write keeps F_SEAL_WRITE from being added until it goes.
func (m *Mapping) Share(write bool) (mayWrite bool, err error) {
	n := m.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ftype != linux.SIfreg {
		return true, nil
	}
	if n.seals&(SealWrite|SealFutureWrite) != 0 {
		if write {
			return false, EPERM
		}
		return false, nil
	}
	if !m.writable {
		m.writable = true
		n.writableMaps++
	}
	return true, nil
}
