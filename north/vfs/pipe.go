package vfs

import (
	"encoding/binary"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Pipe sizes (pipe(7)): the default capacity, and the most F_SETPIPE_SZ
// allows (/proc/sys/fs/pipe-max-size).
const (
	PipeSize    = 64 << 10
	PipeMaxSize = 1 << 20
)

// Device numbers of the anonymous file systems: pipefs, and the anonymous
// inode that eventfds and epoll instances share.
var (
	pipeDev  = linux.Mkdev(0, 12)
	anonDev  = linux.Mkdev(0, 13)
	pipeInos atomic.Uint64
)

// anonIno is the inode number of Linux's single anonymous inode stand-in.
const anonIno = 1

// pipe is the buffer between the ends of a pipe (pipe(7)): a ring of
// bytes.
type pipe struct {
	q     Queue
	ino   uint64
	ctime int64

	mu      sync.Mutex // guards the fields below
	ring    []byte     // allocated on first write
	size    int        // capacity
	start   int        // index of the first unread byte
	n       int        // unread bytes
	readers int        // open read ends
	writers int        // open write ends
	// Named FIFOs: how often each side was ever opened (fifo.go).
	readerOpens, writerOpens uint64
}

// NewPipe returns the read and write ends of a new pipe (pipe2(2)); flags
// may hold O_NONBLOCK.
func NewPipe(flags uint32) (r, w *File) {
	p := &pipe{ino: pipeInos.Add(1), ctime: time.Now().UnixNano(), size: PipeSize, readers: 1, writers: 1}
	flags &= linux.ONonblock
	r = NewFile(&pipeEnd{p: p}, linux.ORdonly|flags, p.name())
	w = NewFile(&pipeEnd{p: p, write: true}, linux.OWronly|flags, p.name())
	return r, w
}

// name is what /proc/PID/fd shows for an end of an anonymous pipe.
func (p *pipe) name() string { return "pipe:[" + strconv.FormatUint(p.ino, 10) + "]" }

// pipeNode is an anonymous pipe reached through /proc/PID/fd/N, which
// Linux lets a process open again (bash's process substitution opens
// /dev/fd/63): a new read or write end of the same pipe (fs/pipe.c
// fifo_open on the pipefs inode). Unlike Linux, an open for reading does
// not wait for a writer, and O_RDWR fails with ENXIO.
type pipeNode struct{ p *pipe }

func (n pipeNode) fileType() uint32 { return linux.SIfifo }

func (n pipeNode) attr() Attr {
	return (&pipeEnd{p: n.p}).Stat(nil)
}

func (n pipeNode) open(_ *ctx, _ Loc, flags uint32) (FileImpl, error) {
	p := n.p
	p.mu.Lock()
	defer p.mu.Unlock()
	switch flags & linux.OAccmode {
	case linux.ORdonly:
		p.readers++
		return &pipeEnd{p: p}, nil
	case linux.OWronly:
		p.writers++
		return &pipeEnd{p: p, write: true}, nil
	}
	return nil, ENXIO
}

// segments returns the ring's bytes from index off for n bytes, in at most
// two pieces. Called with p.mu held.
func (p *pipe) segments(off, n int) ([]byte, []byte) {
	off %= p.size
	if off+n <= p.size {
		return p.ring[off : off+n], nil
	}
	return p.ring[off:], p.ring[:n-(p.size-off)]
}

func (p *pipe) read(dst Buf) (int64, error) {
	if dst.Len() == 0 {
		return 0, nil
	}
	p.mu.Lock()
	if p.n == 0 {
		defer p.mu.Unlock()
		if p.writers == 0 {
			return 0, nil
		}
		return 0, EAGAIN
	}
	want := int(min(dst.Len(), int64(p.n)))
	a, b := p.segments(p.start, want)
	c, err := dst.CopyOut(a)
	if err == nil && len(b) > 0 {
		var c2 int
		c2, err = dst.DropFirst(int64(c)).CopyOut(b)
		c += c2
	}
	p.start = (p.start + c) % p.size
	p.n -= c
	p.mu.Unlock()
	if c == 0 && err != nil {
		return 0, EFAULT
	}
	p.q.Notify(EventOut | EventWrNorm)
	return int64(c), nil
}

func (p *pipe) write(src Buf) (int64, error) {
	if src.Len() == 0 {
		return 0, nil
	}
	p.mu.Lock()
	if p.readers == 0 {
		p.mu.Unlock()
		return 0, EPIPE
	}
	free := p.size - p.n
	want := src.Len()
	// Writes of up to PIPE_BUF bytes are atomic: all or nothing.
	if free == 0 || (want <= linux.PipeBuf && int64(free) < want) {
		p.mu.Unlock()
		return 0, EAGAIN
	}
	if p.ring == nil {
		if mem.BuffersShort() {
			p.mu.Unlock()
			return 0, ENOMEM // pipe_write: alloc_page failed
		}
		p.ring = make([]byte, p.size)
	}
	k := int(min(want, int64(free)))
	a, b := p.segments(p.start+p.n, k)
	c, err := src.CopyIn(a)
	if err == nil && len(b) > 0 {
		var c2 int
		c2, err = src.DropFirst(int64(c)).CopyIn(b)
		c += c2
	}
	p.n += c
	p.mu.Unlock()
	if c == 0 && err != nil {
		return 0, EFAULT
	}
	p.q.Notify(EventIn | EventRdNorm)
	return int64(c), nil
}

// resize sets the capacity (F_SETPIPE_SZ): at least a page, rounded up to
// a power of two.
func (p *pipe) resize(size int64) (int64, error) {
	if size > PipeMaxSize {
		return 0, EPERM
	}
	n := pageSize
	for int64(n) < size {
		n <<= 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n < p.n {
		return 0, EBUSY
	}
	if p.ring != nil {
		if n > p.size && mem.BuffersShort() {
			return 0, ENOMEM // pipe_resize_ring: kcalloc failed
		}
		ring := make([]byte, n)
		a, b := p.segments(p.start, p.n)
		copy(ring[copy(ring, a):], b)
		p.ring, p.start = ring, 0
	}
	p.size = n
	return int64(n), nil
}

// pipeEnd is one end of a pipe.
type pipeEnd struct {
	FileDefaults
	p     *pipe
	write bool
}

func (e *pipeEnd) Read(_ *File, dst Buf, _ int64) (int64, error)  { return e.p.read(dst) }
func (e *pipeEnd) Write(_ *File, src Buf, _ int64) (int64, error) { return e.p.write(src) }
func (e *pipeEnd) Queue() *Queue                                  { return &e.p.q }

func (e *pipeEnd) Readiness(mask Events) Events {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var ev Events
	if e.write {
		if p.size-p.n >= min(linux.PipeBuf, p.size) {
			ev |= EventOut | EventWrNorm
		}
		if p.readers == 0 {
			ev |= EventErr
		}
	} else {
		if p.n > 0 {
			ev |= EventIn | EventRdNorm
		}
		if p.writers == 0 {
			ev |= EventHup
		}
	}
	return ev & mask
}

func (e *pipeEnd) Stat(*File) Attr {
	return Attr{
		Dev: pipeDev, Ino: e.p.ino, Mode: linux.SIfifo | 0o600, Nlink: 1,
		Atime: e.p.ctime, Mtime: e.p.ctime, Ctime: e.p.ctime,
	}
}

func (e *pipeEnd) Ioctl(_ *File, m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	return e.p.ioctl(m, cmd, arg)
}

// ioctl answers FIONREAD: the unread bytes.
func (p *pipe) ioctl(m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	if cmd != linux.FIONREAD {
		return 0, ENOTTY
	}
	p.mu.Lock()
	n := p.n
	p.mu.Unlock()
	return 0, copyOut(m, arg, binary.LittleEndian.AppendUint32(nil, uint32(n)))
}

func (e *pipeEnd) Release(*File) {
	p := e.p
	p.mu.Lock()
	if e.write {
		p.writers--
	} else {
		p.readers--
	}
	p.mu.Unlock()
	p.q.Notify(EventIn | EventOut | EventHup | EventErr)
}

// pipeOf returns the pipe f is an end of: an anonymous pipe or a named
// FIFO; nil for other files.
func pipeOf(f *File) *pipe {
	switch e := f.impl.(type) {
	case *pipeEnd:
		return e.p
	case *fifoEnd:
		return e.p
	}
	return nil
}

// PipeSizeOf returns the capacity of the pipe or FIFO f is an end of
// (F_GETPIPE_SZ), EBADF if f is neither.
func PipeSizeOf(f *File) (int64, error) {
	p := pipeOf(f)
	if p == nil {
		return 0, EBADF
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return int64(p.size), nil
}

// SetPipeSize sets the capacity of the pipe or FIFO f is an end of
// (F_SETPIPE_SZ) and returns the capacity set.
func SetPipeSize(f *File, size int64) (int64, error) {
	p := pipeOf(f)
	if p == nil {
		return 0, EBADF
	}
	return p.resize(size)
}
