package north_test

import "testing"

// TestVMFutexPIDifferentialC runs pifutex (FUTEX_LOCK_PI, UNLOCK_PI,
// TRYLOCK_PI and LOCK_PI2 raw: EDEADLK, EPERM, ESRCH, OWNER_DIED takeover,
// hand-over to a waiter a signal does not interrupt, the three timeout
// clocks; glibc's PTHREAD_PRIO_INHERIT mutexes under contention,
// error-checking, trylock, timedlock, robust ones whose owner thread
// exits holding them, a plain robust one, a shared robust PI one whose
// owner process exits or execs) natively and inside Cocoon: the outputs
// must match.
func TestVMFutexPIDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/pifutex/pifutex.c"), "pifutex: done")
}
