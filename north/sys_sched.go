package north

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// Scheduling attributes: nice values (getpriority, setpriority), the
// scheduling policy and its parameters (sched_setscheduler,
// sched_setattr and the rest of sched(7)), getcpu.
//
// Cocoon's application runs on one CPU, CPU 0 of NUMA node 0
// (sched_getaffinity says so), and its scheduler runs the runnable
// threads in turn without weights. A thread's nice value and its fair
// policy (SCHED_OTHER, SCHED_BATCH, SCHED_IDLE) and time slice are the
// hints Linux's fair class takes: they are kept per thread as Linux keeps
// them (inherited by clone, reset by SCHED_RESET_ON_FORK, shown by
// getpriority, sched_getattr and /proc/PID/stat) but do not change how
// much CPU time a thread gets. The real-time and deadline policies
// (SCHED_FIFO, SCHED_RR, SCHED_DEADLINE) promise what such a scheduler
// cannot keep, so they are refused with EPERM, as Linux refuses them to a
// caller without CAP_SYS_NICE whose RLIMIT_RTPRIO is 0 (kernel/sched/
// syscalls.c user_check_sched_setscheduler): what a program that may not
// use them already handles.

// schedCalls are the system calls this file serves (registerAll).
var schedCalls = [...]call{
	{140, sysGetpriority},
	{141, sysSetpriority},
	{142, sysSchedSetparam},
	{143, sysSchedGetparam},
	{144, sysSchedSetscheduler},
	{145, sysSchedGetscheduler},
	{146, func(t *Task, a *[6]uint64) int64 { return schedPriorityLimit(int32(a[0]), true) }},  // sched_get_priority_max
	{147, func(t *Task, a *[6]uint64) int64 { return schedPriorityLimit(int32(a[0]), false) }}, // sched_get_priority_min
	{148, sysSchedRRGetInterval},
	{309, sysGetcpu},
	{314, sysSchedSetattr},
	{315, sysSchedGetattr},
}

func init() { registerAll(schedCalls[:]) }

// Scheduling policies (include/uapi/linux/sched.h).
const (
	schedNormal       = 0
	schedFIFO         = 1
	schedRR           = 2
	schedBatch        = 3
	schedIdle         = 5
	schedDeadline     = 6
	schedResetOnFork  = 0x40000000
	setparamPolicy    = -1 // sched_setparam: keep the policy (kernel/sched/sched.h SETPARAM_POLICY)
	capSysNice        = 23 // include/uapi/linux/capability.h
	rlimitNice        = 13 // include/uapi/asm-generic/resource.h
	maxRTPrio         = 99 // MAX_RT_PRIO - 1 (include/linux/sched/prio.h)
	minNice, maxNice  = -20, 19
	prioProcess       = 0 // getpriority(2) which
	prioPgrp          = 1
	prioUser          = 2
	schedAttrSizeVer0 = 48 // include/uapi/linux/sched/types.h struct sched_attr, up to sched_period
	schedAttrSize     = 56 // SCHED_ATTR_SIZE_VER1, with sched_util_min and sched_util_max
)

// sched_attr.sched_flags (include/uapi/linux/sched.h).
const (
	schedFlagResetOnFork = 0x01
	schedFlagReclaim     = 0x02
	schedFlagDLOverrun   = 0x04
	schedFlagKeepPolicy  = 0x08
	schedFlagKeepParams  = 0x10
	schedFlagUtilClamp   = 0x20 | 0x40
	schedFlagAll         = schedFlagResetOnFork | schedFlagReclaim | schedFlagDLOverrun |
		schedFlagKeepPolicy | schedFlagKeepParams | schedFlagUtilClamp
)

// baseSlice is the fair class's time slice on one CPU, in ns: Linux's
// sysctl_sched_base_slice, 0.7 ms scaled by 1 + log2(CPUs)
// (kernel/sched/fair.c get_update_sysctl_factor), which sched_getattr
// reports as a fair thread's sched_runtime unless it asked for its own.
const baseSlice = 700000

// schedState is a thread's scheduling attributes (task_struct's
// static_prio, policy, sched_reset_on_fork and se.slice).
type schedState struct {
	mu          sync.Mutex
	nice        int32
	policy      uint32 // schedNormal, schedBatch or schedIdle
	resetOnFork bool
	slice       uint64 // a custom slice from sched_setattr, or 0
}

