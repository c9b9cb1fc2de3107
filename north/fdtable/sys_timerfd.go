package fdtable

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/clock"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// timerfd flags (include/uapi/linux/timerfd.h).
const (
	tfdTimerAbstime     = 1
	tfdTimerCancelOnSet = 2
	tfdNonblock         = linux.ONonblock
	tfdCloexec          = linux.OCloexec
)

// TimerfdCreate is timerfd_create(2): the clocks Linux accepts are
// REALTIME, MONOTONIC, BOOTTIME and their alarm variants (which wake
// nothing here: there is no suspend); any other gives EINVAL, as do
// unknown flags.
func (fs *Files) TimerfdCreate(clockID int32, flags uint32) int64 {
	if flags&^(tfdNonblock|tfdCloexec) != 0 {
		return errno(vfs.EINVAL)
	}
	switch clockID {
	case clock.Realtime, clock.Monotonic, clock.Boottime, clock.RealtimeAlarm, clock.BoottimeAlarm:
	default:
		return errno(vfs.EINVAL)
	}
	return fs.install(vfs.NewTimerFD(clockID, flags), flags&tfdCloexec != 0)
}

// timerFD returns the timerfd open as fd: EBADF if fd is not open, EINVAL
// if it is not a timerfd.
func (fs *Files) timerFD(fd int32) (*vfs.File, *vfs.TimerFD, error) {
	f, err := fs.file(fd)
	if err != nil {
		return nil, nil, err
	}
	tf := vfs.TimerFDOf(f)
	if tf == nil {
		f.DecRef()
		return nil, nil, vfs.EINVAL
	}
	return f, tf, nil
}

// TimerfdSettime is timerfd_settime(2). TFD_TIMER_CANCEL_ON_SET needs
// TFD_TIMER_ABSTIME; it is accepted, and since nothing inside Cocoon can
// set CLOCK_REALTIME, a read never reports ECANCELED.
func (fs *Files) TimerfdSettime(m mem.Memory, fd int32, flags uint32, newp, oldp uint64) int64 {
	if flags&^(tfdTimerAbstime|tfdTimerCancelOnSet) != 0 {
		return errno(vfs.EINVAL)
	}
	var b [32]byte
	if m.CopyIn(newp, b[:]) != nil {
		return errno(vfs.EFAULT)
	}
	interval, err := timespecOf(b[0:])
	if err != nil {
		return ret(0, err)
	}
	value, err := timespecOf(b[16:])
	if err != nil {
		return ret(0, err)
	}
	f, tf, err := fs.timerFD(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	ov, oi := tf.Set(value, interval, flags)
	if oldp != 0 {
		return ret(0, writeItimerspec(m, oldp, ov, oi))
	}
	return 0
}

// TimerfdGettime is timerfd_gettime(2).
func (fs *Files) TimerfdGettime(m mem.Memory, fd int32, cur uint64) int64 {
	f, tf, err := fs.timerFD(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	v, i := tf.Get()
	return ret(0, writeItimerspec(m, cur, v, i))
}

// timespecOf decodes a struct __kernel_timespec as nanoseconds, EINVAL if
// negative or not normalized; seconds are capped at 2^32 so that a time
// plus a clock's reading cannot overflow.
func timespecOf(b []byte) (int64, error) {
	sec := int64(binary.LittleEndian.Uint64(b[0:]))
	nsec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, vfs.EINVAL
	}
	return min(sec, 1<<32)*1e9 + nsec, nil
}

// writeItimerspec writes struct itimerspec (it_interval, then it_value).
func writeItimerspec(m mem.Memory, addr uint64, value, interval int64) error {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(interval/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(interval%1e9))
	binary.LittleEndian.PutUint64(b[16:], uint64(value/1e9))
	binary.LittleEndian.PutUint64(b[24:], uint64(value%1e9))
	if m.CopyOut(addr, b[:]) != nil {
		return vfs.EFAULT
	}
	return nil
}
