package north

import (
	"math"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

const prSetTimerslack, prGetTimerslack = 29, 30 // include/uapi/linux/prctl.h

// TestPrctlTimerSlack: a thread starts with Linux's 50 µs, sets its own,
// 0 restores its default, and the largest reads back as -1 (a long).
func TestPrctlTimerSlack(t *testing.T) {
	_, task, _ := newTest(t)
	if got := sc(task, linux.SysPrctl, prGetTimerslack); got != 50000 {
		t.Errorf("first thread's slack = %d, want Linux's 50000", got)
	}
	for _, c := range []struct {
		set  uint64
		want int64
	}{{1234, 1234}, {1, 1}, {0, 50000}, {^uint64(0), -1}, {0, 50000}} {
		if r := sc(task, linux.SysPrctl, prSetTimerslack, c.set, 7); r != 0 {
			t.Fatalf("PR_SET_TIMERSLACK %d = %d", c.set, r)
		}
		if got := sc(task, linux.SysPrctl, prGetTimerslack); got != c.want {
			t.Errorf("after PR_SET_TIMERSLACK %d: PR_GET_TIMERSLACK = %d, want %d", c.set, got, c.want)
		}
	}
}

// TestTimerSlackInherited: a new thread's slack and default are its
// creator's slack (copy_process), so 0 restores that, not 50 µs.
func TestTimerSlackInherited(t *testing.T) {
	p, task, _ := newTest(t)
	sc(task, linux.SysPrctl, prSetTimerslack, 123456)
	c := p.newTask(task.regs)
	c.inheritSlack(task)
	sc(c, linux.SysPrctl, prSetTimerslack, 99)
	if got := sc(c, linux.SysPrctl, prGetTimerslack); got != 99 {
		t.Errorf("child's slack after setting 99 = %d", got)
	}
	sc(c, linux.SysPrctl, prSetTimerslack, 0)
	if got := sc(c, linux.SysPrctl, prGetTimerslack); got != 123456 {
		t.Errorf("child's slack reset = %d, want its creator's 123456", got)
	}
	if got := sc(task, linux.SysPrctl, prGetTimerslack); got != 123456 {
		t.Errorf("creator's slack after the child's changes = %d, want 123456", got)
	}
}

// TestTimedWaitsUseSlack: with a 30 ms slack, a 1 µs nanosleep,
// clock_nanosleep and futex wait each end no earlier than 30 ms later
// (a lower bound only: load makes waits longer, never shorter).
func TestTimedWaitsUseSlack(t *testing.T) {
	p, task, _ := newTest(t)
	const slack = 30 * time.Millisecond
	sc(task, linux.SysPrctl, prSetTimerslack, uint64(slack))
	mem.WriteUint64(p.m, scratch, 0)
	mem.WriteUint64(p.m, scratch+8, 1000) // 1 µs
	word := uint64(scratch + 64)
	mem.WriteUint32(p.m, word, 5)
	for _, call := range []struct {
		name string
		nr   uint64
		args []uint64
		want int64
	}{
		{"nanosleep", linux.SysNanosleep, []uint64{scratch, 0}, 0},
		{"clock_nanosleep", linux.SysClockNanosleep, []uint64{linux.ClockMonotonic, 0, scratch, 0}, 0},
		{"futex wait", linux.SysFutex, []uint64{word, linux.FutexWait | linux.FutexPrivateFlag, 5, scratch}, -linux.ETIMEDOUT},
	} {
		start := time.Now()
		if r := sc(task, call.nr, call.args...); r != call.want {
			t.Fatalf("%s = %d, want %d", call.name, r, call.want)
		}
		if d := time.Since(start); d < slack {
			t.Errorf("%s of 1 µs with a %v slack ended after %v", call.name, slack, d)
		}
	}
}

// TestProcTimerSlack: /proc/PID/timerslack_ns shows the main thread's
// slack, and a write sets it, 0 restoring its default.
func TestProcTimerSlack(t *testing.T) {
	p, task, _ := newTest(t)
	sc(task, linux.SysPrctl, prSetTimerslack, 4321)
	if b, err := p.ProcText(0, "timerslack_ns"); err != nil || string(b) != "4321\n" {
		t.Errorf("timerslack_ns = %q, %v; want \"4321\\n\"", b, err)
	}
	for _, c := range []struct {
		set  uint64
		want int64
	}{{777, 777}, {0, 50000}} {
		if e := p.SetTimerSlack(0, c.set); e != 0 {
			t.Fatalf("SetTimerSlack(%d) = %d", c.set, e)
		}
		if got := sc(task, linux.SysPrctl, prGetTimerslack); got != c.want {
			t.Errorf("after writing %d: PR_GET_TIMERSLACK = %d, want %d", c.set, got, c.want)
		}
	}
	if e := p.SetTimerSlack(9999, 1); e != linux.ESRCH {
		t.Errorf("SetTimerSlack of no thread = %d, want ESRCH", e)
	}
}

// TestSigtimedwaitForever: rt_sigtimedwait with a timeout past what a
// ktime_t holds waits for ever (timespec64_to_ktime saturates), as no
// timeout does; it was EAGAIN at once.
func TestSigtimedwaitForever(t *testing.T) {
	p, task, _ := newTest(t)
	mem.WriteUint64(p.m, scratch, 1<<(linux.SigUsr1-1))
	mem.WriteUint64(p.m, scratch+16, math.MaxInt64)
	mem.WriteUint64(p.m, scratch+24, 0)
	// Blocked first, as a caller of sigwait does, so that it waits for
	// the signal rather than dying of it.
	if r := sc(task, 14 /* rt_sigprocmask */, 0 /* SIG_BLOCK */, scratch, 0, linux.SigSetSize); r != 0 {
		t.Fatalf("rt_sigprocmask = %d", r)
	}
	done := make(chan int64, 1)
	go func() {
		done <- sc(task, 128 /* rt_sigtimedwait */, scratch, 0, scratch+16, linux.SigSetSize)
	}()
	select {
	case r := <-done:
		t.Fatalf("rt_sigtimedwait with tv_sec %d = %d before any signal", int64(math.MaxInt64), r)
	case <-time.After(50 * time.Millisecond):
	}
	p.sendSignal(sigInfo{signo: linux.SigUsr1})
	if r := <-done; r != linux.SigUsr1 {
		t.Errorf("rt_sigtimedwait = %d, want SIGUSR1", r)
	}
}
