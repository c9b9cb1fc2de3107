package socket

import "fmt"

// FDInfo adds what /proc/PID/fdinfo shows of a Unix socket
// (net/unix/af_unix.c unix_show_fdinfo): the descriptors in flight to
// it, sent with SCM_RIGHTS and not yet received. A listener counts those
// queued on the connections it has not accepted (unix_count_nr_fds); a
// stream socket never connected has none.
func (s *unixSock) FDInfo(b []byte) []byte {
	s.ns.mu.Lock()
	n := 0
	count := func(u *unixSock) {
		for _, g := range u.recv {
			n += len(g.rights)
		}
	}
	switch {
	case s.listening:
		for _, c := range s.backlog {
			count(c)
		}
	case s.typ == SockDgram || s.connected || s.peer != nil:
		count(s)
	}
	s.ns.mu.Unlock()
	return fmt.Appendf(b, "scm_fds: %d\n", n)
}
