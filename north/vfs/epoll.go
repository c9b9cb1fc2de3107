package vfs

import (
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// maxEpollNest is how deep epoll instances may watch one another
// (EP_MAX_NESTS, fs/eventpoll.c).
const maxEpollNest = 4

// Epoll is an epoll instance (epoll(7)): a set of watched files and the
// list of those that may be ready.
//
// A watched file's Queue puts its entry on the ready list when the file
// announces events the entry wants. Harvest checks each listed entry's
// actual readiness: level-triggered entries stay on the list while ready,
// edge-triggered ones leave it until the file announces events again, and
// one-shot ones are disabled until EPOLL_CTL_MOD.
type Epoll struct {
	FileDefaults
	q Queue // announces that the ready list is not empty

	mu       sync.Mutex // guards the fields below and those of the entries
	interest map[epollKey]*epollEntry
	ready    []*epollEntry
}

// epollKey identifies a watch: Linux keys them by file and descriptor.
type epollKey struct {
	f  *File
	fd int32
}

// epollEntry is one watched file. Its fields are guarded by ep.mu.
type epollEntry struct {
	ep       *Epoll
	key      epollKey
	events   Events // wanted events and the EPOLLET, EPOLLONESHOT flags
	data     uint64
	sub      *Subscription
	queued   bool // on ep.ready
	disabled bool // a one-shot entry that fired
	removed  bool
}

// epollAlways are the events every entry reports whether asked or not.
const epollAlways = EventErr | EventHup

// NewEpoll returns a new epoll instance (epoll_create1(2)).
func NewEpoll() *File {
	return NewFile(&Epoll{interest: map[epollKey]*epollEntry{}}, linux.ORdwr, "anon_inode:[eventpoll]")
}

// EpollOf returns the instance f is, or nil.
func EpollOf(f *File) *Epoll {
	ep, _ := f.impl.(*Epoll)
	return ep
}

// Ctl adds, changes or removes the watch of descriptor fd, open as f
// (epoll_ctl(2)).
func (ep *Epoll) Ctl(op int, fd int32, f *File, ev linux.EpollEvent) error {
	events := Events(ev.Events)
	if op != linux.EpollCtlDel && events&linux.EpollExclusive != 0 {
		const allowed = linux.EpollExclusive | linux.EpollEt | linux.EpollWakeup | linux.EpollIn | linux.EpollOut | linux.EpollErr | linux.EpollHup
		if op == linux.EpollCtlMod || events&^allowed != 0 {
			return EINVAL
		}
	}
	if op == linux.EpollCtlAdd {
		if f.Queue() == nil {
			return EPERM
		}
		if inner := EpollOf(f); inner != nil {
			if inner == ep || inner.reaches(ep, 1) {
				return ELOOP
			}
		}
	}
	key := epollKey{f, fd}
	ep.mu.Lock()
	e := ep.interest[key]
	switch op {
	case linux.EpollCtlAdd:
		if e != nil {
			ep.mu.Unlock()
			return EEXIST
		}
		if mem.KernelShort() {
			ep.mu.Unlock()
			return ENOMEM // ep_insert: kmem_cache_alloc failed
		}
		if max := maxUserWatches.Load(); epollWatches.Add(1) > max && max > 0 {
			epollWatches.Add(-1)
			ep.mu.Unlock()
			return ENOSPC // ep_insert: past fs.epoll.max_user_watches
		}
		e = &epollEntry{ep: ep, key: key, events: events, data: ev.Data}
		ep.interest[key] = e
		ep.mu.Unlock()
		f.epMu.Lock()
		if f.watches == nil {
			f.watches = map[*epollEntry]struct{}{}
		}
		f.watches[e] = struct{}{}
		f.epMu.Unlock()
		e.sub = f.Queue().Subscribe(^Events(0), func(ev Events) { ep.announce(e, ev) })
	case linux.EpollCtlMod:
		if e == nil {
			ep.mu.Unlock()
			return ENOENT
		}
		e.events = events&^linux.EpollExclusive | e.events&linux.EpollExclusive
		e.data = ev.Data
		e.disabled = false
		ep.mu.Unlock()
	case linux.EpollCtlDel:
		if e == nil {
			ep.mu.Unlock()
			return ENOENT
		}
		ep.mu.Unlock()
		f.epMu.Lock()
		delete(f.watches, e)
		f.epMu.Unlock()
		ep.forget(e)
		return nil
	default:
		ep.mu.Unlock()
		return EINVAL
	}
	// The file may be ready already.
	if f.Readiness(events|epollAlways) != 0 {
		ep.announce(e, ^Events(0))
	}
	return nil
}

// reaches reports whether ep watches target, directly or through other
// epoll instances, or nests deeper than Linux allows.
func (ep *Epoll) reaches(target *Epoll, depth int) bool {
	if depth > maxEpollNest {
		return true
	}
	ep.mu.Lock()
	var inner []*Epoll
	for k := range ep.interest {
		if in := EpollOf(k.f); in != nil {
			inner = append(inner, in)
		}
	}
	ep.mu.Unlock()
	for _, in := range inner {
		if in == target || in.reaches(target, depth+1) {
			return true
		}
	}
	return false
}

// announce queues e if ev holds events it wants.
func (ep *Epoll) announce(e *epollEntry, ev Events) {
	ep.mu.Lock()
	if e.removed || e.disabled || e.queued || ev&(e.events|epollAlways) == 0 {
		ep.mu.Unlock()
		return
	}
	e.queued = true
	ep.ready = append(ep.ready, e)
	ep.mu.Unlock()
	ep.q.Notify(EventIn | EventRdNorm)
}

// Watches of every epoll instance, and their limit (fs.epoll's
// max_user_watches; 0: none). Cocoon's applications are one user.
var epollWatches, maxUserWatches atomic.Int64

// SetMaxUserWatches sets the limit on epoll watches from the machine's
// RAM as Linux sizes fs.epoll.max_user_watches: 4% of memory over what a
// watch costs (fs/eventpoll.c eventpoll_init, EP_ITEM_COST: struct epitem
// and struct eppoll_entry, about 200 bytes on x86-64).
func SetMaxUserWatches(ram uint64) {
	const epItemCost = 200
	maxUserWatches.Store(int64(ram / 25 / epItemCost))
}

// MaxUserWatches returns the limit on epoll watches, as
// /proc/sys/fs/epoll/max_user_watches reads it (0: none set).
func MaxUserWatches() int64 { return maxUserWatches.Load() }

// forget removes e: its file was closed or the watch deleted.
func (ep *Epoll) forget(e *epollEntry) {
	ep.mu.Lock()
	if e.removed {
		ep.mu.Unlock()
		return
	}
	e.removed = true
	delete(ep.interest, e.key)
	ep.mu.Unlock()
	epollWatches.Add(-1)
	if e.sub != nil {
		e.key.f.Queue().Unsubscribe(e.sub)
	}
}

// Harvest returns up to max ready events without blocking
// (epoll_wait(2) with a zero timeout).
func (ep *Epoll) Harvest(max int) []linux.EpollEvent { return ep.HarvestInto(nil, max) }

// HarvestInto is Harvest appending the events to dst. Entries are
// checked in the order they became ready; a level-triggered entry that
// is still ready goes to the back of the list, after those not checked
// yet, so that one busy file does not hide the others.
func (ep *Epoll) HarvestInto(dst []linux.EpollEvent, max int) []linux.EpollEvent {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var inline [8]*epollEntry
	again := inline[:0]
	n, got := len(ep.ready), 0
	i := 0
	for ; i < n && got < max; i++ {
		e := ep.ready[i]
		e.queued = false
		if e.removed || e.disabled {
			continue
		}
		want := e.events&^(linux.EpollEt|linux.EpollOneshot|linux.EpollExclusive|linux.EpollWakeup) | epollAlways
		ready := e.key.f.Readiness(want) & want
		if ready == 0 {
			continue
		}
		dst = append(dst, linux.EpollEvent{Events: uint32(ready), Data: e.data})
		got++
		switch {
		case e.events&linux.EpollOneshot != 0:
			e.disabled = true
		case e.events&linux.EpollEt == 0:
			e.queued = true
			again = append(again, e)
		}
	}
	// The list becomes the entries not checked, then those requeued.
	rest := copy(ep.ready, ep.ready[i:n])
	clear(ep.ready[rest:n])
	ep.ready = append(ep.ready[:rest], again...)
	if len(ep.ready) == 0 && cap(ep.ready) > 64 {
		ep.ready = nil // let a burst's list go
	}
	return dst
}

// Readiness reports EPOLLIN when some watched file is ready.
func (ep *Epoll) Readiness(mask Events) Events {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for _, e := range ep.ready {
		if e.removed || e.disabled {
			continue
		}
		want := e.events&^(linux.EpollEt|linux.EpollOneshot|linux.EpollExclusive|linux.EpollWakeup) | epollAlways
		if e.key.f.Readiness(want)&want != 0 {
			return mask & (EventIn | EventRdNorm)
		}
	}
	return 0
}

func (ep *Epoll) Queue() *Queue { return &ep.q }

// Seek leaves the offset at 0, as Linux's noop_llseek does.
func (ep *Epoll) Seek(_ *File, cur, _ int64, _ int) (int64, error) { return cur, nil }

// Ioctl refuses every request with EINVAL, as Linux's epoll does since it
// took busy-poll requests (6.9); older kernels said ENOTTY.
func (ep *Epoll) Ioctl(*File, mem.Memory, uint32, uint64) (int64, error) { return 0, EINVAL }

func (ep *Epoll) Stat(*File) Attr {
	return Attr{Dev: anonDev, Ino: anonIno, Mode: 0o600, Nlink: 1}
}

// Release drops every watch.
func (ep *Epoll) Release(*File) {
	ep.mu.Lock()
	var all []*epollEntry
	for _, e := range ep.interest {
		all = append(all, e)
	}
	ep.mu.Unlock()
	for _, e := range all {
		e.key.f.epMu.Lock()
		delete(e.key.f.watches, e)
		e.key.f.epMu.Unlock()
		ep.forget(e)
	}
}