// get returns the attributes.
func (s *schedState) get() (nice int32, policy uint32, resetOnFork bool, slice uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	slice = s.slice
	if slice == 0 {
		slice = baseSlice
	}
	return s.nice, s.policy, s.resetOnFork, slice
}

// inheritSched gives a new thread or process its creator's attributes
// (kernel/sched/core.c sched_fork): under SCHED_RESET_ON_FORK a negative
// nice goes back to 0, a custom slice to the default and the flag itself
// is not inherited. A new process also inherits its creator's membarrier
// registrations and personality (kernel/fork.c dup_mm copies the mm).
func (t *Task) inheritSched(from *Task) {
	from.sched.mu.Lock()
	nice, policy, reset, slice := from.sched.nice, from.sched.policy, from.sched.resetOnFork, from.sched.slice
	from.sched.mu.Unlock()
	if reset {
		nice = max(nice, 0)
		slice = 0
	}
	t.sched.mu.Lock()
	t.sched.nice, t.sched.policy, t.sched.slice = nice, policy, slice
	t.sched.mu.Unlock()
	t.persona.Store(from.persona.Load())
	if t.p != from.p {
		t.p.membarrier.Store(from.p.membarrier.Load())
	}
}

// schedTarget finds the thread pid names (0: the caller) for the sched_*
// calls: EINVAL for a negative pid, ESRCH for none.
func (t *Task) schedTarget(pid int32) (*Task, int64) {
	if pid < 0 {
		return nil, -linux.EINVAL
	}
	if pid == 0 || pid == t.tid {
		return t, 0
	}
	w := t.p.w
	w.mu.Lock()
	o := w.taskByID(pid)
	w.mu.Unlock()
	if o == nil {
		return nil, -linux.ESRCH
	}
	return o, 0
}

// mayChange reports whether t may change o's scheduling attributes
// (kernel/sys.c set_one_prio_perm, kernel/sched/syscalls.c
// check_same_owner): o's real or effective user ID is t's effective one,
// or t holds CAP_SYS_NICE.
func (t *Task) mayChange(o *Task) bool {
	t.p.mu.Lock()
	euid, capable := t.p.cred.euid, t.p.cred.capable(capSysNice)
	t.p.mu.Unlock()
	if capable || o.p == t.p {
		return true
	}
	o.p.mu.Lock()
	defer o.p.mu.Unlock()
	return o.p.cred.ruid == euid || o.p.cred.euid == euid
}

// mayLowerNice reports whether t may give a thread nice value nice below
// its current one (kernel/sched/syscalls.c can_nice): RLIMIT_NICE allows
// 20 - nice, or t holds CAP_SYS_NICE.
func (t *Task) mayLowerNice(nice int32) bool {
	return t.p.rlimit(rlimitNice) >= uint64(20-nice) || t.Capable(capSysNice)
}

// priorityTargets returns the threads getpriority and setpriority's which
// and who name (kernel/sys.c): a thread, the threads of a process group,
// or of the processes whose real user ID is who (0: the caller's
// thread, group, effective user ID).
func (t *Task) priorityTargets(which, who int32) ([]*Task, int64) {
	if which < prioProcess || which > prioUser {
		return nil, -linux.EINVAL
	}
	if which == prioProcess {
		o, e := t.schedTarget(who)
		if e != 0 || who < 0 {
			return nil, -linux.ESRCH
		}
		return []*Task{o}, 0
	}
	if who == 0 {
		if which == prioPgrp {
			who = t.p.pgid.Load()
		} else {
			t.p.mu.Lock()
			who = int32(t.p.cred.euid)
			t.p.mu.Unlock()
		}
	}
	w := t.p.w
	w.mu.Lock()
	procs := make([]*Process, 0, len(w.procs))
	for _, p := range w.procs {
		procs = append(procs, p)
	}
	w.mu.Unlock()
	var out []*Task
	for _, p := range procs {
		if which == prioPgrp && p.pgid.Load() != who {
			continue
		}
		if which == prioUser {
			p.mu.Lock()
			uid := p.cred.ruid
			p.mu.Unlock()
			if uid != uint32(who) {
				continue
			}
		}
		out = append(out, p.tasksLocked()...)
	}
	return out, 0
}

// sysGetpriority is getpriority(2) as the system call returns it: 20 -
// nice of the highest-priority thread named (glibc turns it back).
func sysGetpriority(t *Task, a *[6]uint64) int64 {
	ts, e := t.priorityTargets(int32(a[0]), int32(a[1]))
	if e != 0 {
		return e
	}
	best := int64(-linux.ESRCH)
	for _, o := range ts {
		nice, _, _, _ := o.sched.get()
		best = max(best, int64(20-nice))
	}
	return best
}

