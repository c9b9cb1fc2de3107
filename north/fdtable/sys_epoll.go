package fdtable

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// epMaxEvents is the most events one epoll_wait may ask for
// (EP_MAX_EVENTS, fs/eventpoll.c).
const epMaxEvents = math.MaxInt32 / linux.SizeofEpollEvent

// EpollCreate1 is epoll_create1(2).
func (fs *Files) EpollCreate1(flags uint32) int64 {
	if flags&^linux.EpollCloexec != 0 {
		return errno(vfs.EINVAL)
	}
	return fs.install(vfs.NewEpoll(), flags&linux.EpollCloexec != 0)
}

// EpollCreate is epoll_create(2): size must be positive and is otherwise
// ignored.
func (fs *Files) EpollCreate(size int32) int64 {
	if size <= 0 {
		return errno(vfs.EINVAL)
	}
	return fs.EpollCreate1(0)
}

// EpollCtl is epoll_ctl(2). Regular files and directories cannot be
// watched (EPERM), as on Linux.
func (fs *Files) EpollCtl(m mem.Memory, epfd int32, op uint32, fd int32, eventAddr uint64) int64 {
	var ev linux.EpollEvent
	if op != linux.EpollCtlDel {
		var b [linux.SizeofEpollEvent]byte
		if err := m.CopyIn(eventAddr, b[:]); err != nil {
			return errno(vfs.EFAULT)
		}
		ev = linux.UnmarshalEpollEvent(b[:])
	}
	epf, err := fs.file(epfd)
	if err != nil {
		return ret(0, err)
	}
	defer epf.DecRef()
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if f.IsPath() {
		return errno(vfs.EBADF)
	}
	if f.Queue() == nil {
		return errno(vfs.EPERM)
	}
	ep := vfs.EpollOf(epf)
	if ep == nil || f == epf {
		return errno(vfs.EINVAL)
	}
	return ret(0, ep.Ctl(int(op), fd, f, ev))
}

// EpollPwait is epoll_pwait(2) and epoll_wait(2); timeout is in
// milliseconds, negative for none. The signal mask argument is the
// caller's to apply around the call.
func (fs *Files) EpollPwait(m mem.Memory, intr <-chan struct{}, epfd int32, events uint64, maxevents, timeout int32) int64 {
	return fs.epollPwait(m, intr, DefaultTimerSlack, epfd, events, maxevents, timeout)
}

// epollPwait is EpollPwait for a thread with timer slack slack
// (SyscallSlack).
func (fs *Files) epollPwait(m mem.Memory, intr <-chan struct{}, slack time.Duration, epfd int32, events uint64, maxevents, timeout int32) int64 {
	d := time.Duration(-1)
	if timeout >= 0 {
		d = time.Duration(timeout) * time.Millisecond
	}
	return fs.epollWait(m, intr, slack, epfd, events, maxevents, d)
}

// EpollPwait2 is epoll_pwait2(2): timeout points to a struct
// __kernel_timespec, or is 0 for none.
func (fs *Files) EpollPwait2(m mem.Memory, intr <-chan struct{}, epfd int32, events uint64, maxevents int32, timeout uint64) int64 {
	return fs.epollPwait2(m, intr, DefaultTimerSlack, epfd, events, maxevents, timeout)
}

func (fs *Files) epollPwait2(m mem.Memory, intr <-chan struct{}, slack time.Duration, epfd int32, events uint64, maxevents int32, timeout uint64) int64 {
	d := time.Duration(-1)
	if timeout != 0 {
		var err error
		if d, err = readTimespec(m, timeout); err != nil {
			return ret(0, err)
		}
	}
	return fs.epollWait(m, intr, slack, epfd, events, maxevents, d)
}

// readTimespec reads a struct __kernel_timespec
// (include/uapi/linux/time_types.h: tv_sec s64 at 0, tv_nsec s64 at 8) as
// a duration, EINVAL if negative or not normalized.
func readTimespec(m mem.Memory, addr uint64) (time.Duration, error) {
	var b [16]byte
	if err := m.CopyIn(addr, b[:]); err != nil {
		return 0, vfs.EFAULT
	}
	sec := int64(binary.LittleEndian.Uint64(b[0:]))
	nsec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, vfs.EINVAL
	}
	if sec > math.MaxInt64/int64(time.Second)-1 {
		return -1, nil // longer than time.Duration holds: forever
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}

func (fs *Files) epollWait(m mem.Memory, intr <-chan struct{}, slack time.Duration, epfd int32, events uint64, maxevents int32, d time.Duration) int64 {
	if maxevents <= 0 || maxevents > epMaxEvents {
		return errno(vfs.EINVAL)
	}
	f, err := fs.file(epfd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	ep := vfs.EpollOf(f)
	if ep == nil {
		return errno(vfs.EINVAL)
	}
	// Most waits return a few events: those fit here without allocating.
	var inline [16]linux.EpollEvent
	evs := ep.HarvestInto(inline[:0], int(maxevents))
	if len(evs) == 0 && d != 0 {
		w := vfs.GetWaiter()
		w.Watch(f.Queue(), vfs.EventIn)
		defer w.Release()
		dl := afterSlack(d, slack)
		defer dl.stop()
		for {
			if evs = ep.HarvestInto(evs, int(maxevents)); len(evs) > 0 {
				break
			}
			select {
			case <-w.C:
				continue
			case <-dl.C():
			case <-intr:
				return errno(vfs.EINTR)
			}
			break
		}
	}
	if len(evs) == 0 {
		return 0
	}
	out := make([]byte, len(evs)*linux.SizeofEpollEvent)
	for i, e := range evs {
		e.MarshalTo(out[i*linux.SizeofEpollEvent:])
	}
	if err := m.CopyOut(events, out); err != nil {
		return errno(vfs.EFAULT)
	}
	return int64(len(evs))
}
