package north

import (
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

func TestFutexPI(t *testing.T) {
	p, task, _ := newTest(t)
	addr := uint64(scratch + 64)
	word := func() uint32 {
		v, err := mem.ReadUint32(p.m, addr)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	me := uint32(task.tid)
	if got := sc(task, linux.SysFutex, addr, futexLockPI); got != 0 || word() != me {
		t.Fatalf("LOCK_PI of a free word = %d, word %#x, want 0 and %#x", got, word(), me)
	}
	if got := sc(task, linux.SysFutex, addr, futexLockPI); got != -linux.EDEADLK {
		t.Errorf("LOCK_PI relock = %d, want EDEADLK", got)
	}
	if got := sc(task, linux.SysFutex, addr, futexTrylockPI); got != -linux.EDEADLK {
		t.Errorf("TRYLOCK_PI by the owner = %d, want EDEADLK", got)
	}
	if got := sc(task, linux.SysFutex, addr, futexLockPI|linux.FutexClockRealtime); got != -linux.ENOSYS {
		t.Errorf("LOCK_PI|FUTEX_CLOCK_REALTIME = %d, want ENOSYS", got)
	}
	other := p.newTask(kernel.NewUserRegs())
	if got := sc(other, linux.SysFutex, addr, futexTrylockPI); got != -linux.EAGAIN || word() != me|futexWaiters {
		t.Errorf("TRYLOCK_PI of a held word = %d, word %#x, want EAGAIN and %#x", got, word(), me|futexWaiters)
	}
	if got := sc(other, linux.SysFutex, addr, futexUnlockPI); got != -linux.EPERM {
		t.Errorf("UNLOCK_PI by another thread = %d, want EPERM", got)
	}
	// A waiter is handed the lock; a signal does not end its wait.
	done := make(chan int64)
	go func() { done <- sc(other, linux.SysFutex, addr, futexLockPI) }()
	waitFor(t, func() bool { return p.futex.piWaiters(addr) == 1 })
	third := p.newTask(kernel.NewUserRegs())
	if r := p.futex.lockPI(p.m, addr, third.futexKey(addr, false), third.tid, third.futexOwner, time.Time{}, false, closedChan(), &third.timer); r != -erestartnointr {
		t.Errorf("interrupted LOCK_PI = %d, want ERESTARTNOINTR", r)
	}
	if got := sc(task, linux.SysFutex, addr, futexUnlockPI); got != 0 {
		t.Fatalf("UNLOCK_PI to a waiter = %d", got)
	}
	if got := <-done; got != 0 || word() != uint32(other.tid)|futexWaiters {
		t.Fatalf("handed LOCK_PI = %d, word %#x, want 0 and %#x", got, word(), uint32(other.tid)|futexWaiters)
	}
	if got := sc(other, linux.SysFutex, addr, futexUnlockPI); got != 0 || word() != 0 {
		t.Fatalf("UNLOCK_PI without waiters = %d, word %#x, want 0 and 0", got, word())
	}
	// Owners that do not exist, and one that died.
	mem.WriteUint32(p.m, addr, 0x3ffffff0)
	if got := sc(task, linux.SysFutex, addr, futexLockPI); got != -linux.ESRCH {
		t.Errorf("LOCK_PI with no such owner = %d, want ESRCH", got)
	}
	mem.WriteUint32(p.m, addr, futexOwnerDied)
	if got := sc(task, linux.SysFutex, addr, futexLockPI); got != 0 || word() != me|futexOwnerDied {
		t.Errorf("LOCK_PI after the owner died = %d, word %#x, want 0 and %#x", got, word(), me|futexOwnerDied)
	}
	// A timed LOCK_PI2 (CLOCK_MONOTONIC) with its deadline past.
	ts := uint64(scratch + 128)
	writeTimespec(p.m, ts, 1)
	if got := sc(other, linux.SysFutex, addr, futexLockPI2, 0, ts); got != -linux.ETIMEDOUT {
		t.Errorf("timed LOCK_PI2 = %d, want ETIMEDOUT", got)
	}
	// The owner's exit hands the lock on with FUTEX_OWNER_DIED.
	go func() { done <- sc(other, linux.SysFutex, addr, futexLockPI) }()
	waitFor(t, func() bool { return p.futex.piWaiters(addr) == 1 })
	task.futexExit()
	if got := <-done; got != 0 || word() != uint32(other.tid)|futexWaiters|futexOwnerDied {
		t.Errorf("LOCK_PI across the owner's exit = %d, word %#x, want 0 and %#x", got, word(), uint32(other.tid)|futexWaiters|futexOwnerDied)
	}
}

// TestRobustListExit walks a robust list of a plain and a PI futex at exit.
func TestRobustListExit(t *testing.T) {
	p, task, _ := newTest(t)
	head, e1, e2 := uint64(scratch+512), uint64(scratch+600), uint64(scratch+700)
	const off = 16 // the word sits 16 bytes past its link
	mem.WriteUint64(p.m, head, e1)
	mem.WriteUint64(p.m, head+8, off)
	mem.WriteUint64(p.m, head+16, 0)
	mem.WriteUint64(p.m, e1, e2|1) // e2 is a PI futex
	mem.WriteUint64(p.m, e2, head)
	me := uint32(task.tid)
	mem.WriteUint32(p.m, e1+off, me|futexWaiters)
	mem.WriteUint32(p.m, e2+off, me)
	if got := sc(task, 273, head, 24); got != 0 {
		t.Fatalf("set_robust_list = %d", got)
	}
	other := p.newTask(kernel.NewUserRegs())
	done := make(chan int64)
	go func() { done <- sc(other, linux.SysFutex, e1+off, linux.FutexWait, uint64(me|futexWaiters)) }()
	waitFor(t, func() bool { return p.futex.waiters(e1+off) == 1 })
	go func() { done <- sc(other, linux.SysFutex, e2+off, futexLockPI) }()
	waitFor(t, func() bool { return p.futex.piWaiters(e2+off) == 1 })
	task.futexExit()
	<-done
	<-done
	if v, _ := mem.ReadUint32(p.m, e1+off); v != futexWaiters|futexOwnerDied {
		t.Errorf("plain robust futex after exit = %#x, want %#x", v, futexWaiters|futexOwnerDied)
	}
	if v, _ := mem.ReadUint32(p.m, e2+off); v != uint32(other.tid)|futexWaiters|futexOwnerDied {
		t.Errorf("PI robust futex after exit = %#x, want %#x", v, uint32(other.tid)|futexWaiters|futexOwnerDied)
	}
}

func closedChan() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
