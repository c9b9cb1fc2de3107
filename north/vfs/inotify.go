package vfs

import (
	"encoding/binary"
	"math"
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// inotify(7): instances that watch inodes and queue what happens to them.
// The file systems report each change through the notify* functions
// below, called where Linux's fsnotify hooks sit (include/linux/fsnotify.h);
// a change to a file goes to the watches of the file itself and, with the
// file's name, to those of the directory holding it.

// Event and flag bits (include/uapi/linux/inotify.h).
const (
	InAccess       = 0x00000001
	InModify       = 0x00000002
	InAttrib       = 0x00000004
	InCloseWrite   = 0x00000008
	InCloseNowrite = 0x00000010
	InOpen         = 0x00000020
	InMovedFrom    = 0x00000040
	InMovedTo      = 0x00000080
	InCreate       = 0x00000100
	InDelete       = 0x00000200
	InDeleteSelf   = 0x00000400
	InMoveSelf     = 0x00000800
	InUnmount      = 0x00002000
	InQOverflow    = 0x00004000
	InIgnored      = 0x00008000
	InOnlydir      = 0x01000000
	InDontFollow   = 0x02000000
	InExclUnlink   = 0x04000000
	InMaskCreate   = 0x10000000
	InMaskAdd      = 0x20000000
	InIsdir        = 0x40000000
	InOneshot      = 0x80000000

	inAllEvents = 0xfff
	// inAllBits are the bits inotify_add_watch takes (fs/notify/inotify/
	// inotify.h ALL_INOTIFY_BITS).
	inAllBits = inAllEvents | InUnmount | InQOverflow | InIgnored | InOnlydir | InDontFollow |
		InExclUnlink | InMaskCreate | InMaskAdd | InIsdir | InOneshot

	// inotifyEventLen is struct inotify_event without its name; a name
	// is padded with NULs to a multiple of it (fs/notify/inotify/
	// inotify_user.c round_event_name_len).
	inotifyEventLen = 16
	// maxQueuedEvents is /proc/sys/fs/inotify/max_queued_events: past it
	// one IN_Q_OVERFLOW event stands for the events lost.
	maxQueuedEvents = 16384
	// inotifyMaxWatches is fs.inotify.max_user_watches: the watches of
	// every instance together (Cocoon's applications are one user),
	// ENOSPC past it. Linux sizes it as 1% of RAM over what a watch
	// costs, at least 8192, which it is for RAM up to 1 GiB.
	inotifyMaxWatches = 8192
	// inotifyMaxInstances is fs.inotify.max_user_instances: EMFILE
	// past it.
	inotifyMaxInstances = 128
)

// The inotify limits as /proc/sys/fs/inotify reads them.
const (
	InotifyMaxQueuedEvents  = maxQueuedEvents
	InotifyMaxUserWatches   = inotifyMaxWatches
	InotifyMaxUserInstances = inotifyMaxInstances
)

// inotifyInstances counts the open inotify instances.
var inotifyInstances atomic.Int64

// watchTable holds every inotify watch by the inode it watches.
type watchTable struct {
	mu     sync.Mutex
	byNode map[node][]*inotifyWatch
	count  atomic.Int64 // watches in byNode: 0 lets the hooks return at once
	cookie atomic.Uint32
}

var watches = watchTable{byNode: map[node][]*inotifyWatch{}}

// inotifyWatch is one instance's watch of one inode.
type inotifyWatch struct {
	in   *inotify
	wd   int32
	n    node
	mask uint32 // events and the flags IN_ONESHOT, IN_EXCL_UNLINK
	// ino, dev and made are the watched file's inode number and device
	// and when the watch was made among its instance's, for fdinfo.
	ino, dev uint64
	made     uint64
}

type inotifyEvent struct {
	wd                  int32
	mask, cookie        uint32
	name                string
	overflow, important bool
}

// size is the event's length as read(2) returns it.
func (e *inotifyEvent) size() int {
	if e.name == "" {
		return inotifyEventLen
	}
	return inotifyEventLen + (len(e.name)+inotifyEventLen)&^(inotifyEventLen-1)
}

// inotify is an inotify instance: the file inotify_init1 returns.
type inotify struct {
	FileDefaults
	q Queue

	mu     sync.Mutex
	events []inotifyEvent
	bytes  int // the bytes the queued events take (FIONREAD)
	byWd   map[int32]*inotifyWatch
	byNode map[node]*inotifyWatch
	lastWd int32
	made   uint64 // watches made so far
}

// NewInotify returns a new inotify instance, non-blocking if flags holds
// IN_NONBLOCK (O_NONBLOCK); EMFILE past max_user_instances
// (inotify_new_group: inc_inotify_instances).
func NewInotify(flags uint32) (*File, error) {
	if inotifyInstances.Add(1) > inotifyMaxInstances {
		inotifyInstances.Add(-1)
		return nil, EMFILE
	}
	in := &inotify{byWd: map[int32]*inotifyWatch{}, byNode: map[node]*inotifyWatch{}}
	return NewFile(in, linux.ORdonly|flags&linux.ONonblock, "anon_inode:inotify"), nil
}

// IsInotify reports whether f is an inotify instance.
func IsInotify(f *File) bool {
	_, ok := f.impl.(*inotify)
	return ok
}

// AddWatch is inotify_add_watch(2) on instance f for the file at l,
// which the caller looked up (and checked against IN_ONLYDIR and for
// read permission): the watch descriptor, the same as before if f
// already watches the file. mask was checked by CheckWatchMask.
func AddWatch(f *File, l Loc, mask uint32) (int32, error) {
	in := f.impl.(*inotify)
	a := l.Attr() // before the locks: the file system's own come first
	watches.mu.Lock()
	defer watches.mu.Unlock()
	in.mu.Lock()
	defer in.mu.Unlock()
	keep := mask & (inAllEvents | InOneshot | InExclUnlink)
	if w := in.byNode[l.n]; w != nil {
		if mask&InMaskCreate != 0 {
			return 0, EEXIST
		}
		if mask&InMaskAdd != 0 {
			keep |= w.mask
		}
		w.mask = keep
		return w.wd, nil
	}
	if watches.count.Load() >= inotifyMaxWatches {
		return 0, ENOSPC // inotify_new_watch: inc_inotify_watches
	}
	// Watch descriptors count up and are not soon reused
	// (idr_alloc_cyclic from 1).
	wd := in.lastWd
	for {
		if wd++; wd <= 0 {
			wd = 1
		}
		if in.byWd[wd] == nil {
			break
		}
	}
	in.lastWd = wd
	in.made++
	w := &inotifyWatch{in: in, wd: wd, n: l.n, mask: keep, ino: a.Ino, dev: a.Dev, made: in.made}
	in.byWd[wd], in.byNode[l.n] = w, w
	watches.byNode[l.n] = append(watches.byNode[l.n], w)
	watches.count.Add(1)
	return wd, nil
}

// CheckWatchMask checks inotify_add_watch's mask: EINVAL for bits it
// does not know, none it knows, or IN_MASK_ADD with IN_MASK_CREATE.
func CheckWatchMask(mask uint32) error {
	if mask&^inAllBits != 0 || mask&inAllBits == 0 || mask&InMaskAdd != 0 && mask&InMaskCreate != 0 {
		return EINVAL
	}
	return nil
}

// RemoveWatch is inotify_rm_watch(2): EINVAL for no such watch; the
// watch's last event is IN_IGNORED.
func RemoveWatch(f *File, wd int32) error {
	in := f.impl.(*inotify)
	watches.mu.Lock()
	in.mu.Lock()
	w := in.byWd[wd]
	if w == nil {
		in.mu.Unlock()
		watches.mu.Unlock()
		return EINVAL
	}
	in.dropLocked(w)
	in.queueLocked(inotifyEvent{wd: wd, mask: InIgnored, important: true})
	in.mu.Unlock()
	watches.mu.Unlock()
	in.q.Notify(EventIn | EventRdNorm)
	return nil
}

// dropLocked removes watch w. Called with watches.mu and in.mu held.
func (in *inotify) dropLocked(w *inotifyWatch) {
	delete(in.byWd, w.wd)
	delete(in.byNode, w.n)
	list := watches.byNode[w.n]
	for i, o := range list {
		if o == w {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(watches.byNode, w.n)
	} else {
		watches.byNode[w.n] = list
	}
	watches.count.Add(-1)
}

// queueLocked adds e to the queue: not if it repeats the last event not
// yet read (fs/notify/inotify/inotify_fsnotify.c inotify_merge), and as
// one IN_Q_OVERFLOW for all that the full queue cannot take. Called with
// in.mu held.
func (in *inotify) queueLocked(e inotifyEvent) {
	if n := len(in.events); n > 0 {
		last := &in.events[n-1]
		if last.wd == e.wd && last.mask == e.mask && last.cookie == e.cookie && last.name == e.name && !last.overflow {
			return
		}
	}
	if len(in.events) >= maxQueuedEvents && !e.important {
		if in.events[len(in.events)-1].overflow {
			return
		}
		e = inotifyEvent{wd: -1, mask: InQOverflow, overflow: true}
	}
	in.events = append(in.events, e)
	in.bytes += e.size()
}

// Read copies as many whole events as dst holds: EINVAL if not even the
// first fits, EAGAIN for none queued.
func (in *inotify) Read(_ *File, dst Buf, _ int64) (int64, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.events) == 0 {
		return 0, EAGAIN
	}
	var out []byte
	n := 0
	for n < len(in.events) {
		e := &in.events[n]
		if int64(len(out)+e.size()) > dst.Len() {
			break
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(e.wd))
		out = binary.LittleEndian.AppendUint32(out, e.mask)
		out = binary.LittleEndian.AppendUint32(out, e.cookie)
		out = binary.LittleEndian.AppendUint32(out, uint32(e.size()-inotifyEventLen))
		if e.name != "" {
			out = append(out, e.name...)
			out = append(out, make([]byte, e.size()-inotifyEventLen-len(e.name))...)
		}
		n++
	}
	if n == 0 {
		return 0, EINVAL
	}
	if c, err := dst.CopyOut(out); err != nil || c < len(out) {
		return 0, EFAULT
	}
	in.events = append(in.events[:0], in.events[n:]...)
	in.bytes -= len(out)
	return int64(len(out)), nil
}

func (in *inotify) Readiness(mask Events) Events {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.events) > 0 {
		return mask & (EventIn | EventRdNorm)
	}
	return 0
}

