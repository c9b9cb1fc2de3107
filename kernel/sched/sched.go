// Package sched schedules the kernel's own threads: the Ms of the kernel's
// Go runtime, created with clone. It keeps the thread table, a FIFO run
// queue, futex wait queues and deadlines. Switching registers is the trap
// layer's job (package kernel); this package only decides.
//
// Trap context: every function here is //go:nosplit, allocates nothing and
// runs with interrupts off.
package sched

import "github.com/cocoon-vm/cocoon/kernel/cpu"

// MaxThreads bounds the kernel's threads, the idle thread included.
const MaxThreads = 64

// Idle is the index of the idle thread, run when nothing else can.
const Idle = 0

// State is a thread's scheduling state.
type State uint8

const (
	Free     State = iota // slot unused
	Runnable              // in the run queue
	Running               // the current thread
	Blocked               // waiting on a futex or a deadline
)

// Wake reasons, stored in the thread's frame RAX when it resumes from a
// blocking system call (negated Linux errno values, asm-generic/errno*.h).
const (
	WokenOK       = 0
	WokenTimedOut = -110 // ETIMEDOUT
)

// Thread is one kernel thread.
type Thread struct {
	State State
	Tid   int32

	// Frame holds the registers while the thread is not running.
	Frame cpu.Frame
	// FSBase is the thread's TLS base (arch_prctl, CLONE_SETTLS).
	FSBase uint64
	// FPValid says the thread's extended state area holds state to restore.
	FPValid bool
	// SigAltStack is the sigaltstack bookkeeping (ss_sp, ss_flags, ss_size).
	SigAltStack [3]uint64
	// SigMask is the rt_sigprocmask bookkeeping.
	SigMask uint64
	// ClearTID is the CLONE_CHILD_CLEARTID address: zeroed and woken at exit.
	ClearTID uintptr

	waitAddr  uintptr // futex key while Blocked; 0 for a plain sleep
	waitSeq   uint64  // FIFO order among waiters
	deadline  int64   // monotonic ns; 0 = none
	onTimeout int64   // result at the deadline
	restart   int64   // system call to re-execute when woken; -1 = none
	next      int16   // run-queue link, -1 = end
}

// Table is the scheduler state.
type Table struct {
	T       [MaxThreads]Thread
	cur     int
	head    int16
	tail    int16
	seq     uint64
	nextTid int32
	// sliceEnd is when the current thread's time slice ends.
	sliceEnd int64
	// timed counts blocked threads with a deadline, so that the common
	// case (none) needs no scan.
	timed int
	// earliest is no later than every blocked thread's deadline (while
	// timed > 0), and is one of them when exact: Expire scans only once
	// it has come, NextDeadline only when a wake-up or expiry took the
	// thread whose deadline it was. The kernel runtime's sysmon nearly
	// always sleeps with a deadline, so without it every trap would scan
	// the table twice (Expire, then armTimer's NextDeadline).
	earliest      int64
	earliestExact bool
	// hi is one past the highest slot in use: the scans stop there
	// rather than at MaxThreads (the runtime has a handful of Ms).
	hi int
}

// Slice is the time slice of a thread when others are runnable.
const Slice = 10_000_000 // ns

// Init resets t with the idle thread and one running thread (the boot
// thread), and returns the boot thread's index.
//
//go:nosplit
func (t *Table) Init() int {
	for i := range t.T {
		t.T[i].State = Free
		t.T[i].next = -1
	}
	t.head, t.tail = -1, -1
	t.nextTid = 1
	t.T[Idle].State = Blocked // never queued; chosen when the queue is empty
	t.T[Idle].Tid = 0
	b := 1
	t.T[b].State = Running
	t.T[b].Tid = t.newTid()
	t.cur = b
	t.sliceEnd = Slice
	t.timed, t.earliest, t.earliestExact = 0, 0, false
	t.hi = b + 1
	return b
}

//go:nosplit
func (t *Table) newTid() int32 {
	id := t.nextTid
	t.nextTid++
	return id
}

// Current returns the index of the running thread.
//
//go:nosplit
func (t *Table) Current() int { return t.cur }

// Cur returns the running thread.
//
//go:nosplit
func (t *Table) Cur() *Thread { return &t.T[t.cur] }

// Spawn creates a runnable thread and returns its index, or -1 if the
// table is full.
//
//go:nosplit
func (t *Table) Spawn() int {
	for i := 1; i < MaxThreads; i++ {
		if t.T[i].State == Free {
			th := &t.T[i]
			*th = Thread{Tid: t.newTid(), next: -1}
			t.enqueue(i)
			if i >= t.hi {
				t.hi = i + 1
			}
			return i
		}
	}
	return -1
}

// Exit frees the current thread's slot. The caller must then Switch.
//
//go:nosplit
func (t *Table) Exit() {
	t.T[t.cur].State = Free
	for t.hi > 1 && t.T[t.hi-1].State == Free {
		t.hi--
	}
}

// Yield puts the current thread at the back of the run queue.
//
//go:nosplit
func (t *Table) Yield() {
	if t.cur != Idle && t.T[t.cur].State == Running {
		t.enqueue(t.cur)
	}
}

