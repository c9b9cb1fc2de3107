package vfs

import (
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// SignalTaker is a thread's pending signals as a signalfd reads them
// (the personality's tasks implement it).
type SignalTaker interface {
	// TakeSignals dequeues up to n of the thread's pending signals in
	// mask (its own, then its process's, lowest first), each as a
	// 128-byte struct signalfd_siginfo.
	TakeSignals(mask uint64, n int) []byte
	// SignalPending reports whether a signal in mask is pending for the
	// thread.
	SignalPending(mask uint64) bool
}

// SignalfdInfoSize is the size of struct signalfd_siginfo
// (include/uapi/linux/signalfd.h).
const SignalfdInfoSize = 128

// signalFD is a signalfd (signalfd(2)): it reads the signals of its
// reader. Linux evaluates a signalfd for the thread that reads or polls
// it (fs/signalfd.c: current); here reads are the reader's (fdtable
// passes it), and readiness is that of the thread that last read it or
// changed it (its creator at first): the thread that polls it, in a
// program whose one event loop reads it.
type signalFD struct {
	FileDefaults
	q    Queue
	mask atomic.Uint64

	mu    sync.Mutex
	owner SignalTaker
}

// signalFDs are the live signalfds, woken when any signal is queued.
var signalFDs = struct {
	mu  sync.Mutex
	set map[*signalFD]struct{}
	n   atomic.Int64
}{set: map[*signalFD]struct{}{}}

// NewSignalFD returns a signalfd for mask (SIGKILL and SIGSTOP already
// removed), owned by thread owner; flags may hold O_NONBLOCK.
func NewSignalFD(owner SignalTaker, mask uint64, flags uint32) *File {
	s := &signalFD{owner: owner}
	s.mask.Store(mask)
	signalFDs.mu.Lock()
	signalFDs.set[s] = struct{}{}
	signalFDs.n.Add(1)
	signalFDs.mu.Unlock()
	return NewFile(s, linux.ORdwr|flags&linux.ONonblock, "anon_inode:[signalfd]")
}

// SetSignalMask changes signalfd f's mask for thread owner; false if f is
// no signalfd.
func SetSignalMask(f *File, owner SignalTaker, mask uint64) bool {
	s, ok := f.impl.(*signalFD)
	if !ok {
		return false
	}
	s.mask.Store(mask)
	s.setOwner(owner)
	s.q.Notify(EventIn | EventRdNorm)
	return true
}

// SetSignalReader makes thread reader the one whose signals signalfd f
// reads next; false if f is no signalfd.
func SetSignalReader(f *File, reader SignalTaker) bool {
	s, ok := f.impl.(*signalFD)
	if ok {
		s.setOwner(reader)
	}
	return ok
}

func (s *signalFD) setOwner(o SignalTaker) {
	s.mu.Lock()
	s.owner = o
	s.mu.Unlock()
}

func (s *signalFD) getOwner() SignalTaker {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.owner
}

// NotifySignals wakes the waiters of every signalfd: a signal was queued
// (they check whether it is theirs).
func NotifySignals() {
	if signalFDs.n.Load() == 0 {
		return
	}
	signalFDs.mu.Lock()
	list := make([]*signalFD, 0, len(signalFDs.set))
	for s := range signalFDs.set {
		list = append(list, s)
	}
	signalFDs.mu.Unlock()
	for _, s := range list {
		s.q.Notify(EventIn | EventRdNorm)
	}
}

// Read dequeues as many signals as dst has room for: EINVAL for room for
// none, EAGAIN when none is pending (fs/signalfd.c signalfd_read).
func (s *signalFD) Read(_ *File, dst Buf, _ int64) (int64, error) {
	n := dst.Len() / SignalfdInfoSize
	if n == 0 {
		return 0, EINVAL
	}
	b := s.getOwner().TakeSignals(s.mask.Load(), int(min(n, 64)))
	if len(b) == 0 {
		return 0, EAGAIN
	}
	if c, err := dst.CopyOut(b); err != nil || c < len(b) {
		return 0, EFAULT
	}
	return int64(len(b)), nil
}

func (s *signalFD) Readiness(mask Events) Events {
	if s.getOwner().SignalPending(s.mask.Load()) {
		return mask & (EventIn | EventRdNorm)
	}
	return 0
}

func (s *signalFD) Queue() *Queue { return &s.q }

// Seek leaves the offset at 0, as Linux's noop_llseek does.
func (s *signalFD) Seek(_ *File, cur, _ int64, _ int) (int64, error) { return cur, nil }

func (s *signalFD) Stat(*File) Attr {
	return Attr{Dev: anonDev, Ino: anonIno, Mode: 0o600, Nlink: 1}
}

func (s *signalFD) Release(*File) {
	signalFDs.mu.Lock()
	delete(signalFDs.set, s)
	signalFDs.n.Add(-1)
	signalFDs.mu.Unlock()
}
