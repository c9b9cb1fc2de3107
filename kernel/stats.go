package kernel

// Stats for the kernel's own programs and tests. Goroutine context: these
// read trap-layer counters without locking; each value is one machine word
// and the figures are approximate by nature.

// Stat is a snapshot of kernel counters.
type Stat struct {
	// Threads is the number of kernel threads alive (the runtime's Ms).
	Threads int
	// ThreadsCreated counts clone calls that made a thread.
	ThreadsCreated int
	// RAM and FreeRAM are the managed physical memory and what is unused.
	RAM, FreeRAM uint64
	// Syscalls counts the runtime's system calls since boot.
	Syscalls uint64
	// Uptime is nanoseconds since boot by the kernel's clock.
	Uptime int64
	// Idle is nanoseconds the CPU spent in the idle thread (HLT) since
	// boot, up to the last switch away from it.
	Idle int64
	// Switches counts context switches between kernel threads since boot.
	Switches uint64
	// Interrupts counts the external interrupts taken since boot.
	Interrupts uint64
	// Platform names the South platform.
	Platform string
}

// Stats returns the current counters.
func Stats() Stat {
	var n uint64
	for _, c := range syscallCount {
		n += uint64(c)
	}
	return Stat{
		Threads:        threads.Live(),
		ThreadsCreated: clonesStarted,
		RAM:            uint64(phys.TotalFrames()) * pageSize,
		FreeRAM:        uint64(phys.FreeFrames()) * pageSize,
		Syscalls:       n,
		Uptime:         nanotime(),
		Idle:           idleNS,
		Switches:       switches,
		Interrupts:     interrupts,
		Platform:       platform.Name(),
	}
}
