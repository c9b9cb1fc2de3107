package kernel

// Address spaces of processes, goroutine side (see fork.go). Goroutine
// context: ordinary Go.

// Fork returns a copy-on-write copy of the address space (fork(2)): the
// same mappings and contents, sharing every page until one side writes
// it; pages installed with FillShared stay shared.
func (s *Space) Fork() (*Space, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, e := privcall(sysSpaceFork, uintptr(s.id), 0, 0, 0)
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
