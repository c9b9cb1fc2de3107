package north

import (
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
	// piOwner is the TID of the thread owning a PI futex as the kernel
	// sees it while threads wait on it (Linux's pi_state->owner): the
	// word's owner when the first waiter came, then each thread handed
	// the lock. A word user space changed behind it is refused EINVAL.
	piOwner map[futexKey]int32
	// seq numbers the waiters in order of queueing: Linux keeps plain
	// and PI waiters of a hash bucket on one chain, and what a call meets
	// first decides its result (futex_wake's EINVAL at a PI waiter).
	seq uint64
}

// futexKey names a futex word as Linux's get_futex_key does
// (kernel/futex/core.c): a word in a MAP_SHARED page, used without
// FUTEX_PRIVATE_FLAG, by the page's frame and offset, the same in every
// process mapping it; any other by address space and address.
type futexKey struct {
	space Machine // nil for a shared page
	addr  uint64  // the user address, or the frame's address plus the offset
	// mmShared marks a word of private memory named without
	// FUTEX_PRIVATE_FLAG: Linux keys it by address space and address
	// too, but with FUT_OFF_MMSHARED, so that an operation with the
	// flag does not meet it.
	mmShared bool
}

type futexWaiter struct {
	ch     chan struct{} // closed by a wake
	bitset uint32
	key    futexKey
	seq    uint64 // its place on the queue (futexTable.seq)

	// A PI waiter's thread, and the word as it sees it: the thread
	// handing the lock over writes the waiter's TID there.
	pi    bool
	tid   int32
	m     mem.Memory
	uaddr uint64

	// A FUTEX_WAIT_REQUEUE_PI waiter (Linux's futex_q with an
	// rt_waiter): queued on the condition's word, key, until
	// FUTEX_CMP_REQUEUE_PI takes the PI futex key2 (at uaddr, as the
	// waiter sees it) for it or moves it onto key2's PI queue.
	requeuePI bool
	key2      futexKey

	// A futex_waitv waiter's entry: the group's channel is ch, closed by
	// the first wake of any entry; woken marks the entries woken.
	group *futexGroup
	woken bool
}

// futexGroup is one futex_waitv call's entries (futex2.go).
type futexGroup struct{ fired bool }

// fire wakes w, taken off its queue (the table is locked).
func (w *futexWaiter) fire() {
	if w.group == nil {
		close(w.ch)
		return
	}
	w.woken = true
	if !w.group.fired {
		w.group.fired = true
		close(w.ch)
	}
}

func (f *futexTable) init() {
	f.q = map[futexKey][]*futexWaiter{}
	f.pi = map[futexKey][]*futexWaiter{}
	f.piOwner = map[futexKey]int32{}
}

// push queues w on key in table q (f.q or f.pi), last.
func (f *futexTable) push(q map[futexKey][]*futexWaiter, key futexKey, w *futexWaiter) {
	f.seq++
	w.key, w.seq = key, f.seq
	q[key] = append(q[key], w)
}

// pushPI queues w on key's PI queue, last; the first waiter attaches
// the PI state to owner (attach_to_pi_owner).
func (f *futexTable) pushPI(key futexKey, w *futexWaiter, owner int32) {
	if len(f.pi[key]) == 0 {
		f.piOwner[key] = owner
	}
	w.pi = true
	f.push(f.pi, key, w)
}

// top is the first waiter queued on key, plain or PI (futex_top_waiter),
// or nil.
func (f *futexTable) top(key futexKey) *futexWaiter {
	var w *futexWaiter
	if q := f.q[key]; len(q) > 0 {
		w = q[0]
	}
	if q := f.pi[key]; len(q) > 0 && (w == nil || q[0].seq < w.seq) {
		w = q[0]
	}
	return w
}

// piBarrier is the place of key's first PI waiter: a plain operation
// reaching it fails EINVAL ("this->pi_state || this->rt_waiter").
func (f *futexTable) piBarrier(key futexKey) uint64 {
	if q := f.pi[key]; len(q) > 0 {
		return q[0].seq
	}
	return ^uint64(0)
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
	return futexKey{space: p.m, addr: addr, mmShared: !private}
}

// fileBacked tells whether addr lies in a file's mapping (shared or
// private) or shared anonymous memory, rather than anonymous private
// memory.
func (t *Task) fileBacked(addr uint64) bool {
	mm := t.p.mm
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.find(addr) >= 0
}

