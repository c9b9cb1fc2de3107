package fdtable

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Pipe2 is pipe2(2) with O_NONBLOCK and O_CLOEXEC; packet mode (O_DIRECT)
// is not supported (EINVAL).
func (fs *Files) Pipe2(m mem.Memory, fdsAddr uint64, flags uint32) int64 {
	if flags&^(linux.ONonblock|linux.OCloexec) != 0 {
		return errno(vfs.EINVAL)
	}
	if mem.KernelShort() {
		return errno(vfs.ENFILE) // get_pipe_inode failed
	}
	r, w, err := vfs.NewPipe(fs, flags)
	if err != nil {
		return ret(0, err)
	}
	cloexec := flags&linux.OCloexec != 0
	rfd, err := fs.tab().Install(r, 0, fs.Limit(), cloexec)
	if err != nil {
		r.DecRef()
		w.DecRef()
		return ret(0, err)
	}
	wfd, err := fs.tab().Install(w, 0, fs.Limit(), cloexec)
	if err != nil {
		fs.tab().Remove(rfd)
		w.DecRef()
		return ret(0, err)
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(rfd))
	binary.LittleEndian.PutUint32(b[4:], uint32(wfd))
	if err := m.CopyOut(fdsAddr, b[:]); err != nil {
		fs.tab().Remove(rfd)
		fs.tab().Remove(wfd)
		return errno(vfs.EFAULT)
	}
	return 0
}

// Pipe is pipe(2).
func (fs *Files) Pipe(m mem.Memory, fdsAddr uint64) int64 { return fs.Pipe2(m, fdsAddr, 0) }

// Eventfd2 is eventfd2(2) with EFD_SEMAPHORE, EFD_NONBLOCK and
// EFD_CLOEXEC.
func (fs *Files) Eventfd2(initval, flags uint32) int64 {
	if flags&^(linux.EfdSemaphore|linux.EfdNonblock|linux.EfdCloexec) != 0 {
		return errno(vfs.EINVAL)
	}
	return fs.install(vfs.NewEventFD(uint64(initval), flags), flags&linux.EfdCloexec != 0)
}

// Eventfd is eventfd(2).
func (fs *Files) Eventfd(initval uint32) int64 { return fs.Eventfd2(initval, 0) }
