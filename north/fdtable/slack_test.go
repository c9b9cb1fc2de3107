package fdtable

import (
	"encoding/binary"
	"testing"
	"time"
)

// TestEstimateSlack: fs/select.c select_estimate_accuracy's slack, a
// thousandth of the timeout up to 100 ms, at least the thread's.
func TestEstimateSlack(t *testing.T) {
	for _, c := range []struct{ d, slack, want time.Duration }{
		{time.Millisecond, DefaultTimerSlack, DefaultTimerSlack},
		{time.Second, DefaultTimerSlack, time.Millisecond},
		{time.Second, 5 * time.Millisecond, 5 * time.Millisecond},
		{1000 * time.Second, DefaultTimerSlack, 100 * time.Millisecond},
		{1000 * time.Second, time.Second, time.Second},
		{10 * time.Millisecond, 1, 10 * time.Microsecond},
	} {
		if got := estimateSlack(c.d, c.slack); got != c.want {
			t.Errorf("estimateSlack(%v, %v) = %v, want %v", c.d, c.slack, got, c.want)
		}
	}
}

// TestWaitsTakeSlack: poll, ppoll, select and epoll_wait with a 1 ms
// timeout end no earlier than a 30 ms slack after it (a lower bound
// only: load makes waits longer, never shorter).
func TestWaitsTakeSlack(t *testing.T) {
	e := newEnv(t)
	const slack = 30 * time.Millisecond
	ms := func(usecUnit uint64) uint64 { // a timespec or timeval of 1 ms
		var b [16]byte
		binary.LittleEndian.PutUint64(b[8:], usecUnit)
		return e.put(b[:])
	}
	ep, _ := e.f.Syscall(e.m, nil, sysEpollCreate1, [6]uint64{})
	if ep < 0 {
		t.Fatalf("epoll_create1 = %d", ep)
	}
	out := e.alloc(12)
	for _, c := range []struct {
		name string
		nr   uint64
		args [6]uint64
	}{
		{"poll", sysPoll, [6]uint64{0, 0, 1}},
		{"ppoll", sysPpoll, [6]uint64{0, 0, ms(1e6)}},
		{"select", sysSelect, [6]uint64{0, 0, 0, 0, ms(1000)}},
		{"pselect6", sysPselect6, [6]uint64{0, 0, 0, 0, ms(1e6)}},
		{"epoll_wait", sysEpollWait, [6]uint64{uint64(ep), out, 1, 1}},
		{"epoll_pwait2", sysEpollPwait2, [6]uint64{uint64(ep), out, 1, ms(1e6)}},
	} {
		start := time.Now()
		if r, _ := e.f.SyscallSlack(e.m, nil, slack, c.nr, c.args); r != 0 {
			t.Fatalf("%s = %d", c.name, r)
		}
		if d := time.Since(start); d < time.Millisecond+slack {
			t.Errorf("%s of 1 ms with a %v slack ended after %v", c.name, slack, d)
		}
	}
}
