package vfs

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Named FIFOs (fifo(7)). A FIFO of a memFS is a pipe while it is open:
// the node holds the pipe from the first open until the last end closes,
// when the unread bytes go too (Linux's free_pipe_info). Opens follow
// fifo_open in Linux's fs/pipe.c:
//
//   - O_RDONLY succeeds at once; without O_NONBLOCK the open then waits
//     until a writer has opened the FIFO (FIFOWaiting). A non-blocking
//     reader without a writer reads end of file and sees no EPOLLHUP until
//     a writer has come.
//   - O_WRONLY fails with ENXIO under O_NONBLOCK if there is no reader;
//     otherwise it succeeds, and without O_NONBLOCK waits for a reader.
//   - O_RDWR is both ends at once and never waits.
//
// "Has opened" counts opens, not open ends (r_counter and w_counter): a
// partner that opened and closed again still ends the wait.

// fifoEnd is an open named FIFO.
type fifoEnd struct {
	FileDefaults
	n           *memNode
	loc         Loc
	p           *pipe
	read, write bool
	// waitFor is the partner's open count when this end opened without
	// a partner present: the open waits until the count moves on.
	waiting bool
	waitFor uint64
	// A reader opened with O_NONBLOCK and no writer reports no EPOLLHUP
	// while the writers' open count is still hupAfter (f_version).
	hupGuard bool
	hupAfter uint64
}

// openFIFO opens n, a FIFO, with open(2) flags for c's process; the
// first open makes its buffer, charged to that process's user
// (fs/pipe.c fifo_open).
func (n *memNode) openFIFO(c *ctx, l Loc, flags uint32) (FileImpl, error) {
	n.mu.Lock()
	p := n.fifo
	if p == nil {
		if p = newPipe(pipeCredOf(c.p)); p == nil {
			n.mu.Unlock()
			return nil, ENOMEM // alloc_pipe_info failed
		}
	}
	e := &fifoEnd{n: n, loc: l, p: p}
	nonblock := flags&linux.ONonblock != 0
	p.mu.Lock()
	switch flags & linux.OAccmode {
	case linux.ORdonly:
		e.read = true
		p.readers++
		p.readerOpens++
		if p.writers == 0 {
			if nonblock {
				e.hupGuard, e.hupAfter = true, p.writerOpens
			} else {
				e.waiting, e.waitFor = true, p.writerOpens
			}
		}
	case linux.OWronly:
		if nonblock && p.readers == 0 {
			if n.fifo == nil {
				p.free()
			}
			p.mu.Unlock()
			n.mu.Unlock()
			return nil, ENXIO
		}
		e.write = true
		p.writers++
		p.writerOpens++
		if p.readers == 0 {
			e.waiting, e.waitFor = true, p.readerOpens
		}
	case linux.ORdwr:
		e.read, e.write = true, true
		p.readers++
		p.writers++
		p.readerOpens++
		p.writerOpens++
	default:
		if n.fifo == nil {
			p.free()
		}
		p.mu.Unlock()
		n.mu.Unlock()
		return nil, EINVAL
	}
	p.mu.Unlock()
	n.fifo = p
	n.mu.Unlock()
	// Wake ends waiting in open for this one, and readers' pollers.
	p.q.Notify(EventIn | EventOut | EventHup | EventErr)
	return e, nil
}

// Read and Write are the pipe's; File checks the access mode first.
func (e *fifoEnd) Read(_ *File, dst Buf, _ int64) (int64, error)  { return e.p.read(dst) }
func (e *fifoEnd) Write(_ *File, src Buf, _ int64) (int64, error) { return e.p.write(src) }

func (e *fifoEnd) Queue() *Queue   { return &e.p.q }
func (e *fifoEnd) Stat(*File) Attr { return e.loc.Attr() }

func (e *fifoEnd) Ioctl(_ *File, m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	return e.p.ioctl(m, cmd, arg)
}

// Readiness is pipe_poll's answer for the end's modes.
func (e *fifoEnd) Readiness(mask Events) Events {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var ev Events
	if e.read {
		if p.n > 0 {
			ev |= EventIn | EventRdNorm
		}
		if p.writers == 0 && !(e.hupGuard && p.writerOpens == e.hupAfter) {
			ev |= EventHup
		}
	}
	if e.write {
		if p.size-p.n >= min(linux.PipeBuf, p.size) {
			ev |= EventOut | EventWrNorm
		}
		if p.readers == 0 {
			ev |= EventErr
		}
	}
	return ev & mask
}

func (e *fifoEnd) Release(*File) {
	n, p := e.n, e.p
	n.mu.Lock()
	p.mu.Lock()
	if e.read {
		p.readers--
	}
	if e.write {
		p.writers--
	}
	if p.readers == 0 && p.writers == 0 {
		if n.fifo == p {
			n.fifo = nil
		}
		p.free()
	}
	p.mu.Unlock()
	n.mu.Unlock()
	p.q.Notify(EventIn | EventOut | EventHup | EventErr)
}

// waitingForPartner reports whether the end still waits in open.
func (e *fifoEnd) waitingForPartner() bool {
	if !e.waiting {
		return false
	}
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.read {
		return p.writerOpens == e.waitFor
	}
	return p.readerOpens == e.waitFor
}

// FIFOWaiting reports whether f is a named FIFO opened for reading only
// or writing only, without O_NONBLOCK, whose other side nobody has opened
// since: open(2) does not return such a file until someone has. f's Queue
// announces EventIn|EventOut at every open of the FIFO.
func FIFOWaiting(f *File) bool {
	e, ok := f.impl.(*fifoEnd)
	return ok && e.waitingForPartner()
}