// keyFault is get_futex_key's failure for the size-byte futex word at
// addr (aligned already): EFAULT for a word past the user address space
// (access_ok, private or not); for a word named without
// FUTEX_PRIVATE_FLAG, EFAULT if its page is not there, or not writable
// for the calls that will write it (FUTEX_WRITE). The page is taken as
// get_user_pages_fast does, for a write first (FOLL_WRITE, which breaks
// a copy-on-write share as the compare-and-swap of the word with itself
// does), then for a read: a page the caller may only read is a key if
// it is a file's or shared memory's; an anonymous page, or the zero
// page, fails EFAULT. (A private file page copied on a write before
// mprotect made it read-only is anonymous on Linux; here it counts as
// the file's.) A private word's key is its address: its memory is
// looked at later, if at all (FUTEX_WAKE on an unmapped private word
// wakes nobody).
func (t *Task) keyFault(addr, size uint64, private, write bool) int64 {
	if addr > taskSizeMax-size {
		return -linux.EFAULT
	}
	if private {
		return 0
	}
	if _, err := casUint32(t.p.m, addr, 0, 0); err == nil {
		return 0
	}
	if write {
		return -linux.EFAULT
	}
	if _, err := mem.ReadUint32(t.p.m, addr); err != nil || !t.fileBacked(addr) {
		return -linux.EFAULT
	}
	return 0
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
	w := &futexWaiter{ch: make(chan struct{}), bitset: bitset}
	f.push(f.q, key, w)
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
	return f.removeLocked(f.q, w)
}

// removeLocked takes w off its queue in table q; false if not there.
func (f *futexTable) removeLocked(q map[futexKey][]*futexWaiter, w *futexWaiter) bool {
	l := q[w.key]
	for i, x := range l {
		if x == w {
			q[w.key] = append(l[:i:i], l[i+1:]...)
			if len(q[w.key]) == 0 {
				delete(q, w.key)
				if w.pi { // the last PI waiter: no PI state left
					delete(f.piOwner, w.key)
				}
			}
			return true
		}
	}
	return false
}

// wake wakes up to n waiters on key whose bitset intersects bitset
// (kernel/futex/waitwake.c futex_wake).
func (f *futexTable) wake(key futexKey, n int, bitset uint32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wakeLocked(key, n, bitset)
}

// wakeLocked wakes waiters on key in queue order as futex_wake's loop
// does: at least one (it counts after waking: "++ret >= nr_wake", so a
// count of 0 or below wakes one), skipping those whose bitset misses
// bitset, and failing EINVAL at a PI or FUTEX_WAIT_REQUEUE_PI waiter
// (the ones woken before it stay woken). It returns the number woken or
// the negated errno.
func (f *futexTable) wakeLocked(key futexKey, n int, bitset uint32) int64 {
	q := f.q[key]
	barrier := f.piBarrier(key)
	woken := 0
	var e int64
	kept := q[:0]
	done := false
	for _, w := range q {
		if !done && (w.seq > barrier || w.requeuePI) {
			e, done = -linux.EINVAL, true
		}
		if done || w.bitset&bitset == 0 {
			kept = append(kept, w)
			continue
		}
		w.fire()
		woken++
		done = woken >= n
	}
	if !done && barrier != ^uint64(0) {
		e = -linux.EINVAL
	}
	if len(kept) == 0 {
		delete(f.q, key)
	} else {
		f.q[key] = kept
	}
	if e != 0 {
		return e
	}
	return int64(woken)
}

// requeue is FUTEX_REQUEUE (FUTEX_CMP_REQUEUE with cmp: *uaddr must hold
// val, else EAGAIN): it wakes nWake waiters on key and moves up to
// nRequeue of the rest to key2 (kernel/futex/requeue.c futex_requeue,
// without requeue_pi).
func (f *futexTable) requeue(m mem.Memory, uaddr uint64, key futexKey, nWake, nRequeue int, key2 futexKey, cmp bool, val uint32) int64 {
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
	q := f.q[key]
	barrier := f.piBarrier(key)
	count := 0
	var e int64
	var kept, moved []*futexWaiter
	for i, w := range q {
		if count-nWake >= nRequeue {
			kept = append(kept, q[i:]...)
			break
		}
		if w.seq > barrier || w.requeuePI {
			e = -linux.EINVAL
			kept = append(kept, q[i:]...)
			break
		}
		if count++; count <= nWake {
			w.fire()
		} else {
			moved = append(moved, w)
		}
	}
	if count-nWake < nRequeue && e == 0 && barrier != ^uint64(0) {
		e = -linux.EINVAL
	}
	if len(kept) == 0 {
		delete(f.q, key)
	} else {
		f.q[key] = kept
	}
	for _, w := range moved {
		f.push(f.q, key2, w) // requeue_futex: last on the new chain
	}
	if e != 0 {
		return e
	}
	return int64(count)
}

