// Package fdtable is the file half of Cocoon's Linux personality: a
// process's descriptor table, and Files, whose methods are the system
// calls on files, directories, pipes, eventfds, epoll and poll. Each takes
// the raw system-call arguments, with the application's memory, and
// returns what Linux returns: a result, or a negated errno.
//
// Arguments typed int32 or uint32 are C ints: pass the low half of the
// register (int32(a0)), as Linux ignores the high half.
package fdtable

import (
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/north/vfs"
)

// DefaultLimit is the default RLIMIT_NOFILE soft limit.
const DefaultLimit = 1024

// MaxLimit is the largest limit SetLimit accepts (fs.nr_open's default).
const MaxLimit = 1 << 20

// Table maps descriptors to open files. It is safe for concurrent use.
type Table struct {
	mu   sync.Mutex
	ents []entry // by descriptor; nil f when free
	// size is Linux's fdtable max_fds: how many descriptors the table
	// has room for. It never shrinks, grows as descriptors are installed
	// past it and is inherited by fork from the highest open descriptor
	// (fs/file.c); select(2) looks at no descriptor past it.
	size int
	// users counts the tasks using the table (files_struct's count):
	// the last to let go closes its descriptors. The table itself owns
	// the POSIX record locks taken through its descriptors, as a
	// files_struct does: closing any descriptor of a file, however it
	// is closed, drops them (fs/open.c filp_close, locks_remove_posix).
	users atomic.Int32
}

type entry struct {
	f       *vfs.File
	cloexec bool
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{size: minSize} }

// minSize is the room of a new table: NR_OPEN_DEFAULT, BITS_PER_LONG
// descriptors (include/linux/fdtable.h), embedded in files_struct.
const minSize = 64

// roomFor returns the size Linux gives a table that must hold n
// descriptors: the embedded minSize, else the smallest power of two not
// below n (fs/file.c alloc_fdtable, 64-bit).
func roomFor(n int) int {
	size := minSize
	for size < n {
		size *= 2
	}
	return size
}

// Size returns the table's room (max_fds): select(2) ignores descriptors
// at or past it.
func (t *Table) Size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.size
}

// Get returns the file open as fd with a new reference, which the caller
// must drop with DecRef; ok is false if fd is not open.
func (t *Table) Get(fd int32) (f *vfs.File, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.ents) || t.ents[fd].f == nil {
		return nil, false
	}
	f = t.ents[fd].f
	f.IncRef()
	return f, true
}

// peek returns the file open as fd without a new reference.
func (t *Table) peek(fd int32) *vfs.File {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.ents) {
		return nil
	}
	return t.ents[fd].f
}

// Install puts f, whose reference the table takes over, at the lowest
// free descriptor not below min. It fails with EMFILE when there is none
// below limit (the caller's RLIMIT_NOFILE).
func (t *Table) Install(f *vfs.File, min int32, limit int, cloexec bool) (int32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if min < 0 {
		min = 0
	}
	fd := int(min)
	for ; fd < len(t.ents) && t.ents[fd].f != nil; fd++ {
	}
	if fd >= limit {
		return -1, vfs.EMFILE
	}
	for fd >= len(t.ents) {
		t.ents = append(t.ents, entry{})
	}
	t.ents[fd] = entry{f, cloexec}
	t.size = max(t.size, roomFor(fd+1))
	return int32(fd), nil
}

// InstallAt puts f, whose reference the table takes over, at fd, closing
// what was there (dup2(2)). EBADF if fd is not below limit (the caller's
// RLIMIT_NOFILE).
func (t *Table) InstallAt(fd int32, f *vfs.File, limit int, cloexec bool) error {
	t.mu.Lock()
	if fd < 0 || int(fd) >= limit {
		t.mu.Unlock()
		return vfs.EBADF
	}
	for int(fd) >= len(t.ents) {
		t.ents = append(t.ents, entry{})
	}
	old := t.ents[fd].f
	t.ents[fd] = entry{f, cloexec}
	t.size = max(t.size, roomFor(int(fd)+1))
	t.mu.Unlock()
	if old != nil {
		t.drop(old)
	}
	return nil
}

// drop closes f, a descriptor's reference, removed from the table.
func (t *Table) drop(f *vfs.File) {
	vfs.ReleaseRecordLocks(f, t)
	f.DecRef()
}

