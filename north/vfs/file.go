package vfs

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// FileImpl is what one kind of open file does. Implementations embed
// FileDefaults and override what they support. No method blocks: one that
// would returns EAGAIN, and the caller waits for Readiness on Queue.
type FileImpl interface {
	// Read copies bytes at offset off into dst (stream files ignore off)
	// and returns how many it copied: 0 at end of file.
	Read(f *File, dst Buf, off int64) (int64, error)
	// Write copies src to the file at offset off (stream files ignore
	// off; files opened O_APPEND write at their end).
	Write(f *File, src Buf, off int64) (int64, error)
	// Stream reports a file without positions: lseek, pread and pwrite
	// fail with ESPIPE.
	Stream() bool
	// Seek returns the offset lseek(2) moves to from cur.
	Seek(f *File, cur, off int64, whence int) (int64, error)
	// Stat returns the file's attributes.
	Stat(f *File) Attr
	// Readiness returns which of mask the file is ready for now.
	Readiness(mask Events) Events
	// Queue returns the Queue that announces readiness changes, or nil for
	// a file whose readiness never changes (epoll refuses those, as Linux
	// refuses regular files).
	Queue() *Queue
	// Ioctl serves ioctl(2) requests; arguments are in m.
	Ioctl(f *File, m mem.Memory, cmd uint32, arg uint64) (int64, error)
	// Truncate sets the file's size (ftruncate(2)).
	Truncate(f *File, size int64) error
	// Release is called once, when the last descriptor for the file is
	// closed.
	Release(f *File)
}

// DirImpl is a FileImpl that lists a directory.
type DirImpl interface {
	// Dirents returns the directory's entries from position off on; each
	// entry's Off is the position after it.
	Dirents(f *File, off int64) ([]Dirent, error)
}

// Dirent is one directory entry.
type Dirent struct {
	Name string
	Ino  uint64
	Type uint8 // DT_* (linux.Dt...)
	Off  int64 // position of the next entry
}

// FileDefaults gives a FileImpl Linux's answers for operations a file
// does not support.
type FileDefaults struct{}

func (FileDefaults) Read(*File, Buf, int64) (int64, error)  { return 0, EINVAL }
func (FileDefaults) Write(*File, Buf, int64) (int64, error) { return 0, EINVAL }
func (FileDefaults) Stream() bool                           { return true }
func (FileDefaults) Seek(*File, int64, int64, int) (int64, error) {
	return 0, ESPIPE
}
func (FileDefaults) Readiness(mask Events) Events { return mask & EventsAlways }
func (FileDefaults) Queue() *Queue                { return nil }
func (FileDefaults) Ioctl(*File, mem.Memory, uint32, uint64) (int64, error) {
	return 0, ENOTTY
}
func (FileDefaults) Truncate(*File, int64) error { return EINVAL }
func (FileDefaults) Release(*File)               {}

// SeekIn is lseek(2) for a file of size bytes whose offset is cur: the
// usual whence values, and SEEK_DATA and SEEK_HOLE for a file without
// holes.
func SeekIn(cur, off int64, whence int, size int64) (int64, error) {
	var base int64
	switch whence {
	case linux.SeekSet:
	case linux.SeekCur:
		base = cur
	case linux.SeekEnd:
		base = size
	case linux.SeekData:
		if off < 0 || off >= size {
			return 0, ENXIO
		}
		return off, nil
	case linux.SeekHole:
		if off < 0 || off >= size {
			return 0, ENXIO
		}
		return size, nil
	default:
		return 0, EINVAL
	}
	n := base + off
	if (off > 0 && n < base) || n < 0 {
		return 0, EINVAL
	}
	return n, nil
}

