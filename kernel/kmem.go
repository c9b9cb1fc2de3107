package kernel

// The kernel's own memory under an application's pressure, goroutine
// side. The application's pages stop at the reserve (pmem.AllocUser), but
// what the kernel allocates on its behalf — pipe and socket buffers, open
// files, timers, mappings — comes from the kernel's Go heap, which the
// reserve must keep alive: a heap that finds no frame is a kernel fault.
// The Linux personality asks MemoryShort before such an allocation and
// fails the call as Linux fails one whose kernel allocation fails
// (ENOMEM, ENOBUFS, EAGAIN). Goroutine context: ordinary Go.

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// shortGC rate-limits the collections MemoryShort starts.
var shortGC struct {
	mu    sync.Mutex
	last  int64 // nanotime of the last one
	every int64 // the least time to the next: shortGCEvery, more after fruitless ones
	dry   int   // fruitless collections in a row
}

// shortGCEvery is the least time between two collections MemoryShort
// starts: a collection of the kernel's heap takes milliseconds, and an
// application at its limit asks on every call.
const shortGCEvery = 250e6

// shortGCMost bounds how far fruitless collections space the next ones
// apart: memory an application holds (data in socket buffers, say) is
// no garbage, and collecting a large heap over and over for it takes
// the machine's time from every process while the memory stays short.
const shortGCMost = 4e9

// shortGCFruit is what a collection must give back (frames) for the
// next to come after shortGCEvery again: a mebibyte.
const shortGCFruit = 256

// shortGCDry is how many fruitless collections in a row come
// shortGCEvery apart before they are spaced out: a second after a
// process exits, its sockets may still be going away.
const shortGCDry = 4

// MemoryShort reports whether free memory is below half the kernel's
// reserve: the kernel must not grow its heap for an application.
func MemoryShort() bool {
	return reclaim(func() bool { return phys.FreeFrames() < phys.Reserved()/2 }, true)
}

// BuffersShort reports whether free memory is below the kernel's reserve
// and a quarter more: the kernel takes no more data buffers for an
// application (pipe and socket buffers). They so stop before the
// application's pages do (UserMemoryShort, at the reserve), and those
// before the kernel's other objects for it (MemoryShort): a program
// filling pipes gets its errno while the page faults of others still
// find memory, instead of their faults calling the out-of-memory killer
// over memory the pipes hold; and a process can still be forked or a
// file opened when the pipes are full.
func BuffersShort() bool {
	return reclaim(func() bool { return phys.FreeFrames() < phys.Reserved()+phys.Reserved()/4 }, true)
}

// BuffersFit reports whether a data buffer of n bytes fits above
// BuffersShort's line, even after reclaiming: a pipe growing to a large
// capacity at once must not take the kernel's reserve.
func BuffersFit(n int64) bool {
	pages := int((n + pageSize - 1) / pageSize)
	return !reclaim(func() bool { return phys.FreeFrames() < phys.Reserved()+phys.Reserved()/4+pages }, true)
}

// UserMemoryShort reports whether the application's memory is used up
// (free memory down to the kernel's reserve, where pmem.AllocUser fails)
// even after reclaiming: an out-of-memory kill or ENOMEM is due, not a
// retry.
func UserMemoryShort() bool {
	return reclaim(func() bool { return phys.FreeFrames() <= phys.Reserved() }, false)
}

// reclaim reports whether low holds even after collecting the kernel's
// garbage: pages the heap holds but no longer uses count as free, so when
// low holds it first collects and returns free pages to the frame
// allocator, at most every shortGCEvery (or once after MemoryFreed),
// or, if patient, less often after collections that gave back little:
// an out-of-memory kill (UserMemoryShort) is not patient.
func reclaim(low func() bool, patient bool) bool {
	if !low() {
		return false
	}
	shortGC.mu.Lock()
	defer shortGC.mu.Unlock()
	if !low() {
		return false
	}
	var freed int64
	for _, f := range shrinkers {
		freed += f()
	}
	if shortGC.every == 0 {
		shortGC.every = shortGCEvery
	}
	every := shortGC.every
	if !patient {
		every = shortGCEvery
	}
	if now := nanotime(); freed > 0 || now-shortGC.last >= every {
		shortGC.last = now
		before := phys.FreeFrames()
		// Two collections: the first only moves what sync.Pools
		// hold (netstack's buffer chunks, among others) to their
		// victim caches; the second frees it.
		runtime.GC()
		debug.FreeOSMemory()
		if low() && phys.FreeFrames() < before+shortGCFruit {
			if shortGC.dry++; shortGC.dry > shortGCDry {
				shortGC.every = min(2*shortGC.every, shortGCMost)
			}
		} else {
			shortGC.every, shortGC.dry = shortGCEvery, 0
		}
	}
	return low()
}

// shrinkers free kernel memory no application needs now (AddShrinker).
var shrinkers []func() int64

// AddShrinker registers f, which frees kernel memory kept only to be
// reused (an emptied pipe's ring) and returns the bytes it let go:
// reclaim runs it when memory runs short, before collecting the heap, as
// Linux's shrinkers run before the out-of-memory killer. f must not
// block. Call at boot, before the application runs.
func AddShrinker(f func() int64) { shrinkers = append(shrinkers, f) }

// MemoryFreed says the kernel's heap may hold much garbage (an
// application process is gone): the next MemoryShort that finds memory
// low collects it at once, whenever the last collection was.
func MemoryFreed() {
	shortGC.mu.Lock()
	shortGC.last, shortGC.every, shortGC.dry = 0, shortGCEvery, 0
	shortGC.mu.Unlock()
}