// Block makes the current thread wait on key addr (0: just sleep) until
// Wake or until deadline (monotonic ns; 0: forever). Woken, it resumes
// with result 0 or, if restart >= 0, re-executes system call number
// restart: its RIP moves back over the 2-byte SYSCALL instruction. At the
// deadline it resumes with result onTimeout.
//
//go:nosplit
func (t *Table) Block(addr uintptr, deadline, onTimeout, restart int64) {
	th := &t.T[t.cur]
	th.State = Blocked
	th.waitAddr = addr
	th.deadline = deadline
	th.onTimeout = onTimeout
	th.restart = restart
	if deadline != 0 {
		if t.timed == 0 || deadline < t.earliest {
			t.earliest, t.earliestExact = deadline, true
		}
		t.timed++
	}
	t.seq++
	th.waitSeq = t.seq
}

// Wake makes up to n threads waiting on addr runnable, oldest first, with
// result 0, and returns how many it woke.
//
//go:nosplit
func (t *Table) Wake(addr uintptr, n int) int {
	woken := 0
	for woken < n {
		best := -1
		for i := 1; i < t.hi; i++ {
			th := &t.T[i]
			if th.State == Blocked && th.waitAddr == addr && addr != 0 &&
				(best < 0 || th.waitSeq < t.T[best].waitSeq) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		t.wake(best, WokenOK)
		woken++
	}
	return woken
}

// Expire wakes every blocked thread whose deadline is at or before now,
// with its timeout result.
//
//go:nosplit
func (t *Table) Expire(now int64) {
	if t.timed == 0 || now < t.earliest {
		return
	}
	for i := 1; i < t.hi; i++ {
		th := &t.T[i]
		if th.State == Blocked && th.deadline != 0 && th.deadline <= now {
			th.restart = -1
			t.wake(i, th.onTimeout)
		}
	}
	t.NextDeadline() // earliest exact again
}

// NextDeadline returns the earliest deadline of a blocked thread, or 0.
//
//go:nosplit
func (t *Table) NextDeadline() int64 {
	if t.timed == 0 {
		return 0
	}
	if t.earliestExact {
		return t.earliest
	}
	var d int64
	for i := 1; i < t.hi; i++ {
		th := &t.T[i]
		if th.State == Blocked && th.deadline != 0 && (d == 0 || th.deadline < d) {
			d = th.deadline
		}
	}
	t.earliest, t.earliestExact = d, true
	return d
}

//go:nosplit
func (t *Table) wake(i int, result int64) {
	th := &t.T[i]
	th.waitAddr = 0
	if th.deadline != 0 {
		t.timed--
		if th.deadline == t.earliest {
			t.earliestExact = false // still a lower bound
		}
	}
	th.deadline = 0
	if th.restart >= 0 {
		th.Frame.RIP -= 2
		th.Frame.RAX = uint64(th.restart)
	} else {
		th.Frame.RAX = uint64(result)
	}
	t.enqueue(i)
}

// Waiting returns how many threads are blocked on addr.
//
//go:nosplit
func (t *Table) Waiting(addr uintptr) int {
	n := 0
	for i := 1; i < t.hi; i++ {
		if t.T[i].State == Blocked && t.T[i].waitAddr == addr {
			n++
		}
	}
	return n
}

// Pick decides which thread runs next at time now and makes it current.
// The current thread keeps the CPU unless it stopped running, its slice is
// over and another thread is runnable, or it is the idle thread. It
// returns the previous and new indices; they differ if a switch is due.
//
//go:nosplit
func (t *Table) Pick(now int64) (prev, next int) {
	prev = t.cur
	c := &t.T[prev]
	if prev != Idle && c.State == Running && (t.head < 0 || now < t.sliceEnd) {
		return prev, prev
	}
	if prev != Idle && c.State == Running {
		t.enqueue(prev) // slice over: to the back of the queue
	}
	next = t.dequeue()
	if next < 0 {
		next = Idle
	} else {
		t.T[next].State = Running
		t.sliceEnd = now + Slice
	}
	t.cur = next
	return prev, next
}

// SliceEnd is when the current slice ends, if other threads are runnable
// (0 otherwise): the time the scheduler wants a timer interrupt.
//
//go:nosplit
func (t *Table) SliceEnd() int64 {
	if t.head < 0 {
		return 0
	}
	return t.sliceEnd
}

// Runnable is the run-queue length.
//
//go:nosplit
func (t *Table) Runnable() int {
	n := 0
	for i := t.head; i >= 0; i = t.T[i].next {
		n++
	}
	return n
}

// Live is the number of threads other than idle that exist.
//
//go:nosplit
func (t *Table) Live() int {
	n := 0
	for i := 1; i < t.hi; i++ {
		if t.T[i].State != Free {
			n++
		}
	}
	return n
}

//go:nosplit
func (t *Table) enqueue(i int) {
	t.T[i].State = Runnable
	t.T[i].next = -1
	if t.tail < 0 {
		t.head = int16(i)
	} else {
		t.T[t.tail].next = int16(i)
	}
	t.tail = int16(i)
}

//go:nosplit
func (t *Table) dequeue() int {
	i := t.head
	if i < 0 {
		return -1
	}
	t.head = t.T[i].next
	if t.head < 0 {
		t.tail = -1
	}
	t.T[i].next = -1
	return int(i)
}
