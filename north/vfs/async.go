package vfs

import (
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// Signal-driven I/O (fcntl(2) F_SETOWN, F_SETSIG, O_ASYNC; fs/fcntl.c).
// An open file description has an owner, a process, thread or process
// group, and a signal; with O_ASYNC set on a pipe, FIFO or socket, each
// event Linux reports with kill_fasync (data written for a reader, data
// read for a pipe's writer, an end closed) sends the owner that signal.
// Other files take O_ASYNC and never signal, as Linux's files without a
// fasync operation.

// Owner kinds (F_OWNER_*, include/uapi/asm-generic/fcntl.h).
const (
	OwnerTID  = 0
	OwnerPID  = 1
	OwnerPGRP = 2
)

// Reasons an event is signalled for (si_code, include/uapi/asm-generic/
// siginfo.h) and their si_band (fs/fcntl.c band_table).
const (
	PollIn     = 1
	PollOut    = 2
	pollInBand = linux.EpollIn | linux.EpollRdnorm
	// EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND
	pollOutBand = linux.EpollOut | linux.EpollWrnorm | 0x200
)

// fown is a file's owner and signal (struct fown_struct) and its O_ASYNC
// subscription.
type fown struct {
	mu   sync.Mutex
	kind int
	id   int32
	sig  int
	q    *Queue
	sub  *Subscription
}

// Owner returns the owner F_SETOWN or F_SETOWN_EX set: its kind and ID
// (OwnerTID and 0 when none was ever set).
func (f *File) Owner() (kind int, id int32) {
	f.own.mu.Lock()
	defer f.own.mu.Unlock()
	return f.own.kind, f.own.id
}

// SetOwner sets the owner; ID 0 means none.
func (f *File) SetOwner(kind int, id int32) {
	f.own.mu.Lock()
	f.own.kind, f.own.id = kind, id
	f.own.mu.Unlock()
}

// IOSignal is F_GETSIG: the signal sent for events, 0 for SIGIO without
// event information.
func (f *File) IOSignal() int {
	f.own.mu.Lock()
	defer f.own.mu.Unlock()
	return f.own.sig
}

// SetIOSignal is F_SETSIG.
func (f *File) SetIOSignal(sig int) {
	f.own.mu.Lock()
	f.own.sig = sig
	f.own.mu.Unlock()
}

// SetAsync starts (send non-nil) or stops signal-driven I/O for f and
// sets or clears O_ASYNC with it: send is called with the reason and
// band of each event, on the goroutine that caused it. Only pipes, FIFOs
// and sockets have events to send; on other files O_ASYNC does not stay
// set, as Linux's fasync operation alone sets it.
func (f *File) SetAsync(send func(reason int32, band int64)) {
	f.own.mu.Lock()
	defer f.own.mu.Unlock()
	if f.own.sub != nil {
		f.own.q.Unsubscribe(f.own.sub)
		f.own.q, f.own.sub = nil, nil
	}
	f.setFlag(linux.OAsync, false)
	if send == nil {
		return
	}
	typ := f.Stat().Mode & linux.SIfmt
	q := f.Queue()
	if q == nil || typ != linux.SIfifo && typ != linux.SIfsock {
		return
	}
	f.setFlag(linux.OAsync, true)
	var mask Events
	if f.Readable() {
		mask |= EventIn
	}
	if f.Writable() && typ == linux.SIfifo {
		// A socket's writer hears of space only after it ran out
		// (SOCK_NOSPACE), which Cocoon does not track.
		mask |= EventOut
	}
	f.own.q = q
	f.own.sub = q.Subscribe(mask, func(ev Events) {
		if ev&EventIn != 0 && mask&EventIn != 0 {
			send(PollIn, pollInBand)
		}
		if ev&EventOut != 0 && mask&EventOut != 0 {
			send(PollOut, pollOutBand)
		}
	})
}

// stopAsync ends f's O_ASYNC subscription when it is released.
func (f *File) stopAsync() { f.SetAsync(nil) }

// setFlag sets or clears status flag bit.
func (f *File) setFlag(bit uint32, on bool) {
	for {
		old := f.flags.Load()
		nw := old &^ bit
		if on {
			nw |= bit
		}
		if f.flags.CompareAndSwap(old, nw) {
			return
		}
	}
}
