package north

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/clock"
)

// adjtimex(2) and clock_adjtime(2): the kernel's NTP state, which an
// application may read; setting it takes CAP_SYS_TIME, which Cocoon's
// applications are refused (EPERM) as for clock_settime: the host owns
// the clock. Nothing ever disciplines Cocoon's clock, so its state is
// that of a Linux kernel no NTP daemon has touched
// (kernel/time/ntp.c ntp_clear): unsynchronized (STA_UNSYNC), so the
// calls return TIME_ERROR.

// adjtimex modes and the status and state they report
// (include/uapi/linux/timex.h).
const (
	adjOffsetSingleshot = 0x0001
	adjOffsetReadonly   = 0x2000
	adjAdjtime          = 0x8000
	adjOffsetSSRead     = adjOffsetSingleshot | adjOffsetReadonly | adjAdjtime
	staUnsync           = 0x0040
	timeError           = 5

	timexSize = 208 // struct __kernel_timex on x86-64

	ntpPhaseLimit = 16000000      // NTP_PHASE_LIMIT: maxerror and esterror, in µs
	ntpTolerance  = 500 << 16     // MAXFREQ_SCALED / PPM_SCALE: 500 ppm, scaled by 2^16
	ntpTick       = 1000000 / 100 // tick_usec: µs per USER_HZ tick
	ntpConstant   = 2             // time_constant's initial value
)

func init() { registerAll(adjtimeCalls[:]) }

var adjtimeCalls = [...]call{
	{159, func(t *Task, a *[6]uint64) int64 { return t.adjtime(clock.Realtime, a[0]) }}, // adjtimex
}

// sysClockAdjtime is clock_adjtime(2).
func sysClockAdjtime(t *Task, a *[6]uint64) int64 { return t.adjtime(int32(a[0]), a[1]) }

// adjtime reads struct timex at addr (EFAULT first), then for clock id:
// CLOCK_REALTIME's NTP state; the other clocks have none to adjust
// (EOPNOTSUPP, kernel/time/posix-timers.c do_clock_adjtime), an unknown
// clock EINVAL. The modes are checked as kernel/time/timekeeping.c
// timekeeping_validate_timex does for a caller without CAP_SYS_TIME.
func (t *Task) adjtime(id int32, addr uint64) int64 {
	var b [timexSize]byte
	if err := t.p.m.CopyIn(addr, b[:]); err != nil {
		return -linux.EFAULT
	}
	if _, e := t.clockGet(id); e != 0 {
		return e
	}
	if id != clock.Realtime {
		return -linux.EOPNOTSUPP
	}
	le := binary.LittleEndian
	modes := le.Uint32(b[0:])
	switch {
	case modes&adjAdjtime != 0 && modes&adjOffsetSingleshot == 0:
		return -linux.EINVAL
	case modes&adjAdjtime != 0 && modes&adjOffsetReadonly == 0,
		modes&adjAdjtime == 0 && modes != 0:
		return -linux.EPERM
	}
	now, _ := clock.Now(clock.Realtime)
	var out [timexSize]byte
	le.PutUint32(out[0:], modes)
	// offset (the adjtime left: none) and freq stay 0.
	le.PutUint64(out[24:], ntpPhaseLimit) // maxerror
	le.PutUint64(out[32:], ntpPhaseLimit) // esterror
	le.PutUint32(out[40:], staUnsync)     // status
	le.PutUint64(out[48:], ntpConstant)
	le.PutUint64(out[56:], 1) // precision, µs
	le.PutUint64(out[64:], ntpTolerance)
	le.PutUint64(out[72:], uint64(now/1e9))      // time.tv_sec
	le.PutUint64(out[80:], uint64(now%1e9/1000)) // time.tv_usec (no STA_NANO)
	le.PutUint64(out[88:], ntpTick)
	if err := t.p.m.CopyOut(addr, out[:]); err != nil {
		return -linux.EFAULT
	}
	return timeError
}
