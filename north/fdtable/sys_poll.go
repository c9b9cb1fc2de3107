package fdtable

import (
	"encoding/binary"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Poll is poll(2); timeout is in milliseconds, negative for none.
func (fs *Files) Poll(m mem.Memory, intr <-chan struct{}, fds, nfds uint64, timeout int32) int64 {
	return fs.pollMs(m, intr, DefaultTimerSlack, fds, nfds, timeout)
}

// pollMs is Poll for a thread with timer slack slack (SyscallSlack).
func (fs *Files) pollMs(m mem.Memory, intr <-chan struct{}, slack time.Duration, fds, nfds uint64, timeout int32) int64 {
	d := time.Duration(-1)
	if timeout >= 0 {
		d = time.Duration(timeout) * time.Millisecond
	}
	return fs.poll(m, intr, slack, fds, nfds, d)
}

// Ppoll is ppoll(2): timeout points to a struct __kernel_timespec, or is
// 0 for none. The signal mask argument is the caller's to apply around
// the call.
func (fs *Files) Ppoll(m mem.Memory, intr <-chan struct{}, fds, nfds, timeout uint64) int64 {
	return fs.ppoll(m, intr, DefaultTimerSlack, fds, nfds, timeout)
}

func (fs *Files) ppoll(m mem.Memory, intr <-chan struct{}, slack time.Duration, fds, nfds, timeout uint64) int64 {
	d := time.Duration(-1)
	if timeout != 0 {
		var err error
		if d, err = readTimespec(m, timeout); err != nil {
			return ret(0, err)
		}
	}
	start := time.Now()
	r := fs.poll(m, intr, slack, fds, nfds, d)
	if timeout != 0 && d != 0 {
		// The time left goes back to the timespec whatever the outcome
		// (fs/select.c poll_select_finish), so that a call restarted
		// after a stop waits only for the rest.
		left := max(0, d-time.Since(start))
		var b [16]byte
		binary.LittleEndian.PutUint64(b[0:], uint64(left/time.Second))
		binary.LittleEndian.PutUint64(b[8:], uint64(left%time.Second))
		m.CopyOut(timeout, b[:]) // a failed write-back leaves the result
	}
	return r
}

// pollFD is one struct pollfd (include/uapi/asm-generic/poll.h).
type pollFD struct {
	fd      int32
	events  vfs.Events
	revents vfs.Events
}

func (fs *Files) poll(m mem.Memory, intr <-chan struct{}, slack time.Duration, addr, nfds uint64, d time.Duration) int64 {
	if nfds > uint64(fs.Limit()) {
		return errno(vfs.EINVAL)
	}
	b := make([]byte, nfds*linux.SizeofPollFd)
	if nfds > 0 && m.CopyIn(addr, b) != nil {
		return errno(vfs.EFAULT)
	}
	pfds := make([]pollFD, nfds)
	for i := range pfds {
		pfds[i].fd = int32(binary.LittleEndian.Uint32(b[8*i:]))
		pfds[i].events = vfs.Events(binary.LittleEndian.Uint16(b[8*i+4:]))
	}
	files := make([]*vfs.File, nfds)
	for i, p := range pfds {
		if p.fd >= 0 {
			if f, ok := fs.tab().Get(p.fd); ok {
				files[i] = f
				defer f.DecRef()
			}
		}
	}
	scan := func() int64 {
		var n int64
		for i := range pfds {
			p := &pfds[i]
			p.revents = 0
			switch {
			case p.fd < 0:
			case files[i] == nil || files[i].IsPath():
				p.revents = linux.PollNval
			default:
				want := p.events | vfs.EventErr | vfs.EventHup
				p.revents = files[i].Readiness(want) & want
			}
			if p.revents != 0 {
				n++
			}
		}
		return n
	}
	n := scan()
	if n == 0 && d != 0 {
		w := vfs.GetWaiter()
		for i, f := range files {
			if f != nil && f.Queue() != nil {
				w.Watch(f.Queue(), pfds[i].events|vfs.EventErr|vfs.EventHup)
			}
		}
		defer w.Release()
		dl := afterSlack(d, slack)
		defer dl.stop()
	wait:
		for n = scan(); n == 0; n = scan() {
			select {
			case <-w.C:
			case <-dl.C():
				break wait
			case <-intr:
				return errno(vfs.EINTR)
			}
		}
	}
	for i, p := range pfds {
		binary.LittleEndian.PutUint16(b[8*i+6:], uint16(p.revents))
	}
	if nfds > 0 && m.CopyOut(addr, b) != nil {
		return errno(vfs.EFAULT)
	}
	return n
}
