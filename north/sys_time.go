package north

import (
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/clock"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// timeCalls are the system calls this file serves (registerAll).
var timeCalls = [...]call{
	{linux.SysClockGettime, sysClockGettime},
	{229, sysClockGetres}, // clock_getres
	{96, sysGettimeofday}, // gettimeofday
	{201, sysTime},        // time
	{linux.SysNanosleep, sysNanosleep},
	{linux.SysClockNanosleep, sysClockNanosleep},
	{100, sysTimes},     // times
	{98, sysGetrusage},  // getrusage
	{227, sysClockNope}, // clock_settime
	{305, sysClockAdjtime},
	{164, sysSettimeofday},
}

func init() { registerAll(timeCalls[:]) }

// monotonic is CLOCK_MONOTONIC.
func monotonic() int64 { return clock.Mono() }

// monoToTime converts a CLOCK_MONOTONIC time to a time.Time.
func monoToTime(ns int64) time.Time {
	return time.Now().Add(time.Duration(ns - monotonic()))
}

// CPU-time clock ids (include/linux/posix-timers.h): a negative id is
// ~pid << 3 | perthread << 2 | which; CLOCK_PROCESS_CPUTIME_ID and
// CLOCK_THREAD_CPUTIME_ID name the caller's own.
const (
	cpuclockProf      = 0 // user + system time
	cpuclockVirt      = 1 // user time
	cpuclockSched     = 2 // time on a CPU (user + system here)
	cpuclockPerthread = 4
	clockfd           = 3 // CLOCKFD: a dynamic clock (a PTP device's fd)
)

// cpuClock is a decoded CPU-time clock: the thread's own (task set) or
// the process's.
type cpuClock struct {
	task  *Task
	which int
}

// cpuClockOf decodes id, a CPU-time clock; ok is false when id is not
// one, and e is EINVAL for a CPU-time clock of a process or thread that
// is not there (posix_cpu_clock_get's lookup_task).
func (t *Task) cpuClockOf(id int32) (c cpuClock, ok bool, e int64) {
	switch {
	case id == clock.ProcessCPUTime:
		return cpuClock{which: cpuclockSched}, true, 0
	case id == clock.ThreadCPUTime:
		return cpuClock{task: t, which: cpuclockSched}, true, 0
	case id >= 0:
		return cpuClock{}, false, 0
	}
	which, pid := int(id&3), ^(id >> 3)
	if which == 3 || id&7 == clockfd {
		return cpuClock{}, true, -linux.EINVAL
	}
	c.which = which
	if id&cpuclockPerthread != 0 {
		c.task = t
		if pid != 0 && pid != t.tid {
			if c.task = t.p.task(pid); c.task == nil {
				return cpuClock{}, true, -linux.EINVAL
			}
		}
		return c, true, 0
	}
	if pid != 0 && pid != t.p.pid {
		return cpuClock{}, true, -linux.EINVAL
	}
	return c, true, 0
}

// now reads a CPU-time clock.
func (c cpuClock) now(p *Process) int64 {
	var u, s int64
	if c.task != nil {
		u, s = c.task.utime.Load(), c.task.stime.Load()
	} else {
		u, s = p.utime.Load(), p.stime.Load()
	}
	if c.which == cpuclockVirt {
		return u
	}
	return u + s
}

// clockGet reads clock id for clock_gettime: EINVAL for ids that are no
// clock, and for the alarm clocks, which need an RTC Cocoon does not have
// (alarm_clock_get_timespec in kernel/time/alarmtimer.c).
func (t *Task) clockGet(id int32) (int64, int64) {
	if c, ok, e := t.cpuClockOf(id); ok {
		if e != 0 {
			return 0, e
		}
		return c.now(t.p), 0
	}
	if id == clock.RealtimeAlarm || id == clock.BoottimeAlarm {
		return 0, -linux.EINVAL
	}
	ns, ok := clock.Now(id)
	if !ok {
		return 0, -linux.EINVAL
	}
	return ns, 0
}

func writeTimespec(m mem.Memory, addr uint64, ns int64) error {
	var b [16]byte
	putU64(b[0:], uint64(ns/1e9))
	putU64(b[8:], uint64(ns%1e9))
	return m.CopyOut(addr, b[:])
}

// writeTimeval writes a struct timeval (microseconds, truncated).
func writeTimeval(m mem.Memory, addr uint64, ns int64) error {
	var b [16]byte
	putU64(b[0:], uint64(ns/1e9))
	putU64(b[8:], uint64(ns%1e9/1e3))
	return m.CopyOut(addr, b[:])
}

// maxTimeSec caps times read from the application (136 years) so that
// a time plus the clock's reading never overflows.
const maxTimeSec = 1 << 32

// readTimespec reads a struct timespec as nanoseconds (EFAULT, EINVAL).
func readTimespec(m mem.Memory, addr uint64) (int64, int64) {
	var b [16]byte
	if err := m.CopyIn(addr, b[:]); err != nil {
		return 0, -linux.EFAULT
	}
	sec, nsec := int64(getU64(b[0:])), int64(getU64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, -linux.EINVAL
	}
	if sec > maxTimeSec {
		sec = maxTimeSec
	}
	return sec*1e9 + nsec, 0
}

func sysClockGettime(t *Task, a *[6]uint64) int64 {
	ns, e := t.clockGet(int32(a[0]))
	if e != 0 {
		return e
	}
	return errno(writeTimespec(t.p.m, a[1], ns))
}

// sysClockGetres: every clock Cocoon has counts in nanoseconds, the coarse
// ones included (they read the same clock as the fine ones).
func sysClockGetres(t *Task, a *[6]uint64) int64 {
	if _, e := t.clockGet(int32(a[0])); e != 0 {
		return e
	}
	if a[1] == 0 {
		return 0
	}
	return errno(writeTimespec(t.p.m, a[1], 1))
}

// sysClockNope refuses clock_settime as Linux refuses it to a process
// without CAP_SYS_TIME: the host owns the clock (clock_adjtime's reads
// are served: sys_adjtime.go).
func sysClockNope(t *Task, a *[6]uint64) int64 {
	if _, e := t.clockGet(int32(a[0])); e != 0 {
		return e
	}
	return -linux.EPERM
}

// sysSettimeofday: see sysClockNope.
func sysSettimeofday(t *Task, a *[6]uint64) int64 { return -linux.EPERM }

func sysGettimeofday(t *Task, a *[6]uint64) int64 {
	if a[0] != 0 {
		if err := writeTimeval(t.p.m, a[0], time.Now().UnixNano()); err != nil {
			return -linux.EFAULT
		}
	}
	if a[1] != 0 {
		return errno(t.p.m.CopyOut(a[1], make([]byte, 8))) // UTC, no DST
	}
	return 0
}

func sysTime(t *Task, a *[6]uint64) int64 {
	now := time.Now().Unix()
	if a[0] != 0 {
		if err := mem.WriteUint64(t.p.m, a[0], uint64(now)); err != nil {
			return -linux.EFAULT
		}
	}
	return now
}

// interrupted reports, after a wake-up, whether the thread has a signal
// to take (or the process is ending): a wake-up for a signal another
// thread took does not end a wait, and one that ends the thread (another
// thread's execve) does.
func (t *Task) interrupted() bool { return t.p.exiting() || t.zapped.Load() || t.deliverable() }

// sleep blocks until deadline or a signal; it writes the remaining time
// to rem (if not 0) when interrupted.
func (t *Task) sleep(deadline time.Time, rem uint64) int64 {
	d := time.Until(deadline)
	if d <= 0 {
		return 0
	}
	c := t.timer.after(d)
	defer t.timer.stop()
	for {
		select {
		case <-c:
			return 0
		case <-t.wake:
		}
		if !t.interrupted() {
			continue
		}
		if rem != 0 {
			left := time.Until(deadline)
			if left < 0 {
				left = 0
			}
			writeTimespec(t.p.m, rem, int64(left))
		}
		t.restart = func(t *Task) int64 { return t.sleep(deadline, rem) }
		return -linux.EINTR
	}
}

func sysNanosleep(t *Task, a *[6]uint64) int64 {
	ns, e := readTimespec(t.p.m, a[0])
	if e != 0 {
		return e
	}
	return t.sleep(time.Now().Add(withSlack(time.Duration(ns), t.slack())), a[1])
}

// sysClockNanosleep sleeps on the clocks that have an nsleep in Linux
// (kernel/time/posix-timers.c): REALTIME, MONOTONIC, BOOTTIME, TAI and
// the process CPU-time clocks. Other clocks give EOPNOTSUPP, a thread
// CPU-time clock EINVAL (posix_cpu_nsleep), unknown ids EINVAL.
func sysClockNanosleep(t *Task, a *[6]uint64) int64 {
	id, flags := int32(a[0]), a[1]
	const timerAbstime = 1
	rem := a[3]
	if flags&timerAbstime != 0 {
		rem = 0
	}
	c, cpu, e := t.cpuClockOf(id)
	switch {
	case e != 0:
		return e
	case cpu && id == clock.ThreadCPUTime:
		return -linux.EOPNOTSUPP
	case cpu && c.task != nil:
		return -linux.EINVAL
	case cpu:
	case id == clock.Realtime, id == clock.Monotonic, id == clock.Boottime, id == clock.TAI:
	case id == clock.RealtimeAlarm, id == clock.BoottimeAlarm, id == clock.MonotonicRaw,
		id == clock.RealtimeCoarse, id == clock.MonotonicCoarse:
		return -linux.EOPNOTSUPP
	default:
		return -linux.EINVAL
	}
	ns, e := readTimespec(t.p.m, a[2])
	if e != 0 {
		return e
	}
	if cpu {
		return t.cpuSleep(c, ns, flags&timerAbstime != 0, rem)
	}
	if flags&timerAbstime == 0 {
		return t.sleep(time.Now().Add(withSlack(time.Duration(ns), t.slack())), rem)
	}
	now, _ := clock.Now(id)
	return t.sleep(time.Now().Add(withSlack(time.Duration(ns-now), t.slack())), 0)
}

// cpuSleep sleeps until the process's CPU-time clock c reaches ns
// (absolute) or has advanced by ns.
func (t *Task) cpuSleep(c cpuClock, ns int64, abs bool, rem uint64) int64 {
	p := t.p
	done := make(chan struct{})
	tm := clock.NewTimer(0, true, func(uint64) { close(done) })
	now := c.now(p)
	if (abs && ns <= now) || (!abs && ns == 0) {
		return 0
	}
	tm.Set(now, ns, 0, abs)
	until := ns // when the clock reaches it, the sleep ends
	if !abs {
		until += now
	}
	ct := &cpuTimer{clock: c, timer: tm}
	p.addCPUTimer(ct)
	defer p.removeCPUTimer(ct)
	for {
		select {
		case <-done:
			return 0
		case <-t.wake:
		}
		if !t.interrupted() {
			continue
		}
		if rem != 0 {
			left, _ := tm.Get(c.now(p))
			writeTimespec(p.m, rem, left)
		}
		t.restart = func(t *Task) int64 { return t.cpuSleep(c, until, true, rem) }
		return -linux.EINTR
	}
}

// Clock ticks of times(2) and /proc: USER_HZ (include/asm-generic/param.h).
const userHZ = 100

func ticks(ns int64) uint64 { return uint64(ns / (1e9 / userHZ)) }

// sysTimes fills struct tms (include/uapi/linux/times.h: utime, stime,
// cutime, cstime in clock ticks) and returns the ticks since boot.
func sysTimes(t *Task, a *[6]uint64) int64 {
	p := t.p
	if a[0] != 0 {
		var b [32]byte
		putU64(b[0:], ticks(p.utime.Load()))
		putU64(b[8:], ticks(p.stime.Load()))
		// cutime, cstime: no child processes, so zero.
		if err := p.m.CopyOut(a[0], b[:]); err != nil {
			return -linux.EFAULT
		}
	}
	return int64(ticks(monotonic()))
}

// sysGetrusage fills struct rusage (include/uapi/linux/resource.h:
// ru_utime and ru_stime as timevals, then fourteen longs) for the
// process (RUSAGE_SELF), the calling thread (RUSAGE_THREAD) or its
// waited-for children (RUSAGE_CHILDREN: none). Of the longs Cocoon
// counts the signals delivered and the context switches: voluntary ones
// are system calls that wait, involuntary ones timer preemptions, and
// ru_maxrss, the most memory resident (rss.go); the fault counters stay
// 0.
func sysGetrusage(t *Task, a *[6]uint64) int64 {
	const rusageSelf, rusageChildren, rusageThread = 0, -1, 1
	p := t.p
	var b [144]byte
	switch int32(a[0]) {
	case rusageSelf:
		ns(b[0:], p.utime.Load())
		ns(b[16:], p.stime.Load())
		putU64(b[32:], kib(p.maxRSS()))
		putU64(b[120:], uint64(p.nsignals.Load()))
		putU64(b[128:], uint64(p.nvcsw.Load()))
		putU64(b[136:], uint64(p.nivcsw.Load()))
	case rusageThread:
		ns(b[0:], t.utime.Load())
		ns(b[16:], t.stime.Load())
		putU64(b[32:], kib(p.maxRSS()))
	case rusageChildren:
		// The reaped children's (kernel/sys.c getrusage: cutime,
		// cstime, cmaxrss).
		ns(b[0:], p.cutime.Load())
		ns(b[16:], p.cstime.Load())
		putU64(b[32:], kib(p.cmaxrss.Load()))
	default:
		return -linux.EINVAL
	}
	return errno(p.m.CopyOut(a[1], b[:]))
}

// ns puts a duration as a struct timeval.
func ns(b []byte, d int64) {
	putU64(b[0:], uint64(d/1e9))
	putU64(b[8:], uint64(d%1e9/1e3))
}

func putU64(b []byte, v uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

func getU64(b []byte) uint64 {
	var v uint64
	for i := 0; i < 8; i++ {
		v |= uint64(b[i]) << (8 * i)
	}
	return v
}

// reusableTimer is a thread's one timer for its blocking calls' time
// limits (nanosleep, futex waits), made once and reset for each wait
// rather than a new timer and channel every time. A thread waits in one
// call at a time; stop must follow each after before the next.
type reusableTimer struct{ t *time.Timer }

// after returns a channel that receives once d from now.
func (r *reusableTimer) after(d time.Duration) <-chan time.Time {
	if r.t == nil {
		r.t = time.NewTimer(d)
	} else {
		r.t.Reset(d) // stopped: no stale value waits in the channel (Go 1.23 timers)
	}
	return r.t.C
}

// stop disarms the timer.
func (r *reusableTimer) stop() {
	if r.t != nil {
		r.t.Stop()
	}
}