// wakeOp implements FUTEX_WAKE_OP (kernel/futex/waitwake.c
// futex_wake_op, futex_atomic_op_inuser): *uaddr2 = op(*uaddr2, oparg)
// atomically, wake n on key, and n2 on key2 if the old value passes the
// comparison. oparg and cmparg are signed 12-bit fields; an unknown op
// fails ENOSYS without touching the word (arch_futex_atomic_op_inuser's
// switch: an unmapped word too), an unknown comparison after the update.
func (f *futexTable) wakeOp(m mem.Memory, key futexKey, n, n2 int, uaddr2 uint64, key2 futexKey, encoded uint32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	op, cmp := (encoded>>28)&7, (encoded>>24)&15
	oparg, cmparg := int32(encoded<<8)>>20, int32(encoded<<20)>>20
	if encoded&(futexOpOpargShift<<28) != 0 {
		// Linux warns of a shift past 31 (or negative) and masks it.
		oparg = 1 << (oparg & 31)
	}
	if op > 4 {
		return -linux.ENOSYS
	}
	old, err := mem.ReadUint32(m, uaddr2)
	for {
		if err != nil {
			return -linux.EFAULT
		}
		var nv uint32
		switch op {
		case 0:
			nv = uint32(oparg) // FUTEX_OP_SET
		case 1:
			nv = old + uint32(oparg) // FUTEX_OP_ADD
		case 2:
			nv = old | uint32(oparg) // FUTEX_OP_OR
		case 3:
			nv = old &^ uint32(oparg) // FUTEX_OP_ANDN
		default:
			nv = old ^ uint32(oparg) // FUTEX_OP_XOR
		}
		// Another thread or process may change the word meanwhile:
		// the update is a compare-and-swap, again on a change (as the
		// arch's lock cmpxchg loop).
		var was uint32
		was, err = casUint32(m, uaddr2, old, nv)
		if err == nil && was == old {
			break
		}
		old = was
	}
	var ok bool
	switch cmp {
	case 0: // FUTEX_OP_CMP_EQ
		ok = int32(old) == cmparg
	case 1: // FUTEX_OP_CMP_NE
		ok = int32(old) != cmparg
	case 2: // FUTEX_OP_CMP_LT
		ok = int32(old) < cmparg
	case 3: // FUTEX_OP_CMP_LE
		ok = int32(old) <= cmparg
	case 4: // FUTEX_OP_CMP_GT
		ok = int32(old) > cmparg
	case 5: // FUTEX_OP_CMP_GE
		ok = int32(old) >= cmparg
	default:
		return -linux.ENOSYS
	}
	woken := f.wakeLocked(key, n, ^uint32(0))
	if woken < 0 || !ok {
		return woken
	}
	w2 := f.wakeLocked(key2, n2, ^uint32(0))
	if w2 < 0 {
		return w2
	}
	return woken + w2
}

// futexOpOpargShift is FUTEX_OP_OPARG_SHIFT: oparg is a shift count.
const futexOpOpargShift = 8

