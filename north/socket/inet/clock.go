package inet

import (
	"time"
	"unsafe"

	"github.com/cocoon-vm/cocoon/north/clock"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// monoClock is the stack's clock: gVisor's standard one (tcpip.NewStdClock),
// with a cheaper NowMonotonic. TCP reads the monotonic clock a dozen times
// per segment (its arrival, each send, the retransmit and keep-alive
// timers); the standard clock makes each reading with
// tcpip.MonotonicTime.Add, which goes through time.Unix, Time.Add and
// Time.Sub (itself Time.Add and Time.Equal), costing more than reading the
// clock: about 2% of the guest's instructions per HTTP request. Reading it
// through time.Since still costs the runtime's clock call (a call into the
// vDSO on a stack of its own) and time's checks; monoClock reads the
// kernel's CLOCK_MONOTONIC (clock.Mono: the time-stamp counter scaled, the
// clock the runtime's timers and the application's vDSO read too), which
// the stack's timers (time.AfterFunc) therefore agree with.
type monoClock struct {
	tcpip.Clock
	base int64 // clock.Mono when the clock was made: readings count from here
}

// newMonoClock returns the clock, or the standard one when a
// tcpip.MonotonicTime cannot be made from its nanoseconds directly
// (monoDirect).
func newMonoClock() tcpip.Clock {
	std := tcpip.NewStdClock()
	if !monoDirect {
		return std
	}
	return &monoClock{Clock: std, base: clock.Mono()}
}

// NowMonotonic implements tcpip.Clock.NowMonotonic: the nanoseconds since
// base, as the standard clock counts them from its own start.
func (c *monoClock) NowMonotonic() tcpip.MonotonicTime {
	return monoFromNanos(clock.Mono() - c.base)
}

// monoFromNanos returns the tcpip.MonotonicTime of ns nanoseconds, what
// tcpip.MonotonicTime{}.Add(time.Duration(ns)) returns for ns >= 0.
func monoFromNanos(ns int64) tcpip.MonotonicTime {
	// unsafe: MonotonicTime is a struct of one int64, its nanoseconds,
	// which has no constructor but Add; monoDirect checks the layout.
	return *(*tcpip.MonotonicTime)(unsafe.Pointer(&ns))
}

// monoDirect reports whether monoFromNanos agrees with
// tcpip.MonotonicTime.Add, so that a gVisor whose MonotonicTime is laid out
// otherwise gets the standard clock.
var monoDirect = func() bool {
	if unsafe.Sizeof(tcpip.MonotonicTime{}) != unsafe.Sizeof(int64(0)) {
		return false
	}
	for _, ns := range []int64{0, 1, 999_999_999, 1_234_567_890_123, 1 << 62} {
		if monoFromNanos(ns) != (tcpip.MonotonicTime{}).Add(time.Duration(ns)) {
			return false
		}
	}
	return true
}()
