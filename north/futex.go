package north

import (
	"fmt"
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

func init() { register(linux.SysFutex, sysFutex) }

// futexTable holds the threads of the guest waiting on futex words, by
// key (one table for every process).
type futexTable struct {
	mu sync.Mutex
	q  map[futexKey][]*futexWaiter
	pi map[futexKey][]*futexWaiter // FUTEX_LOCK_PI's waiters (futex_pi.go)
}

// futexKey names a futex word as Linux's get_futex_key does
// (kernel/futex/core.c): a word in a MAP_SHARED page, used without
// FUTEX_PRIVATE_FLAG, by the page's frame and offset, the same in every
// process mapping it; any other by address space and address.
type futexKey struct {
	space Machine // nil for a shared page
	addr  uint64  // the user address, or the frame's address plus the offset
}

type futexWaiter struct {
	ch     chan struct{} // closed by a wake
	bitset uint32
	key    futexKey

	// A PI waiter's thread, and the word as it sees it: the thread
	// handing the lock over writes the waiter's TID there.
	pi    bool
	tid   int32
	m     mem.Memory
	uaddr uint64
}

func (f *futexTable) init() {
	f.q = map[futexKey][]*futexWaiter{}
	f.pi = map[futexKey][]*futexWaiter{}
}

// futexKey returns the key of the futex word at addr.
func (t *Task) futexKey(addr uint64, private bool) futexKey {
	p := t.p
	if !private {
		p.mm.mu.Lock()
		defer p.mm.mu.Unlock()
		if i := p.mm.find(addr); i >= 0 && p.mm.vmas[i].shared {
			v := p.mm.vmas[i]
			page := addr &^ (mem.PageSize - 1)
			frame, err := v.pager.Page(v.pgoff + int64((page-v.start)/mem.PageSize))
			if err == nil {
				v.pager.Frames().Free(frame) // the mapping holds it
				return futexKey{addr: frame + addr%mem.PageSize}
			}
		}
	}
	return futexKey{space: p.m, addr: addr}
}

// futex operations (include/uapi/linux/futex.h).
const (
	futexRequeue    = 3
	futexCmpRequeue = 4
	futexWakeOp     = 5
)

// wait blocks while *addr == val, until woken, the deadline (zero: none),
// or an interrupt. It returns 0 or a negated errno.
func (f *futexTable) wait(m mem.Memory, addr uint64, key futexKey, val uint32, deadline time.Time, bitset uint32, intr <-chan struct{}, tm *reusableTimer) int64 {
	if addr%4 != 0 {
		return -linux.EINVAL
	}
	f.mu.Lock()
	cur, err := mem.ReadUint32(m, addr)
	if err != nil {
		f.mu.Unlock()
		return -linux.EFAULT
	}
	if cur != val {
		f.mu.Unlock()
		return -linux.EAGAIN
	}
	w := &futexWaiter{ch: make(chan struct{}), bitset: bitset, key: key}
	f.q[key] = append(f.q[key], w)
	f.mu.Unlock()

	var timeout <-chan time.Time
	if !deadline.IsZero() {
		timeout = tm.after(time.Until(deadline))
		defer tm.stop()
	}
	select {
	case <-w.ch:
		return 0
	case <-timeout:
		if f.remove(w) {
			return -linux.ETIMEDOUT
		}
		return 0 // woken just as the time ran out
	case <-intr:
		if f.remove(w) {
			return -linux.EINTR
		}
		return 0
	}
}

// remove takes w off its queue; false if a wake already did.
func (f *futexTable) remove(w *futexWaiter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.q[w.key]
	for i, x := range q {
		if x == w {
			f.q[w.key] = append(q[:i:i], q[i+1:]...)
			if len(f.q[w.key]) == 0 {
				delete(f.q, w.key)
			}
			return true
		}
	}
	return false
}

// wake wakes up to n waiters on key whose bitset intersects bitset.
func (f *futexTable) wake(key futexKey, n int, bitset uint32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(f.wakeLocked(key, n, bitset))
}

func (f *futexTable) wakeLocked(addr futexKey, n int, bitset uint32) int {
	q := f.q[addr]
	woken := 0
	kept := q[:0]
	for _, w := range q {
		if woken < n && w.bitset&bitset != 0 {
			close(w.ch)
			woken++
			continue
		}
		kept = append(kept, w)
	}
	if len(kept) == 0 {
		delete(f.q, addr)
	} else {
		f.q[addr] = kept
	}
	return woken
}

// requeue wakes n waiters on addr and moves up to n2 of the rest to addr2.
func (f *futexTable) requeue(m mem.Memory, uaddr uint64, addr futexKey, n, n2 int, addr2 futexKey, cmp bool, val uint32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cmp {
		cur, err := mem.ReadUint32(m, uaddr)
		if err != nil {
			return -linux.EFAULT
		}
		if cur != val {
			return -linux.EAGAIN
		}
	}
	woken := f.wakeLocked(addr, n, ^uint32(0))
	moved := 0
	q := f.q[addr]
	for moved < n2 && len(q) > 0 {
		w := q[0]
		q = q[1:]
		w.key = addr2
		f.q[addr2] = append(f.q[addr2], w)
		moved++
	}
	if len(q) == 0 {
		delete(f.q, addr)
	} else {
		f.q[addr] = q
	}
	return int64(woken + moved)
}

// wakeOp implements FUTEX_WAKE_OP: *addr2 = op(*addr2, oparg); wake n on
// addr, and n2 on addr2 if the old value passes the comparison.
func (f *futexTable) wakeOp(m mem.Memory, addr futexKey, n, n2 int, uaddr2 uint64, addr2 futexKey, encoded uint32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	op, cmp := (encoded>>28)&7, (encoded>>24)&15
	oparg, cmparg := (encoded>>12)&0xfff, encoded&0xfff
	if encoded&(8<<28) != 0 { // FUTEX_OP_OPARG_SHIFT
		oparg = 1 << (oparg & 31)
	}
	old, err := mem.ReadUint32(m, uaddr2)
	if err != nil {
		return -linux.EFAULT
	}
	var nv uint32
	switch op {
	case 0:
		nv = oparg // SET
	case 1:
		nv = old + oparg // ADD
	case 2:
		nv = old | oparg // OR
	case 3:
		nv = old &^ oparg // ANDN
	case 4:
		nv = old ^ oparg // XOR
	default:
		return -linux.ENOSYS
	}
	if err := mem.WriteUint32(m, uaddr2, nv); err != nil {
		return -linux.EFAULT
	}
	woken := f.wakeLocked(addr, n, ^uint32(0))
	var ok bool
	switch cmp {
	case 0:
		ok = old == cmparg
	case 1:
		ok = old != cmparg
	case 2:
		ok = int32(old) < int32(cmparg)
	case 3:
		ok = int32(old) <= int32(cmparg)
	case 4:
		ok = int32(old) > int32(cmparg)
	case 5:
		ok = int32(old) >= int32(cmparg)
	default:
		return -linux.ENOSYS
	}
	if ok {
		woken += f.wakeLocked(addr2, n2, ^uint32(0))
	}
	return int64(woken)
}

func sysFutex(t *Task, a *[6]uint64) int64 {
	addr, op, val, tsAddr, addr2, val3 := a[0], a[1], uint32(a[2]), a[3], a[4], uint32(a[5])
	cmd := op &^ (linux.FutexPrivateFlag | linux.FutexClockRealtime)
	m := t.p.m
	private := op&linux.FutexPrivateFlag != 0
	count := func(v uint32) int {
		if int32(v) < 0 {
			return 1 << 30
		}
		return int(v)
	}
	switch cmd {
	case linux.FutexWait, linux.FutexWaitBitset:
		bitset := ^uint32(0)
		if cmd == linux.FutexWaitBitset {
			if val3 == 0 {
				return -linux.EINVAL
			}
			bitset = val3
		}
		var deadline time.Time
		if tsAddr != 0 {
			ns, e := readTimespec(m, tsAddr)
			if e != 0 {
				return e
			}
			if cmd == linux.FutexWait {
				deadline = time.Now().Add(time.Duration(ns))
			} else if op&linux.FutexClockRealtime != 0 {
				deadline = time.Unix(0, ns)
			} else {
				deadline = monoToTime(ns)
			}
			// Its timer may fire up to the thread's slack later
			// (kernel/futex/core.c futex_setup_timer).
			deadline = deadline.Add(t.slack())
		}
		// An interrupted timed wait goes on until the same deadline if
		// no handler runs (kernel/futex/waitwake.c futex_wait_restart);
		// an untimed one is simply restarted.
		return t.futexWait(m, addr, private, val, deadline, bitset)
	case linux.FutexWake, linux.FutexWakeBitset:
		bitset := ^uint32(0)
		if cmd == linux.FutexWakeBitset {
			if val3 == 0 {
				return -linux.EINVAL
			}
			bitset = val3
		}
		if addr%4 != 0 {
			return -linux.EINVAL
		}
		return t.p.futex.wake(t.futexKey(addr, private), count(val), bitset)
	case futexRequeue, futexCmpRequeue:
		return t.p.futex.requeue(m, addr, t.futexKey(addr, private), count(val), count(uint32(tsAddr)), t.futexKey(addr2, private), cmd == futexCmpRequeue, val3)
	case futexWakeOp:
		return t.p.futex.wakeOp(m, t.futexKey(addr, private), count(val), count(uint32(tsAddr)), addr2, t.futexKey(addr2, private), val3)
	case futexLockPI, futexLockPI2, futexTrylockPI:
		// Only FUTEX_LOCK_PI2 takes FUTEX_CLOCK_REALTIME; FUTEX_LOCK_PI
		// times out on CLOCK_REALTIME, FUTEX_LOCK_PI2 on CLOCK_MONOTONIC
		// by default (kernel/futex/syscalls.c do_futex, futex_init_timeout).
		if op&linux.FutexClockRealtime != 0 && cmd != futexLockPI2 {
			return -linux.ENOSYS
		}
		var deadline time.Time
		if tsAddr != 0 && cmd != futexTrylockPI {
			ns, e := readTimespec(m, tsAddr)
			if e != 0 {
				return e
			}
			if cmd == futexLockPI || op&linux.FutexClockRealtime != 0 {
				deadline = time.Unix(0, ns)
			} else {
				deadline = monoToTime(ns)
			}
			deadline = deadline.Add(t.slack())
		}
		return t.p.futex.lockPI(m, addr, t.futexKey(addr, private), t.tid, t.futexOwner, deadline, cmd == futexTrylockPI, t.wake, &t.timer)
	case futexUnlockPI:
		return t.p.futex.unlockPI(m, addr, t.futexKey(addr, private), t.tid)
	case futexWaitRequeuePI, futexCmpRequeuePI:
		// Requeueing from a condition variable's word onto a PI futex
		// (glibc does not use it); Linux has it, Cocoon does not.
		return t.p.unsupported(fmt.Sprintf("futex operation %d", cmd), -linux.ENOSYS)
	}
	return -linux.ENOSYS
}

// futexOwner finds the thread tid (of any process) owning a PI futex.
func (t *Task) futexOwner(tid int32) *Task {
	t.p.w.mu.Lock()
	defer t.p.w.mu.Unlock()
	return t.p.w.taskByID(tid)
}

// waiters counts the threads waiting on a word at user address addr,
// in any address space (tests, diagnostics).
func (f *futexTable) waiters(addr uint64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, q := range f.q {
		if k.addr == addr {
			n += len(q)
		}
	}
	return n
}

// futexWait is FUTEX_WAIT(_BITSET) for t; an interrupted timed wait
// leaves its restart, which waits on until the same deadline.
func (t *Task) futexWait(m mem.Memory, addr uint64, private bool, val uint32, deadline time.Time, bitset uint32) int64 {
	r := t.p.futex.wait(m, addr, t.futexKey(addr, private), val, deadline, bitset, t.wake, &t.timer)
	if r == -linux.EINTR && !deadline.IsZero() {
		t.restart = func(t *Task) int64 { return t.futexWait(m, addr, private, val, deadline, bitset) }
	}
	return r
}