func sysFutex(t *Task, a *[6]uint64) int64 {
	// op is an int: the register's upper half is not looked at.
	addr, op, val, tsAddr, addr2, val3 := a[0], uint64(uint32(a[1])), uint32(a[2]), a[3], a[4], uint32(a[5])
	cmd := op &^ (linux.FutexPrivateFlag | linux.FutexClockRealtime)
	m := t.p.m
	private := op&linux.FutexPrivateFlag != 0
	realtime := op&linux.FutexClockRealtime != 0
	// The timeout of the calls that have one (futex_cmd_has_timeout):
	// FUTEX_WAIT's is relative, the others' absolute; FUTEX_LOCK_PI's on
	// CLOCK_REALTIME, the others' on CLOCK_MONOTONIC unless
	// FUTEX_CLOCK_REALTIME (futex_init_timeout). Its timer may fire up to
	// the thread's slack later (kernel/futex/core.c futex_setup_timer).
	var deadline time.Time
	switch cmd {
	case linux.FutexWait, linux.FutexWaitBitset, futexLockPI, futexLockPI2, futexWaitRequeuePI:
		if tsAddr == 0 {
			break
		}
		ns, e := readTimespec(m, tsAddr)
		if e != 0 {
			return e
		}
		switch {
		case cmd == linux.FutexWait:
			deadline = time.Now().Add(time.Duration(ns))
		case cmd == futexLockPI || realtime:
			deadline = time.Unix(0, ns)
		default:
			deadline = monoToTime(ns)
		}
		deadline = deadline.Add(t.slack())
	}
	// Only the calls with an absolute timeout take FUTEX_CLOCK_REALTIME,
	// checked after the timeout is read (kernel/futex/syscalls.c do_futex).
	if realtime && cmd != linux.FutexWaitBitset && cmd != futexWaitRequeuePI && cmd != futexLockPI2 {
		return -linux.ENOSYS
	}
	// The requeueing calls' second count is the timeout argument's
	// (val2), each an int.
	nWake, nRequeue := int(int32(val)), int(int32(uint32(tsAddr)))
	switch cmd {
	case linux.FutexWait, linux.FutexWaitBitset:
		bitset := ^uint32(0)
		if cmd == linux.FutexWaitBitset {
			if val3 == 0 {
				return -linux.EINVAL
			}
			bitset = val3
		}
		if addr%4 != 0 {
			return -linux.EINVAL
		}
		if e := t.keyFault(addr, 4, private, false); e != 0 {
			return e
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
		if e := t.keyFault(addr, 4, private, false); e != 0 {
			return e
		}
		return t.p.futex.wake(t.futexKey(addr, private), nWake, bitset)
	case futexRequeue, futexCmpRequeue:
		if nWake < 0 || nRequeue < 0 {
			return -linux.EINVAL
		}
		if e := t.twoKeysFault(addr, addr2, private, false); e != 0 {
			return e
		}
		return t.p.futex.requeue(m, addr, t.futexKey(addr, private), nWake, nRequeue, t.futexKey(addr2, private), cmd == futexCmpRequeue, val3)
	case futexWakeOp:
		if e := t.twoKeysFault(addr, addr2, private, true); e != 0 {
			return e
		}
		return t.p.futex.wakeOp(m, t.futexKey(addr, private), nWake, nRequeue, addr2, t.futexKey(addr2, private), val3)
	case futexLockPI, futexLockPI2, futexTrylockPI:
		// FUTEX_WRITE: a shared word must be writable.
		if addr%4 == 0 {
			if e := t.keyFault(addr, 4, private, true); e != 0 {
				return e
			}
		}
		return t.p.futex.lockPI(m, addr, t.futexKey(addr, private), t.tid, t.futexOwner, deadline, cmd == futexTrylockPI, t.wake, &t.timer)
	case futexUnlockPI:
		return t.p.futex.unlockPI(m, addr, t.futexKey(addr, private), t.tid)
	case futexWaitRequeuePI:
		if addr == addr2 {
			return -linux.EINVAL
		}
		if addr2%4 != 0 {
			return -linux.EINVAL
		}
		if e := t.keyFault(addr2, 4, private, true); e != 0 {
			return e
		}
		if addr%4 != 0 {
			return -linux.EINVAL
		}
		if e := t.keyFault(addr, 4, private, false); e != 0 {
			return e
		}
		return t.p.futex.waitRequeuePI(m, addr, t.futexKey(addr, private), val, addr2, t.futexKey(addr2, private), t.tid, deadline, t.wake, &t.timer)
	case futexCmpRequeuePI:
		// Only from a plain word to a distinct PI one, waking at most
		// the one waiter that gets the lock (requeue.c futex_requeue).
		if nWake < 0 || nRequeue < 0 || addr == addr2 || nWake != 1 {
			return -linux.EINVAL
		}
		if e := t.twoKeysFault(addr, addr2, private, true); e != 0 {
			return e
		}
		return t.p.futex.cmpRequeuePI(m, addr, t.futexKey(addr, private), nRequeue, addr2, t.futexKey(addr2, private), val3, t.futexOwner)
	}
	return -linux.ENOSYS
}

// twoKeysFault checks two words as get_futex_key does, in order:
// alignment (EINVAL), then the word's address and a shared word's page
// (EFAULT); write2 when the second is to be written (FUTEX_WRITE).
func (t *Task) twoKeysFault(addr, addr2 uint64, private, write2 bool) int64 {
	for i, a := range [2]uint64{addr, addr2} {
		if a%4 != 0 {
			return -linux.EINVAL
		}
		if e := t.keyFault(a, 4, private, i == 1 && write2); e != 0 {
			return e
		}
	}
	return 0
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
