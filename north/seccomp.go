package north

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/sigframe"
	"github.com/cocoon-vm/cocoon/north/socket/cbpf"
)

// System call filtering (kernel/seccomp.c,
// Documentation/userspace-api/seccomp_filter.rst): a thread in strict
// mode may only read, write, exit and return from a signal handler; a
// thread in filter mode runs each of its classic BPF programs over the
// call's struct seccomp_data before the call and the most restrictive
// verdict decides it.

// seccomp(2) operations and flags (include/uapi/linux/seccomp.h).
const (
	seccompSetModeStrict  = 0
	seccompSetModeFilter  = 1
	seccompGetActionAvail = 2
	seccompGetNotifSizes  = 3

	seccompFlagTsync        = 1
	seccompFlagLog          = 2
	seccompFlagSpecAllow    = 4
	seccompFlagNewListener  = 8
	seccompFlagTsyncEsrch   = 16
	seccompFlagWaitKillable = 32

	// The modes prctl(PR_SET_SECCOMP) takes and PR_GET_SECCOMP and
	// /proc/PID/status report.
	seccompModeStrict = 1
	seccompModeFilter = 2
)

// Filter return values: the action in the high 16 bits, its data in the
// low (SECCOMP_RET_*).
const (
	seccompRetKillProcess = 0x80000000
	seccompRetKillThread  = 0x00000000
	seccompRetTrap        = 0x00030000
	seccompRetErrno       = 0x00050000
	seccompRetUserNotif   = 0x7fc00000
	seccompRetTrace       = 0x7ff00000
	seccompRetLog         = 0x7ffc0000
	seccompRetAllow       = 0x7fff0000
	seccompRetActionFull  = 0xffff0000
	seccompRetData        = 0x0000ffff
)

func init() { register(317, sysSeccomp) }

// maxErrno is MAX_ERRNO, the largest errno a filter may return.
const maxErrno = 4095

// seccompDataSize is sizeof(struct seccomp_data): nr, arch,
// instruction_pointer, args[6].
const seccompDataSize = 64

// auditArchX86_64 is AUDIT_ARCH_X86_64 (include/uapi/linux/audit.h).
const auditArchX86_64 = 0xc000003e

// maxInsnsPerPath is MAX_INSNS_PER_PATH: the instructions of every
// filter a call runs, each past the newest counting 4 more. Linux counts
// the instructions of the programs as converted to eBPF (ebpfLen).
const maxInsnsPerPath = 32768

// seccompFilter is one installed program, immutable once made; prev is
// the one installed before it (shared by the threads and processes
// that inherited both). A thread's filter is the newest of its chain.
type seccompFilter struct {
	prog  []cbpf.Insn
	prev  *seccompFilter
	count int // filters in the chain from this one
	insns int // the chain's converted instructions (ebpfLen), 4 more per filter
}

// seccompStrict stands for strict mode in a thread's filter pointer.
var seccompStrict = &seccompFilter{}

// seccompMode is the mode /proc/PID/status and PR_GET_SECCOMP report.
func seccompMode(f *seccompFilter) int {
	switch {
	case f == nil:
		return 0
	case f == seccompStrict:
		return seccompModeStrict
	}
	return seccompModeFilter
}

// seccompFilterCount is Seccomp_filters of /proc/PID/status.
func seccompFilterCount(f *seccompFilter) int {
	if f == nil || f == seccompStrict {
		return 0
	}
	return f.count
}

