package kernel

// The boot timeline: the TSC at each phase of a boot, from the entry
// path's first instruction to the application's first write, printed on
// the console as one line when the command line asks for it
// (cocoon.timeline=1). The host (internal/timeline) parses it for
// 'mkimage run --timeline' and 'make bench'. Trap context: marks are
// taken before the runtime exists and from system calls.

import "github.com/cocoon-vm/cocoon/kernel/cpu"

// Phase is a point of the boot timeline, in boot order.
type Phase int

// The phases, in the order a boot passes them.
const (
	PhaseEntry      Phase = iota // the entry path's first instruction (PVH or UEFI)
	PhaseTables                  // the kernel's page tables and descriptors loaded
	PhaseClock                   // platform detected, TSC and timer calibrated
	PhaseRuntime                 // the kernel's Go runtime entered
	PhaseKernelMain              // the kernel's main.main
	PhaseInitrd                  // the application archive parsed into the file system
	PhaseLoaded                  // the application's ELF loaded and its stack built
	PhaseUser                    // the first application instruction entered
	PhaseAppMain                 // the application's first write(2): its main
	NumPhases
)

// PhaseNames are the phases' names on the timeline line, in order.
var PhaseNames = [NumPhases]string{"entry", "tables", "clock", "runtime", "kmain", "initrd", "loaded", "user", "appmain"}

// TimelinePrefix starts the timeline line on the console:
//
//	cocoon: timeline tsc_hz=HZ entry=0 tables=NS ... appmain=NS
//
// each phase in nanoseconds since the entry's first instruction, in
// phase order; a phase not reached is left out.
const TimelinePrefix = "cocoon: timeline"

var (
	timeline   [NumPhases]uint64 // TSC per phase; 0 = not reached
	timelineOn bool              // cocoon.timeline=1 on the command line
	tscHz      uint64            // the calibrated TSC frequency
)

// Mark records the TSC at phase p, once: later marks of the same phase
// are ignored, without reading the clock (north marks PhaseAppMain at
// every write(2)). Printing the timeline when it is asked for, at the
// application's main.
//
//go:nosplit
func Mark(p Phase) {
	if p >= 0 && p < NumPhases && timeline[p] != 0 {
		return
	}
	MarkAt(p, cpu.Rdtsc())
}

// MarkAt records tsc as the time of phase p, if p has none yet (the
// entry paths read the TSC before any Go code runs).
//
//go:nosplit
func MarkAt(p Phase, tsc uint64) {
	if p < 0 || p >= NumPhases || timeline[p] != 0 {
		return
	}
	timeline[p] = tsc
	if p == PhaseAppMain && timelineOn {
		printTimeline()
	}
}

// printTimeline prints the timeline line.
//
//go:nosplit
func printTimeline() {
	t0 := timeline[PhaseEntry]
	kprint(TimelinePrefix)
	kprint(" tsc_hz=")
	kprintDec(int64(tscHz))
	for i := PhaseEntry; i < NumPhases; i++ {
		if timeline[i] == 0 || timeline[i] < t0 || tscHz == 0 {
			continue
		}
		kprint(" ")
		kprint(PhaseNames[i])
		kprint("=")
		d := timeline[i] - t0
		// ns = d * 1e9 / hz without overflow for any boot under ~4 hours.
		kprintDec(int64(d/tscHz*1_000_000_000 + d%tscHz*1_000_000_000/tscHz))
	}
	kprint("\n")
}
