package north

import (
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// pendingSoon waits until signal sig is pending for the process or task.
func pendingSoon(t *testing.T, p *Process, task *Task, sig int) bool {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		p.sig.mu.Lock()
		set := p.sig.pending | task.pending
		p.sig.mu.Unlock()
		if set&bit(sig) != 0 {
			return true
		}
	}
	return false
}

func TestClockErrors(t *testing.T) {
	p, task, _ := newTest(t)
	ts := uint64(scratch)
	for _, c := range []struct {
		id   int32
		want int64
	}{
		{linux.ClockRealtime, 0}, {linux.ClockMonotonic, 0}, {linux.ClockBoottime, 0},
		{linux.ClockProcessCPUTime, 0}, {linux.ClockThreadCPUTime, 0},
		{10, -linux.EINVAL}, {16, -linux.EINVAL}, {8, -linux.EINVAL}, // SGI_CYCLE, past MAX_CLOCKS, REALTIME_ALARM without RTC
		{^int32(1)<<3 | 2, 0},                 // process clock of pid 1 (us)
		{^int32(7)<<3 | 2, -linux.EINVAL},     // pid 7: no such process
		{^int32(1)<<3 | 6, 0},                 // thread clock of tid 1
		{^int32(0)<<3 | 3, -linux.EINVAL},     // CPUCLOCK_MAX
		{^int32(1)<<3 | 3 | 4, -linux.EINVAL}, // a CLOCKFD id
	} {
		if got := sc(task, linux.SysClockGettime, uint64(int64(c.id)), ts); got != c.want {
			t.Errorf("clock_gettime(%d) = %d, want %d", c.id, got, c.want)
		}
	}
	// clock_nanosleep: EOPNOTSUPP for clocks without nsleep, EINVAL for a
	// thread clock, 0 for a zero sleep on the process clock.
	mem.WriteUint64(p.m, ts, 0)
	mem.WriteUint64(p.m, ts+8, 0)
	thisThread := int64(^int32(0)<<3 | 6)
	for _, c := range []struct {
		id   uint64
		want int64
	}{{linux.ClockMonotonicRaw, -linux.EOPNOTSUPP}, {linux.ClockRealtimeCoarse, -linux.EOPNOTSUPP},
		{linux.ClockThreadCPUTime, -linux.EOPNOTSUPP}, {uint64(thisThread), -linux.EINVAL},
		{linux.ClockProcessCPUTime, 0}, {linux.ClockMonotonic, 0}, {99, -linux.EINVAL}} {
		if got := sc(task, linux.SysClockNanosleep, c.id, 0, ts, 0); got != c.want {
			t.Errorf("clock_nanosleep(%d) = %d, want %d", int64(c.id), got, c.want)
		}
	}
}

func TestCPUClocksAdvance(t *testing.T) {
	p, task, _ := newTest(t)
	read := func(id uint64) int64 {
		if r := sc(task, linux.SysClockGettime, id, scratch); r != 0 {
			t.Fatalf("clock_gettime(%d) = %d", id, r)
		}
		s, _ := mem.ReadUint64(p.m, scratch)
		ns, _ := mem.ReadUint64(p.m, scratch+8)
		return int64(s*1e9 + ns)
	}
	a := read(linux.ClockProcessCPUTime)
	task.charge(5e6, 0)
	task.charge(0, 2e6)
	b := read(linux.ClockProcessCPUTime)
	if b-a < 7e6 {
		t.Errorf("process CPU clock advanced %d ns after 7 ms of charged time", b-a)
	}
	th := read(linux.ClockThreadCPUTime)
	if pr := read(linux.ClockProcessCPUTime); th > pr || th < 7e6 {
		t.Errorf("thread clock %d, then process clock %d", th, pr)
	}
	// getrusage(RUSAGE_SELF) reports user time 5 ms or more.
	if r := sc(task, 98, 0, scratch); r != 0 {
		t.Fatalf("getrusage = %d", r)
	}
	us, _ := mem.ReadUint64(p.m, scratch+8)
	if s, _ := mem.ReadUint64(p.m, scratch); s*1e6+us < 5000 {
		t.Errorf("ru_utime = %d.%06d", s, us)
	}
	if r := sc(task, 98, 7, scratch); r != -linux.EINVAL {
		t.Errorf("getrusage(7) = %d, want EINVAL", r)
	}
}