func (in *inotify) Queue() *Queue { return &in.q }

// Ioctl answers FIONREAD: the bytes of the queued events.
func (in *inotify) Ioctl(_ *File, m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	if cmd != linux.FIONREAD {
		return 0, ENOTTY
	}
	in.mu.Lock()
	n := in.bytes
	in.mu.Unlock()
	return 0, copyOut(m, arg, binary.LittleEndian.AppendUint32(nil, uint32(min(n, math.MaxInt32))))
}

// Seek leaves the offset at 0, as Linux's noop_llseek does.
func (in *inotify) Seek(_ *File, cur, _ int64, _ int) (int64, error) { return cur, nil }

func (in *inotify) Stat(*File) Attr {
	return Attr{Dev: anonDev, Ino: anonIno, Mode: 0o600, Nlink: 1}
}

// Release ends the instance's watches.
func (in *inotify) Release(*File) {
	inotifyInstances.Add(-1)
	watches.mu.Lock()
	in.mu.Lock()
	for _, w := range in.byWd {
		in.dropLocked(w)
	}
	in.events = nil
	in.mu.Unlock()
	watches.mu.Unlock()
}

// deliver queues event mask (with name, for a directory's watch of a
// child; cookie, for a rename) to the watches of n that ask for it; a
// child's event skips a directory watch with IN_EXCL_UNLINK once the
// child is unlinked. IN_ONESHOT watches end after their event.
func deliver(n node, mask uint32, name string, cookie uint32, unlinkedChild bool) {
	watches.mu.Lock()
	list := watches.byNode[n]
	if len(list) == 0 {
		watches.mu.Unlock()
		return
	}
	var wake []*inotify
	for _, w := range append([]*inotifyWatch(nil), list...) {
		if w.mask&mask&inAllEvents == 0 || unlinkedChild && w.mask&InExclUnlink != 0 {
			continue
		}
		in := w.in
		in.mu.Lock()
		in.queueLocked(inotifyEvent{wd: w.wd, mask: mask, cookie: cookie, name: name})
		if w.mask&InOneshot != 0 {
			in.dropLocked(w)
			in.queueLocked(inotifyEvent{wd: w.wd, mask: InIgnored, important: true})
		}
		in.mu.Unlock()
		wake = append(wake, in)
	}
	watches.mu.Unlock()
	for _, in := range wake {
		in.q.Notify(EventIn | EventRdNorm)
	}
}

