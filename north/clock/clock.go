// Package clock reads the clocks an application sees (clock_gettime(2)'s
// REALTIME, MONOTONIC and BOOTTIME families) and runs interval timers on
// them: the timers behind setitimer, POSIX timers and timerfd.
//
// CLOCK_MONOTONIC is the kernel's clock, the one the vDSO gives the
// application, so system calls and the vDSO agree. Nobody inside Cocoon
// can set CLOCK_REALTIME, so the clocks advance together and a deadline
// on any of them converts to a duration once.
package clock

import (
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/kernel"
)

// Clock IDs (include/uapi/linux/time.h).
const (
	Realtime        = 0
	Monotonic       = 1
	ProcessCPUTime  = 2
	ThreadCPUTime   = 3
	MonotonicRaw    = 4
	RealtimeCoarse  = 5
	MonotonicCoarse = 6
	Boottime        = 7
	RealtimeAlarm   = 8
	BoottimeAlarm   = 9
	TAI             = 11
)

// bootTime anchors CLOCK_MONOTONIC where the kernel's clock is not
// available (host tests).
var bootTime = time.Now()

// Mono returns CLOCK_MONOTONIC in nanoseconds.
func Mono() int64 {
	if ns, ok := kernel.Monotonic(); ok {
		return ns
	}
	return int64(time.Since(bootTime)) + int64(time.Second)
}

// Now reads clock id, one of the clocks that run by themselves (not the
// CPU-time clocks). ok is false for any other id.
func Now(id int32) (ns int64, ok bool) {
	switch id {
	case Realtime, RealtimeCoarse, RealtimeAlarm:
		return time.Now().UnixNano(), true
	case TAI:
		// CLOCK_TAI is REALTIME plus the kernel's TAI offset, which is 0
		// until adjtimex sets it; nothing inside Cocoon can.
		return time.Now().UnixNano(), true
	case Monotonic, MonotonicRaw, MonotonicCoarse, Boottime, BoottimeAlarm:
		// No suspend inside Cocoon: BOOTTIME equals MONOTONIC.
		return Mono(), true
	}
	return 0, false
}

// Timer is an interval timer on a clock. It runs by itself on a clock
// Now reads; on any other (a CPU-time clock) its owner drives it with
// Advance. Fire is called with the number of expirations (1, or more when
// an interval was missed) without the Timer's lock held.
type Timer struct {
	clock  int32
	manual bool
	fire   func(n uint64) (hold bool)

	mu       sync.Mutex
	next     int64 // absolute expiry on the clock; 0 when disarmed
	interval int64
	t        *time.Timer
	gen      uint64 // bumped by every Set, so a stale callback does nothing
	held     bool   // fire asked to hold: no host timer until Catch
	missed   uint64 // expirations Get counted while held, for Catch
}

// NewTimer returns a disarmed timer on clock. manual timers never fire by
// themselves: Advance fires them.
func NewTimer(clock int32, manual bool, fire func(n uint64)) *Timer {
	return &Timer{clock: clock, manual: manual, fire: func(n uint64) bool { fire(n); return false }}
}

// NewHoldingTimer is NewTimer for an owner whose fire may ask the timer
// to hold: a self-running timer then stops after that expiry until the
// owner calls Catch, which counts the expirations meanwhile. As Linux
// re-arms a timerfd when it is read (timerfd_read's hrtimer_forward_now)
// and a POSIX timer when its signal is delivered (posixtimer_rearm), a
// timer whose expirations nobody takes costs nothing, however short its
// interval.
func NewHoldingTimer(clock int32, manual bool, fire func(n uint64) (hold bool)) *Timer {
	return &Timer{clock: clock, manual: manual, fire: fire}
}