// statusFlags are the open flags an open file keeps and F_GETFL reports:
// all but O_CREAT, O_EXCL, O_NOCTTY and O_TRUNC (fs/open.c
// do_dentry_open) and O_CLOEXEC, which is the descriptor's; O_NOFOLLOW
// and O_TMPFILE stay. setFlags are those F_SETFL may change
// (fs/fcntl.c SETFL_MASK).
const (
	statusFlags = linux.OAccmode | linux.OAppend | linux.ONonblock | linux.ODsync | linux.OSync |
		linux.OAsync | linux.ODirect | linux.OLargefile | linux.ONoatime | linux.OPath | linux.ODirectory |
		linux.ONofollow | linux.OTmpfile
	// O_ASYNC is not among them: SetAsync sets it, on files that
	// support it (fs/fcntl.c setfl).
	setFlags = linux.OAppend | linux.ODirect | linux.ONoatime | linux.ONonblock
)

// File is an open file description: what a descriptor refers to, shared
// by descriptors made by dup(2). It holds the offset and status flags.
type File struct {
	impl  FileImpl
	loc   Loc    // where it was opened; zero for pipes and the like
	name  string // what /proc/self/fd/N shows
	held  int8   // the access to loc it holds: holdAccess
	flags atomic.Uint32
	refs  atomic.Int64

	posMu sync.Mutex // serializes users of off, as Linux's f_pos_lock
	off   int64

	epMu    sync.Mutex // guards watches
	watches map[*epollEntry]struct{}

	own fown // F_SETOWN, F_SETSIG and O_ASYNC (async.go)
}

// NewFile returns an open file with one reference, for impl opened with
// flags (O_* access mode and status flags; others are dropped). name is
// what /proc/self/fd shows for it.
func NewFile(impl FileImpl, flags uint32, name string) *File {
	f := &File{impl: impl, name: name}
	f.flags.Store(flags & statusFlags)
	f.refs.Store(1)
	openFiles.Add(1)
	return f
}

// openFiles counts the open files of the system: made by NewFile and not
// yet released by their last DecRef (fs/file_table.c nr_files, which
// alloc_empty_file raises and file_free lowers).
var openFiles atomic.Int64

// OpenFiles returns how many files are open in the system, as the first
// field of /proc/sys/fs/file-nr tells (fs/file_table.c get_nr_files).
func OpenFiles() int64 { return openFiles.Load() }

// Impl returns what f is.
func (f *File) Impl() FileImpl { return f.impl }

// Loc returns where f was opened, or the zero Loc.
func (f *File) Loc() Loc { return f.loc }

// Name returns the path or description /proc/self/fd shows for f.
func (f *File) Name() string { return f.name }

// Spliceable reports whether sendfile(2) and splice(2) may move f's bytes.
// Linux's anonymous-inode files (eventfd, timerfd, epoll, pidfd:
// fs/anon_inodes.c and their file_operations) have neither splice_read nor
// splice_write, so do_splice_read and do_splice_from (fs/splice.c) refuse
// them with EINVAL.
func Spliceable(f *File) bool { return !strings.HasPrefix(f.name, "anon_inode:") }

// Flags returns f's access mode and status flags, as F_GETFL does.
func (f *File) Flags() uint32 { return f.flags.Load() }

// SetFlags changes the status flags F_SETFL may change.
func (f *File) SetFlags(flags uint32) {
	for {
		old := f.flags.Load()
		if f.flags.CompareAndSwap(old, old&^setFlags|flags&setFlags) {
			return
		}
	}
}

// MarkLargefile adds O_LARGEFILE to f's flags, as memfd_create does to
// the file shmem_file_setup made (mm/memfd.c).
func (f *File) MarkLargefile() {
	for {
		old := f.flags.Load()
		if f.flags.CompareAndSwap(old, old|linux.OLargefile) {
			return
		}
	}
}

// NonBlocking reports O_NONBLOCK.
func (f *File) NonBlocking() bool { return f.Flags()&linux.ONonblock != 0 }

// IncRef adds a reference (a new descriptor) to f.
func (f *File) IncRef() { f.refs.Add(1) }

// Refs returns how many references f has (file_count): the AF_UNIX
// garbage collector compares it with the references in flight.
func (f *File) Refs() int64 { return f.refs.Load() }

