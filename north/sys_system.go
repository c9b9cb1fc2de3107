package north

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// membarrier(2), personality(2), sync(2), sethostname(2),
// setdomainname(2), the protection-key calls and the ptrace refusal.

// systemCalls are the system calls this file serves (registerAll).
var systemCalls = [...]call{
	{135, sysPersonality},
	{162, sysSync},
	{170, func(t *Task, a *[6]uint64) int64 { return t.setUTSName(a, true) }},  // sethostname
	{171, func(t *Task, a *[6]uint64) int64 { return t.setUTSName(a, false) }}, // setdomainname
	{324, sysMembarrier},
	{329, sysPkeyMprotect},
	{330, sysPkeyAlloc},
	{331, func(t *Task, a *[6]uint64) int64 { return -linux.EINVAL }}, // pkey_free: none is allocated
	{101, sysPtrace},
}

// utsNames are the guest's host and domain names (its one UTS
// namespace): uname's nodename and domainname.
type utsNames struct {
	mu           sync.Mutex
	host, domain string
	set          bool // host and domain hold what was set
}

// get returns the host and domain names.
func (u *utsNames) get() (host, domain string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.set {
		return utsname[1], utsname[5]
	}
	return u.host, u.domain
}

// setUTSName is sethostname(2) (host) or setdomainname(2)
// (kernel/sys.c): EPERM without CAP_SYS_ADMIN, EINVAL for more than 64
// bytes (__NEW_UTS_LEN), EFAULT for a bad name.
func (t *Task) setUTSName(a *[6]uint64, host bool) int64 {
	if !t.Capable(capSysAdmin) {
		return -linux.EPERM
	}
	n := uint64(uint32(a[1]))
	if n > 64 {
		return -linux.EINVAL
	}
	b := make([]byte, n)
	if err := t.p.m.CopyIn(a[0], b); err != nil {
		return -linux.EFAULT
	}
	// The name is its bytes up to the first NUL (utsname fields are
	// NUL-terminated strings).
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	u := &t.p.w.uts
	h, d := u.get()
	u.mu.Lock()
	defer u.mu.Unlock()
	if host {
		h = string(b)
	} else {
		d = string(b)
	}
	u.host, u.domain, u.set = h, d, true
	return 0
}

// sysPkeyAlloc is pkey_alloc(2) on a CPU without protection keys (QEMU's
// CPUs lack PKU; Cocoon does not enable it): ENOSPC, as mm_pkey_alloc
// finds no key (mm/mprotect.c); EINVAL for flags or access rights Linux
// does not know first.
func sysPkeyAlloc(t *Task, a *[6]uint64) int64 {
	const pkeyDisableAccess, pkeyDisableWrite = 1, 2 // include/uapi/asm-generic/mman-common.h
	if a[0] != 0 || a[1]&^(pkeyDisableAccess|pkeyDisableWrite) != 0 {
		return -linux.EINVAL
	}
	return -linux.ENOSPC
}

// sysPkeyMprotect is pkey_mprotect(2): with key -1 it is mprotect; no
// other key was ever allocated (EINVAL, do_mprotect_pkey).
func sysPkeyMprotect(t *Task, a *[6]uint64) int64 {
	if int32(a[3]) != -1 {
		return -linux.EINVAL
	}
	return sysMprotect(t, &[6]uint64{a[0], a[1], a[2]})
}

// sysPtrace refuses ptrace(2) as Linux does under Yama's ptrace_scope 3
// ("no attach": Documentation/admin-guide/LSM/Yama.rst): PTRACE_TRACEME,
// PTRACE_ATTACH and PTRACE_SEIZE fail with EPERM, and every other request
// with ESRCH, since no process can be a tracee. Cocoon has no tracing;
// /proc/PID/mem is served.
func sysPtrace(t *Task, a *[6]uint64) int64 {
	const ptraceTraceme, ptraceAttach, ptraceSeize = 0, 16, 0x4206 // include/uapi/linux/ptrace.h
	switch a[0] {
	case ptraceAttach, ptraceSeize:
		t.p.w.mu.Lock()
		o := t.p.w.taskByID(int32(a[1]))
		t.p.w.mu.Unlock()
		if o == nil {
			return -linux.ESRCH
		}
		fallthrough
	case ptraceTraceme:
		return t.p.unsupported("ptrace (tracing: Yama ptrace_scope 3)", -linux.EPERM)
	}
	return -linux.ESRCH
}

// sysSync is sync(2): Cocoon's file systems (tmpfs, the archive, /proc)
// keep every file in memory and have no device to write back to, so
// every file is already as synced as Linux's sync leaves it (tmpfs's
// writeback does nothing either).
func sysSync(t *Task, a *[6]uint64) int64 { return 0 }

func init() { registerAll(systemCalls[:]) }

// membarrier commands (include/uapi/linux/membarrier.h).
const (
	mbQuery                  = 0
	mbGlobal                 = 1 << 0
	mbGlobalExpedited        = 1 << 1
	mbRegisterGlobalExp      = 1 << 2
	mbPrivateExpedited       = 1 << 3
	mbRegisterPrivateExp     = 1 << 4
	mbPrivateExpSyncCore     = 1 << 5
	mbRegisterPrivateExpSync = 1 << 6
	mbPrivateExpRseq         = 1 << 7
	mbRegisterPrivateExpRseq = 1 << 8
	mbGetRegistrations       = 1 << 9
	mbFlagCPU                = 1 << 0 // MEMBARRIER_CMD_FLAG_CPU

	// The registrations a private barrier needs are kept apart from
	// those GET_REGISTRATIONS shows (mm->membarrier_state's _READY bits):
	// the SYNC_CORE and RSEQ registrations show the plain private one
	// too, without allowing its barrier.
	mbReadyPrivate  = 1 << 16
	mbReadySyncCore = 1 << 17
	mbReadyRseq     = 1 << 18
	mbShown         = 1<<16 - 1

	// mbCommands are the commands QUERY reports: all of them, the rseq
	// ones included (CONFIG_RSEQ: rseq.go).
	mbCommands = mbGlobal | mbGlobalExpedited | mbRegisterGlobalExp | mbPrivateExpedited |
		mbRegisterPrivateExp | mbPrivateExpSyncCore | mbRegisterPrivateExpSync |
		mbPrivateExpRseq | mbRegisterPrivateExpRseq | mbGetRegistrations
)

