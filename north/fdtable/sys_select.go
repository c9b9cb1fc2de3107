package fdtable

import (
	"encoding/binary"
	"math"
	"math/bits"
	"time"

	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Select is select(2): nfds descriptors' bits in the fd_sets at rd, wr and
// ex (each 0 for none), timeout a struct timeval or 0 to wait forever.
// Linux writes the time left back to the timeval (except for a zero
// timeout) whatever the outcome; so does Select.
func (fs *Files) Select(m mem.Memory, intr <-chan struct{}, nfds int32, rd, wr, ex, timeout uint64) int64 {
	return fs.selectTv(m, intr, DefaultTimerSlack, nfds, rd, wr, ex, timeout)
}

// selectTv is Select for a thread with timer slack slack (SyscallSlack).
func (fs *Files) selectTv(m mem.Memory, intr <-chan struct{}, slack time.Duration, nfds int32, rd, wr, ex, timeout uint64) int64 {
	d := time.Duration(-1)
	if timeout != 0 {
		var b [16]byte
		if m.CopyIn(timeout, b[:]) != nil {
			return errno(vfs.EFAULT)
		}
		sec := int64(binary.LittleEndian.Uint64(b[0:]))
		usec := int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || usec < 0 {
			return errno(vfs.EINVAL)
		}
		// tv_usec above a second carries into tv_sec (core_sys_select).
		sec, usec = sec+usec/1e6, usec%1e6
		d = duration(sec, usec*1e3)
	}
	r, left := fs.selectFDs(m, intr, slack, nfds, rd, wr, ex, d)
	if d > 0 {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[0:], uint64(left/time.Second))
		binary.LittleEndian.PutUint64(b[8:], uint64(left%time.Second/time.Microsecond))
		m.CopyOut(timeout, b[:]) // a failed write-back leaves the result (poll_select_finish)
	}
	return r
}

// Pselect6 is pselect6(2) without its signal mask argument (the caller
// applies it): timeout is a struct __kernel_timespec or 0; the time left
// is written back as Select does.
func (fs *Files) Pselect6(m mem.Memory, intr <-chan struct{}, nfds int32, rd, wr, ex, timeout uint64) int64 {
	return fs.pselect6(m, intr, DefaultTimerSlack, nfds, rd, wr, ex, timeout)
}

func (fs *Files) pselect6(m mem.Memory, intr <-chan struct{}, slack time.Duration, nfds int32, rd, wr, ex, timeout uint64) int64 {
	d := time.Duration(-1)
	if timeout != 0 {
		var err error
		if d, err = readTimespec(m, timeout); err != nil {
			return ret(0, err)
		}
	}
	r, left := fs.selectFDs(m, intr, slack, nfds, rd, wr, ex, d)
	if d > 0 {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[0:], uint64(left/time.Second))
		binary.LittleEndian.PutUint64(b[8:], uint64(left%time.Second))
		m.CopyOut(timeout, b[:])
	}
	return r
}

// duration converts seconds and nanoseconds to a Duration; negative means
// forever (more than a Duration holds).
func duration(sec, nsec int64) time.Duration {
	if sec > math.MaxInt64/int64(time.Second)-1 {
		return -1
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec)
}

// The poll bits that make a descriptor ready in each set (POLLIN_SET,
// POLLOUT_SET, POLLEX_SET in fs/select.c).
const (
	selectIn  = vfs.EventIn | vfs.EventRdNorm | vfs.EventHup | vfs.EventErr | rdBand
	selectOut = vfs.EventOut | vfs.EventWrNorm | vfs.EventErr | wrBand
	selectEx  = vfs.EventPri
	rdBand    = 0x80  // EPOLLRDBAND
	wrBand    = 0x200 // EPOLLWRBAND
)

// selectFDs is the core of select and pselect6: it returns the number of
// ready bits, or a negated errno, and the time left of d.
func (fs *Files) selectFDs(m mem.Memory, intr <-chan struct{}, slack time.Duration, nfds int32, rd, wr, ex uint64, d time.Duration) (int64, time.Duration) {
	if nfds < 0 {
		return errno(vfs.EINVAL), d
	}
	// Linux looks at no descriptor past the end of its descriptor table
	// (max_fds, fs/select.c core_sys_select), whose size depends on the
	// process's history: a bit set past it is ignored, not EBADF.
	n := min(nfds, int32(fs.tab().Size()))
	words := (int(n) + 63) / 64
	var sets [3][]uint64
	for i, addr := range [3]uint64{rd, wr, ex} {
		sets[i] = make([]uint64, words)
		if addr == 0 || words == 0 {
			continue
		}
		b := make([]byte, 8*words)
		if m.CopyIn(addr, b) != nil {
			return errno(vfs.EFAULT), d
		}
		for w := range sets[i] {
			sets[i][w] = binary.LittleEndian.Uint64(b[8*w:])
		}
		if r := int(n) % 64; r != 0 {
			sets[i][words-1] &= 1<<r - 1
		}
	}
	type entry struct {
		fd   int32
		want [3]bool
		f    *vfs.File
	}
	var ents []entry
	for w := 0; w < words; w++ {
		all := sets[0][w] | sets[1][w] | sets[2][w]
		for all != 0 {
			b := bits.TrailingZeros64(all)
			all &^= 1 << b
			e := entry{fd: int32(64*w + b)}
			for i := range sets {
				e.want[i] = sets[i][w]&(1<<b) != 0
			}
			f, ok := fs.tab().Get(e.fd)
			if !ok {
				return errno(vfs.EBADF), d
			}
			defer f.DecRef()
			if f.IsPath() {
				return errno(vfs.EBADF), d
			}
			e.f = f
			ents = append(ents, e)
		}
	}
	masks := [3]vfs.Events{selectIn, selectOut, selectEx}
	var res [3][]uint64
	for i := range res {
		res[i] = make([]uint64, words)
	}
	scan := func() int64 {
		var count int64
		for i := range res {
			clear(res[i])
		}
		for _, e := range ents {
			ev := e.f.Readiness(selectIn | selectOut | selectEx)
			for i := range masks {
				if e.want[i] && ev&masks[i] != 0 {
					res[i][e.fd/64] |= 1 << (e.fd % 64)
					count++
				}
			}
		}
		return count
	}
	start := time.Now()
	left := func() time.Duration {
		if d < 0 {
			return d
		}
		return max(0, d-time.Since(start))
	}
	count := scan()
	if count == 0 && d != 0 {
		w := vfs.GetWaiter()
		for _, e := range ents {
			if e.f.Queue() == nil {
				continue
			}
			var mask vfs.Events
			for i := range masks {
				if e.want[i] {
					mask |= masks[i]
				}
			}
			w.Watch(e.f.Queue(), mask|vfs.EventErr|vfs.EventHup)
		}
		defer w.Release()
		dl := afterSlack(d, slack)
		defer dl.stop()
	wait:
		for count = scan(); count == 0; count = scan() {
			select {
			case <-w.C:
			case <-dl.C():
				break wait
			case <-intr:
				return errno(vfs.EINTR), left()
			}
		}
	}
	for i, addr := range [3]uint64{rd, wr, ex} {
		if addr == 0 || words == 0 {
			continue
		}
		b := make([]byte, 8*words)
		for w, v := range res[i] {
			binary.LittleEndian.PutUint64(b[8*w:], v)
		}
		if m.CopyOut(addr, b) != nil {
			return errno(vfs.EFAULT), left()
		}
	}
	return count, left()
}
