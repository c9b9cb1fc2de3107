package north

import (
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Priority-inheritance futexes (kernel/futex/pi.c,
// Documentation/locking/pi-futex.rst, futex(2)): the word holds its
// owner's TID, FUTEX_WAITERS while threads wait in the kernel, and
// FUTEX_OWNER_DIED once an owner died holding it. The kernel hands the
// lock over: the unlocking thread writes its first waiter's TID into the
// word and wakes it. Cocoon has no thread priorities (every thread runs
// at the same one), so there is nothing to boost: the waiters are served
// in order of arrival, where Linux serves the highest priority first
// and lends it to the owner.

// PI futex operations and the word's bits (include/uapi/linux/futex.h).
const (
	futexLockPI        = 6
	futexUnlockPI      = 7
	futexTrylockPI     = 8
	futexWaitRequeuePI = 11
	futexCmpRequeuePI  = 12
	futexLockPI2       = 13

	futexWaiters   = 0x80000000
	futexOwnerDied = 0x40000000
	futexTIDMask   = 0x3fffffff
)

// robustListLimit bounds the walk of a robust list at exit
// (include/uapi/linux/futex.h ROBUST_LIST_LIMIT).
const robustListLimit = 2048

// erestartnointr is the kernel's ERESTARTNOINTR (include/linux/errno.h):
// the call starts again after the signal, whatever its handler's flags.
const erestartnointr = 513

// casUint32 sets the word at addr to nv if it holds old, atomically where
// m can (the application's memory: a user thread may change the word
// with its own compare-and-swap meanwhile). It returns the word's value
// before.
func casUint32(m mem.Memory, addr uint64, old, nv uint32) (uint32, error) {
	if c, ok := m.(interface {
		CompareAndSwapUint32(addr uint64, old, nv uint32) (uint32, error)
	}); ok {
		return c.CompareAndSwapUint32(addr, old, nv)
	}
	cur, err := mem.ReadUint32(m, addr)
	if err != nil || cur != old {
		return cur, err
	}
	return cur, mem.WriteUint32(m, addr, nv)
}

// lockPI is FUTEX_LOCK_PI (FUTEX_TRYLOCK_PI with try) for the thread tid:
// 0 once the word holds tid. owner finds a thread by TID; the table's
// lock must not be held to call it.
func (f *futexTable) lockPI(m mem.Memory, uaddr uint64, key futexKey, tid int32, owner func(int32) *Task, deadline time.Time, try bool, intr <-chan struct{}, tm *reusableTimer) int64 {
	if uaddr%4 != 0 {
		return -linux.EINVAL
	}
	var w *futexWaiter
	for w == nil {
		cur, err := mem.ReadUint32(m, uaddr)
		if err != nil {
			return -linux.EFAULT
		}
		id := int32(cur & futexTIDMask)
		if id == tid {
			return -linux.EDEADLK
		}
		var o *Task
		if id != 0 {
			o = owner(id)
		}
		f.mu.Lock()
		r, done := f.lockPILocked(m, uaddr, key, tid, cur, o, try, false)
		if done {
			f.mu.Unlock()
			return r
		}
		if r == 0 { // to wait
			if len(f.pi[key]) > 0 {
				id = f.piOwner[key]
				if id == tid {
					// The owner itself, the word naming no one:
					// it holds the lock, the call succeeds
					// (rt_mutex_cleanup_proxy_lock finds it the
					// owner after the deadlock).
					f.mu.Unlock()
					return 0
				}
			}
			if f.piDeadlock(id, tid) {
				f.mu.Unlock()
				return -linux.EDEADLK
			}
			w = &futexWaiter{ch: make(chan struct{}), tid: tid, m: m, uaddr: uaddr}
			f.pushPI(key, w, id)
		}
		f.mu.Unlock()
	}
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		timeout = tm.after(time.Until(deadline))
		defer tm.stop()
	}
	select {
	case <-w.ch:
		return 0
	case <-timeout:
		if f.removePI(w) {
			return -linux.ETIMEDOUT
		}
		return 0 // handed the lock just as the time ran out
	case <-intr:
		// A signal does not end the wait: the call runs again after
		// the handler (futex_lock_pi returns ERESTARTNOINTR).
		if f.removePI(w) {
			return -erestartnointr
		}
		return 0
	}
}

// lockPILocked is one attempt of lockPI with the table locked, the word
// last read as cur and o its owner (nil: none, or no such thread). It
// returns done with the call's result, or (0, false) when the caller is
// to wait, (1, false) to read the word again (it changed). setWaiters
// marks a lock taken with FUTEX_WAITERS (FUTEX_CMP_REQUEUE_PI taking it
// for a waiter while it moves others behind).
func (f *futexTable) lockPILocked(m mem.Memory, uaddr uint64, key futexKey, tid int32, cur uint32, o *Task, try, setWaiters bool) (int64, bool) {
	// The word may have changed since it was read without the lock (an
	// unlock wrote 0): queueing on a stale owner would wait for ever.
	if now, err := mem.ReadUint32(m, uaddr); err != nil {
		return -linux.EFAULT, true
	} else if now != cur {
		return 1, false
	}
	if w := f.top(key); w != nil {
		// A plain waiter first in line: the word is used both ways
		// (pi.c attach_to_pi_state: no pi_state).
		if !w.pi {
			return -linux.EINVAL, true
		}
		// Threads wait already: the word must name the PI state's
		// owner, or no one with FUTEX_OWNER_DIED; the word is left as
		// it is (attach_to_pi_state).
		if e := f.piStateCheck(key, cur); e != 0 {
			return e, true
		}
		if try && f.piOwner[key] == tid {
			// The owner itself, the word naming no one (lockPI has
			// its lock): the trylock fails and makes the word name
			// it (fixup_pi_owner, fixup_pi_state_owner).
			for {
				was, err := casUint32(m, uaddr, cur, cur&futexOwnerDied|uint32(tid)|futexWaiters)
				if err != nil {
					return -linux.EFAULT, true
				}
				if was == cur {
					break
				}
				cur = was
			}
		}
		if try {
			return -linux.EAGAIN, true
		}
		return 0, false
	}
	id := int32(cur & futexTIDMask)
	if id == 0 {
		// Free, or its owner died (the robust list's cleanup left
		// FUTEX_OWNER_DIED, kept for the new owner to see): take it
		// (pi.c futex_lock_pi_atomic).
		nv := cur&futexOwnerDied | uint32(tid)
		if setWaiters {
			nv |= futexWaiters
		}
		was, err := casUint32(m, uaddr, cur, nv)
		if err != nil {
			return -linux.EFAULT, true
		}
		if was != cur {
			return 1, false
		}
		return 0, true
	}
	// FUTEX_WAITERS goes in before the owner is looked at, and stays if
	// there is none (pi.c futex_lock_pi_atomic: "no harm done"); the
	// word is written even if it has it (a read-only one fails EFAULT).
	was, err := casUint32(m, uaddr, cur, cur|futexWaiters)
	if err != nil {
		return -linux.EFAULT, true
	}
	if was != cur {
		return 1, false
	}
	if o == nil || o.tid != id || o.futexGone {
		// The owner exited, or never was (pi.c handle_exit_race).
		return -linux.ESRCH, true
	}
	if try {
		return -linux.EAGAIN, true // futex_lock_pi: EWOULDBLOCK
	}
	return 0, false
}

// piStateCheck is attach_to_pi_state's check of the word cur against
// the PI state of key, which has waiters: EINVAL unless the word names
// the owner, or no one with FUTEX_OWNER_DIED set (a dying owner's word
// before the next takes it).
func (f *futexTable) piStateCheck(key futexKey, cur uint32) int64 {
	id, owner := int32(cur&futexTIDMask), f.piOwner[key]
	if cur&futexOwnerDied != 0 && id == 0 {
		return 0
	}
	if owner == 0 || id != owner {
		return -linux.EINVAL
	}
	return 0
}

// piDeadlock tells whether the thread tid waiting for a PI futex owned
// by owner would close a circle: owner waits, directly or along a chain
// of owners waiting, for a PI futex tid owns (rt_mutex_adjust_prio_chain's
// deadlock detection, as futex_lock_pi asks for; a chain longer than
// max_lock_depth counts as one too).
func (f *futexTable) piDeadlock(owner, tid int32) bool {
	for depth := 0; owner != 0; depth++ {
		if owner == tid || depth > maxLockDepth {
			return true
		}
		next := int32(0)
	find:
		for key, q := range f.pi {
			for _, w := range q {
				if w.tid == owner {
					next = f.piOwner[key]
					break find
				}
			}
		}
		owner = next
	}
	return false
}

// maxLockDepth is max_lock_depth (kernel/locking/rtmutex.c): the
// longest chain of PI owners walked.
const maxLockDepth = 1024

// removePI takes w off its PI queue; false if it was handed the lock.
func (f *futexTable) removePI(w *futexWaiter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.removeLocked(f.pi, w)
}

// unlockPI is FUTEX_UNLOCK_PI for the thread tid (pi.c futex_unlock_pi).
func (f *futexTable) unlockPI(m mem.Memory, uaddr uint64, key futexKey, tid int32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	// The word is read and its owner checked before its key is made
	// (an unaligned word's owner too).
	cur, err := mem.ReadUint32(m, uaddr)
	if err != nil {
		return -linux.EFAULT
	}
	if int32(cur&futexTIDMask) != tid {
		return -linux.EPERM
	}
	if uaddr%4 != 0 {
		return -linux.EINVAL
	}
	if w := f.top(key); w != nil {
		// A plain waiter first, or a PI state owned by another thread:
		// user space changed the word.
		if !w.pi || f.piOwner[key] != tid {
			return -linux.EINVAL
		}
		return f.handOverLocked(key, 0)
	}
	// No waiters: the word goes to 0 if it still holds what was read,
	// else user space changed it meanwhile (EAGAIN).
	was, err := casUint32(m, uaddr, cur, 0)
	if err != nil {
		return -linux.EFAULT
	}
	if was != cur {
		return -linux.EAGAIN
	}
	return 0
}

// handOverLocked makes the first waiter on key the owner: the word gets
// its TID, FUTEX_WAITERS (as wake_futex_pi writes it, whether or not
// more wait) and the extra bits.
func (f *futexTable) handOverLocked(key futexKey, extra uint32) int64 {
	q := f.pi[key]
	w := q[0]
	nv := uint32(w.tid) | futexWaiters | extra
	for {
		cur, err := mem.ReadUint32(w.m, w.uaddr)
		if err != nil {
			return -linux.EFAULT
		}
		if was, err := casUint32(w.m, w.uaddr, cur, nv); err != nil {
			return -linux.EFAULT
		} else if was == cur {
			break
		}
	}
	if len(q) == 1 {
		delete(f.pi, key)
		delete(f.piOwner, key)
	} else {
		f.pi[key] = q[1:]
		f.piOwner[key] = w.tid
	}
	close(w.ch)
	return 0
}

// futexExit is a thread's futex cleanup at its end (kernel/futex/core.c
// futex_exit_release): the futexes on its robust list that it holds get
// FUTEX_OWNER_DIED and one waiter is woken (a PI one handed the lock),
// and every PI futex it still owns goes to its first waiter with
// FUTEX_OWNER_DIED (exit_pi_state_list). It runs once.
func (t *Task) futexExit() {
	f := t.p.futex
	f.mu.Lock()
	if t.futexGone {
		f.mu.Unlock()
		return
	}
	t.futexGone = true
	f.mu.Unlock()
	t.futexRelease()
}

// futexRelease is the cleanup of futexExit, also made by execve for the
// old address space (kernel/futex/core.c futex_exec_release).
func (t *Task) futexRelease() {
	f := t.p.futex
	if t.robustList.Load() != 0 {
		t.exitRobustList()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// exit_pi_state_list: the PI futexes the kernel knows t owns, whatever
	// their words say now.
	for key := range f.pi {
		if f.piOwner[key] == t.tid {
			f.handOverLocked(key, futexOwnerDied)
		}
	}
}

// exitRobustList walks the robust list (kernel/futex/core.c
// exit_robust_list): struct robust_list_head is the list's first link,
// the offset from each link to its futex word, and the link of a lock
// being taken or released (list_op_pending); bit 0 of a link marks a PI
// futex.
func (t *Task) exitRobustList() {
	m, head := t.p.m, t.robustList.Load()
	fetch := func(addr uint64) (uint64, bool, bool) {
		v, err := mem.ReadUint64(m, addr)
		return v &^ 1, v&1 != 0, err == nil
	}
	entry, pi, ok := fetch(head)
	if !ok {
		return
	}
	off, err := mem.ReadUint64(m, head+8)
	if err != nil {
		return
	}
	pending, ppi, ok := fetch(head + 16)
	if !ok {
		return
	}
	for limit := robustListLimit; entry != head && limit > 0; limit-- {
		next, npi, ok := fetch(entry)
		if entry != pending && !t.futexDeath(entry+off, pi, false) {
			return
		}
		if !ok {
			return
		}
		entry, pi = next, npi
	}
	if pending != 0 {
		t.futexDeath(pending+off, ppi, true)
	}
}

// futexDeath marks one robust futex of the exiting thread
// (kernel/futex/core.c handle_futex_death); false if the word is
// unaligned, unreadable or not writable, which ends the list's walk.
// A PI futex only gets FUTEX_OWNER_DIED: its waiter is handed it by
// futexRelease (exit_pi_state_list).
func (t *Task) futexDeath(uaddr uint64, pi, pendingOp bool) bool {
	if uaddr%4 != 0 {
		return false
	}
	m, f := t.p.m, t.p.futex
	// The kernel wakes robust futexes as shared ones, as glibc waits on
	// them (PTHREAD_ROBUST_MUTEX_PSHARED).
	key := t.futexKey(uaddr, false)
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		cur, err := mem.ReadUint32(m, uaddr)
		if err != nil {
			return false
		}
		if pendingOp && !pi && cur&futexTIDMask == 0 {
			// Died between taking the lock and writing its TID, or
			// after the unlock before the wake.
			f.wakeLocked(key, 1, ^uint32(0))
			return true
		}
		if int32(cur&futexTIDMask) != t.tid {
			return true
		}
		nv := cur&futexWaiters | futexOwnerDied
		was, err := casUint32(m, uaddr, cur, nv)
		if err != nil {
			return false
		}
		if was != cur {
			continue
		}
		if !pi && nv&futexWaiters != 0 {
			f.wakeLocked(key, 1, ^uint32(0))
		}
		return true
	}
}

// piWaiters counts the threads waiting in FUTEX_LOCK_PI on a word at user
// address addr, in any address space (tests, diagnostics).
func (f *futexTable) piWaiters(addr uint64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, q := range f.pi {
		if k.addr == addr {
			n += len(q)
		}
	}
	return n
}
