package north

import (
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// The futex2 calls (kernel/futex/syscalls.c): futex_waitv, futex_wake,
// futex_wait and futex_requeue, each futex described by FUTEX2_* flags
// instead of an operation's bits. Only 32-bit words exist (as on Linux);
// a FUTEX2_NUMA futex is two words, the value and the NUMA node of the
// waiters' hash table, which Cocoon (one node, 0) checks and fills in as
// Linux does without hashing by it.

func init() {
	registerAll([]call{
		{449, sysFutexWaitv},
		{454, sysFutexWake},
		{455, sysFutexWait2},
		{456, sysFutexRequeue2},
	})
}

// FUTEX2_* flags (include/uapi/linux/futex.h) and limits.
const (
	futex2SizeMask = 0x03
	futex2SizeU32  = 0x02
	futex2NUMA     = 0x04
	futex2MPOL     = 0x08
	futex2Private  = 128
	futex2Valid    = futex2SizeMask | futex2NUMA | futex2MPOL | futex2Private

	futexWaitvMax = 128        // FUTEX_WAITV_MAX
	futexNoNode   = 0xffffffff // FUTEX_NO_NODE
	futexWaitvLen = 24         // struct futex_waitv: u64 val, u64 uaddr, u32 flags, u32 __reserved
)

// futex2Valid tells whether flags name a futex Linux has
// (futex_flags_valid): known bits, 32 bits wide.
func futex2FlagsValid(flags uint64) bool {
	return flags&^futex2Valid == 0 && flags&futex2SizeMask == futex2SizeU32
}

// futex2Key is get_futex_key for a futex2 word: aligned to its size
// (twice that with FUTEX2_NUMA), and a NUMA futex's node word either
// FUTEX_NO_NODE, which becomes this node (0), or a node that exists.
func (t *Task) futex2Key(addr uint64, flags uint64) (futexKey, int64) {
	size := uint64(4)
	if flags&futex2NUMA != 0 {
		size = 8
	}
	if addr%size != 0 {
		return futexKey{}, -linux.EINVAL
	}
	private := flags&futex2Private != 0
	if e := t.keyFault(addr, size, true, false); e != 0 {
		return futexKey{}, e // access_ok
	}
	if flags&futex2NUMA != 0 {
		m := t.p.m
		node, err := mem.ReadUint32(m, addr+4)
		if err != nil {
			return futexKey{}, -linux.EFAULT
		}
		switch {
		case node == futexNoNode:
			if mem.WriteUint32(m, addr+4, 0) != nil {
				return futexKey{}, -linux.EFAULT
			}
		case node != 0:
			return futexKey{}, -linux.EINVAL
		}
	}
	if e := t.keyFault(addr, 4, private, false); e != 0 {
		return futexKey{}, e
	}
	return t.futexKey(addr, private), 0
}

// futex2Deadline reads a futex2 call's absolute timeout on clockid
// (futex2_setup_timeout): zero for none.
func (t *Task) futex2Deadline(tsAddr uint64, clockid int32) (time.Time, int64) {
	if tsAddr == 0 {
		return time.Time{}, 0
	}
	if clockid != linux.ClockRealtime && clockid != linux.ClockMonotonic {
		return time.Time{}, -linux.EINVAL
	}
	ns, e := readTimespec(t.p.m, tsAddr)
	if e != 0 {
		return time.Time{}, e
	}
	d := monoToTime(ns)
	if clockid == linux.ClockRealtime {
		d = time.Unix(0, ns)
	}
	return d.Add(t.slack()), 0
}

// sysFutexWake is futex_wake(uaddr, mask, nr, flags): like FUTEX_WAKE_BITSET,
// but a count of 0 wakes nobody (FLAGS_STRICT).
func sysFutexWake(t *Task, a *[6]uint64) int64 {
	uaddr, mask, nr, flags := a[0], a[1], int(int32(a[2])), uint64(uint32(a[3]))
	if !futex2FlagsValid(flags) || mask > 0xffffffff || mask == 0 {
		return -linux.EINVAL
	}
	key, e := t.futex2Key(uaddr, flags)
	if e != 0 {
		return e
	}
	if nr == 0 {
		return 0
	}
	return t.p.futex.wake(key, nr, uint32(mask))
}

// sysFutexWait2 is futex_wait(uaddr, val, mask, flags, timeout, clockid):
// FUTEX_WAIT_BITSET with an absolute timeout on either clock.
func sysFutexWait2(t *Task, a *[6]uint64) int64 {
	uaddr, val, mask, flags := a[0], a[1], a[2], uint64(uint32(a[3]))
	if !futex2FlagsValid(flags) || val > 0xffffffff || mask > 0xffffffff {
		return -linux.EINVAL
	}
	deadline, e := t.futex2Deadline(a[4], int32(a[5]))
	if e != 0 {
		return e
	}
	if mask == 0 {
		return -linux.EINVAL
	}
	key, e := t.futex2Key(uaddr, flags)
	if e != 0 {
		return e
	}
	// A signal restarts it, or ends it EINTR under a handler without
	// SA_RESTART (ERESTARTSYS): the deadline is absolute.
	return t.p.futex.wait(t.p.m, uaddr, key, uint32(val), deadline, uint32(mask), t.wake, &t.timer)
}

// futex2Entry is one struct futex_waitv.
type futex2Entry struct {
	val, uaddr, flags uint64
}

// readWaitv reads n struct futex_waitv at addr and checks each, one
// after the other (futex_parse_waitv: an entry's EINVAL comes before a
// later one's EFAULT).
func readWaitv(m mem.Memory, addr uint64, n int) ([]futex2Entry, int64) {
	v := make([]futex2Entry, n)
	var e [futexWaitvLen]byte
	for i := range v {
		if m.CopyIn(addr+uint64(i*futexWaitvLen), e[:]) != nil {
			return nil, -linux.EFAULT
		}
		flags, reserved := getU64(e[16:])&0xffffffff, getU64(e[16:])>>32
		v[i] = futex2Entry{val: getU64(e[:]), uaddr: getU64(e[8:]), flags: flags}
		if reserved != 0 || !futex2FlagsValid(flags) || v[i].val > 0xffffffff {
			return nil, -linux.EINVAL
		}
	}
	return v, 0
}

// sysFutexWaitv is futex_waitv(waiters, nr_futexes, flags, timeout,
// clockid): wait on several words at once, each while it holds its
// value; the result is the index of a woken one.
func sysFutexWaitv(t *Task, a *[6]uint64) int64 {
	addr, n, flags := a[0], uint32(a[1]), uint32(a[2])
	if flags != 0 {
		return -linux.EINVAL
	}
	if n == 0 || n > futexWaitvMax || addr == 0 {
		return -linux.EINVAL
	}
	deadline, e := t.futex2Deadline(a[3], int32(a[4]))
	if e != 0 {
		return e
	}
	v, e := readWaitv(t.p.m, addr, int(n))
	if e != 0 {
		return e
	}
	keys := make([]futexKey, len(v))
	for i, w := range v {
		if keys[i], e = t.futex2Key(w.uaddr, w.flags); e != 0 {
			return e
		}
	}
	return t.p.futex.waitv(t.p.m, v, keys, deadline, t.wake, &t.timer)
}

// waitv queues one waiter per entry, all woken by the first wake of any
// (futex_wait_multiple); a word not holding its value (in order) ends it
// EAGAIN before anything is queued for it.
func (f *futexTable) waitv(m mem.Memory, v []futex2Entry, keys []futexKey, deadline time.Time, intr <-chan struct{}, tm *reusableTimer) int64 {
	g := &futexGroup{}
	ch := make(chan struct{})
	ws := make([]*futexWaiter, 0, len(v))
	f.mu.Lock()
	for i, e := range v {
		cur, err := mem.ReadUint32(m, e.uaddr)
		if err != nil || cur != uint32(e.val) {
			r := f.leaveLocked(ws)
			f.mu.Unlock()
			switch {
			case r >= 0:
				return r // one was woken meanwhile
			case err != nil:
				return -linux.EFAULT
			}
			return -linux.EAGAIN
		}
		w := &futexWaiter{ch: ch, bitset: ^uint32(0), group: g}
		f.push(f.q, keys[i], w)
		ws = append(ws, w)
	}
	f.mu.Unlock()

	var timeout <-chan time.Time
	if !deadline.IsZero() {
		timeout = tm.after(time.Until(deadline))
		defer tm.stop()
	}
	why := int64(0)
	select {
	case <-ch:
	case <-timeout:
		why = -linux.ETIMEDOUT
	case <-intr:
		why = -linux.EINTR // ERESTARTSYS
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.leaveLocked(ws); r >= 0 {
		return r
	}
	return why
}

// leaveLocked takes a futex_waitv call's waiters off their queues and
// returns the index of the last one woken, or -1 (futex_unqueue_multiple).
func (f *futexTable) leaveLocked(ws []*futexWaiter) int64 {
	r := int64(-1)
	for i, w := range ws {
		if !f.removeLocked(f.q, w) {
			r = int64(i)
		}
	}
	return r
}

// sysFutexRequeue2 is futex_requeue(waiters, flags, nr_wake, nr_requeue):
// FUTEX_CMP_REQUEUE from waiters[0] (whose val is the expected value) to
// waiters[1], each word with its own flags.
func sysFutexRequeue2(t *Task, a *[6]uint64) int64 {
	addr, flags, nWake, nRequeue := a[0], uint32(a[1]), int(int32(a[2])), int(int32(a[3]))
	if flags != 0 || addr == 0 {
		return -linux.EINVAL
	}
	v, e := readWaitv(t.p.m, addr, 2)
	if e != 0 {
		return e
	}
	if nWake < 0 || nRequeue < 0 {
		return -linux.EINVAL
	}
	k1, e := t.futex2Key(v[0].uaddr, v[0].flags)
	if e != 0 {
		return e
	}
	k2, e := t.futex2Key(v[1].uaddr, v[1].flags)
	if e != 0 {
		return e
	}
	return t.p.futex.requeue(t.p.m, v[0].uaddr, k1, nWake, nRequeue, k2, true, uint32(v[0].val))
}
