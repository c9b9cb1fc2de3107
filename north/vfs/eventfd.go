package vfs

import (
	"encoding/binary"
	"math"
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// eventFD is an eventfd (eventfd(2)): a 64-bit counter.
type eventFD struct {
	FileDefaults
	q         Queue
	semaphore bool

	mu    sync.Mutex
	count uint64
}

// eventMax is the largest value the counter holds.
const eventMax = math.MaxUint64 - 1

// NewEventFD returns a new eventfd with counter initval; flags may hold
// EFD_SEMAPHORE and EFD_NONBLOCK.
func NewEventFD(initval uint64, flags uint32) *File {
	e := &eventFD{count: initval, semaphore: flags&linux.EfdSemaphore != 0}
	return NewFile(e, linux.ORdwr|flags&linux.ONonblock, "anon_inode:[eventfd]")
}

func (e *eventFD) Read(_ *File, dst Buf, _ int64) (int64, error) {
	if dst.Len() < 8 {
		return 0, EINVAL
	}
	e.mu.Lock()
	if e.count == 0 {
		e.mu.Unlock()
		return 0, EAGAIN
	}
	v := e.count
	if e.semaphore {
		v = 1
	}
	if _, err := dst.CopyOut(binary.LittleEndian.AppendUint64(nil, v)); err != nil {
		e.mu.Unlock()
		return 0, EFAULT
	}
	e.count -= v
	e.mu.Unlock()
	e.q.Notify(EventOut | EventWrNorm)
	return 8, nil
}

// Write adds the 8-byte value src holds; any other length is EINVAL
// (fs/eventfd.c eventfd_write: count != sizeof(ucnt)).
func (e *eventFD) Write(_ *File, src Buf, _ int64) (int64, error) {
	if src.Len() != 8 {
		return 0, EINVAL
	}
	var b [8]byte
	if n, _ := src.CopyIn(b[:]); n < 8 {
		return 0, EFAULT
	}
	v := binary.LittleEndian.Uint64(b[:])
	if v == math.MaxUint64 {
		return 0, EINVAL
	}
	e.mu.Lock()
	if v > eventMax-e.count {
		e.mu.Unlock()
		return 0, EAGAIN
	}
	e.count += v
	e.mu.Unlock()
	if v > 0 {
		e.q.Notify(EventIn | EventRdNorm)
	}
	return 8, nil
}

func (e *eventFD) Readiness(mask Events) Events {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ev Events
	if e.count > 0 {
		ev |= EventIn | EventRdNorm
	}
	if e.count < eventMax {
		ev |= EventOut | EventWrNorm
	}
	return ev & mask
}

func (e *eventFD) Queue() *Queue { return &e.q }

// Seek leaves the offset at 0, as Linux's noop_llseek does.
func (e *eventFD) Seek(_ *File, cur, _ int64, _ int) (int64, error) { return cur, nil }

func (e *eventFD) Stat(*File) Attr {
	return Attr{Dev: anonDev, Ino: anonIno, Mode: 0o600, Nlink: 1}
}
