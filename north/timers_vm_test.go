package north_test

// TestVMTimersC: setitimer, alarm and pause; CPU-time clocks, times and
// getrusage; POSIX timers with overruns; timerfd with epoll, poll and
// select; select and pselect6 — a static C program run natively and inside
// Cocoon (differential, mmap_vm_test.go). It prints outcomes (errors,
// counts, comparisons), never timings.

import "testing"

func TestVMTimersC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/timers/timers.c"), "timers: done")
}

// TestVMTimersGo: the same ground from Go, through os/signal, the
// runtime's timers and the syscall package.
func TestVMTimersGo(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildGo(t, "./north/testdata/timersgo"), "timersgo: done")
}