// release drops a task's use of the table; the last closes every
// descriptor (kernel/exit.c exit_files, put_files_struct).
func (t *Table) release() {
	if t.users.Add(-1) == 0 {
		t.CloseAll()
	}
}

// Remove closes fd (close(2)); EBADF if it is not open.
func (t *Table) Remove(fd int32) error {
	t.mu.Lock()
	if fd < 0 || int(fd) >= len(t.ents) || t.ents[fd].f == nil {
		t.mu.Unlock()
		return vfs.EBADF
	}
	f := t.ents[fd].f
	t.ents[fd] = entry{}
	t.mu.Unlock()
	t.drop(f)
	return nil
}

// Cloexec reports fd's close-on-exec flag.
func (t *Table) Cloexec(fd int32) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.ents) || t.ents[fd].f == nil {
		return false, vfs.EBADF
	}
	return t.ents[fd].cloexec, nil
}

// SetCloexec sets fd's close-on-exec flag.
func (t *Table) SetCloexec(fd int32, on bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.ents) || t.ents[fd].f == nil {
		return vfs.EBADF
	}
	t.ents[fd].cloexec = on
	return nil
}

// FDs lists the open descriptors in increasing order.
func (t *Table) FDs() []int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int32
	for fd, e := range t.ents {
		if e.f != nil {
			out = append(out, int32(fd))
		}
	}
	return out
}

// Fork returns a copy of t sharing its open files, for one task (clone(2)
// without CLONE_FILES, unshare(2), execve(2)). The copy's room covers t's
// open descriptors counted in whole 64-bit words of the open bitmap
// (fs/file.c dup_fd, count_open_files), not t's room: a process that
// closed its high descriptors forks a child with a small table.
func (t *Table) Fork() *Table { return t.forkBelow(-1) }

// forkBelow is Fork leaving out the descriptors from n on (all: n < 0).
func (t *Table) forkBelow(n int) *Table {
	t.mu.Lock()
	defer t.mu.Unlock()
	ents := t.ents
	if n >= 0 && n < len(ents) {
		ents = ents[:n]
	}
	last := lastOpen(ents)
	// The entries up to the open ones, in whole words of the bitmap.
	ents = ents[:min(len(ents), (last/64+1)*64)]
	c := &Table{ents: append([]entry(nil), ents...)}
	c.users.Store(1)
	for _, e := range c.ents {
		if e.f != nil {
			e.f.IncRef()
		}
	}
	c.size = roomFor((last/64 + 1) * 64)
	return c
}

// lastOpen returns the highest descriptor open in ents, -1 if none.
func lastOpen(ents []entry) int {
	for fd := len(ents) - 1; fd >= 0; fd-- {
		if ents[fd].f != nil {
			return fd
		}
	}
	return -1
}

// CopyBytes returns about how much memory Fork's copy of the table takes.
func (t *Table) CopyBytes() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int64(lastOpen(t.ents)/64+1) * 64 * entryBytes
}

// entryBytes is the size of an entry: a pointer and a flag, padded.
const entryBytes = 16

// last returns the highest open descriptor, -1 if none.
func (t *Table) last() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return lastOpen(t.ents)
}

// rangeOp closes the open descriptors from first to last, or with
// cloexec marks them close-on-exec (close_range(2)).
func (t *Table) rangeOp(first, last uint32, cloexec bool) {
	t.mu.Lock()
	var drop []*vfs.File
	for fd := int64(first); fd <= int64(last) && fd < int64(len(t.ents)); fd++ {
		e := &t.ents[fd]
		switch {
		case e.f == nil:
		case cloexec:
			e.cloexec = true
		default:
			drop = append(drop, e.f)
			*e = entry{}
		}
	}
	t.mu.Unlock()
	for _, f := range drop {
		t.drop(f)
	}
}

// CloseOnExec closes the descriptors marked close-on-exec (execve(2)).
func (t *Table) CloseOnExec() {
	t.closeIf(func(e entry) bool { return e.cloexec })
}

// CloseAll closes every descriptor (exit).
func (t *Table) CloseAll() {
	t.closeIf(func(entry) bool { return true })
}

func (t *Table) closeIf(pred func(entry) bool) {
	t.mu.Lock()
	var drop []*vfs.File
	for i, e := range t.ents {
		if e.f != nil && pred(e) {
			drop = append(drop, e.f)
			t.ents[i] = entry{}
		}
	}
	t.mu.Unlock()
	for _, f := range drop {
		t.drop(f)
	}
}
