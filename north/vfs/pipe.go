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
// allows without CAP_SYS_RESOURCE (/proc/sys/fs/pipe-max-size); the
// pages of pipe buffers a user's pipes may have before an unprivileged
// user's new pipes get pipeMinSlots pages and F_SETPIPE_SZ may not grow
// them (/proc/sys/fs/pipe-user-pages-soft, PIPE_DEF_BUFFERS *
// INR_OPEN_CUR), and past which they could not be made (-hard, 0: no
// such limit).
const (
	PipeSize          = 64 << 10
	PipeMaxSize       = 1 << 20
	PipeUserPagesSoft = 16 * 1024
	PipeUserPagesHard = 0
	pipeMinSlots      = 2 // PIPE_MIN_DEF_BUFFERS
	pipeMaxRound      = 1 << 31
)

// pipeUsers counts the pages of pipe buffers each user's pipes have
// (user_struct pipe_bufs, fs/pipe.c account_pipe_buffers): a pipe's
// capacity in pages, charged to the real user ID of the process that
// made it, from then until it goes.
var pipeUsers struct {
	mu    sync.Mutex
	pages map[uint32]int
}

// accountPipe moves the pages a pipe of user uid has from old to new and
// returns the user's total.
func accountPipe(uid uint32, old, new int) int {
	pipeUsers.mu.Lock()
	defer pipeUsers.mu.Unlock()
	if pipeUsers.pages == nil {
		pipeUsers.pages = map[uint32]int{}
	}
	t := pipeUsers.pages[uid] + new - old
	if t == 0 {
		delete(pipeUsers.pages, uid)
	} else {
		pipeUsers.pages[uid] = t
	}
	return t
}

// pipeCred is who makes or resizes a pipe, as fs/pipe.c sees it: the real
// user ID its pages are charged to, and whether CAP_SYS_RESOURCE and
// CAP_SYS_ADMIN are effective. A process that tells no credentials is
// root with every capability.
type pipeCred struct {
	uid             uint32
	resource, admin bool
}

func pipeCredOf(p Process) pipeCred {
	s, ok := p.(interface{ CredSource() CredSource })
	if !ok || s.CredSource() == nil {
		return pipeCred{resource: true, admin: true}
	}
	src := s.CredSource()
	uid, _, _, _ := src.FileCred(true)
	_, _, _, caps := src.FileCred(false)
	return pipeCred{uid: uid, resource: caps&(1<<capSysResource) != 0, admin: caps&(1<<capSysAdmin) != 0}
}

// unprivileged is fs/pipe.c pipe_is_unprivileged_user.
func (c pipeCred) unprivileged() bool { return !c.resource && !c.admin }

func tooManyPipePages(total int) bool {
	return PipeUserPagesSoft != 0 && total > PipeUserPagesSoft
}

func tooManyPipePagesHard(total int) bool {
	return PipeUserPagesHard != 0 && total > PipeUserPagesHard
}

// newPipe makes the buffer of a pipe or FIFO for c (fs/pipe.c
// alloc_pipe_info): PipeSize, charged to c's user; a page-limited one
// for an unprivileged user over the soft limit. nil past the hard limit.
func newPipe(c pipeCred) *pipe {
	slots := PipeSize / pageSize
	total := accountPipe(c.uid, 0, slots)
	if tooManyPipePages(total) && c.unprivileged() {
		total = accountPipe(c.uid, slots, pipeMinSlots)
		slots = pipeMinSlots
	}
	if tooManyPipePagesHard(total) && c.unprivileged() {
		accountPipe(c.uid, slots, 0)
		return nil
	}
	return &pipe{ino: pipeInos.Add(1), ctime: time.Now().UnixNano(), size: slots * pageSize, uid: c.uid, slots: slots}
}

// free gives back the pages the pipe was charged, when its last end
// closes (free_pipe_info). Called with p.mu held.
func (p *pipe) free() {
	if p.slots != 0 {
		accountPipe(p.uid, p.slots, 0)
		p.slots = 0
	}
	p.unlistIdle()
	p.ring, p.start = nil, 0
}

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
	ring    []byte     // grown as data needs it, up to size (ensure)
	size    int        // capacity
	uid     uint32     // whose pages (pipeUsers)
	slots   int        // the pages charged: the capacity in pages, 0 once freed
	idle    bool       // listed in idleRings
	start   int        // index of the first unread byte
	n       int        // unread bytes
	readers int        // open read ends
	writers int        // open write ends
	// Named FIFOs: how often each side was ever opened (fifo.go).
	readerOpens, writerOpens uint64
}

// NewPipe returns the read and write ends of a new pipe (pipe2(2)) that
// process pr makes; flags may hold O_NONBLOCK. ENFILE if pr's user may
// have no more pipe pages (pipe-user-pages-hard).
func NewPipe(pr Process, flags uint32) (r, w *File, err error) {
	p := newPipe(pipeCredOf(pr))
	if p == nil {
		return nil, nil, ENFILE // get_pipe_inode failed
	}
	p.readers, p.writers = 1, 1
	flags &= linux.ONonblock
	r = NewFile(&pipeEnd{p: p}, linux.ORdonly|flags, p.name())
	w = NewFile(&pipeEnd{p: p, write: true}, linux.OWronly|flags, p.name())
	return r, w, nil
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
	size := len(p.ring)
	if size == 0 {
		return nil, nil
	}
	off %= size
	if off+n <= size {
		return p.ring[off : off+n], nil
	}
	return p.ring[off:], p.ring[:n-(size-off)]
}

