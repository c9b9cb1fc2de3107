package mem

import (
	"errors"
	"sync"
)

// Frames is where file data and shared memory live: page frames that
// read and write reach through Bytes and that the kernel can map into
// address spaces, so every mapping of a file and every read and write of
// it see the same bytes. A frame has references; Free drops one.
type Frames interface {
	// Alloc returns a zeroed frame with one reference, or ErrNoMemory.
	Alloc() (uint64, error)
	// AllocCopy returns a frame with one reference holding a copy of
	// src, or ErrNoMemory: Alloc and a copy, without zeroing the frame
	// first where the implementation can (the kernel's frames, which the
	// trap layer allocates and fills in one step). The page cache takes
	// its whole pages from the archive this way.
	AllocCopy(src *[PageSize]byte) (uint64, error)
	// Ref adds a reference (a mapping of the frame).
	Ref(frame uint64) error
	// Free drops a reference; the last one frees the frame.
	Free(frame uint64)
	// Bytes is the frame's memory.
	Bytes(frame uint64) *[PageSize]byte
}

// HeapFrames is Frames over Go memory, for host tests (and any machine
// without mappings of file data). Safe for concurrent use.
type HeapFrames struct {
	// Limit bounds the frames allocated at once; zero means no limit.
	Limit int

	mu    sync.Mutex
	next  uint64
	pages map[uint64]*heapFrame
}

type heapFrame struct {
	refs int
	data [PageSize]byte
}

// Alloc returns a new zeroed frame.
func (h *HeapFrames) Alloc() (uint64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pages == nil {
		h.pages = map[uint64]*heapFrame{}
	}
	if h.Limit > 0 && len(h.pages) >= h.Limit {
		return 0, ErrNoMemory
	}
	h.next += PageSize
	h.pages[h.next] = &heapFrame{refs: 1}
	return h.next, nil
}

// AllocCopy returns a new frame holding a copy of src.
func (h *HeapFrames) AllocCopy(src *[PageSize]byte) (uint64, error) {
	f, err := h.Alloc()
	if err != nil {
		return 0, err
	}
	*h.Bytes(f) = *src
	return f, nil
}

// Ref adds a reference to frame.
func (h *HeapFrames) Ref(frame uint64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.pages[frame]
	if f == nil {
		return ErrInvalid
	}
	f.refs++
	return nil
}

// Free drops a reference.
func (h *HeapFrames) Free(frame uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.pages[frame]
	if f == nil {
		panic("mem: Free of a frame that is not allocated")
	}
	if f.refs--; f.refs == 0 {
		delete(h.pages, frame)
	}
}

// Bytes is the frame's memory.
func (h *HeapFrames) Bytes(frame uint64) *[PageSize]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return &h.pages[frame].data
}

// InUse is the number of frames allocated.
func (h *HeapFrames) InUse() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.pages)
}

// ErrBeyondEOF is returned by Pager.Page for a page wholly past the end
// of the file: an access there is a SIGBUS (BUS_ADRERR) on Linux.
var ErrBeyondEOF = errors.New("page beyond the end of the file")

// Pager is one mapping's view of a file's pages (its page cache): the
// frames a MAP_SHARED mapping maps, and a MAP_PRIVATE one maps until it
// writes a page.
type Pager interface {
	// Page returns the frame holding page i of the file, making it if
	// the file has none yet (a zero page for a hole), with a reference
	// for the caller. ErrBeyondEOF past the end of the file; an error
	// with ENOSPC or ENOMEM meaning when memory is exhausted.
	Page(i int64) (uint64, error)
	// Size is the file's size in bytes.
	Size() int64
	// Clone is another mapping of the same file (a mapping split in
	// two), whose pages leaving the file are reported to inv.
	Clone(inv func(from, to int64)) Pager
	// Unmap ends this mapping.
	Unmap()
	// Frames is where the pages live.
	Frames() Frames
	// Punch removes the pages with index in [from, to) from the file,
	// which then reads zeros there (MADV_REMOVE).
	Punch(from, to int64) error
}