// DecRef drops a reference; the last one releases the file.
func (f *File) DecRef() {
	if f.refs.Add(-1) != 0 {
		return
	}
	f.epMu.Lock()
	ws := f.watches
	f.watches = nil
	f.epMu.Unlock()
	for e := range ws {
		e.ep.forget(e)
	}
	releaseFileLocks(f)
	f.stopAsync()
	if f.loc.n != nil && !f.IsPath() {
		// fs/file_table.c __fput: fsnotify_close before the release.
		if f.Writable() {
			notifyNode(f.loc.n, InCloseWrite)
		} else {
			notifyNode(f.loc.n, InCloseNowrite)
		}
	}
	f.impl.Release(f)
	if f.held != 0 {
		releaseAccess(f.loc.n, f.held)
	}
	notifyGone(f.loc.n)
	openFiles.Add(-1)
}

// Readable reports a file opened for reading.
func (f *File) Readable() bool {
	fl := f.Flags()
	return fl&linux.OPath == 0 && (fl&linux.OAccmode == linux.ORdonly || fl&linux.OAccmode == linux.ORdwr)
}

// Writable reports a file opened for writing.
func (f *File) Writable() bool {
	fl := f.Flags()
	return fl&linux.OPath == 0 && (fl&linux.OAccmode == linux.OWronly || fl&linux.OAccmode == linux.ORdwr)
}

// IsPath reports a file opened with O_PATH, good only as a directory
// descriptor and for fstat.
func (f *File) IsPath() bool { return f.Flags()&linux.OPath != 0 }

// Read reads into dst at f's offset (read(2), readv(2)).
func (f *File) Read(dst Buf) (int64, error) {
	if !f.Readable() {
		return 0, EBADF
	}
	if f.impl.Stream() {
		return f.notified(InAccess)(f.impl.Read(f, dst, 0))
	}
	f.posMu.Lock()
	defer f.posMu.Unlock()
	n, err := f.impl.Read(f, dst, f.off)
	f.off += n
	return f.notified(InAccess)(n, err)
}

// notified returns a function that passes on a read's or write's result,
// reporting event mask (IN_ACCESS, IN_MODIFY) to inotify if it moved
// bytes (fs/read_write.c: fsnotify_access and fsnotify_modify after a
// transfer); files without a place in a file system have no watchers.
func (f *File) notified(mask uint32) func(int64, error) (int64, error) {
	return func(n int64, err error) (int64, error) {
		if n > 0 && f.loc.n != nil {
			notifyNode(f.loc.n, mask)
		}
		return n, err
	}
}

// Write writes src at f's offset, or at the end for O_APPEND (write(2),
// writev(2)).
func (f *File) Write(src Buf) (int64, error) {
	return f.write(src, -1, f.Flags()&linux.OAppend != 0)
}

// WriteAppend is Write (off -1) or WriteAt (off >= 0) appending if app
// says so, whatever f's O_APPEND says: pwritev2(2)'s RWF_APPEND and
// RWF_NOAPPEND.
func (f *File) WriteAppend(src Buf, off int64, app bool) (int64, error) {
	if off < -1 {
		return 0, EINVAL
	}
	return f.write(src, off, app)
}

// write writes src at off, or at f's offset (moving it) if off is -1;
// at the end of the file if app.
func (f *File) write(src Buf, off int64, app bool) (int64, error) {
	return f.notified(InModify)(f.writeAt(src, off, app))
}

func (f *File) writeAt(src Buf, off int64, app bool) (int64, error) {
	if off >= 0 {
		if s, seq := f.impl.(seqWriter); f.impl.Stream() || seq && !s.seqWrite() {
			return 0, ESPIPE
		}
	}
	if !f.Writable() {
		return 0, EBADF
	}
	if f.impl.Stream() {
		return f.impl.Write(f, src, 0)
	}
	if off >= 0 {
		if app {
			off = f.impl.Stat(f).Size
		}
		return f.impl.Write(f, src, off)
	}
	f.posMu.Lock()
	defer f.posMu.Unlock()
	off = f.off
	if app {
		off = f.impl.Stat(f).Size
	}
	n, err := f.impl.Write(f, src, off)
	if _, seq := f.impl.(seqWriter); n > 0 && !seq {
		f.off = off + n
	}
	return n, err
}

