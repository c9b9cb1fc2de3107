package fdtable

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Openat is openat(2). O_TMPFILE is not supported (EOPNOTSUPP). Opening a
// named FIFO for reading or writing only, without O_NONBLOCK, waits until
// the other side is opened (fifo(7)), or returns EINTR when intr closes.
func (fs *Files) Openat(m mem.Memory, intr <-chan struct{}, dirfd int32, pathAddr uint64, flags, mode uint32) int64 {
	path, err := readPath(m, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	return fs.openat(intr, dirfd, path, flags, mode)
}

func (fs *Files) openat(intr <-chan struct{}, dirfd int32, path string, flags, mode uint32) int64 {
	at, err := fs.dirAt(dirfd, path)
	if err != nil {
		return ret(0, err)
	}
	fs.mu.Lock()
	mode &^= fs.umask
	fs.mu.Unlock()
	f, err := fs.fs.Open(fs, at, path, flags, mode)
	if err != nil {
		return ret(0, err)
	}
	if err := waitFIFO(f, intr); err != nil {
		f.DecRef()
		return ret(0, err)
	}
	return fs.install(f, flags&linux.OCloexec != 0)
}

// waitFIFO waits until f, if it is a named FIFO that waits for its other
// side (vfs.FIFOWaiting), has it; a close of intr ends the wait with
// EINTR.
func waitFIFO(f *vfs.File, intr <-chan struct{}) error {
	if !vfs.FIFOWaiting(f) {
		return nil
	}
	w := vfs.NewWaiter()
	w.Watch(f.Queue(), vfs.EventIn|vfs.EventOut)
	defer w.Stop()
	for vfs.FIFOWaiting(f) {
		select {
		case <-w.C:
		case <-intr:
			return vfs.EINTR
		}
	}
	return nil
}

// Open is open(2).
func (fs *Files) Open(m mem.Memory, intr <-chan struct{}, pathAddr uint64, flags, mode uint32) int64 {
	return fs.Openat(m, intr, linux.AtFdcwd, pathAddr, flags, mode)
}

// Creat is creat(2).
func (fs *Files) Creat(m mem.Memory, intr <-chan struct{}, pathAddr uint64, mode uint32) int64 {
	return fs.Openat(m, intr, linux.AtFdcwd, pathAddr, linux.OCreat|linux.OWronly|linux.OTrunc, mode)
}

// Close is close(2).
func (fs *Files) Close(fd int32) int64 { return ret(0, fs.table.Remove(fd)) }

// Dup is dup(2).
func (fs *Files) Dup(fd int32) int64 {
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	return fs.install(f, false)
}

// Dup2 is dup2(2).
func (fs *Files) Dup2(oldfd, newfd int32) int64 {
	f, err := fs.file(oldfd)
	if err != nil {
		return ret(0, err)
	}
	if oldfd == newfd {
		f.DecRef()
		return int64(newfd)
	}
	return fs.dupTo(f, newfd, false)
}

// Dup3 is dup3(2).
func (fs *Files) Dup3(oldfd, newfd int32, flags uint32) int64 {
	if flags&^linux.OCloexec != 0 || oldfd == newfd {
		return errno(vfs.EINVAL)
	}
	f, err := fs.file(oldfd)
	if err != nil {
		return ret(0, err)
	}
	return fs.dupTo(f, newfd, flags&linux.OCloexec != 0)
}

func (fs *Files) dupTo(f *vfs.File, newfd int32, cloexec bool) int64 {
	if err := fs.table.InstallAt(newfd, f, cloexec); err != nil {
		f.DecRef()
		return ret(0, err)
	}
	return int64(newfd)
}

// Fcntl is fcntl(2). Record locks always succeed (there is one process)
// and F_GETLK reports the range unlocked; leases, notifications and seals
// are not supported (EINVAL).
func (fs *Files) Fcntl(m mem.Memory, fd int32, cmd uint32, arg uint64) int64 {
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	switch cmd {
	case linux.FDupfd, linux.FDupfdCloexec:
		min := int32(arg)
		if min < 0 || int(min) >= fs.table.Limit() {
			return errno(vfs.EINVAL)
		}
		f.IncRef()
		nfd, err := fs.table.Install(f, min, cmd == linux.FDupfdCloexec)
		if err != nil {
			f.DecRef()
			return ret(0, err)
		}
		return int64(nfd)
	case linux.FGetfd:
		on, err := fs.table.Cloexec(fd)
		if on {
			return ret(linux.FdCloexec, err)
		}
		return ret(0, err)
	case linux.FSetfd:
		return ret(0, fs.table.SetCloexec(fd, arg&linux.FdCloexec != 0))
	case linux.FGetfl:
		return int64(f.Flags())
	}
	if f.IsPath() {
		return errno(vfs.EBADF)
	}
	switch cmd {
	case linux.FSetfl:
		f.SetFlags(uint32(arg))
		return 0
	case linux.FGetlk, linux.FOfdGetlk, linux.FSetlk, linux.FSetlkw, linux.FOfdSetlk, linux.FOfdSetlkw:
		return fcntlLock(m, f, cmd, arg)
	case linux.FGetown, linux.FSetown, linux.FGetsig, linux.FSetsig:
		return 0
	case linux.FGetlease:
		return linux.FUnlck
	case linux.FGetpipeSz:
		return ret(vfs.PipeSizeOf(f))
	case linux.FSetpipeSz:
		if _, err := vfs.PipeSizeOf(f); err != nil {
			return ret(0, err)
		}
		return ret(vfs.SetPipeSize(f, int64(uint32(arg))))
	}
	return errno(vfs.EINVAL)
}

// fcntlLock checks a struct flock (include/uapi/asm-generic/fcntl.h) and
// answers as if no other process held a lock.
func fcntlLock(m mem.Memory, f *vfs.File, cmd uint32, arg uint64) int64 {
	var b [linux.SizeofFlock]byte
	if err := m.CopyIn(arg, b[:]); err != nil {
		return errno(vfs.EFAULT)
	}
	typ := int16(binary.LittleEndian.Uint16(b[0:]))
	whence := int16(binary.LittleEndian.Uint16(b[2:]))
	if whence < 0 || whence > 2 {
		return errno(vfs.EINVAL)
	}
	switch typ {
	case linux.FRdlck:
		if f.Flags()&linux.OAccmode == linux.OWronly && cmd != linux.FGetlk && cmd != linux.FOfdGetlk {
			return errno(vfs.EBADF)
		}
	case linux.FWrlck:
		if f.Flags()&linux.OAccmode == linux.ORdonly && cmd != linux.FGetlk && cmd != linux.FOfdGetlk {
			return errno(vfs.EBADF)
		}
	case linux.FUnlck:
	default:
		return errno(vfs.EINVAL)
	}
	if cmd == linux.FGetlk || cmd == linux.FOfdGetlk {
		binary.LittleEndian.PutUint16(b[0:], linux.FUnlck)
		if err := m.CopyOut(arg, b[:]); err != nil {
			return errno(vfs.EFAULT)
		}
	}
	return 0
}

// Flock is flock(2): locks always succeed.
func (fs *Files) Flock(fd int32, op uint32) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	f.DecRef()
	const lockSh, lockEx, lockNb, lockUn = 1, 2, 4, 8 // include/uapi/asm-generic/fcntl.h
	switch op &^ lockNb {
	case lockSh, lockEx, lockUn:
		return 0
	}
	return errno(vfs.EINVAL)
}

// Ioctl is ioctl(2): the generic requests FIOCLEX, FIONCLEX, FIONBIO and
// FIOASYNC, then the file's own (terminal requests on the console,
// FIONREAD on pipes, the console and regular files); ENOTTY otherwise.
func (fs *Files) Ioctl(m mem.Memory, fd int32, cmd uint32, arg uint64) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	switch cmd {
	case linux.FIOCLEX, linux.FIONCLEX:
		return ret(0, fs.table.SetCloexec(fd, cmd == linux.FIOCLEX))
	case linux.FIONBIO, linux.FIOASYNC:
		v, err := mem.ReadUint32(m, arg)
		if err != nil {
			return errno(vfs.EFAULT)
		}
		bit := uint32(linux.ONonblock)
		if cmd == linux.FIOASYNC {
			bit = linux.OAsync
		}
		fl := f.Flags() &^ bit
		if v != 0 {
			fl |= bit
		}
		f.SetFlags(fl)
		return 0
	}
	return ret(f.Ioctl(m, cmd, arg))
}