// sysSetpriority is setpriority(2): every thread named gets nice value
// a[2], clamped to -20..19; EPERM for a thread t may not change, EACCES
// for lowering one's nice value without the right.
func sysSetpriority(t *Task, a *[6]uint64) int64 {
	nice := min(max(int32(a[2]), minNice), maxNice)
	ts, e := t.priorityTargets(int32(a[0]), int32(a[1]))
	if e != 0 {
		return e
	}
	r := int64(-linux.ESRCH)
	for _, o := range ts {
		if !t.mayChange(o) {
			r = -linux.EPERM
			continue
		}
		o.sched.mu.Lock()
		lower := nice < o.sched.nice
		o.sched.mu.Unlock()
		if lower && !t.mayLowerNice(nice) {
			r = -linux.EACCES
			continue
		}
		if r == -linux.ESRCH {
			r = 0
		}
		o.sched.mu.Lock()
		o.sched.nice = nice
		o.sched.mu.Unlock()
	}
	return r
}

// schedPriorityLimit is sched_get_priority_max (max) or _min: 1..99 for
// the real-time policies, 0 for the others, EINVAL for no policy.
// SCHED_EXT (7) is not a policy here, as in a kernel built without
// CONFIG_SCHED_CLASS_EXT.
func schedPriorityLimit(policy int32, upper bool) int64 {
	switch policy {
	case schedFIFO, schedRR:
		if upper {
			return maxRTPrio
		}
		return 1
	case schedNormal, schedBatch, schedIdle, schedDeadline:
		return 0
	}
	return -linux.EINVAL
}

// validPolicy reports whether policy is one Linux knows.
func validPolicy(policy int32) bool {
	switch policy {
	case schedNormal, schedFIFO, schedRR, schedBatch, schedIdle, schedDeadline:
		return true
	}
	return false
}

// schedAttr is struct sched_attr (include/uapi/linux/sched/types.h).
type schedAttr struct {
	size     uint32
	policy   uint32
	flags    uint64
	nice     int32
	priority uint32
	runtime  uint64 // the fair class: the thread's slice
	deadline uint64
	period   uint64
	utilMin  uint32
	utilMax  uint32
}

func (s *schedAttr) bytes() []byte {
	b := make([]byte, schedAttrSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], s.size)
	le.PutUint32(b[4:], s.policy)
	le.PutUint64(b[8:], s.flags)
	le.PutUint32(b[16:], uint32(s.nice))
	le.PutUint32(b[20:], s.priority)
	le.PutUint64(b[24:], s.runtime)
	le.PutUint64(b[32:], s.deadline)
	le.PutUint64(b[40:], s.period)
	le.PutUint32(b[48:], s.utilMin)
	le.PutUint32(b[52:], s.utilMax)
	return b
}

func parseSchedAttr(b []byte) schedAttr {
	le := binary.LittleEndian
	return schedAttr{
		size: le.Uint32(b[0:]), policy: le.Uint32(b[4:]), flags: le.Uint64(b[8:]),
		nice: int32(le.Uint32(b[16:])), priority: le.Uint32(b[20:]), runtime: le.Uint64(b[24:]),
		deadline: le.Uint64(b[32:]), period: le.Uint64(b[40:]),
		utilMin: le.Uint32(b[48:]), utilMax: le.Uint32(b[52:]),
	}
}