func TestItimerVirtualFiresOnUserTime(t *testing.T) {
	p, task, _ := newTest(t)
	// The test process is pid 1, init, which drops a signal it has no
	// handler for: give it one.
	p.sig.act[linux.SigVtalrm].handler = 0x401000
	tv := uint64(scratch)
	mem.WriteUint64(p.m, tv, 0)        // interval
	mem.WriteUint64(p.m, tv+8, 0)      //
	mem.WriteUint64(p.m, tv+16, 0)     // value: 10 ms
	mem.WriteUint64(p.m, tv+24, 10000) //
	if r := sc(task, 38, itimerVirtual, tv, 0); r != 0 {
		t.Fatalf("setitimer = %d", r)
	}
	task.charge(4e6, 0)
	if pendingSoonNow(p, task, linux.SigVtalrm) {
		t.Fatal("SIGVTALRM before 10 ms of user time")
	}
	task.charge(0, 20e6) // system time does not count for ITIMER_VIRTUAL
	if pendingSoonNow(p, task, linux.SigVtalrm) {
		t.Fatal("SIGVTALRM counted system time")
	}
	task.charge(7e6, 0)
	if !pendingSoonNow(p, task, linux.SigVtalrm) {
		t.Fatal("no SIGVTALRM after 11 ms of user time")
	}
	if r := sc(task, 38, 3, tv, 0); r != -linux.EINVAL {
		t.Errorf("setitimer(3) = %d, want EINVAL", r)
	}
	mem.WriteUint64(p.m, tv+24, 1000000)
	if r := sc(task, 38, itimerReal, tv, 0); r != -linux.EINVAL {
		t.Errorf("setitimer with tv_usec 1000000 = %d, want EINVAL", r)
	}
}

func pendingSoonNow(p *Process, task *Task, sig int) bool {
	p.sig.mu.Lock()
	defer p.sig.mu.Unlock()
	return (p.sig.pending|task.pending)&bit(sig) != 0
}

func TestAlarmRounding(t *testing.T) {
	p, task, _ := newTest(t)
	if r := sc(task, 37, 5); r != 0 {
		t.Fatalf("first alarm = %d, want 0", r)
	}
	if r := sc(task, 37, 0); r != 5 {
		t.Errorf("alarm(0) after alarm(5) = %d, want 5 (4.99 s rounds up)", r)
	}
	if r := sc(task, 37, 0); r != 0 {
		t.Errorf("alarm(0) with no alarm = %d", r)
	}
	_ = p
}

