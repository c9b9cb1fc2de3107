package socket

// Files in flight: sent with SCM_RIGHTS and not yet received
// (net/unix/garbage.c). A queued file keeps its reference, so a socket
// sent over itself, or two sent over each other, and then closed keeps
// itself alive with all it holds: nothing can ever receive it. Linux's
// garbage collector finds such sockets, referenced only from the queues
// of others like them, and purges their queues; without it a program
// could leak kernel memory in a loop and keep it past its own exit. The
// files a user may keep in flight are bounded by its RLIMIT_NOFILE
// unless it has CAP_SYS_RESOURCE or CAP_SYS_ADMIN (too_many_unix_fds).

import (
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/north/vfs"
)

// inflightTrigger is how many AF_UNIX sockets may be in flight before a
// send of more collects the garbage first (UNIX_INFLIGHT_TRIGGER_GC).
const inflightTrigger = 16000

// flight is the name space's record of the files in flight. Its maps and
// counts are guarded by Namespace.mu.
type flight struct {
	carriers map[*unixSock]struct{} // sockets whose receive queue may hold files
	users    map[int32]int          // files in flight per sender's real user ID (user_struct.unix_inflight)
	sockets  int                    // AF_UNIX sockets in flight (unix_tot_inflight)

	gcMu    sync.Mutex  // held by the one collection running
	gcAgain atomic.Bool // a collection is due
}

// unixOf returns the AF_UNIX socket of ns that f is, or nil.
func (ns *Namespace) unixOf(f *vfs.File) *unixSock {
	if u, ok := f.Impl().(*unixSock); ok && u.ns == ns {
		return u
	}
	return nil
}

// tooManyFiles reports whether a sender may not put more files in
// flight: its user has more than limit there already (net/unix/af_unix.c
// too_many_unix_fds, ETOOMANYREFS). Called with ns.mu held.
func (ns *Namespace) tooManyFiles(c Context, m *Msg) bool {
	return len(m.Rights) > 0 && m.FilesLimit > 0 && c != nil && ns.users[c.MsgCreds().Uid] > m.FilesLimit
}

// queueRights records that g, just queued at t, carries its files, which
// are charged to the sender of c. Called with ns.mu held.
func (ns *Namespace) queueRights(c Context, t *unixSock, g *segment) {
	if len(g.rights) == 0 {
		return
	}
	if ns.carriers == nil {
		ns.carriers, ns.users = map[*unixSock]struct{}{}, map[int32]int{}
	}
	if c != nil {
		g.user = c.MsgCreds().Uid
	}
	ns.carriers[t] = struct{}{}
	ns.users[g.user] += len(g.rights)
	for _, f := range g.rights {
		if ns.unixOf(f) != nil {
			ns.sockets++
		}
	}
}

// takeRights takes g's files out of flight and returns them, the
// references now the caller's. Called with ns.mu held.
func (ns *Namespace) takeRights(g *segment) []*vfs.File {
	r := g.rights
	g.rights = nil
	if len(r) == 0 {
		return nil
	}
	if ns.users[g.user] -= len(r); ns.users[g.user] <= 0 {
		delete(ns.users, g.user)
	}
	for _, f := range r {
		if ns.unixOf(f) != nil {
			ns.sockets--
		}
	}
	return r
}

// inFlight reports whether any file is in flight.
func (ns *Namespace) inFlight() bool {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return len(ns.carriers) > 0
}

// collect runs the garbage collector (unix_gc) unless one is running,
// which then runs again. The files of the garbage are dropped outside
// ns.mu; their releases ask for another collection, which runs here.
func (ns *Namespace) collect() {
	ns.gcAgain.Store(true)
	for ns.gcAgain.Load() && ns.gcMu.TryLock() {
		for ns.gcAgain.Swap(false) {
			ns.mu.Lock()
			drop := ns.sweep()
			wake := ns.takeWake()
			ns.mu.Unlock()
			for _, w := range wake {
				w.q.Notify(vfs.EventOut | vfs.EventWrNorm)
			}
			dropRights(drop)
		}
		ns.gcMu.Unlock()
	}
}

// sweep finds the sockets in flight that nothing outside the queues of
// such sockets refers to, empties their queues (and those of the
// connections waiting on them, if listening) and returns the files they
// held, as __unix_gc does. Called with ns.mu held.
func (ns *Namespace) sweep() []*vfs.File {
	// Each socket's references from the queues.
	queued := map[*vfs.File]int{}
	for c := range ns.carriers {
		held := false
		for _, g := range c.recv {
			for _, f := range g.rights {
				held = true
				if ns.unixOf(f) != nil {
					queued[f]++
				}
			}
		}
		if !held {
			delete(ns.carriers, c)
		}
	}
	// Candidates: every reference is in a queue.
	cand := map[*vfs.File]*unixSock{}
	for f, n := range queued {
		if f.Refs() == int64(n) {
			cand[f] = ns.unixOf(f)
		}
	}
	if len(cand) == 0 {
		return nil
	}
	// children calls fn for each candidate in u's queues.
	children := func(u *unixSock, fn func(*vfs.File)) {
		scan := func(q []*segment) {
			for _, g := range q {
				for _, f := range g.rights {
					if _, ok := cand[f]; ok {
						fn(f)
					}
				}
			}
		}
		scan(u.recv)
		if u.listening {
			for _, e := range u.backlog {
				scan(e.recv)
			}
		}
	}
	// A candidate some reference from outside the candidates' queues
	// still holds is alive, and so is what its queues hold.
	for _, u := range cand {
		children(u, func(f *vfs.File) { queued[f]-- })
	}
	alive := map[*vfs.File]bool{}
	var work []*vfs.File
	for f := range cand {
		if queued[f] > 0 {
			alive[f] = true
			work = append(work, f)
		}
	}
	for len(work) > 0 {
		f := work[len(work)-1]
		work = work[:len(work)-1]
		children(cand[f], func(c *vfs.File) {
			if !alive[c] {
				alive[c] = true
				work = append(work, c)
			}
		})
	}
	var drop []*vfs.File
	purge := func(u *unixSock) {
		for _, g := range u.recv {
			drop = append(drop, ns.takeRights(g)...)
			g.dropped()
		}
		u.recv, u.recvBytes, u.recvSegs, u.oob = nil, 0, 0, nil
	}
	for f, u := range cand {
		if alive[f] {
			continue
		}
		purge(u)
		if u.listening {
			for _, e := range u.backlog {
				purge(e)
			}
		}
	}
	return drop
}