// setScheduler is kernel/sched/syscalls.c __sched_setscheduler for the
// attributes in s (policy setparamPolicy keeps the thread's), as caller
// t on thread o; keepParams (SCHED_FLAG_KEEP_PARAMS) changes neither the
// policy nor its parameters, only SCHED_RESET_ON_FORK.
func (t *Task) setScheduler(o *Task, s schedAttr, keepParams bool) int64 {
	policy := int32(s.policy)
	keepPolicy := policy == setparamPolicy
	if keepPolicy {
		_, cur, _, _ := o.sched.get()
		policy = int32(cur)
	} else if !validPolicy(policy) {
		return -linux.EINVAL
	}
	if s.flags&^schedFlagAll != 0 {
		return -linux.EINVAL
	}
	if s.flags&schedFlagUtilClamp != 0 {
		// Utilization clamping: a kernel without CONFIG_UCLAMP_TASK
		// (kernel/sched/syscalls.c uclamp_validate).
		return t.p.unsupported("sched_setattr utilization clamps", -linux.EOPNOTSUPP)
	}
	// A priority of 1..99 for the real-time policies, 0 for the others.
	rt := policy == schedFIFO || policy == schedRR
	if s.priority > maxRTPrio || rt != (s.priority != 0) {
		return -linux.EINVAL
	}
	if policy == schedDeadline {
		// kernel/sched/deadline.c __checkparam_dl: a deadline, and a
		// runtime of at least 1 << DL_SCALE ns.
		if s.deadline == 0 || s.runtime < 1<<10 {
			return -linux.EINVAL
		}
		return t.p.unsupported("SCHED_DEADLINE", -linux.EPERM)
	}
	if rt {
		return t.p.unsupported(fmt.Sprintf("real-time scheduling policy %d", policy), -linux.EPERM)
	}
	if !t.mayChange(o) {
		return -linux.EPERM
	}
	nice := min(max(s.nice, minNice), maxNice)
	o.sched.mu.Lock()
	cur := o.sched.nice
	curPolicy := o.sched.policy
	o.sched.mu.Unlock()
	if !keepParams && nice < cur && !t.mayLowerNice(nice) {
		return -linux.EPERM
	}
	// Leaving SCHED_IDLE takes the right to the nice value the thread has.
	if !keepParams && curPolicy == schedIdle && policy != schedIdle && !t.mayLowerNice(cur) {
		return -linux.EPERM
	}
	o.sched.mu.Lock()
	defer o.sched.mu.Unlock()
	if !keepPolicy { // sched_setparam keeps SCHED_RESET_ON_FORK
		o.sched.resetOnFork = s.flags&schedFlagResetOnFork != 0
	}
	if !keepParams {
		o.sched.policy = uint32(policy)
		o.sched.nice = nice
		if s.runtime != 0 {
			// A custom slice, 0.1 to 100 ms (kernel/sched/syscalls.c
			// __setscheduler_params).
			o.sched.slice = min(max(s.runtime, 100000), 100000000)
		} else {
			o.sched.slice = 0
		}
	}
	return 0
}

// currentParams is what sched_setscheduler and sched_setparam ask for:
// policy with priority, and the thread's nice value and custom slice as
// they are (kernel/sched/syscalls.c _sched_setscheduler).
func (t *Task) currentParams(policy, priority uint32) schedAttr {
	t.sched.mu.Lock()
	defer t.sched.mu.Unlock()
	return schedAttr{policy: policy, priority: priority, nice: t.sched.nice, runtime: t.sched.slice}
}

// sysSchedSetscheduler is sched_setscheduler(2): the policy (with
// SCHED_RESET_ON_FORK) and its sched_param priority; a fair policy
// keeps the nice value.
func sysSchedSetscheduler(t *Task, a *[6]uint64) int64 {
	pid, policy := int32(a[0]), int32(a[1])
	if a[2] == 0 || pid < 0 || policy < 0 {
		return -linux.EINVAL
	}
	var b [4]byte
	if err := t.p.m.CopyIn(a[2], b[:]); err != nil {
		return -linux.EFAULT
	}
	o, e := t.schedTarget(pid)
	if e != 0 {
		return e
	}
	s := o.currentParams(uint32(policy&^schedResetOnFork), binary.LittleEndian.Uint32(b[:]))
	if policy&schedResetOnFork != 0 {
		s.flags = schedFlagResetOnFork
	}
	return t.setScheduler(o, s, false)
}

// sysSchedSetparam is sched_setparam(2): the priority only.
func sysSchedSetparam(t *Task, a *[6]uint64) int64 {
	pid := int32(a[0])
	if a[1] == 0 || pid < 0 {
		return -linux.EINVAL
	}
	var b [4]byte
	if err := t.p.m.CopyIn(a[1], b[:]); err != nil {
		return -linux.EFAULT
	}
	o, e := t.schedTarget(pid)
	if e != 0 {
		return e
	}
	s := o.currentParams(uint32(setparamPolicy&0xffffffff), binary.LittleEndian.Uint32(b[:]))
	return t.setScheduler(o, s, false)
}

// sysSchedGetscheduler is sched_getscheduler(2).
func sysSchedGetscheduler(t *Task, a *[6]uint64) int64 {
	o, e := t.schedTarget(int32(a[0]))
	if e != 0 {
		return e
	}
	_, policy, reset, _ := o.sched.get()
	if reset {
		policy |= schedResetOnFork
	}
	return int64(policy)
}