// sysSeccomp is seccomp(2).
func sysSeccomp(t *Task, a *[6]uint64) int64 {
	op, flags, uargs := a[0], a[1], a[2]
	switch op {
	case seccompSetModeStrict:
		if flags != 0 || uargs != 0 {
			return -linux.EINVAL
		}
		return t.seccompSetStrict()
	case seccompSetModeFilter:
		return t.seccompSetFilter(flags, uargs)
	case seccompGetActionAvail:
		if flags != 0 {
			return -linux.EINVAL
		}
		var b [4]byte
		if err := t.p.m.CopyIn(uargs, b[:]); err != nil {
			return -linux.EFAULT
		}
		switch binary.LittleEndian.Uint32(b[:]) {
		case seccompRetKillProcess, seccompRetKillThread, seccompRetTrap, seccompRetErrno,
			seccompRetTrace, seccompRetLog, seccompRetAllow:
			return 0
		}
		// SECCOMP_RET_USER_NOTIF too: there are no notification
		// listeners (see seccompSetFilter), so the action is reported
		// unavailable, as by a kernel before Linux 5.0.
		return -linux.EOPNOTSUPP
	case seccompGetNotifSizes:
		// Unknown to a kernel without user notification (Linux < 5.0).
		return t.p.unsupported("seccomp SECCOMP_GET_NOTIF_SIZES (no user notification)", -linux.EINVAL)
	}
	return -linux.EINVAL
}

// seccompSetStrict enters strict mode (seccomp_set_mode_strict): not
// from filter mode.
func (t *Task) seccompSetStrict() int64 {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := t.seccomp.Load(); f != nil && f != seccompStrict {
		return -linux.EINVAL // seccomp_may_assign_mode
	}
	t.seccomp.Store(seccompStrict)
	return 0
}