func TestPosixTimerOverrun(t *testing.T) {
	p, task, _ := newTest(t)
	sev, idp, its := uint64(scratch), uint64(scratch+64), uint64(scratch+128)
	mem.WriteUint64(p.m, sev, 42)                            // sigev_value
	mem.WriteUint64(p.m, sev+8, uint64(linux.SigUsr1)|0<<32) // signo, SIGEV_SIGNAL
	mem.WriteUint64(p.m, sev+16, 0)
	if r := sc(task, 222, linux.ClockMonotonic, sev, idp); r != 0 {
		t.Fatalf("timer_create = %d", r)
	}
	id, _ := mem.ReadUint32(p.m, idp)
	task.sigMask = bit(linux.SigUsr1)            // keep it pending
	for i, v := range []uint64{0, 1e6, 0, 1e6} { // interval 1 ms, value 1 ms
		mem.WriteUint64(p.m, its+8*uint64(i), v)
	}
	if r := sc(task, 223, uint64(id), 0, its, 0); r != 0 {
		t.Fatalf("timer_settime = %d", r)
	}
	if !pendingSoon(t, p, task, linux.SigUsr1) {
		t.Fatal("no timer signal")
	}
	time.Sleep(30 * time.Millisecond)
	var info sigInfo
	p.sig.mu.Lock()
	info = p.sig.info[linux.SigUsr1]
	p.sig.mu.Unlock()
	if info.code != linux.SiTimer || info.timerID != int32(id) || info.value != 42 {
		t.Errorf("queued info %+v", info)
	}
	ovr, live := info.timer.delivered()
	if !live || ovr < 1 {
		t.Errorf("overrun %d after 30 ms of a 1 ms timer with its signal pending", ovr)
	}
	if r := sc(task, 225, uint64(id)); r != int64(ovr) {
		t.Errorf("timer_getoverrun = %d, want %d", r, ovr)
	}
	if r := sc(task, 226, uint64(id)); r != 0 {
		t.Errorf("timer_delete = %d", r)
	}
	if r := sc(task, 226, uint64(id)); r != -linux.EINVAL {
		t.Errorf("timer_delete twice = %d, want EINVAL", r)
	}
	mem.WriteUint64(p.m, sev+8, uint64(linux.SigUsr1)|99<<32)
	if r := sc(task, 222, linux.ClockMonotonic, sev, idp); r != -linux.EINVAL {
		t.Errorf("timer_create with sigev_notify 99 = %d, want EINVAL", r)
	}
	if r := sc(task, 222, linux.ClockMonotonicRaw, 0, idp); r != -linux.EOPNOTSUPP {
		t.Errorf("timer_create(CLOCK_MONOTONIC_RAW) = %d, want EOPNOTSUPP", r)
	}
}

func TestWaits(t *testing.T) {
	for nr, want := range map[uint64]bool{
		0: true, 202: true, 441: true, 299: true, 73: true, // read, futex, epoll_pwait2, recvmmsg, flock
		1: false, 39: false, 440: false, 511: false, 512: false, 1 << 40: false, // write, getpid, beyond the table
	} {
		if got := waits(nr); got != want {
			t.Errorf("waits(%d) = %v, want %v", nr, got, want)
		}
	}
}

// TestSleeps: a thread in a write or a send counts as sleeping (it may
// wait for room) without being a call that waits: its time is system
// time.
func TestSleeps(t *testing.T) {
	for nr, want := range map[uint64]bool{
		0: true, 1: true, 20: true, 46: true, 58: true, 202: true, // read, write, writev, sendmsg, vfork, futex
		39: false, 9: false, 3: false, 257: false, 511: false, 512: false, 1 << 40: false, // getpid, mmap, close, openat, beyond the table
	} {
		if got := sleeps(nr); got != want {
			t.Errorf("sleeps(%d) = %v, want %v", nr, got, want)
		}
	}
	if waits(1) || waits(44) {
		t.Error("write or sendto counted as a call that waits (a voluntary context switch each)")
	}
}

// TestNanosleepSlack: nanosleep and a relative clock_nanosleep end no
// earlier than asked plus Linux's default timer slack, where
// hrtimer_nanosleep's range ends and Cocoon's sleeps end (a lower bound
// only: a loaded machine makes sleeps later, never earlier).
func TestNanosleepSlack(t *testing.T) {
	p, task, _ := newTest(t)
	mem.WriteUint64(p.m, scratch, 0)
	mem.WriteUint64(p.m, scratch+8, 1000) // 1 µs
	for _, call := range []struct {
		name string
		nr   uint64
		args []uint64
	}{
		{"nanosleep", linux.SysNanosleep, []uint64{scratch, 0}},
		{"clock_nanosleep", linux.SysClockNanosleep, []uint64{linux.ClockMonotonic, 0, scratch, 0}},
	} {
		// The shortest of a few: without the slack it is a few µs on
		// an idle machine.
		shortest := time.Hour
		for range 5 {
			start := time.Now()
			if r := sc(task, call.nr, call.args...); r != 0 {
				t.Fatalf("%s = %d", call.name, r)
			}
			shortest = min(shortest, time.Since(start))
		}
		const linuxSlack = 50 * time.Microsecond // timer_slack_ns
		if shortest < time.Microsecond+linuxSlack {
			t.Errorf("%s of 1 µs ended after %v, before Linux's %v slack", call.name, shortest, linuxSlack)
		}
	}
}