// endWatches ends every watch of n, which is gone: IN_DELETE_SELF, then
// IN_IGNORED (fsnotify_inoderemove).
func endWatches(n node) {
	if watches.count.Load() == 0 {
		return
	}
	notifySelf(n, InDeleteSelf)
	watches.mu.Lock()
	list := append([]*inotifyWatch(nil), watches.byNode[n]...)
	var wake []*inotify
	for _, w := range list {
		in := w.in
		in.mu.Lock()
		in.dropLocked(w)
		in.queueLocked(inotifyEvent{wd: w.wd, mask: InIgnored, important: true})
		in.mu.Unlock()
		wake = append(wake, in)
	}
	watches.mu.Unlock()
	for _, in := range wake {
		in.q.Notify(EventIn | EventRdNorm)
	}
}

func isDirBit(n node) uint32 {
	if n.fileType() == linux.SIfdir {
		return InIsdir
	}
	return 0
}

// placedNode is a node that knows the directory and name it was last
// given (a hard-linked file may have others): where a change to it is
// reported with its name, and whether it has no name left.
type placedNode interface {
	place() (dir node, name string, unlinked bool)
}

// notifyNode reports event mask (IN_ACCESS, IN_MODIFY, IN_ATTRIB,
// IN_OPEN, IN_CLOSE_*) on n: to the watches of its directory, with its
// name, then to its own (fsnotify_parent, then the inode's marks).
func notifyNode(n node, mask uint32) {
	if watches.count.Load() == 0 || n == nil {
		return
	}
	mask |= isDirBit(n)
	if p, ok := n.(placedNode); ok {
		if dir, name, unlinked := p.place(); dir != nil {
			deliver(dir, mask, name, 0, unlinked)
		}
	}
	deliver(n, mask, "", 0, false)
}

