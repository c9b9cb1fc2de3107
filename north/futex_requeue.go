package north

import (
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Requeueing onto a PI futex (kernel/futex/requeue.c,
// Documentation/locking/futex-requeue-pi.rst): a thread waits on a
// condition's plain word with FUTEX_WAIT_REQUEUE_PI, naming the PI
// futex (the mutex) it wants once signalled; FUTEX_CMP_REQUEUE_PI takes
// the mutex for the first such waiter if it is free and wakes it, and
// moves the others onto the mutex's PI queue, where FUTEX_UNLOCK_PI
// hands them the lock in turn. The waiter returns owning the mutex.

// waitRequeuePI is FUTEX_WAIT_REQUEUE_PI for the thread tid
// (futex_wait_requeue_pi): wait on key while *uaddr == val, to be
// requeued onto the PI futex key2 at uaddr2. It returns 0 owning the PI
// futex, or fails: EAGAIN (the word changed), ETIMEDOUT, ERESTARTNOINTR
// (a signal before the requeue: the call starts again), EAGAIN for a
// signal after it (Linux does not restart it then: "user space val
// changed" would be the answer anyway), EINVAL for the same word twice.
func (f *futexTable) waitRequeuePI(m mem.Memory, uaddr uint64, key futexKey, val uint32, uaddr2 uint64, key2 futexKey, tid int32, deadline time.Time, intr <-chan struct{}, tm *reusableTimer) int64 {
	f.mu.Lock()
	cur, err := mem.ReadUint32(m, uaddr)
	if err != nil {
		f.mu.Unlock()
		return -linux.EFAULT
	}
	if cur != val {
		f.mu.Unlock()
		return -linux.EAGAIN
	}
	if key == key2 { // two mappings of one shared page
		f.mu.Unlock()
		return -linux.EINVAL
	}
	w := &futexWaiter{ch: make(chan struct{}), bitset: ^uint32(0), requeuePI: true, key2: key2, tid: tid, m: m, uaddr: uaddr2}
	f.push(f.q, key, w)
	f.mu.Unlock()

	var timeout <-chan time.Time
	if !deadline.IsZero() {
		timeout = tm.after(time.Until(deadline))
		defer tm.stop()
	}
	var why int64
	select {
	case <-w.ch:
		return 0
	case <-timeout:
		why = -linux.ETIMEDOUT
	case <-intr:
		why = -linux.EINTR
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !w.pi && f.removeLocked(f.q, w):
		// Still on the condition (handle_early_requeue_pi_wakeup).
		if why == -linux.EINTR {
			return -erestartnointr
		}
		return why
	case w.pi && f.removeLocked(f.pi, w):
		// Requeued, waiting for the PI futex: the wait ends
		// (rt_mutex_wait_proxy_lock is interruptible).
		if why == -linux.EINTR {
			return -linux.EAGAIN
		}
		return why
	}
	return 0 // handed the lock just then
}

// cmpRequeuePI is FUTEX_CMP_REQUEUE_PI (futex_requeue with requeue_pi;
// the caller checked its counts and addresses): if *uaddr == val, the
// first waiter on key takes the PI futex key2 at uaddr2 if it is free
// (woken, it returns owning it), and up to nRequeue waiters (one more if
// the first could not take it) move onto key2's PI queue. It returns how
// many were woken or moved. owner finds a thread by TID.
func (f *futexTable) cmpRequeuePI(m mem.Memory, uaddr uint64, key futexKey, nRequeue int, uaddr2 uint64, key2 futexKey, val uint32, owner func(int32) *Task) int64 {
	if key == key2 {
		return -linux.EINVAL
	}
	for {
		// The PI futex's owner is looked up without the table's lock
		// (lockPI); a word changed meanwhile starts again.
		cur, err := mem.ReadUint32(m, uaddr2)
		if err != nil {
			return -linux.EFAULT
		}
		var o *Task
		if id := int32(cur & futexTIDMask); id != 0 {
			o = owner(id)
		}
		f.mu.Lock()
		r, again := f.cmpRequeuePILocked(m, uaddr, key, nRequeue, uaddr2, key2, val, cur, o)
		f.mu.Unlock()
		if !again {
			return r
		}
	}
}

func (f *futexTable) cmpRequeuePILocked(m mem.Memory, uaddr uint64, key futexKey, nRequeue int, uaddr2 uint64, key2 futexKey, val, cur uint32, o *Task) (int64, bool) {
	now, err := mem.ReadUint32(m, uaddr)
	if err != nil {
		return -linux.EFAULT, false
	}
	if now != val {
		return -linux.EAGAIN, false
	}
	// futex_proxy_trylock_atomic: the first waiter must be one of
	// FUTEX_WAIT_REQUEUE_PI's, for this PI futex.
	top := f.top(key)
	if top == nil {
		return 0, false
	}
	if !top.requeuePI || top.key2 != key2 {
		return -linux.EINVAL, false
	}
	if int32(cur&futexTIDMask) == top.tid {
		return -linux.EDEADLK, false
	}
	r, done := f.lockPILocked(m, uaddr2, key2, top.tid, cur, o, false, nRequeue > 0)
	count := 0
	// The owner the moved waiters wait behind: the first waiter if it
	// took the lock, else the PI state's or the word's.
	owner := int32(cur & futexTIDMask)
	if len(f.pi[key2]) > 0 {
		owner = f.piOwner[key2]
	}
	switch {
	case done && r == 0: // taken for it
		f.removeLocked(f.q, top)
		close(top.ch)
		count = 1
		owner = top.tid
	case done:
		return r, false
	case r == 1:
		return 0, true // the word changed
	}
	// Move the rest, as many as asked for, onto the PI futex's queue
	// behind its owner (rt_mutex_start_proxy_lock). A waiter that owns
	// the PI futex itself would deadlock: the moving stops there.
	var e int64
	for {
		q := f.q[key]
		if len(q) == 0 || count-1 >= nRequeue {
			break
		}
		w := q[0]
		if w.seq > f.piBarrier(key) || !w.requeuePI {
			e = -linux.EINVAL
			break
		}
		if w.key2 != key2 {
			e = -linux.EINVAL
			break
		}
		if f.piDeadlock(owner, w.tid) {
			e = -linux.EDEADLK
			break
		}
		f.removeLocked(f.q, w)
		w.requeuePI = false
		f.pushPI(key2, w, owner)
		count++
	}
	if e != 0 {
		return e, false
	}
	return int64(count), false
}
