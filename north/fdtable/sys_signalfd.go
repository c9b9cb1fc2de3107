package fdtable

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// signalfd4 flags (include/uapi/linux/signalfd.h: O_CLOEXEC, O_NONBLOCK).
const (
	sfdCloexec  = linux.OCloexec
	sfdNonblock = linux.ONonblock
)

// SetSignals tells the task's files whose signals its signalfd reads
// take: the calling thread's (the personality sets it before a read).
func (fs *Files) SetSignals(s vfs.SignalTaker) { fs.signals = s }

// ReadsSignals reports whether system call nr may read a signalfd, so
// that the caller sets the reading thread (SetSignals) only for those.
func ReadsSignals(nr uint64) bool {
	switch nr {
	case sysRead, sysReadv, sysPreadv2, sysSignalfd, sysSignalfd4:
		return true
	}
	return false
}

// Signalfd4 is signalfd4(2) (fs/signalfd.c): sizemask must be 8
// (EINVAL), the mask readable (EFAULT), the flags known (EINVAL);
// SIGKILL and SIGSTOP are dropped from the mask. fd -1 makes a new
// signalfd, another fd must be one (EBADF, EINVAL) whose mask changes.
func (fs *Files) Signalfd4(m mem.Memory, fd int32, maskAddr, sizemask uint64, flags uint32) int64 {
	if sizemask != 8 {
		return errno(vfs.EINVAL)
	}
	var b [8]byte
	if err := m.CopyIn(maskAddr, b[:]); err != nil {
		return errno(vfs.EFAULT)
	}
	if flags&^(sfdCloexec|sfdNonblock) != 0 {
		return errno(vfs.EINVAL)
	}
	const sigkill, sigstop = 1 << (9 - 1), 1 << (19 - 1)
	mask := binary.LittleEndian.Uint64(b[:]) &^ (sigkill | sigstop)
	if fs.signals == nil {
		return errno(vfs.Errno(linux.ENOSYS)) // no thread to read the signals of
	}
	if fd == -1 {
		return fs.install(vfs.NewSignalFD(fs.signals, mask, flags), flags&sfdCloexec != 0)
	}
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if !vfs.SetSignalMask(f, fs.signals, mask) {
		return errno(vfs.EINVAL)
	}
	return int64(fd)
}
