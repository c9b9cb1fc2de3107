package vfs

import (
	"math"
	"sync"
)

// Advisory locks: flock(2) locks, owned by an open file description;
// fcntl(2) record locks, owned by a process (POSIX, F_SETLK) or by an open
// file description (OFD, F_OFD_SETLK). Both kinds live on the inode
// (Documentation/filesystems/locking.rst; fs/locks.c): flock locks conflict
// only with flock locks, record locks only with record locks of another
// owner over an overlapping range where one of the two is a write lock.

// Lock is one held lock.
type Lock struct {
	Owner      any   // the *File of a flock or OFD lock, the descriptor table of a POSIX lock
	Pid        int32 // the process that took a POSIX lock (F_GETLK's l_pid)
	OFD        bool
	flock      bool
	Write      bool
	Start, End int64 // [Start, End); End is math.MaxInt64 for "to the end and beyond"
}

type lockState struct {
	locks   []Lock
	changed chan struct{} // closed and replaced whenever a lock goes away
}

var locks struct {
	mu sync.Mutex
	by map[any]*lockState
}

// lockKey is the inode a file's locks live on.
func lockKey(f *File) any {
	if f.loc.n != nil {
		return f.loc.n
	}
	return f.impl
}

// state returns the lock state of f's inode. Called with locks.mu held.
func state(f *File) *lockState {
	if locks.by == nil {
		locks.by = map[any]*lockState{}
	}
	k := lockKey(f)
	s := locks.by[k]
	if s == nil {
		s = &lockState{changed: make(chan struct{})}
		locks.by[k] = s
	}
	return s
}

// removeWhere drops the locks keep says to drop, splitting record locks
// that [start, end) cuts, and wakes waiters. Called with locks.mu held.
func (s *lockState) remove(match func(*Lock) bool, start, end int64) {
	var out []Lock
	removed := false
	for _, l := range s.locks {
		if !match(&l) || l.End <= start || l.Start >= end {
			out = append(out, l)
			continue
		}
		removed = true
		if l.Start < start {
			left := l
			left.End = start
			out = append(out, left)
		}
		if l.End > end {
			right := l
			right.Start = end
			out = append(out, right)
		}
	}
	s.locks = out
	if removed {
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// conflict returns a lock of another owner that l cannot coexist with.
func (s *lockState) conflict(l Lock) (Lock, bool) {
	for _, h := range s.locks {
		if h.Owner == l.Owner || h.flock != l.flock || h.End <= l.Start || h.Start >= l.End {
			continue
		}
		if h.Write || l.Write {
			return h, true
		}
	}
	return Lock{}, false
}

// acquire adds l once nothing conflicts, after drop removed what l
// replaces; it waits for a change when wait is set (EAGAIN otherwise) and
// gives up with EINTR when intr fires.
func acquire(f *File, l Lock, drop func(*Lock) bool, wait bool, intr <-chan struct{}) error {
	for {
		locks.mu.Lock()
		s := state(f)
		s.remove(drop, l.Start, l.End)
		if _, busy := s.conflict(l); !busy {
			s.locks = append(s.locks, l)
			locks.mu.Unlock()
			return nil
		}
		ch := s.changed
		locks.mu.Unlock()
		if !wait {
			return EAGAIN
		}
		select {
		case <-ch:
		case <-intr:
			return EINTR
		}
	}
}

// Flock applies flock(2)'s operation to f: shared or exclusive (a
// holder converts by giving its lock up first, as Linux does), or unlock.
func Flock(f *File, exclusive, unlock, nonblock bool, intr <-chan struct{}) error {
	mine := func(l *Lock) bool { return l.flock && l.Owner == f }
	if unlock {
		locks.mu.Lock()
		state(f).remove(mine, 0, math.MaxInt64)
		locks.mu.Unlock()
		return nil
	}
	locks.mu.Lock()
	for _, h := range state(f).locks {
		if mine(&h) && h.Write == exclusive {
			locks.mu.Unlock()
			return nil // already held as asked
		}
	}
	locks.mu.Unlock()
	return acquire(f, Lock{Owner: f, flock: true, Write: exclusive, Start: 0, End: math.MaxInt64}, mine, !nonblock, intr)
}

// SetRecordLock sets, changes or (with unlock) removes owner's record
// lock over [start, end) of f (F_SETLK, F_SETLKW, F_OFD_SETLK...), for
// process pid: the owner's locks in the range give way to the new one.
func SetRecordLock(f *File, owner any, pid int32, ofd, write, unlock bool, start, end int64, wait bool, intr <-chan struct{}) error {
	mine := func(l *Lock) bool { return !l.flock && l.Owner == owner }
	if unlock {
		locks.mu.Lock()
		state(f).remove(mine, start, end)
		locks.mu.Unlock()
		return nil
	}
	return acquire(f, Lock{Owner: owner, Pid: pid, OFD: ofd, Write: write, Start: start, End: end}, mine, wait, intr)
}

// GetRecordLock returns a lock that would block owner's lock over
// [start, end) (F_GETLK, F_OFD_GETLK).
func GetRecordLock(f *File, owner any, write bool, start, end int64) (Lock, bool) {
	locks.mu.Lock()
	defer locks.mu.Unlock()
	return state(f).conflict(Lock{Owner: owner, Write: write, Start: start, End: end})
}

// ReleaseRecordLocks drops every record lock owner holds on f's inode:
// a process's POSIX locks go when it closes any descriptor of the file.
func ReleaseRecordLocks(f *File, owner any) {
	locks.mu.Lock()
	defer locks.mu.Unlock()
	if s := locks.by[lockKey(f)]; s != nil {
		s.remove(func(l *Lock) bool { return !l.flock && l.Owner == owner }, 0, math.MaxInt64)
	}
}

// releaseFileLocks drops the flock and OFD locks of f, whose last
// reference is gone, and forgets an inode with no locks left.
func releaseFileLocks(f *File) {
	locks.mu.Lock()
	defer locks.mu.Unlock()
	k := lockKey(f)
	s := locks.by[k]
	if s == nil {
		return
	}
	s.remove(func(l *Lock) bool { return l.Owner == f }, 0, math.MaxInt64)
	if len(s.locks) == 0 {
		delete(locks.by, k)
	}
}