// seccompSetFilter installs the program struct sock_fprog at uargs
// points to (seccomp_set_mode_filter).
func (t *Task) seccompSetFilter(flags, uargs uint64) int64 {
	p := t.p
	if flags&seccompFlagNewListener != 0 || flags&seccompFlagWaitKillable != 0 {
		// There is no user notification (its listener descriptor and
		// SECCOMP_IOCTL_NOTIF_*): the flags are refused as a kernel
		// refuses flags it does not know (Linux before 5.0), which is
		// how libseccomp finds notification unavailable.
		return p.unsupported("seccomp SECCOMP_FILTER_FLAG_NEW_LISTENER (no user notification)", -linux.EINVAL)
	}
	if flags&^(seccompFlagTsync|seccompFlagLog|seccompFlagSpecAllow|seccompFlagTsyncEsrch) != 0 {
		return -linux.EINVAL
	}
	// seccomp_prepare_user_filter: struct sock_fprog {u16 len; filter *}.
	var hdr [16]byte
	if err := p.m.CopyIn(uargs, hdr[:]); err != nil {
		return -linux.EFAULT
	}
	n := int(binary.LittleEndian.Uint16(hdr[:]))
	addr := binary.LittleEndian.Uint64(hdr[8:])
	if n == 0 || n > cbpf.MaxInsns {
		return -linux.EINVAL
	}
	// seccomp_prepare_filter: no_new_privs or CAP_SYS_ADMIN, so that a
	// filter cannot fool a privileged program it execs.
	if !t.noNewPrivs.Load() && !t.Capable(capSysAdmin) {
		return -linux.EACCES
	}
	b := make([]byte, n*cbpf.InsnSize)
	if err := p.m.CopyIn(addr, b); err != nil {
		return -linux.EFAULT
	}
	prog := cbpf.Decode(b)
	if cbpf.Check(prog) != nil || !seccompCheck(prog) {
		return -linux.EINVAL
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := t.seccomp.Load()
	if cur == seccompStrict {
		return -linux.EINVAL // seccomp_may_assign_mode
	}
	size := ebpfLen(prog)
	f := &seccompFilter{prog: prog, prev: cur, count: 1, insns: size + 4}
	total := size
	if cur != nil {
		// seccomp_attach_filter: the path's length, each earlier
		// filter counting 4 more.
		f.count += cur.count
		f.insns += cur.insns
		total += cur.insns
	}
	if total > maxInsnsPerPath {
		return -linux.ENOMEM
	}
	if flags&seccompFlagTsync != 0 {
		// seccomp_can_sync_threads: every other thread's filter must
		// be one of the caller's chain (or none), else the call fails
		// with that thread's ID (ESRCH with TSYNC_ESRCH).
		for _, o := range p.tasks {
			if o == t {
				continue
			}
			of := o.seccomp.Load()
			if of == nil {
				continue
			}
			ok := of != seccompStrict
			if ok {
				ok = false
				for w := cur; w != nil; w = w.prev {
					if w == of {
						ok = true
						break
					}
				}
			}
			if !ok {
				if flags&seccompFlagTsyncEsrch != 0 {
					return -linux.ESRCH
				}
				return int64(o.tid)
			}
		}
		nnp := t.noNewPrivs.Load()
		for _, o := range p.tasks {
			o.seccomp.Store(f)
			// seccomp_sync_threads: no_new_privs goes with the filter.
			if nnp {
				o.noNewPrivs.Store(true)
			}
		}
		return 0
	}
	t.seccomp.Store(f)
	return 0
}

// seccompCheck is seccomp_check_filter, on top of Check: the loads are
// only of aligned words of struct seccomp_data and its length; no
// packet loads, no ancillary data, no modulo.
func seccompCheck(prog []cbpf.Insn) bool {
	const (
		ldWAbs  = 0x20 // BPF_LD|BPF_W|BPF_ABS
		ldWLen  = 0x80 // BPF_LD|BPF_W|BPF_LEN
		ldxWLen = 0x81 // BPF_LDX|BPF_W|BPF_LEN
	)
	for _, in := range prog {
		switch c := in.Code; {
		case c == ldWAbs:
			if in.K >= seccompDataSize || in.K&3 != 0 {
				return false
			}
		case c == ldWLen, c == ldxWLen:
		case c&0x07 == 0x04: // BPF_ALU: all but BPF_MOD (0x90)
			if c&0xf0 == 0x90 {
				return false
			}
		case c == 0x00, c == 0x01, c == 0x60, c == 0x61, c == 0x02, c == 0x03, // LD/LDX IMM, MEM; ST; STX
			c == 0x07, c == 0x87, // TAX, TXA
			c == 0x06, c == 0x16, // RET K, A
			c&0x07 == 0x05: // the jumps Check allowed
		default:
			return false
		}
	}
	return true
}

// seccompEnter runs the thread's filters before system call nr
// (__secure_computing). It reports whether the call is to be skipped,
// with its result r (noReturn: the thread is dead or the registers are
// set).
func (t *Task) seccompEnter(f *seccompFilter, nr uint64, a *[6]uint64) (r int64, skip bool) {
	if f == seccompStrict {
		switch nr {
		case linux.SysRead, linux.SysWrite, linux.SysExit, linux.SysRtSigreturn:
			return 0, false
		}
		// __secure_computing_strict: do_exit(SIGKILL), this thread.
		t.seccompKillThread(linux.SigKill)
		return noReturn, true
	}
	var d [seccompDataSize]byte
	rip := t.regs.Frame.RIP
	// Run's loads are big-endian: each word is laid out so that they
	// give the value the host's (little-endian) load would.
	be := binary.BigEndian
	be.PutUint32(d[0:], uint32(nr))
	be.PutUint32(d[4:], auditArchX86_64)
	be.PutUint32(d[8:], uint32(rip))
	be.PutUint32(d[12:], uint32(rip>>32))
	for i, v := range a {
		be.PutUint32(d[16+8*i:], uint32(v))
		be.PutUint32(d[20+8*i:], uint32(v>>32))
	}
	pkt := cbpf.Packet{Data: d[:]}
	// seccomp_run_filters: the lowest action (as a signed value) wins,
	// the newest filter's among equals.
	ret := uint32(seccompRetAllow)
	for w := f; w != nil; w = w.prev {
		v := cbpf.Run(w.prog, &pkt)
		if int32(v&seccompRetActionFull) < int32(ret&seccompRetActionFull) {
			ret = v
		}
	}
	data := ret & seccompRetData
	switch ret & seccompRetActionFull {
	case seccompRetAllow, seccompRetLog:
		return 0, false
	case seccompRetErrno:
		return -int64(min(data, maxErrno)), true
	case seccompRetTrace, seccompRetUserNotif:
		// No tracer to consult (ptrace is not served), no listener:
		// the call fails with ENOSYS and is not run.
		return -linux.ENOSYS, true
	case seccompRetTrap:
		// syscall_rollback leaves RAX as the call's number; the handler
		// may change it in the frame.
		info := sigframe.SigInfo{Signo: linux.SigSys, Errno: int32(data), Code: linux.SysSeccomp,
			Addr: rip, Syscall: int32(nr), Arch: auditArchX86_64}.Marshal()
		t.forceSignal(sigInfo{signo: linux.SigSys, code: linux.SysSeccomp, raw: &info})
		return noReturn, true
	case seccompRetKillThread:
		if t.p.threadCount() > 1 {
			// do_exit(SIGSYS): only this thread ends.
			t.seccompKillThread(linux.SigSys)
			return noReturn, true
		}
	}
	// SECCOMP_RET_KILL_PROCESS, the last thread's KILL_THREAD and any
	// action Linux does not know: the process dies of SIGSYS, whatever
	// its handler (force_sig_seccomp with force_coredump).
	t.kill(sigInfo{signo: linux.SigSys, code: linux.SysSeccomp})
	return noReturn, true
}

// seccompKillThread ends the calling thread as do_exit(sig) does: the
// process with status sig if it was the last thread.
func (t *Task) seccompKillThread(sig int) {
	t.futexExit()
	if t.clearTID != 0 {
		if mem.WriteUint32(t.p.m, t.clearTID, 0) == nil {
			t.p.futex.wake(t.futexKey(t.clearTID, false), 1, ^uint32(0))
		}
	}
	t.exited = true
	if t.p.threadCount() == 1 {
		t.p.exitKilled(sig)
	}
}

// prctlSeccomp serves PR_SET_SECCOMP (mode and filter in a[1], a[2])
// and PR_GET_SECCOMP.
func (t *Task) prctlSeccomp(set bool, a *[6]uint64) int64 {
	if !set {
		return int64(seccompMode(t.seccomp.Load()))
	}
	switch a[1] {
	case seccompModeStrict:
		return t.seccompSetStrict()
	case seccompModeFilter:
		return t.seccompSetFilter(0, a[2])
	}
	return -linux.EINVAL
}

// ebpfLen is the length of prog, which seccompCheck accepted, once
// bpf_convert_filter (net/core/filter.c) has made it eBPF, which is what
// seccomp_attach_filter counts against MAX_INSNS_PER_PATH: three
// instructions first (A and X cleared, the context saved), a return of
// a constant two (a move to R0, an exit), a conditional jump two when
// neither target is the next instruction (a jump and a JA; also for
// BPF_JSET whose true target is next, which has no inverse) and one
// more when it compares with a negative constant (first moved to a
// register), a division by X five (the check for zero), the rest one.
// Measured on Linux 6.18: with seven filters of 4096 instructions a
// filter of 4036 instructions still fits and one of 4037 is ENOMEM.
func ebpfLen(prog []cbpf.Insn) int {
	n := 3
	for _, in := range prog {
		c := in.Code
		switch {
		case c == 0x06: // BPF_RET|BPF_K
			n += 2
		case c == 0x3c: // BPF_ALU|BPF_DIV|BPF_X
			n += 5
		case c&0x07 == 0x05 && c&0xf0 != 0: // a conditional jump
			n++
			if c&0x08 == 0 && int32(in.K) < 0 {
				n++
			}
			if in.Jf != 0 && (in.Jt != 0 || c&0xf0 == 0x40) {
				n++
			}
		default:
			n++
		}
	}
	return n
}