// Catch ends a hold: it returns the expirations since the fire that
// asked for it and runs the timer again. 0 if the timer was not held.
func (t *Timer) Catch() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.held {
		return 0
	}
	t.held = false
	n := t.missed
	t.missed = 0
	if t.next == 0 {
		return n
	}
	now, _ := Now(t.clock)
	if now >= t.next {
		n += t.due(now)
	}
	if t.next != 0 {
		t.arm(now)
	}
	return n
}

// Set arms the timer to expire at value (absolute on the clock when abs,
// else relative to now) and then every interval; a zero value disarms it.
// It returns the time that was left and the old interval. now is the
// clock's current value.
func (t *Timer) Set(now, value, interval int64, abs bool) (oldValue, oldInterval int64) {
	t.mu.Lock()
	oldValue, oldInterval = t.left(now), t.interval
	t.gen++
	if t.t != nil {
		t.t.Stop()
		t.t = nil
	}
	t.next, t.interval = 0, interval
	t.held, t.missed = false, 0
	if value != 0 {
		if !abs {
			value += now
		}
		if value <= 0 {
			value = 1 // an absolute time in the past: expire now
		}
		t.next = value
		t.arm(now)
	}
	t.mu.Unlock()
	return oldValue, oldInterval
}

// Get returns the time left until the next expiry (0 when disarmed) and
// the interval.
func (t *Timer) Get(now int64) (value, interval int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held && t.next != 0 && now >= t.next {
		t.missed += t.due(now)
	}
	return t.left(now), t.interval
}

// Armed reports whether the timer will expire.
func (t *Timer) Armed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.next != 0
}

// Stop disarms the timer for good.
func (t *Timer) Stop() { t.Set(0, 0, 0, false) }

// left is the time until the next expiry; an expiry that is due but not
// yet handled counts as 1 ns, as Linux reports for a timer whose signal
// is on its way (common_timer_get in kernel/time/posix-timers.c).
func (t *Timer) left(now int64) int64 {
	if t.next == 0 {
		return 0
	}
	if d := t.next - now; d > 0 {
		return d
	}
	return 1
}

// arm starts the host timer for a self-running timer. Called with mu held.
func (t *Timer) arm(now int64) {
	if t.manual {
		return
	}
	gen := t.gen
	t.t = time.AfterFunc(time.Duration(t.next-now), func() { t.expire(gen) })
}

func (t *Timer) expire(gen uint64) {
	now, _ := Now(t.clock)
	t.mu.Lock()
	if gen != t.gen || t.next == 0 {
		t.mu.Unlock()
		return
	}
	if now < t.next { // woke early: wait for the rest
		t.arm(now)
		t.mu.Unlock()
		return
	}
	n := t.due(now)
	t.t = nil
	t.mu.Unlock()
	hold := t.fire(n)
	// Re-armed only once fire has returned: a timer has at most one
	// callback in flight, however short its interval. Arming before fire
	// let a 1 ns interval start a goroutine per expiry faster than fire
	// ran, until the kernel's memory was gone (north/probe_vm_test.go,
	// timerstorm). Expirations meanwhile are counted by the next due.
	t.mu.Lock()
	if gen == t.gen && t.next != 0 && t.t == nil {
		if hold {
			t.held = true
		} else {
			now, _ = Now(t.clock)
			t.arm(now)
		}
	}
	t.mu.Unlock()
}

// due counts the expirations up to now, at or after t.next, and moves
// next past now (or disarms a one-shot timer). Called with mu held.
func (t *Timer) due(now int64) uint64 {
	n := uint64(1)
	if t.interval > 0 {
		n += uint64((now - t.next) / t.interval)
		t.next += int64(n) * t.interval
	} else {
		t.next = 0
	}
	return n
}

// Advance fires a manual timer whose expiry the clock, now at now, has
// reached.
func (t *Timer) Advance(now int64) {
	t.mu.Lock()
	if t.next == 0 || now < t.next {
		t.mu.Unlock()
		return
	}
	n := t.due(now)
	t.mu.Unlock()
	t.fire(n) // a manual timer's owner drives it: hold means nothing
}
