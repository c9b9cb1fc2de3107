package vdso

// callClock calls fn(clk, ts) (call_amd64.s); used by tests to run the
// vDSO's code on the host.
func callClock(fn, clk, ts uintptr) uintptr