// seqWriter is a file whose writes ignore the offset, as the write
// operations of Linux's seq_file files do: write leaves it alone and
// pwrite fails with ESPIPE, unless seqWrite says the file takes pwrite
// (a /proc file that is no seq_file but ignores the offset).
type seqWriter interface{ seqWrite() (pwrite bool) }

// ReadAt reads into dst at off without moving f's offset (pread(2)).
func (f *File) ReadAt(dst Buf, off int64) (int64, error) {
	if off < 0 {
		return 0, EINVAL
	}
	if f.impl.Stream() {
		return 0, ESPIPE
	}
	if !f.Readable() {
		return 0, EBADF
	}
	return f.notified(InAccess)(f.impl.Read(f, dst, off))
}

// WriteAt writes src at off without moving f's offset (pwrite(2); Linux
// appends even here when the file is O_APPEND).
func (f *File) WriteAt(src Buf, off int64) (int64, error) {
	if off < 0 {
		return 0, EINVAL
	}
	return f.write(src, off, f.Flags()&linux.OAppend != 0)
}

// Seek moves f's offset (lseek(2)).
func (f *File) Seek(off int64, whence int) (int64, error) {
	if f.IsPath() {
		return 0, EBADF
	}
	if whence < linux.SeekSet || whence > linux.SeekHole {
		return 0, EINVAL
	}
	f.posMu.Lock()
	defer f.posMu.Unlock()
	n, err := f.impl.Seek(f, f.off, off, whence)
	if err != nil {
		return 0, err
	}
	f.off = n
	return n, nil
}

// Offset returns f's offset.
func (f *File) Offset() int64 {
	f.posMu.Lock()
	defer f.posMu.Unlock()
	return f.off
}

// Stat returns f's attributes (fstat(2)).
func (f *File) Stat() Attr { return f.impl.Stat(f) }

// Truncate sets f's size (ftruncate(2)).
func (f *File) Truncate(size int64) error {
	if !f.Writable() {
		if f.IsPath() {
			return EBADF
		}
		return EINVAL
	}
	if size < 0 {
		return EINVAL
	}
	if err := f.impl.Truncate(f, size); err != nil {
		return err
	}
	notifyNode(f.loc.n, InModify) // do_truncate's ATTR_SIZE (fsnotify_change)
	return nil
}

// Ioctl serves ioctl(2) for f.
func (f *File) Ioctl(m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	if f.IsPath() {
		return 0, EBADF
	}
	return f.impl.Ioctl(f, m, cmd, arg)
}

// Readiness returns which of mask f is ready for; an O_PATH file is never
// ready (Linux reports POLLNVAL for it).
func (f *File) Readiness(mask Events) Events { return f.impl.Readiness(mask) }

// Queue returns the Queue announcing f's readiness, or nil.
func (f *File) Queue() *Queue { return f.impl.Queue() }

// Getdents passes f's directory entries from its offset on to fit, which
// returns false for an entry that does not fit; f's offset moves past the
// entries fit accepted (getdents64(2)).
func (f *File) Getdents(fit func(Dirent) bool) error {
	if f.IsPath() {
		return EBADF
	}
	d, ok := f.impl.(DirImpl)
	if !ok {
		return ENOTDIR
	}
	f.posMu.Lock()
	defer f.posMu.Unlock()
	ents, err := d.Dirents(f, f.off)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !fit(e) {
			break
		}
		f.off = e.Off
	}
	notifyNode(f.loc.n, InAccess) // fs/readdir.c iterate_dir
	return nil
}
