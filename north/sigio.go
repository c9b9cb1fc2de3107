package north

import "github.com/cocoon-vm/cocoon/kernel/linux"

// Signal-driven I/O's delivery (fs/fcntl.c send_sigio): the file layer
// (fdtable.IOSignaler) names an owner — a thread (0), a process (1) or a
// process group (2), the F_OWNER_* kinds — and Process sends to it. The
// sender's right to signal the owner (sigio_perm) is not checked: every
// process of the guest may signal every other unless it changed its
// credentials.

// IOSignaler returns what sends the guest's O_ASYNC signals.
func (p *Process) IOSignaler() ioSignaler { return ioSignaler{p.w} }

type ioSignaler struct{ w *world }

// OwnerExists reports whether the owner names a live thread, process or
// process group.
func (s ioSignaler) OwnerExists(kind int, id int32) bool {
	switch kind {
	case 0:
		s.w.mu.Lock()
		defer s.w.mu.Unlock()
		return s.w.taskByID(id) != nil
	case 1:
		q := s.w.lookup(id)
		return q != nil && !q.exiting()
	}
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	for _, q := range s.w.procs {
		if q.pgid.Load() == id && !q.zombie {
			return true
		}
	}
	return false
}

// SendIO sends signal sig about descriptor fd's event (reason, band) to
// the owner: with sig 0, or when sig cannot be queued, a plain SIGIO
// (SI_KERNEL); otherwise sig with si_code reason, si_band and si_fd.
func (s ioSignaler) SendIO(kind int, id int32, sig int, fd int32, reason int32, band int64) {
	send := func(q *Process, t *Task) {
		if sig != 0 {
			if ok, _ := q.queueInfo(t, sigInfo{signo: sig, code: reason, band: band, fd: fd}); ok {
				return
			}
			if sig < sigRTMin && q.sigPending(t, sig) {
				return // already pending: not lost
			}
		}
		q.queue(t, sigInfo{signo: linux.SigIO, code: linux.SiKernel})
	}
	switch kind {
	case 0:
		s.w.mu.Lock()
		t := s.w.taskByID(id)
		s.w.mu.Unlock()
		if t != nil {
			send(t.p, t)
		}
	case 1:
		if q := s.w.lookup(id); q != nil && !q.exiting() {
			send(q, nil)
		}
	default:
		s.w.mu.Lock()
		var to []*Process
		for _, q := range s.w.procs {
			if q.pgid.Load() == id && !q.zombie {
				to = append(to, q)
			}
		}
		s.w.mu.Unlock()
		for _, q := range to {
			send(q, nil)
		}
	}
}

// sigPending reports whether sig is pending for thread t (nil: the
// process).
func (p *Process) sigPending(t *Task, sig int) bool {
	p.sig.mu.Lock()
	defer p.sig.mu.Unlock()
	if t != nil {
		return t.pending&bit(sig) != 0
	}
	return p.sig.pending&bit(sig) != 0
}