// sysSchedGetparam is sched_getparam(2): a fair thread's priority is 0.
func sysSchedGetparam(t *Task, a *[6]uint64) int64 {
	if a[1] == 0 || int32(a[0]) < 0 {
		return -linux.EINVAL
	}
	if _, e := t.schedTarget(int32(a[0])); e != 0 {
		return e
	}
	return errno(t.p.m.CopyOut(a[1], make([]byte, 4)))
}

// sysSchedRRGetInterval is sched_rr_get_interval(2). A fair thread's
// interval is its slice in whole jiffies when others share its CPU, 0 on
// an otherwise idle one (kernel/sched/fair.c get_rr_interval_fair): a
// slice of 0.7 ms is 0 jiffies at any HZ Linux builds with.
func sysSchedRRGetInterval(t *Task, a *[6]uint64) int64 {
	if _, e := t.schedTarget(int32(a[0])); e != 0 {
		return e
	}
	return errno(t.p.m.CopyOut(a[1], make([]byte, 16)))
}

// sysSchedSetattr is sched_setattr(2).
func sysSchedSetattr(t *Task, a *[6]uint64) int64 {
	pid, addr, flags := int32(a[0]), a[1], a[2]
	if addr == 0 || pid < 0 || flags != 0 {
		return -linux.EINVAL
	}
	// kernel/sched/syscalls.c sched_copy_attr: size 0 is the first
	// version; a larger struct than Cocoon's must have only zeros past
	// it (copy_struct_from_user), else E2BIG with Cocoon's size written
	// back.
	var sz [4]byte
	if err := t.p.m.CopyIn(addr, sz[:]); err != nil {
		return -linux.EFAULT
	}
	size := binary.LittleEndian.Uint32(sz[:])
	if size == 0 {
		size = schedAttrSizeVer0
	}
	tooBig := func() int64 {
		binary.LittleEndian.PutUint32(sz[:], schedAttrSize)
		if err := t.p.m.CopyOut(addr, sz[:]); err != nil {
			return -linux.EFAULT
		}
		return -linux.E2BIG
	}
	if size < schedAttrSizeVer0 || size > 4096 {
		return tooBig()
	}
	b := make([]byte, max(size, schedAttrSize))
	if err := t.p.m.CopyIn(addr, b[:size]); err != nil {
		return -linux.EFAULT
	}
	for _, c := range b[schedAttrSize:] {
		if c != 0 {
			return tooBig()
		}
	}
	s := parseSchedAttr(b)
	if s.flags&schedFlagUtilClamp != 0 && size < schedAttrSize {
		return -linux.EINVAL
	}
	if int32(s.policy) < 0 {
		return -linux.EINVAL
	}
	if s.flags&schedFlagKeepPolicy != 0 {
		s.policy = uint32(setparamPolicy & 0xffffffff)
	}
	o, e := t.schedTarget(pid)
	if e != 0 {
		return e
	}
	return t.setScheduler(o, s, s.flags&schedFlagKeepParams != 0)
}

// sysSchedGetattr is sched_getattr(2): as much of struct sched_attr as
// the caller's size holds, its size field saying how much.
func sysSchedGetattr(t *Task, a *[6]uint64) int64 {
	pid, addr, usize, flags := int32(a[0]), a[1], uint32(a[2]), a[3]
	if addr == 0 || pid < 0 || usize > 4096 || usize < schedAttrSizeVer0 || flags != 0 {
		return -linux.EINVAL
	}
	o, e := t.schedTarget(pid)
	if e != 0 {
		return e
	}
	nice, policy, reset, slice := o.sched.get()
	s := schedAttr{size: min(usize, schedAttrSize), policy: policy, nice: nice, runtime: slice}
	if reset {
		s.flags = schedFlagResetOnFork
	}
	return errno(t.p.m.CopyOut(addr, s.bytes()[:s.size]))
}

// sysGetcpu is getcpu(2): CPU 0 of node 0, the only one; the third
// argument (a cache) is unused since Linux 2.6.24.
func sysGetcpu(t *Task, a *[6]uint64) int64 {
	for _, p := range a[:2] {
		if p != 0 {
			if err := t.p.m.CopyOut(p, make([]byte, 4)); err != nil {
				return -linux.EFAULT
			}
		}
	}
	return 0
}
