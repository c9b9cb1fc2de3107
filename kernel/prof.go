package kernel

// The sampling profiler (cocoon.prof=PERIOD_US): while it runs, the timer
// fires at least once a period and each interrupt taken in kernel mode
// records the interrupted instruction and its callers' return addresses
// from the frame-pointer chain, for tools/pgo to turn into the kernel's
// profile-guided-optimisation profile (north/cocoon/default.pgo).
// Trap context: nothing here allocates or grows the stack.

import "github.com/cocoon-vm/cocoon/kernel/cpu"

const (
	profDepth   = 40      // return addresses kept per sample, the leaf included
	profSamples = 1 << 13 // a ring: the latest samples are kept
	profMaxWalk = 1 << 16 // a frame pointer further above RSP ends the walk
)

var (
	profPeriod int64 // ns between samples; 0 when the profiler is off
	profBuf    [profSamples][profDepth]uint64
	profN      uint64 // samples recorded, the ring's overwritten ones included
)

// profRecord records a sample of the kernel-mode frame f.
//
//go:nosplit
func profRecord(f *cpu.Frame) {
	if profPeriod == 0 {
		return
	}
	e := &profBuf[profN%profSamples]
	profN++
	e[0] = f.RIP
	i := 1
	bp, sp := uintptr(f.RBP), uintptr(f.RSP)
	for ; i < profDepth; i++ {
		// Go keeps frame pointers on amd64: [bp] is the caller's bp,
		// [bp+8] the return address. Stop at anything that does not
		// look like a frame of this stack.
		if bp&7 != 0 || bp < sp || bp > sp+profMaxWalk || !accessible(bp, 16, false) {
			break
		}
		next := *(*uintptr)(ptrAt(bp))
		ret := *(*uintptr)(ptrAt(bp + 8))
		if ret == 0 {
			break
		}
		e[i] = uint64(ret)
		if next <= bp {
			i++
			break
		}
		bp = next
	}
	if i < profDepth {
		e[i] = 0
	}
}

// profClamp returns the time the timer must fire by, want (0: none) or
// sooner for the next sample.
//
//go:nosplit
func profClamp(now, want int64) int64 {
	if profPeriod != 0 && (want == 0 || want > now+profPeriod) {
		return now + profPeriod
	}
	return want
}
