package vfs

import (
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// Events is a set of readiness bits with the values poll(2) and epoll(7)
// share.
type Events uint32

// Readiness bits (include/uapi/linux/eventpoll.h).
const (
	EventIn     Events = linux.EpollIn
	EventPri    Events = linux.EpollPri
	EventOut    Events = linux.EpollOut
	EventErr    Events = linux.EpollErr
	EventHup    Events = linux.EpollHup
	EventRdNorm Events = linux.EpollRdnorm
	EventWrNorm Events = linux.EpollWrnorm
	EventRdHup  Events = linux.EpollRdhup

	// EventsReadable and EventsWritable are what a reader and a writer
	// wait for.
	EventsReadable = EventIn | EventRdNorm | EventHup | EventErr | EventRdHup
	EventsWritable = EventOut | EventWrNorm | EventHup | EventErr
	// EventsAlways is what a file whose readiness never changes reports
	// (DEFAULT_POLLMASK, include/linux/poll.h).
	EventsAlways = EventIn | EventOut | EventRdNorm | EventWrNorm
)

// A Queue tells interested parties when a file's readiness may have
// changed. The zero Queue is ready to use.
type Queue struct {
	mu   sync.Mutex
	subs []*Subscription // in no particular order; each knows its index
}

// A Subscription is one party's interest in some of a Queue's events.
type Subscription struct {
	mask   Events
	notify func(Events)
	idx    int // in its Queue's subs, -1 once unsubscribed
}

// Subscribe calls notify with the events of every later Notify that
// overlaps mask, until Unsubscribe. notify runs on the notifying goroutine
// with no locks of the Queue held; it must not block, and it may run once
// more just after Unsubscribe returns.
func (q *Queue) Subscribe(mask Events, notify func(Events)) *Subscription {
	s := &Subscription{mask: mask, notify: notify}
	q.subscribe(s)
	return s
}

// subscribe adds s, not subscribed anywhere, to q.
func (q *Queue) subscribe(s *Subscription) {
	q.mu.Lock()
	s.idx = len(q.subs)
	q.subs = append(q.subs, s)
	q.mu.Unlock()
}

// Unsubscribe ends s.
func (q *Queue) Unsubscribe(s *Subscription) {
	q.mu.Lock()
	if i := s.idx; i >= 0 && i < len(q.subs) && q.subs[i] == s {
		last := len(q.subs) - 1
		q.subs[i] = q.subs[last]
		q.subs[i].idx = i
		q.subs[last] = nil
		q.subs = q.subs[:last]
		s.idx = -1
	}
	q.mu.Unlock()
}

// notifyInline is how many subscribers Notify collects without
// allocating: a socket usually has its epoll entry and a waiter or two.
const notifyInline = 8

// Notify tells the subscribers interested in ev that ev may have become
// ready. Callers must not hold locks that a subscriber's notify takes; in
// practice, call it after releasing the file's own lock.
func (q *Queue) Notify(ev Events) {
	var inline [notifyInline]func(Events)
	fns := inline[:0]
	q.mu.Lock()
	for _, s := range q.subs {
		if s.mask&ev != 0 {
			fns = append(fns, s.notify)
		}
	}
	q.mu.Unlock()
	for _, fn := range fns {
		fn(ev)
	}
}

// A Waiter is a channel that receives a value when any of the Queues it
// watches notifies it, for a goroutine that blocks until a file is ready.
type Waiter struct {
	C    chan struct{}
	subs []waiterSub
	// notify sends to C; made once per Waiter, so that watching allocates
	// no closure.
	notify func(Events)
	// own are the Subscriptions of the first watches, reused by a pooled
	// Waiter (GetWaiter): a wait on one or two queues allocates nothing.
	own [2]Subscription
}

type waiterSub struct {
	q *Queue
	s *Subscription
}

// NewWaiter returns a Waiter watching nothing yet.
func NewWaiter() *Waiter {
	w := &Waiter{C: make(chan struct{}, 1)}
	w.notify = func(Events) {
		select {
		case w.C <- struct{}{}:
		default:
		}
	}
	return w
}

// waiters holds Waiters for reuse (GetWaiter, Release).
var waiters = sync.Pool{New: func() any { return NewWaiter() }}

// GetWaiter returns a Waiter watching nothing, reused if one was
// released, for a wait that blocks often (epoll_wait, a blocking read):
// it saves the channel, the closure and the subscriptions a NewWaiter
// allocates per wait. Its C may hold a stale value from a notification
// that raced with the last Stop (Subscribe's notify may run once more
// after Unsubscribe): callers must treat a value on C as "check again",
// as every wait loop does.
func GetWaiter() *Waiter {
	w := waiters.Get().(*Waiter)
	select {
	case <-w.C:
	default:
	}
	return w
}

// Release stops w's watches and keeps it for GetWaiter; w must not be
// used after.
func (w *Waiter) Release() {
	w.Stop()
	waiters.Put(w)
}

// Watch makes w receive q's notifications of events in mask.
func (w *Waiter) Watch(q *Queue, mask Events) {
	var s *Subscription
	if n := len(w.subs); n < len(w.own) {
		s = &w.own[n]
		*s = Subscription{mask: mask, notify: w.notify}
		q.subscribe(s)
	} else {
		s = q.Subscribe(mask, w.notify)
	}
	w.subs = append(w.subs, waiterSub{q, s})
}

// Stop ends all of w's watches.
func (w *Waiter) Stop() {
	for i, s := range w.subs {
		s.q.Unsubscribe(s.s)
		w.subs[i] = waiterSub{}
	}
	w.subs = w.subs[:0]
}
