package vfs

import (
	"container/heap"
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
	id        int // its number in eventfdIDs, for fdinfo

	mu    sync.Mutex
	count uint64
}

// eventfdIDs numbers the live eventfds as Linux's eventfd_ida does: each
// new one takes the lowest number free.
var eventfdIDs idAllocator

// idAllocator gives out the lowest free number (an IDA): the lowest one
// given back, else the next never given.
type idAllocator struct {
	mu   sync.Mutex
	free intHeap // numbers given back, all below next
	next int
}

func (a *idAllocator) get() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.free) > 0 {
		return heap.Pop(&a.free).(int)
	}
	a.next++
	return a.next - 1
}

func (a *idAllocator) put(id int) {
	a.mu.Lock()
	heap.Push(&a.free, id)
	a.mu.Unlock()
}

// intHeap is a min-heap of ints (container/heap).
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Release frees the eventfd's number with the last descriptor
// (eventfd_free_ctx).
func (e *eventFD) Release(*File) { eventfdIDs.put(e.id) }

// eventMax is the largest value the counter holds.
const eventMax = math.MaxUint64 - 1

// NewEventFD returns a new eventfd with counter initval; flags may hold
// EFD_SEMAPHORE and EFD_NONBLOCK.
func NewEventFD(initval uint64, flags uint32) *File {
	e := &eventFD{count: initval, semaphore: flags&linux.EfdSemaphore != 0, id: eventfdIDs.get()}
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