// notifySelf reports event mask on n to n's own watches only (the link
// count's IN_ATTRIB, IN_MOVE_SELF). inotify never marks IN_MOVE_SELF
// and IN_DELETE_SELF with IN_ISDIR (fs/notify/inotify/inotify_fsnotify.c
// inotify_handle_inode_event).
func notifySelf(n node, mask uint32) {
	if watches.count.Load() == 0 || n == nil {
		return
	}
	if mask&(InMoveSelf|InDeleteSelf) == 0 {
		mask |= isDirBit(n)
	}
	deliver(n, mask, "", 0, false)
}

// notifyDir reports a change of directory dir's entry name (IN_CREATE,
// IN_DELETE, IN_MOVED_FROM, IN_MOVED_TO), about child.
func notifyDir(dir node, mask uint32, name string, child node, cookie uint32) {
	if watches.count.Load() == 0 || dir == nil {
		return
	}
	if child != nil {
		mask |= isDirBit(child)
	}
	deliver(dir, mask, name, cookie, false)
}

// notifyGone ends n's watches if n has no name and no open file left.
func notifyGone(n node) {
	if watches.count.Load() == 0 || n == nil {
		return
	}
	if g, ok := n.(interface{ gone() bool }); ok && g.gone() {
		endWatches(n)
	}
}

// renameCookie returns a new cookie joining IN_MOVED_FROM to its
// IN_MOVED_TO (fsnotify's fsnotify_sync_cookie).
func renameCookie() uint32 {
	for {
		if c := watches.cookie.Add(1); c != 0 {
			return c
		}
	}
}
