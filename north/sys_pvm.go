package north

import (
	"encoding/binary"
	"reflect"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// process_vm_readv(2), process_vm_writev(2) and kcmp(2): calls about
// another process that a tracer may make.

// pvmCalls are the system calls this file serves (registerAll).
var pvmCalls = [...]call{
	{310, func(t *Task, a *[6]uint64) int64 { return t.processVM(a, false) }}, // process_vm_readv
	{311, func(t *Task, a *[6]uint64) int64 { return t.processVM(a, true) }},  // process_vm_writev
	{312, sysKcmp},
}

func init() { registerAll(pvmCalls[:]) }

const (
	uioMaxIOV = 1024                   // UIO_MAXIOV (include/uapi/linux/uio.h)
	maxRW     = 0x7ffff000             // MAX_RW_COUNT: what one call moves at most
	maxSSize  = uint64(1<<63 - 1)      // an iovec length past it is negative: EINVAL
	userLimit = uint64(0x7fffffffffff) // access_ok's bound, TASK_SIZE_MAX - 1 (x86-64, 4-level paging)
)

type iovec struct{ base, len uint64 }

// readIovecs reads n struct iovec at addr of the caller's memory
// (lib/iov_iter.c iovec_from_user): EINVAL for more than UIO_MAXIOV or a
// negative length, EFAULT for an unreadable array.
func (t *Task) readIovecs(addr, n uint64) ([]iovec, int64) {
	if n > uioMaxIOV {
		return nil, -linux.EINVAL
	}
	b := make([]byte, 16*n)
	if err := t.p.m.CopyIn(addr, b); err != nil {
		return nil, -linux.EFAULT
	}
	out := make([]iovec, n)
	for i := range out {
		out[i] = iovec{binary.LittleEndian.Uint64(b[16*i:]), binary.LittleEndian.Uint64(b[16*i+8:])}
		if out[i].len > maxSSize {
			return nil, -linux.EINVAL
		}
	}
	return out, 0
}

// mayTrace reports whether t may read (or attach to) process p, as
// kernel/ptrace.c __ptrace_may_access with the caller's real IDs: a
// thread of the same process; a caller whose real user and group IDs
// are all of p's and p dumpable; or CAP_SYS_PTRACE.
func (t *Task) mayTrace(p *Process) bool {
	if p == t.p {
		return true
	}
	t.p.mu.Lock()
	c := t.p.cred
	t.p.mu.Unlock()
	if c.capable(capSysPtrace) {
		return true
	}
	p.mu.Lock()
	o := p.cred
	p.mu.Unlock()
	same := c.ruid == o.ruid && c.ruid == o.euid && c.ruid == o.suid &&
		c.rgid == o.rgid && c.rgid == o.egid && c.rgid == o.sgid
	return same && !p.undumpable.Load()
}

// processVM is process_vm_readv (write false) or process_vm_writev
// (mm/process_vm_access.c): the local iovecs are checked first (nothing
// to move is 0 at once), then the remote ones, the process (ESRCH) and
// the right to trace it (EPERM); the copy goes page by page of the remote
// side with the remote mapping's protection (no FOLL_FORCE) and stops at
// the first fault: the bytes moved, or EFAULT if none.
func (t *Task) processVM(a *[6]uint64, write bool) int64 {
	pid, lvec, ln, rvec, rn, flags := int32(a[0]), a[1], a[2], a[3], a[4], a[5]
	if flags != 0 {
		return -linux.EINVAL
	}
	local, e := t.readIovecs(lvec, ln)
	if e != 0 {
		return e
	}
	var total uint64
	for i, v := range local {
		// lib/iov_iter.c __import_iovec: the total is clamped to
		// MAX_RW_COUNT, and what remains of each piece must lie in user
		// memory (access_ok).
		n := min(v.len, maxRW-total)
		if v.base > userLimit || n > userLimit-v.base+1 {
			return -linux.EFAULT
		}
		local[i].len = n
		total += n
	}
	if total == 0 {
		return 0
	}
	remote, e := t.readIovecs(rvec, rn)
	if e != 0 {
		return e
	}
	some := false
	for _, v := range remote {
		some = some || v.len > 0
	}
	if !some {
		return 0
	}
	w := t.p.w
	w.mu.Lock()
	o := w.taskByID(pid)
	w.mu.Unlock()
	if o == nil || pid <= 0 {
		return -linux.ESRCH
	}
	p := o.p
	if !t.mayTrace(p) {
		return -linux.EPERM
	}
	p.mu.Lock()
	m := p.m
	p.mu.Unlock()
	if !pinSpace(m) {
		return -linux.ESRCH // mm_access: no address space any more
	}
	defer dropSpace(m)

	done, li, loff := uint64(0), 0, uint64(0)
	buf := make([]byte, mem.PageSize)
	fault := false
	for _, r := range remote {
		for off := uint64(0); off < r.len && done < total && !fault; {
			for li < len(local) && loff == local[li].len {
				li, loff = li+1, 0
			}
			if li == len(local) {
				break
			}
			addr := r.base + off
			n := min(r.len-off, mem.PageSize-addr%mem.PageSize, local[li].len-loff, total-done)
			chunk := buf[:n]
			lAddr := local[li].base + loff
			var err error
			if write {
				if err = t.p.m.CopyIn(lAddr, chunk); err == nil {
					err = m.CopyOut(addr, chunk)
				}
			} else if err = m.CopyIn(addr, chunk); err == nil {
				err = t.p.m.CopyOut(lAddr, chunk)
			}
			if err != nil {
				fault = true
				break
			}
			off += n
			loff += n
			done += n
		}
		if fault || done == total {
			break
		}
	}
	if done == 0 && fault {
		return -linux.EFAULT
	}
	return int64(done)
}

// kcmp types (include/uapi/linux/kcmp.h).
const (
	kcmpFile = iota
	kcmpVM
	kcmpFiles
	kcmpFS
	kcmpSighand
	kcmpIO
	kcmpSysvsem
	kcmpEpollTFD
)

// kcmpFileIDs is what a Files provides for kcmp: the identity of its
// descriptor table and of its working directory and umask (fs_struct),
// and of the open file description at fd (ok false if none).
type kcmpFileIDs interface {
	KcmpIDs() (table, fs uintptr)
	FileID(fd int32) (id uintptr, ok bool)
	IsEpoll(fd int32) bool
}

// sysKcmp is kcmp(2) (kernel/kcmp.c): whether two threads share a
// resource: 0 the same, 1 or 2 as one object orders before the other.
// Cocoon orders objects by their addresses (Linux by obfuscated ones,
// so only equality means the same on both). The threads' processes must
// both be traceable (EPERM).
func sysKcmp(t *Task, a *[6]uint64) int64 {
	pid1, pid2, typ, idx1, idx2 := int32(a[0]), int32(a[1]), a[2], a[3], a[4]
	w := t.p.w
	w.mu.Lock()
	t1, t2 := w.taskByID(pid1), w.taskByID(pid2)
	w.mu.Unlock()
	if t1 == nil || t2 == nil || pid1 <= 0 || pid2 <= 0 {
		return -linux.ESRCH
	}
	if !t.mayTrace(t1.p) || !t.mayTrace(t2.p) {
		return -linux.EPERM
	}
	order := func(x, y uintptr) int64 {
		switch {
		case x < y:
			return 1
		case x > y:
			return 2
		}
		return 0
	}
	ptr := func(v any) uintptr { return reflect.ValueOf(v).Pointer() }
	f1, ok1 := t1.files.(kcmpFileIDs)
	f2, ok2 := t2.files.(kcmpFileIDs)
	switch typ {
	case kcmpFile:
		if !ok1 || !ok2 {
			return -linux.EBADF
		}
		x, okx := f1.FileID(int32(idx1))
		y, oky := f2.FileID(int32(idx2))
		if !okx || !oky {
			return -linux.EBADF
		}
		return order(x, y)
	case kcmpVM:
		t1.p.mu.Lock()
		m1 := t1.p.m
		t1.p.mu.Unlock()
		t2.p.mu.Lock()
		m2 := t2.p.m
		t2.p.mu.Unlock()
		if m1 == m2 {
			return 0
		}
		return order(ptr(t1.p), ptr(t2.p))
	case kcmpFiles, kcmpFS:
		if !ok1 || !ok2 {
			return order(ptr(t1.p), ptr(t2.p))
		}
		tab1, fs1 := f1.KcmpIDs()
		tab2, fs2 := f2.KcmpIDs()
		if typ == kcmpFiles {
			return order(tab1, tab2)
		}
		return order(fs1, fs2)
	case kcmpSighand:
		// Handlers are shared by the threads of a process only (clone
		// with CLONE_SIGHAND alone is refused).
		return order(ptr(t1.p), ptr(t2.p))
	case kcmpIO:
		return order(ptr(t1.ioCtx.Load()), ptr(t2.ioCtx.Load()))
	case kcmpSysvsem:
		// The System V semaphore undo lists (NULL until a SEM_UNDO or a
		// clone with CLONE_SYSVSEM).
		s := &t.p.w.sem
		s.mu.Lock()
		u1, u2 := t1.semUndo, t2.semUndo
		s.mu.Unlock()
		return order(ptr(u1), ptr(u2))
	case kcmpEpollTFD:
		// kcmp_epoll_target: idx1's file, then struct kcmp_epoll_slot
		// {efd, tfd, toff} at idx2 naming an epoll of the second thread.
		if !ok1 || !ok2 {
			return -linux.EBADF
		}
		if _, ok := f1.FileID(int32(idx1)); !ok {
			return -linux.EBADF
		}
		var slot [12]byte
		if err := t.p.m.CopyIn(idx2, slot[:]); err != nil {
			return -linux.EFAULT
		}
		efd := int32(binary.LittleEndian.Uint32(slot[:]))
		if _, ok := f2.FileID(efd); !ok {
			return -linux.EBADF
		}
		if !f2.IsEpoll(efd) {
			return -linux.EINVAL
		}
		return t.p.unsupported("kcmp KCMP_EPOLL_TFD", -linux.EOPNOTSUPP)
	}
	return -linux.EINVAL
}
