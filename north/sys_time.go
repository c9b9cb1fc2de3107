package north

import (
	"time"

	"github.com/cocoon-vm/cocoon/kernel"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

func init() {
	register(linux.SysClockGettime, sysClockGettime)
	register(229, sysClockGetres) // clock_getres
	register(96, sysGettimeofday) // gettimeofday
	register(201, sysTime)        // time
	register(linux.SysNanosleep, sysNanosleep)
	register(linux.SysClockNanosleep, sysClockNanosleep)
}

// bootTime anchors CLOCK_MONOTONIC where the kernel's clock is not
// available (host tests).
var bootTime = time.Now()

// monotonic is CLOCK_MONOTONIC: the kernel's clock, the one the vDSO
// gives the application, so system calls and the vDSO agree.
func monotonic() int64 {
	if ns, ok := kernel.Monotonic(); ok {
		return ns
	}
	return int64(time.Since(bootTime)) + int64(time.Second)
}

// monoToTime converts a CLOCK_MONOTONIC time to a time.Time.
func monoToTime(ns int64) time.Time {
	return time.Now().Add(time.Duration(ns - monotonic()))
}

func clockNow(clock uint64) (int64, bool) {
	switch clock {
	case linux.ClockRealtime, linux.ClockRealtimeCoarse:
		return time.Now().UnixNano(), true
	case linux.ClockMonotonic, linux.ClockMonotonicRaw, linux.ClockMonotonicCoars,
		linux.ClockBoottime, linux.ClockProcessCPUTime, linux.ClockThreadCPUTime:
		return monotonic(), true
	}
	return 0, false
}

func writeTimespec(m mem.Memory, addr uint64, ns int64) error {
	var b [16]byte
	putU64(b[0:], uint64(ns/1e9))
	putU64(b[8:], uint64(ns%1e9))
	return m.CopyOut(addr, b[:])
}

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
	if sec > 1<<33 {
		sec = 1 << 33
	}
	return sec*1e9 + nsec, 0
}

func sysClockGettime(t *Task, a *[6]uint64) int64 {
	ns, ok := clockNow(a[0])
	if !ok {
		return -linux.EINVAL
	}
	return errno(writeTimespec(t.p.m, a[1], ns))
}

func sysClockGetres(t *Task, a *[6]uint64) int64 {
	if _, ok := clockNow(a[0]); !ok {
		return -linux.EINVAL
	}
	if a[1] == 0 {
		return 0
	}
	return errno(writeTimespec(t.p.m, a[1], 1))
}

func sysGettimeofday(t *Task, a *[6]uint64) int64 {
	if a[0] != 0 {
		ns := time.Now().UnixNano()
		var b [16]byte
		putU64(b[0:], uint64(ns/1e9))
		putU64(b[8:], uint64(ns%1e9/1e3))
		if err := t.p.m.CopyOut(a[0], b[:]); err != nil {
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

// sleep blocks until deadline or a signal; it writes the remaining time
// to rem (if not 0) when interrupted.
func (t *Task) sleep(deadline time.Time, rem uint64) int64 {
	d := time.Until(deadline)
	if d <= 0 {
		return 0
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return 0
	case <-t.wake:
		t.interrupt() // keep the token for signal delivery
		if rem != 0 {
			left := time.Until(deadline)
			if left < 0 {
				left = 0
			}
			writeTimespec(t.p.m, rem, int64(left))
		}
		return -linux.EINTR
	}
}

func sysNanosleep(t *Task, a *[6]uint64) int64 {
	ns, e := readTimespec(t.p.m, a[0])
	if e != 0 {
		return e
	}
	return t.sleep(time.Now().Add(time.Duration(ns)), a[1])
}

func sysClockNanosleep(t *Task, a *[6]uint64) int64 {
	clock, flags := a[0], a[1]
	const timerAbstime = 1
	ns, e := readTimespec(t.p.m, a[2])
	if e != 0 {
		return e
	}
	if _, ok := clockNow(clock); !ok {
		return -linux.EINVAL
	}
	if flags&timerAbstime == 0 {
		return t.sleep(time.Now().Add(time.Duration(ns)), a[3])
	}
	if clock == linux.ClockRealtime {
		return t.sleep(time.Unix(0, ns), 0)
	}
	return t.sleep(monoToTime(ns), 0)
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