// sysMembarrier is membarrier(2) (kernel/sched/membarrier.c). The
// application's threads share one CPU, so when a thread is in this call
// every other one is between instructions, stopped in the kernel: each
// has passed a full memory barrier (the kernel entry that took it off
// the CPU) and will pass another (and serialize its instruction stream,
// for SYNC_CORE) before it runs user code again. Every barrier is thus
// already in place when the call is made, as Linux's IPIs would put it;
// what remains is Linux's bookkeeping: the commands known, the
// registrations a private barrier needs (EPERM without), their
// inheritance by fork and their end at execve.
func sysMembarrier(t *Task, a *[6]uint64) int64 {
	cmd, flags := int32(a[0]), uint32(a[1])
	if cmd == mbPrivateExpRseq {
		if flags != 0 && flags != mbFlagCPU {
			return -linux.EINVAL
		}
	} else if flags != 0 {
		return -linux.EINVAL
	}
	m := &t.p.membarrier
	register := func(bit uint32) int64 {
		for {
			old := m.Load()
			if m.CompareAndSwap(old, old|bit) {
				return 0
			}
		}
	}
	switch cmd {
	case mbQuery:
		return mbCommands
	case mbGlobal, mbGlobalExpedited:
		return 0
	case mbRegisterGlobalExp:
		return register(mbRegisterGlobalExp)
	// membarrier_register_private_expedited: every private registration
	// shows the plain one (MEMBARRIER_STATE_PRIVATE_EXPEDITED), but only
	// its own command's barrier is ready.
	case mbRegisterPrivateExp:
		return register(mbRegisterPrivateExp | mbReadyPrivate)
	case mbRegisterPrivateExpSync:
		return register(mbRegisterPrivateExp | mbRegisterPrivateExpSync | mbReadySyncCore)
	case mbPrivateExpedited:
		if m.Load()&mbReadyPrivate == 0 {
			return -linux.EPERM
		}
		return 0
	case mbPrivateExpSyncCore:
		if m.Load()&mbReadySyncCore == 0 {
			return -linux.EPERM
		}
		return 0
	case mbRegisterPrivateExpRseq:
		return register(mbRegisterPrivateExp | mbRegisterPrivateExpRseq | mbReadyRseq)
	case mbPrivateExpRseq:
		// Linux's IPIs restart the critical sections of the threads
		// running on the other CPUs. On Cocoon's one CPU no other
		// thread is in user mode now, and every one that left it other
		// than by a system call restarts its section on return
		// (rseqPreempted): already done. Any CPU number is taken (one
		// not online is nothing to do).
		if m.Load()&mbReadyRseq == 0 {
			return -linux.EPERM
		}
		return 0
	case mbGetRegistrations:
		return int64(m.Load() & mbShown)
	}
	return -linux.EINVAL // unknown commands
}

// execSched ends what an execve ends of this file's and sys_sched.go's
// state: the membarrier registrations belong to the old address space
// (kernel/sched/membarrier.c membarrier_exec_mmap).
func (t *Task) execSched() { t.p.membarrier.Store(0) }

// Execution domains and personality flags
// (include/uapi/linux/personality.h).
const (
	perMask          = 0xff
	perLinux         = 0x0000
	perLinux32       = 0x0008
	addrNoRandomize  = 0x0040000
	fdpicFuncptrs    = 0x0080000
	addrCompatLayout = 0x0200000
	shortInode       = 0x1000000
	wholeSeconds     = 0x2000000
	personalityQuery = 0xffffffff

	// personaFlags are the flags Cocoon accepts: ADDR_NO_RANDOMIZE
	// (Cocoon lays out no address space at random, north/loader),
	// ADDR_COMPAT_LAYOUT (the next program's mappings go bottom-up,
	// setMmapBase), and three that Linux keeps but nothing on x86-64
	// reads.
	personaFlags = addrNoRandomize | fdpicFuncptrs | addrCompatLayout | shortInode | wholeSeconds
)

// sysPersonality is personality(2): the thread's execution domain,
// returned before a change (0xffffffff only asks). PER_LINUX32's one
// effect on x86-64, uname's machine "i686" (kernel/sys.c
// override_architecture), is Cocoon's too; a persona with another
// domain or with a flag whose effect Cocoon lacks (READ_IMPLIES_EXEC,
// MMAP_PAGE_ZERO, UNAME26, the address limits,
// STICKY_TIMEOUTS) is refused with EINVAL and reported, where Linux would
// take it.
func sysPersonality(t *Task, a *[6]uint64) int64 {
	old := t.persona.Load()
	p := uint32(a[0])
	if p == personalityQuery {
		return int64(old)
	}
	if d := p & perMask; d != perLinux && d != perLinux32 || p&^perMask&^personaFlags != 0 {
		return t.p.unsupported(fmt.Sprintf("personality %#x", p), -linux.EINVAL)
	}
	t.persona.Store(p)
	return int64(old)
}

// machine is uname's machine field for the task's execution domain.
func (t *Task) machine() string {
	if t.persona.Load()&perMask == perLinux32 {
		return "i686"
	}
	return utsname[4]
}
