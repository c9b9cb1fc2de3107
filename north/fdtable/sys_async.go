package fdtable

import (
	"encoding/binary"
	"math"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// F_SETOWN_EX and F_GETOWN_EX (include/uapi/asm-generic/fcntl.h), with a
// struct f_owner_ex {int type; pid_t pid}.
const (
	fSetownEx = 15
	fGetownEx = 16
)

// IOSignaler delivers the signals of signal-driven I/O (the personality's
// core implements it): whether an owner exists, and sending signal sig
// (0: SIGIO without information) about descriptor fd's event to it.
type IOSignaler interface {
	OwnerExists(kind int, id int32) bool
	SendIO(kind int, id int32, sig int, fd int32, reason int32, band int64)
}

// SetIOSignaler installs what sends O_ASYNC's signals; without one, F_SETOWN
// takes any ID and nothing is sent.
func (fs *Files) SetIOSignaler(s IOSignaler) {
	fs.proc.mu.Lock()
	fs.proc.sigio = s
	fs.proc.mu.Unlock()
}

func (fs *Files) ioSignaler() IOSignaler {
	fs.proc.mu.Lock()
	defer fs.proc.mu.Unlock()
	return fs.proc.sigio
}

// setAsync starts or stops signal-driven I/O on f, open as fd (the
// descriptor si_fd reports, as Linux's fasync entry records it).
func (fs *Files) setAsync(f *vfs.File, fd int32, on bool) {
	if !on {
		f.SetAsync(nil)
		return
	}
	f.SetAsync(func(reason int32, band int64) {
		kind, id := f.Owner()
		if s := fs.ioSignaler(); s != nil && id != 0 {
			s.SendIO(kind, id, f.IOSignal(), fd, reason, band)
		}
	})
}

// ownerExists is F_SETOWN's ESRCH check.
func (fs *Files) ownerExists(kind int, id int32) bool {
	s := fs.ioSignaler()
	return id == 0 || s == nil || s.OwnerExists(kind, id)
}

// fcntlOwner serves F_GETOWN, F_SETOWN, F_GETOWN_EX, F_SETOWN_EX,
// F_GETSIG and F_SETSIG (fs/fcntl.c): F_SETOWN's negative argument is a
// process group; an owner that does not exist is ESRCH.
func (fs *Files) fcntlOwner(m mem.Memory, f *vfs.File, cmd uint32, arg uint64) int64 {
	switch cmd {
	case linux.FGetown:
		kind, id := f.Owner()
		if kind == vfs.OwnerPGRP {
			return -int64(id)
		}
		return int64(id)
	case linux.FSetown:
		who := int32(arg)
		if who == math.MinInt32 {
			return errno(vfs.EINVAL)
		}
		kind := vfs.OwnerPID
		if who < 0 {
			kind, who = vfs.OwnerPGRP, -who
		}
		if !fs.ownerExists(kind, who) {
			return errno(vfs.ESRCH)
		}
		f.SetOwner(kind, who)
		return 0
	case fGetownEx:
		kind, id := f.Owner()
		var b [8]byte
		binary.LittleEndian.PutUint32(b[0:], uint32(kind))
		binary.LittleEndian.PutUint32(b[4:], uint32(id))
		if err := m.CopyOut(arg, b[:]); err != nil {
			return errno(vfs.EFAULT)
		}
		return 0
	case fSetownEx:
		var b [8]byte
		if err := m.CopyIn(arg, b[:]); err != nil {
			return errno(vfs.EFAULT)
		}
		kind := int(int32(binary.LittleEndian.Uint32(b[0:])))
		id := int32(binary.LittleEndian.Uint32(b[4:]))
		if kind != vfs.OwnerTID && kind != vfs.OwnerPID && kind != vfs.OwnerPGRP {
			return errno(vfs.EINVAL)
		}
		if !fs.ownerExists(kind, id) {
			return errno(vfs.ESRCH)
		}
		f.SetOwner(kind, id)
		return 0
	case linux.FGetsig:
		return int64(f.IOSignal())
	case linux.FSetsig:
		if arg > linux.NSig {
			return errno(vfs.EINVAL)
		}
		f.SetIOSignal(int(arg))
		return 0
	}
	return errno(vfs.EINVAL)
}