// consume takes n read bytes off the front. An emptied ring larger than
// a page stays for the next write, but is listed in idleRings for
// ReclaimPipeRings: Linux frees a pipe's pages once read (but one,
// tmp_page), so idle pipes hold little. Called with p.mu held.
func (p *pipe) consume(n int) {
	p.n -= n
	if p.n != 0 {
		p.start = (p.start + n) % len(p.ring)
		return
	}
	p.start = 0
	if len(p.ring) > pageSize && !p.idle {
		p.idle = true
		idleRings.mu.Lock()
		if idleRings.set == nil {
			idleRings.set = map[*pipe]struct{}{}
		}
		idleRings.set[p] = struct{}{}
		idleRings.mu.Unlock()
	}
}

// idleRings are the pipes that were emptied with a ring larger than a
// page (pipe.idle), maybe empty still. Lock order: pipe.mu, then this.
var idleRings struct {
	mu  sync.Mutex
	set map[*pipe]struct{}
}

// unlistIdle takes p off idleRings. Called with p.mu held.
func (p *pipe) unlistIdle() {
	if p.idle {
		p.idle = false
		idleRings.mu.Lock()
		delete(idleRings.set, p)
		idleRings.mu.Unlock()
	}
}

// ReclaimPipeRings frees the rings of the pipes that are empty but one
// page of each (a shrinker the kernel runs when its memory runs short,
// before it takes memory from anyone) and returns the bytes freed.
func ReclaimPipeRings() int64 {
	idleRings.mu.Lock()
	ps := make([]*pipe, 0, len(idleRings.set))
	for p := range idleRings.set {
		ps = append(ps, p)
	}
	idleRings.mu.Unlock()
	var freed int64
	for _, p := range ps {
		if !p.mu.TryLock() {
			continue // in use: not idle
		}
		if p.n == 0 && len(p.ring) > pageSize {
			// One page stays, as Linux's tmp_page does: a small write
			// to the pipe later needs no new memory (a write that
			// needed a whole ring again could fail ENOMEM under the
			// pressure that ran this shrinker, where Linux's does not).
			freed += int64(len(p.ring) - pageSize)
			p.ring, p.start = make([]byte, pageSize), 0
		}
		p.unlistIdle()
		p.mu.Unlock()
	}
	return freed
}

// ensure makes room in the ring for k more bytes (p.n+k <= p.size),
// growing it in powers of two from PipeSize toward the capacity: Linux
// takes a pipe's pages as writes fill them (pipe_write's alloc_page), so
// a pipe that holds little takes little, whatever its capacity. false
// when the ring would not fit above the line data buffers stop at
// (mem.BuffersFit, mem.BuffersShort's). Called with p.mu held.
func (p *pipe) ensure(k int) bool {
	need := p.n + k
	if need <= len(p.ring) {
		return true
	}
	n := max(len(p.ring), PipeSize)
	for n < need {
		n <<= 1
	}
	n = min(n, p.size)
	if !mem.BuffersFit(int64(n - len(p.ring))) {
		return false
	}
	p.regrow(n)
	return true
}

// regrow moves the unread bytes to a ring of n bytes (n >= p.n). Called
// with p.mu held.
func (p *pipe) regrow(n int) {
	ring := make([]byte, n)
	a, b := p.segments(p.start, p.n)
	copy(ring[copy(ring, a):], b)
	p.ring, p.start = ring, 0
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
	p.consume(c)
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
	k := int(min(want, int64(free)))
	if !p.ensure(k) {
		// What the ring has room for already, else pipe_write's
		// alloc_page failed.
		room := len(p.ring) - p.n
		if room == 0 || (want <= linux.PipeBuf && int64(room) < want) {
			p.mu.Unlock()
			return 0, ENOMEM
		}
		k = min(k, room)
	}
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

// resize sets the capacity (F_SETPIPE_SZ, fs/pipe.c pipe_set_size) for
// c: at least a page, rounded up to a power of two, EINVAL past 2 GiB;
// growing past PipeMaxSize takes CAP_SYS_RESOURCE, and growing while the
// user's pipes are over pipe-user-pages-soft (this one's new size
// counted) CAP_SYS_RESOURCE or CAP_SYS_ADMIN (EPERM); EBUSY below what
// the pipe holds. The ring's memory is taken as data comes (ensure).
func (p *pipe) resize(c pipeCred, size int64) (int64, error) {
	if size > pipeMaxRound {
		return 0, EINVAL // round_pipe_size: 0 slots
	}
	n := pageSize
	for int64(n) < size {
		n <<= 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n > p.size && n > PipeMaxSize && !c.resource {
		return 0, EPERM
	}
	slots := n / pageSize
	total := accountPipe(p.uid, p.slots, slots)
	if n > p.size && (tooManyPipePagesHard(total) || tooManyPipePages(total)) && c.unprivileged() {
		accountPipe(p.uid, slots, p.slots)
		return 0, EPERM
	}
	if n < p.n {
		accountPipe(p.uid, slots, p.slots)
		return 0, EBUSY // pipe_resize_ring: fewer slots than in use
	}
	if len(p.ring) > n {
		p.regrow(n)
	}
	p.size, p.slots = n, slots
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
	if p.readers == 0 && p.writers == 0 {
		p.free()
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
// (F_SETPIPE_SZ) for process pr and returns the capacity set.
func SetPipeSize(pr Process, f *File, size int64) (int64, error) {
	p := pipeOf(f)
	if p == nil {
		return 0, EBADF
	}
	return p.resize(pipeCredOf(pr), size)
}
