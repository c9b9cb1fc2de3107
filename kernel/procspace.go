package kernel

// Address spaces of processes, goroutine side (see fork.go). Goroutine
// context: ordinary Go.

import (
	"runtime"
	"syscall"
	"unsafe"
)

// Fork returns a copy-on-write copy of the address space (fork(2)): the
// same mappings and contents, sharing every page until one side writes
// it; pages installed with FillShared stay shared. refill lists the
// private file mappings, sorted, as [start, end) pairs: the copy gets no
// entries for one that holds no private copy of a page, and the filler
// provides its pages again (mm/memory.c vma_needs_copy); nor does it for
// the shared pages.
func (s *Space) Fork(refill [][2]uint64) (*Space, error) {
	for k := 1; k < len(refill); k++ {
		if refill[k][0] < refill[k-1][1] {
			return nil, syscall.EINVAL
		}
	}
	var p uintptr
	if len(refill) > 0 {
		// unsafe: the pairs' address for the trap layer, which reads them
		// during the call; refill is kept alive past it.
		p = uintptr(unsafe.Pointer(&refill[0]))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, e := privcall(sysSpaceFork, uintptr(s.id), p, uintptr(len(refill)), 0)
	runtime.KeepAlive(refill)
	if e != 0 {
		return nil, e
	}
	return &Space{id: int(id)}, nil
}

// FillShared is Fill for a page of a MAP_SHARED mapping: installed with
// the region's protection and shared, writable, with a forked copy.
func (s *Space) FillShared(addr, frame uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errnoOf(privcall(sysSpaceFillShrd, uintptr(s.id), uintptr(addr), uintptr(frame), 0))
}
