package linuxguest

import "time"

// rdtsc returns the host's time-stamp counter.
func rdtsc() uint64

// tscWindow is how long hostTSCkHz counts: long enough that reading the
// two clocks a few microseconds apart costs under 0.01%.
const tscWindow = 50 * time.Millisecond

// hostTSCkHz measures the frequency of the host's time-stamp counter in
// kHz against the monotonic clock. QEMU's TCG serves the guest's RDTSC
// from the host's (cpu_get_host_ticks in QEMU 7.2), so this is the
// guest's TSC frequency too.
func hostTSCkHz() int64 {
	t0, c0 := time.Now(), rdtsc()
	time.Sleep(tscWindow)
	t1, c1 := time.Now(), rdtsc()
	return int64(float64(c1-c0) / float64(t1.Sub(t0).Nanoseconds()) * 1e6)
}
