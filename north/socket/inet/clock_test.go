package inet

import (
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// TestMonoClock: the stack's clock makes its monotonic readings as gVisor's
// standard clock would (MonotonicTime.Add), and they advance with time.
func TestMonoClock(t *testing.T) {
	if !monoDirect {
		t.Fatal("tcpip.MonotonicTime is not one int64: the stack falls back to the standard clock")
	}
	for _, ns := range []int64{0, 42, 5e9, 1<<63 - 1} {
		if got, want := monoFromNanos(ns), (tcpip.MonotonicTime{}).Add(time.Duration(ns)); got != want {
			t.Errorf("monoFromNanos(%d) = %v, want %v", ns, got, want)
		}
	}
	c := newMonoClock()
	if _, ok := c.(*monoClock); !ok {
		t.Fatalf("newMonoClock() = %T, want *monoClock", c)
	}
	a := c.NowMonotonic()
	time.Sleep(2 * time.Millisecond)
	b := c.NowMonotonic()
	if d := b.Sub(a); d < 2*time.Millisecond {
		t.Errorf("two readings 2ms apart differ by %v", d)
	}
	if a.Before(tcpip.MonotonicTime{}) {
		t.Errorf("reading %v before the clock's start", a)
	}
}
