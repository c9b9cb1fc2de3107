package kernel

// Time: monotonic nanoseconds from the TSC calibrated at boot, real time
// from the platform's wall clock read at boot, and the one-shot timer the
// scheduler arms. Trap context.

import (
	"math/bits"

	"github.com/cocoon-vm/cocoon/kernel/sched"
	"github.com/cocoon-vm/cocoon/kernel/vdso"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

var (
	tscBase  uint64 // TSC at boot
	tscMult  uint64 // ns per tick as a 32.32 fixed-point number
	wallBase int64  // real time at tscBase, ns since the Unix epoch
	lastMono int64  // monotonic time never goes backwards
	tscKnown bool   // the platform told the TSC's frequency
	armedAt  int64  // the deadline the timer is armed for; 0 = none
	// armedInSlice is set when the armed timer fires at most sched.Slice
	// after it was armed, so at most a slice from any later moment.
	armedInSlice bool
)

// initClock calibrates the TSC. The TSC is assumed invariant (CPUID
// 0x80000007 EDX[8]); QEMU and KVM provide that.
//
//go:nosplit
func initClock() {
	hz := platform.TSCFrequency()
	tscKnown = hz != 0
	if hz == 0 {
		hz = 1_000_000_000
	}
	tscHz = hz
	tscMult = (1_000_000_000 << 32) / hz
	tscBase = cpu.Rdtsc()
	wallBase = platform.WallClock() * 1_000_000_000
	initVDSO()
}

// vdsoBuf holds the vDSO (kernel/vdso): its ELF page and its data page,
// page aligned inside the buffer.
var vdsoBuf [vdso.Size + pageSize]byte

// vdsoBase returns the vDSO's address.
//
//go:nosplit
func vdsoBase() uintptr { return (addrOf(&vdsoBuf[0]) + pageSize - 1) &^ (pageSize - 1) }

// initVDSO copies the vDSO image and writes the clock calibration into
// its data page. The kernel's own runtime then reads the clock without
// system calls (AT_SYSINFO_EHDR), and so does the application, which gets
// a copy of both pages.
//
//go:nosplit
func initVDSO() {
	b := vdsoBase()
	copy(cpu.Bytes(b, vdso.DataOff), vdso.Image[:])
	*cpu.Ptr64(b + vdso.DataTSCBase) = tscBase
	*cpu.Ptr64(b + vdso.DataMult) = tscMult
	*cpu.Ptr64(b + vdso.DataWall) = uint64(wallBase)
	*cpu.Ptr64(b + vdso.DataMono) = 0
}

// nanotime returns monotonic nanoseconds since boot.
//
//go:nosplit
func nanotime() int64 {
	d := cpu.Rdtsc() - tscBase
	hi, lo := bits.Mul64(d, tscMult)
	ns := int64(hi<<32 | lo>>32)
	if ns < lastMono {
		return lastMono
	}
	lastMono = ns
	return ns
}

// walltime returns real-time nanoseconds since the Unix epoch.
//
//go:nosplit
func walltime() int64 { return wallBase + nanotime() }

// armTimer makes sure a timer interrupt arrives by the earliest time the
// scheduler needs one: a sleeper's deadline or the end of the current time
// slice. It only reprograms the timer when the wanted time is earlier than
// what is armed, so most traps do not touch the timer.
//
//go:nosplit
func armTimer(now int64) {
	want := threads.NextDeadline()
	if s := threads.SliceEnd(); s != 0 && (want == 0 || s < want) {
		want = s
	}
	want = profClamp(now, want)
	if want == 0 {
		return // nothing to wake for: an armed timer just fires spuriously
	}
	if armedAt != 0 && armedAt <= want && armedAt > now {
		return
	}
	d := want - now
	if d < 10_000 {
		d = 10_000 // 10 µs: no point in a shorter interrupt storm
	}
	platform.TimerArm(uint64(d))
	armedAt = now + d
	armedInSlice = d <= sched.Slice
}

// armTimerUser is armTimer for a return to user mode: the application is
// interrupted at least once a time slice, so its goroutine regularly gets
// back to the Go scheduler (other application threads, signals, GC).
//
// A timer that is armed (armedAt != 0: its interrupt has not been taken)
// and fires within a slice is kept without reading the clock: every trap
// ends in armTimer, which arms it no later than the earliest sleeper's
// deadline, and deadlines are only added in traps, so it is early enough.
//
//go:nosplit
func armTimerUser() {
	if armedAt == 0 || !armedInSlice {
		rearmTimerUser()
	}
}

//go:nosplit
func rearmTimerUser() {
	now := nanotime()
	want := now + sched.Slice
	if d := threads.NextDeadline(); d != 0 && d < want {
		want = d
	}
	want = profClamp(now, want)
	if armedAt != 0 && armedAt <= want && armedAt > now {
		return
	}
	d := want - now
	if d < 10_000 {
		d = 10_000
	}
	platform.TimerArm(uint64(d))
	armedAt = now + d
	armedInSlice = true
}

// TSCHz is the TSC's frequency as the platform told it; ok is false when
// it did not tell (the clock then assumes 1 GHz).
//
//go:nosplit
func TSCHz() (hz uint64, ok bool) { return tscHz, tscKnown }
