package north

import (
	"math"
	"time"
)

// Timer slack: how much later than asked a thread's timed waits may end
// (Linux's timer_slack_ns). Linux arms each such wait's hrtimer to fire
// anywhere between the time asked and that plus the slack, so that
// wake-ups coalesce; with nothing to coalesce with it fires at the end,
// as Cocoon's always do. It matters to a busy Go program: its sysmon
// thread sleeps 20 µs at a time while it finds work, and wakes every
// 70 µs on Linux. (HTTP through --publish under QEMU -icount shift=3,
// close to TCG's own speed: 130k -> 115k guest instructions per request.)
//
// Where Linux uses it, so does Cocoon: nanosleep and clock_nanosleep
// (kernel/time/hrtimer.c hrtimer_nanosleep), futex waits
// (kernel/futex/core.c futex_setup_timer), rt_sigtimedwait
// (kernel/signal.c do_sigtimedwait) and, through
// select_estimate_accuracy (fs/select.c), poll, select and epoll_wait.
// Cocoon has no real-time scheduling policies, whose threads Linux gives
// no slack.

// defaultTimerSlack is the first thread's slack, in ns
// (init/init_task.c: timer_slack_ns = 50000).
const defaultTimerSlack = 50000

// slack returns the thread's timer slack.
func (t *Task) slack() time.Duration {
	return time.Duration(min(t.timerSlack.Load(), math.MaxInt64))
}

// setTimerSlack is prctl(PR_SET_TIMERSLACK, ns): 0 restores the slack
// the thread was made with (kernel/sys.c).
func (t *Task) setTimerSlack(ns uint64) {
	if ns == 0 {
		ns = t.defaultSlack.Load()
	}
	t.timerSlack.Store(ns)
}

// inheritSlack gives a new thread or process its creator's slack, which
// is also its default (kernel/fork.c copy_process:
// default_timer_slack_ns = current->timer_slack_ns).
func (t *Task) inheritSlack(from *Task) {
	s := from.timerSlack.Load()
	t.timerSlack.Store(s)
	t.defaultSlack.Store(s)
}

// TimerSlack implements FileContext: the slack of poll, select and
// epoll_wait timeouts is at least the thread's.
func (t *Task) TimerSlack() time.Duration { return t.slack() }

// withSlack returns d plus slack s, saturating where a Duration ends
// (a wait that long ends never).
func withSlack(d, s time.Duration) time.Duration {
	if d > math.MaxInt64-s {
		return math.MaxInt64
	}
	return d + s
}
