package north

import (
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Restartable sequences (rseq(2), kernel/rseq.c, include/uapi/linux/rseq.h):
// a thread registers a struct rseq in which the kernel keeps the CPU it
// runs on, and points its rseq_cs field at a descriptor while it runs a
// critical section; a preemption or a signal delivered inside that
// section sends the thread to the descriptor's abort handler instead of
// back into the section. Cocoon runs every thread on one virtual CPU, of
// one node: the CPU, node and concurrency IDs it writes are all 0. A
// preemption is any exit from user mode but a system call (an interrupt,
// a fault: Task.loop), since the Go scheduler may run another thread
// before this one goes back; Linux counts only a switch to another task.
// Cocoon aborts a little more often, which the ABI allows.

func init() { register(334, sysRseq) }

// struct rseq and struct rseq_cs (include/uapi/linux/rseq.h).
const (
	rseqOrigSize    = 32 // ORIG_RSEQ_SIZE: the first struct rseq's size and alignment
	rseqCPUIDStart  = 0  // u32 cpu_id_start
	rseqCPUID       = 4  // u32 cpu_id
	rseqCSPtr       = 8  // u64 rseq_cs
	rseqFlags       = 16 // u32 flags
	rseqNodeID      = 20 // u32 node_id (mm_cid follows at 24)
	rseqFlagUnreg   = 1  // RSEQ_FLAG_UNREGISTER
	rseqCPUIDUninit = ^uint32(0)
	rseqCSSize      = 32                   // struct rseq_cs: version, flags, start_ip, post_commit_offset, abort_ip
	rseqUserTop     = 1<<47 - mem.PageSize // TASK_SIZE
)

// rseqState is a thread's registration (task_struct rseq, rseq_len,
// rseq_sig, rseq_event_mask, TIF_NOTIFY_RESUME); set and used by the
// thread's own goroutine only.
type rseqState struct {
	addr uint64 // the struct rseq, 0: none
	len  uint32
	sig  uint32
	// event: preempted or signalled since the last abort decision (a
	// critical section it is in must restart); notify: the fields are
	// to be written and the section checked before user mode.
	event, notify bool
}

// sysRseq is rseq(rseq, rseq_len, flags, sig) (kernel/rseq.c sys_rseq).
func sysRseq(t *Task, a *[6]uint64) int64 {
	addr, length, flags, sig := a[0], uint32(a[1]), int32(a[2]), uint32(a[3])
	r := &t.rseq
	m := t.p.m
	if flags&rseqFlagUnreg != 0 {
		if flags&^rseqFlagUnreg != 0 {
			return -linux.EINVAL
		}
		if r.addr == 0 || r.addr != addr || length != r.len {
			return -linux.EINVAL
		}
		if sig != r.sig {
			return -linux.EPERM
		}
		// rseq_reset_rseq_cpu_node_id.
		if mem.WriteUint64(m, addr+rseqCPUIDStart, uint64(rseqCPUIDUninit)<<32) != nil ||
			mem.WriteUint64(m, addr+rseqNodeID, 0) != nil {
			return -linux.EFAULT
		}
		*r = rseqState{}
		return 0
	}
	if flags != 0 {
		return -linux.EINVAL
	}
	if r.addr != 0 {
		if r.addr != addr || length != r.len {
			return -linux.EINVAL
		}
		if sig != r.sig {
			return -linux.EPERM
		}
		return -linux.EBUSY
	}
	// The original 32 bytes aligned to 32, or at least the supported
	// fields with struct rseq's alignment (also 32).
	if length < rseqOrigSize || addr%rseqOrigSize != 0 {
		return -linux.EINVAL
	}
	if end := addr + uint64(length); end < addr || end > rseqUserTop {
		return -linux.EFAULT // access_ok
	}
	// A descriptor left from an earlier registration (a libc reusing
	// the area) is cleared rather than refused.
	cs, err := mem.ReadUint64(m, addr+rseqCSPtr)
	if err != nil {
		return -linux.EFAULT
	}
	if cs != 0 && mem.WriteUint64(m, addr+rseqCSPtr, 0) != nil {
		return -linux.EFAULT
	}
	*r = rseqState{addr: addr, len: length, sig: sig, notify: true}
	return 0
}

// userLast is the thread that last entered user mode on the CPU: one
// that finds another there since its own entry was switched away from
// (rseq_preempt at the context switch).
var userLast atomic.Pointer[Task]

// rseqPreempted notes that the thread left user mode other than by a
// system call, maybe for another's turn (rseq_preempt).
func (t *Task) rseqPreempted() {
	if t.rseq.addr != 0 {
		t.rseq.event, t.rseq.notify = true, true
	}
}

// rseqSignal is rseq_signal_deliver: before a handler's frame is built
// for sig, a critical section the thread is in aborts, so the frame
// returns to the abort handler.
func (t *Task) rseqSignal(sig int) {
	if t.rseq.addr != 0 {
		t.rseq.event = true
		t.rseqResume(sig)
	}
}

// rseqResume is __rseq_handle_notify_resume on the way to user mode:
// after a preemption or signal, check the critical section the thread is
// in (restart it at its abort handler, or forget a descriptor it is not
// in), then write the CPU, node and concurrency IDs. A bad descriptor or
// an area that cannot be written is SIGSEGV: force_sigsegv of the signal
// being delivered, sig (0: none).
func (t *Task) rseqResume(sig int) {
	r := &t.rseq
	r.notify = false
	if r.addr == 0 || t.exited {
		return
	}
	var e int64
	if r.event {
		r.event = false
		e = t.rseqFixup()
	}
	if e == 0 && t.rseqUpdate() == nil {
		return
	}
	info := sigInfo{signo: linux.SigSegv, code: linux.SiKernel}
	if sig != linux.SigSegv {
		t.forceSignal(info)
		return
	}
	// The SIGSEGV being delivered: its handler is reset and a second
	// SIGSEGV queued (force_fatal_sig), which the handler's frame, being
	// set up, blocks until the handler returns: it runs once, then the
	// process dies.
	s := &t.p.sig
	s.mu.Lock()
	s.act[sig].handler = sigDfl
	s.setPending(&t.pending, sig)
	t.pendingInfo[sig] = info
	s.mu.Unlock()
}

// rseqFixup is rseq_ip_fixup after an event: 0, or the negated errno
// that makes SIGSEGV.
func (t *Task) rseqFixup() int64 {
	m, r := t.p.m, &t.rseq
	ptr, err := mem.ReadUint64(m, r.addr+rseqCSPtr)
	if err != nil {
		return -linux.EFAULT
	}
	var start, offset, abort uint64
	var csFlags uint32
	if ptr != 0 {
		// rseq_get_rseq_cs: the descriptor must lie in user space,
		// version 0, its section in user space without wrapping, the
		// abort handler outside it and preceded by the registered
		// signature.
		if ptr >= rseqUserTop {
			return -linux.EINVAL
		}
		var b [rseqCSSize]byte
		if m.CopyIn(ptr, b[:]) != nil {
			return -linux.EFAULT
		}
		version, flags := getU64(b[0:]), getU64(b[0:])>>32
		csFlags = uint32(flags)
		start, offset, abort = getU64(b[8:]), getU64(b[16:]), getU64(b[24:])
		if start >= rseqUserTop || start+offset >= rseqUserTop || abort >= rseqUserTop || uint32(version) > 0 {
			return -linux.EINVAL
		}
		if start+offset < start || abort-start < offset {
			return -linux.EINVAL
		}
		sig, err := mem.ReadUint32(m, abort-4)
		if err != nil {
			return -linux.EFAULT
		}
		if sig != r.sig {
			return -linux.EINVAL
		}
	}
	ip := t.regs.Frame.RIP
	if ip-start >= offset { // not in the section (or none)
		// clear_rseq_cs; a 0 left as it is cannot be told apart (the
		// IDs are written to the same page next).
		if ptr != 0 && mem.WriteUint64(m, r.addr+rseqCSPtr, 0) != nil {
			return -linux.EFAULT
		}
		return 0
	}
	// rseq_need_restart: the deprecated no-restart flags, in the
	// descriptor or the area, are refused (rseq_warn_flags).
	if csFlags != 0 {
		return -linux.EINVAL
	}
	if f, err := mem.ReadUint32(m, r.addr+rseqFlags); err != nil {
		return -linux.EFAULT
	} else if f != 0 {
		return -linux.EINVAL
	}
	if mem.WriteUint64(m, r.addr+rseqCSPtr, 0) != nil {
		return -linux.EFAULT
	}
	t.regs.Frame.RIP = abort
	return 0
}

// rseqUpdate is rseq_update_cpu_node_id: CPU 0 (cpu_id_start and
// cpu_id), node 0, concurrency ID 0.
func (t *Task) rseqUpdate() error {
	m, a := t.p.m, t.rseq.addr
	if err := mem.WriteUint64(m, a+rseqCPUIDStart, 0); err != nil {
		return err
	}
	return mem.WriteUint64(m, a+rseqNodeID, 0)
}
