package north

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// What /proc/PID shows of a process (north/vfs routes the names; these
// make the text, in the formats of fs/proc/array.c and fs/proc/base.c).

// PIDs lists the processes of p's guest, live and zombie, in increasing
// order (readdir of /proc).
func (p *Process) PIDs() []int32 {
	w := p.w
	w.mu.Lock()
	out := make([]int32, 0, len(w.procs))
	for pid := range w.procs {
		out = append(out, pid)
	}
	w.mu.Unlock()
	slices.Sort(out)
	return out
}

// Lookup returns process pid of p's guest, live or zombie, or nil.
func (p *Process) Lookup(pid int32) *Process { return p.w.lookup(pid) }

// LiveFiles returns the process's files, nil once it has released them
// (it exited).
func (p *Process) LiveFiles() Files {
	if p.filesGone.Load() {
		return nil
	}
	p.mu.Lock() // execve from a thread changes them (takeOver)
	defer p.mu.Unlock()
	return p.files
}

// TaskFiles returns the files of the process's thread tid (its own
// descriptor table and working directory, /proc/PID/task/TID), or for
// tid 0 those of its thread group leader (/proc/PID: Linux's
// get_proc_task is the leader); nil once the thread or the process is
// gone. A leader that exited while other threads live has none, as
// exit_files left it: /proc/PID/fd is empty, its links and cwd ENOENT.
func (p *Process) TaskFiles(tid int32) Files {
	if p.filesGone.Load() {
		return nil
	}
	if tid == 0 {
		if p.task(p.pid) == nil {
			return nil
		}
		return p.LiveFiles()
	}
	t := p.task(tid)
	if t == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return t.files
}

// Threads lists the process's thread IDs in increasing order: its live
// threads and its main thread after that exited (procTask).
func (p *Process) Threads() []int32 {
	p.mu.Lock()
	out := make([]int32, 0, len(p.tasks)+1)
	for tid := range p.tasks {
		out = append(out, tid)
	}
	if _, live := p.tasks[p.pid]; !live && p.exLeader != nil {
		out = append(out, p.pid)
	}
	p.mu.Unlock()
	slices.Sort(out)
	return out
}

// HasThread reports whether tid is a thread of the process /proc shows
// (procTask).
func (p *Process) HasThread(tid int32) bool { return p.procTask(tid) != nil }

// procTask returns the process's thread tid as /proc shows it: a live
// one, or the main thread after it exited. Linux keeps an exited group
// leader in the thread group, a zombie, until the process is reaped
// (kernel/exit.c exit_notify: delay_group_leader; release_task frees the
// leader only with the last thread), so /proc/PID/task lists it, its
// stat and status say Z, and it counts in num_threads and Threads.
func (p *Process) procTask(tid int32) *Task {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.tasks[tid]; t != nil {
		return t
	}
	if tid == p.pid {
		return p.exLeader
	}
	return nil
}

// exitedLeader returns the main thread if it exited while the process
// lives on, else nil.
func (p *Process) exitedLeader() *Task {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tasks[p.pid] != nil {
		return nil
	}
	return p.exLeader
}

// taskExited reports whether the task whose /proc files these are,
// thread t or for nil the main thread (/proc/PID is the group leader's,
// fs/proc/base.c proc_pid_lookup), has exited: then it has no address
// space, files nor namespaces (exit_mm, exit_files,
// exit_task_namespaces), though other threads may live on, and its
// files show none: maps, cmdline, statm and stat's and status's memory
// fields empty or 0, mem, environ and auxv ESRCH, mountinfo EINVAL.
func (p *Process) taskExited(t *Task) bool {
	if p.LiveFiles() == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t == nil {
		return p.tasks[p.pid] == nil
	}
	return p.tasks[t.tid] != t
}

// ErrNoProcFile is ProcText's answer for a name it does not make, or a
// thread that is gone.
var ErrNoProcFile = fmt.Errorf("no such /proc file")

// ErrProcExited is ProcText's answer for a file whose reads fail with
// ESRCH once its task has exited (smaps_rollup).
var ErrProcExited = fmt.Errorf("the task has exited")

// ProcText returns the text of /proc/PID/name, or, for tid != 0, of
// /proc/PID/task/TID/name: cmdline, comm, stat, status, statm, limits, io
// or maps.
func (p *Process) ProcText(tid int32, name string) ([]byte, error) {
	var t *Task
	if tid != 0 {
		if t = p.procTask(tid); t == nil {
			return nil, ErrNoProcFile
		}
	}
	exited := p.taskExited(t)
	switch name {
	case "cmdline":
		// The arguments, each ended by a NUL (fs/proc/base.c
		// proc_pid_cmdline_read); nothing for an exited task.
		var b []byte
		if !exited {
			p.mu.Lock()
			for _, s := range p.args {
				b = append(append(b, s...), 0)
			}
			p.mu.Unlock()
		}
		return b, nil
	case "environ":
		return p.environText(), nil
	case "auxv":
		// fs/proc/base.c auxv_read: the saved vector through
		// AT_NULL; nothing once the memory is gone (no mm).
		if p.LiveFiles() == nil {
			return nil, nil
		}
		p.mm.mu.Lock()
		b := p.mm.auxv
		p.mm.mu.Unlock()
		return b, nil
	case "comm":
		return []byte(p.comm(t) + "\n"), nil
	case "timerslack_ns":
		// The main thread's (fs/proc/base.c timerslack_ns_show).
		if t == nil {
			if t = p.procTask(p.pid); t == nil {
				return nil, ErrNoProcFile
			}
		}
		return fmt.Appendf(nil, "%d\n", t.timerSlack.Load()), nil
	case "stat":
		return []byte(p.statText(t, exited)), nil
	case "status":
		return []byte(p.statusText(t, exited)), nil
	case "maps":
		if exited {
			return nil, nil
		}
		return p.mapsText(), nil
	case "smaps":
		var b []byte
		next := p.smapsRecords(exited)
		for i := 0; ; i++ {
			r := next(i)
			if r == nil {
				return b, nil
			}
			b = append(b, r...)
		}
	case "smaps_rollup":
		// show_smaps_rollup: no mm, ESRCH.
		if exited {
			return nil, ErrProcExited
		}
		if b, ok := p.smapsRollupText(); ok {
			return b, nil
		}
		return nil, ErrProcExited
	case "statm":
		return []byte(p.statmText(exited)), nil
	case "limits":
		return []byte(p.limitsText()), nil
	case "io":
		return []byte(p.ioText(t)), nil
	case "personality":
		// fs/proc/base.c proc_pid_personality: the task's, or the main
		// thread's for the process.
		if t == nil {
			if t = p.procTask(p.pid); t == nil {
				return nil, ErrNoProcFile
			}
		}
		return fmt.Appendf(nil, "%08x\n", uint32(t.persona.Load())), nil
	case "oom_score":
		return fmt.Appendf(nil, "%d\n", p.oomScore()), nil
	case "oom_score_adj":
		return fmt.Appendf(nil, "%d\n", p.oom.adj.Load()), nil
	case "oom_adj":
		return p.oomAdjText(), nil
	}
	return nil, ErrNoProcFile
}

// comm is the name of thread t, or for nil or the main thread of the
// process (its main thread's, kept after that thread is gone and
// renamed by writes of its comm then).
func (p *Process) comm(t *Task) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.commName
	if t != nil && t.tid != p.pid {
		b = t.name
	}
	if i := strings.IndexByte(string(b[:]), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b[:15])
}

// setName sets the thread's name (prctl PR_SET_NAME, execve); the main
// thread's is the process's.
func (t *Task) setName(b [16]byte) {
	b[15] = 0
	p := t.p
	p.mu.Lock()
	t.name = b
	if t.tid == p.pid {
		p.commName = b
	}
	p.mu.Unlock()
}

// SetComm renames the process (tid 0: its main thread) or its thread
// tid, as a write of /proc/PID/comm or /proc/PID/task/TID/comm does
// (fs/proc/base.c comm_write): only from the process's own address space
// (from; EINVAL otherwise), ESRCH when the thread is gone. name is at
// most 15 bytes, kept as written (a newline too).
func (p *Process) SetComm(tid int32, from mem.Memory, name []byte) int {
	if p.LiveFiles() == nil {
		return linux.ESRCH
	}
	if from != mem.Memory(p.m) {
		return linux.EINVAL
	}
	var b [16]byte
	copy(b[:15], name)
	if tid == 0 {
		tid = p.pid
	}
	if t := p.task(tid); t != nil {
		t.setName(b)
		return 0
	}
	if tid != p.pid {
		return linux.ESRCH
	}
	// The main thread is gone but the process lives on.
	p.mu.Lock()
	p.commName = b
	p.mu.Unlock()
	return 0
}

// getName returns the thread's name.
func (t *Task) getName() [16]byte {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	return t.name
}

// nameOf makes a thread name of a program path: its last element, cut to
// 15 bytes (fs/exec.c __set_task_comm).
func nameOf(path string) [16]byte {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		path = path[i+1:]
	}
	var b [16]byte
	copy(b[:15], path)
	return b
}

// state is the one-letter state of /proc/PID/stat and status: Z after
// exit, T when stopped, else the thread t's, or for the process (t nil)
// its thread group leader's, as Linux's /proc/PID is the leader's task
// (fs/proc/array.c do_task_stat and task_state: get_task_state of it,
// whatever the other threads do): S while it waits in a blocking call, R
// otherwise, Z once the leader exited while other threads live (its
// exit_state is EXIT_ZOMBIE; ps shows such a process as Zl).
func (p *Process) state(t *Task) (byte, string) {
	p.w.mu.Lock()
	zombie := p.zombie
	p.w.mu.Unlock()
	if t == nil && !zombie {
		if t = p.task(p.pid); t == nil {
			zombie = true
		}
	}
	switch {
	case zombie || p.taskExited(t):
		return 'Z', "zombie"
	case p.stop.stopped.Load():
		return 'T', "stopped"
	}
	if nr := t.inCall.Load(); nr != 0 && sleeps(uint64(nr-1)) {
		return 'S', "sleeping"
	}
	return 'R', "running"
}

// consoleTTY is the console's device number as stat's tty_nr encodes it
// (new_encode_dev: 5:1, /dev/console, include/linux/kdev_t.h).
const consoleTTY = 5<<8 | 1

// statText is /proc/PID/stat (fs/proc/array.c do_task_stat), for the
// process or its thread t; without its memory fields once that task
// exited (do_task_stat reads them only of a task with an mm).
func (p *Process) statText(t *Task, exited bool) string {
	state, _ := p.state(t)
	ppid := int32(0)
	p.w.mu.Lock()
	if p.parent != nil {
		ppid = p.parent.pid
	}
	p.w.mu.Unlock()
	tty, tpgid := int64(0), int64(-1)
	if p.w.tty.sessionOf() == p.sid.Load() && p.sid.Load() != 0 {
		tty, tpgid = consoleTTY, int64(p.w.tty.foreground())
	}
	id := p.pid
	utime, stime := p.utime.Load(), p.stime.Load()
	nthreads := len(p.Threads())
	var sigMask uint64
	if t != nil {
		id = t.tid
		utime, stime = t.utime.Load(), t.stime.Load()
		sigMask = t.blocked.Load()
	} else if mt := p.task(p.pid); mt != nil {
		sigMask = mt.blocked.Load()
	}
	// priority and nice, and policy (sys_sched.go): a fair thread's
	// priority is 20 + nice (do_task_stat: task_prio).
	var nice int32
	var policy uint32
	st := t
	if st == nil {
		st = p.task(p.pid)
	}
	if st != nil {
		nice, policy, _, _ = st.sched.get()
	}
	var vsize, rss, startCode, endCode, startStack uint64
	var strs [4]uint64
	var data [2]uint64
	if vm, ok := p.vmStat(); ok && !exited {
		vsize, startCode, endCode, strs = vm.total, vm.codeStart, vm.codeEnd, vm.strings
		if seg := vm.segments; seg[1] != 0 {
			// The loader's bounds, as load_elf_binary sets them.
			startCode, endCode, data = seg[0], seg[1], [2]uint64{seg[2], seg[3]}
		}
		startStack = p.mm.stackSP.Load()
	}
	if r, ok := p.rss(); ok && !exited {
		rss = r.total
	}
	p.sig.mu.Lock()
	pending := p.sig.pending
	if t != nil {
		pending |= t.pending
	}
	ign, caught := p.sig.dispositions()
	p.sig.mu.Unlock()
	var brkStart uint64
	if !exited {
		p.mu.Lock()
		brkStart = p.brkStart
		p.mu.Unlock()
	}
	exitCode := 0
	if p.exiting() {
		exitCode = p.waitStatus
	}
	// pid (comm) state ppid pgrp session tty_nr tpgid flags minflt
	// cminflt majflt cmajflt utime stime cutime cstime priority nice
	// num_threads itrealvalue starttime vsize rss rsslim startcode endcode
	// startstack kstkesp kstkeip signal blocked sigignore sigcatch wchan
	// nswap cnswap exit_signal processor rt_priority policy
	// delayed_acct_blkio_ticks guest_time cguest_time start_data end_data
	// start_brk arg_start arg_end env_start env_end exit_code. The fault
	// counts are not counted (0); rss is in pages (rss.go); startcode,
	// endcode, start_data and end_data are the loader's bounds of the
	// program's code and data (loader.Image), or without them the text
	// regions' (procmem.go); startstack is where the stack pointer
	// started; kstkesp and kstkeip are 0 as Linux shows them for a task
	// not dumping core; arg_start ... env_end bound the strings on the
	// stack (procmem.go).
	return fmt.Sprintf("%d (%s) %c %d %d %d %d %d %d 0 0 0 0 %d %d %d %d %d %d %d 0 %d %d %d %d %d %d %d 0 0 %d %d %d %d 0 0 0 %d 0 0 %d 0 0 0 %d %d %d %d %d %d %d %d\n",
		id, p.comm(t), state, ppid, p.pgid.Load(), p.sid.Load(), tty, tpgid, 0x400000,
		ticks(utime), ticks(stime), ticks(p.cutime.Load()), ticks(p.cstime.Load()), 20+nice, nice,
		nthreads, ticks(p.startMono), vsize, rss, uint64(1<<64-1), startCode, endCode, startStack,
		pending&(1<<32-1), sigMask&(1<<32-1), ign&(1<<32-1), caught&(1<<32-1),
		p.exitSig.Load(), policy, data[0], data[1], brkStart, strs[0], strs[1], strs[2], strs[3], exitCode)
}

// dispositions returns the signals set to SIG_IGN and those with a
// handler, as /proc's SigIgn and SigCgt (and stat's sigignore and
// sigcatch) show them. The caller holds s.mu.
func (s *sigState) dispositions() (ign, caught uint64) {
	for sig := 1; sig <= linux.NSig; sig++ {
		switch h := s.act[sig].handler; {
		case h == sigIgn:
			ign |= bit(sig)
		case h != sigDfl:
			caught |= bit(sig)
		}
	}
	return ign, caught
}

// statusText is /proc/PID/status (fs/proc/array.c proc_pid_status):
// every line Linux 6.18 prints for an x86-64 task, in its order. A
// zombie, or an exited main thread of a process that lives on, which
// has released its files and address space, has no Umask, FDSize 0 and
// no memory lines, as on Linux.
func (p *Process) statusText(t *Task, exited bool) string {
	letter, state := p.state(t)
	ppid := int32(0)
	p.w.mu.Lock()
	if p.parent != nil {
		ppid = p.parent.pid
	}
	p.w.mu.Unlock()
	id := p.pid
	var sigMask uint64
	if t != nil {
		id = t.tid
		sigMask = t.blocked.Load()
	} else if mt := p.task(p.pid); mt != nil {
		sigMask = mt.blocked.Load()
	}
	p.mu.Lock()
	c := p.cred
	groups := append([]uint32(nil), c.groups...)
	p.mu.Unlock()
	p.sig.mu.Lock()
	shared, own := p.sig.pending, uint64(0)
	if t != nil {
		own = t.pending
	}
	ign, caught := p.sig.dispositions()
	p.sig.mu.Unlock()
	// The task's own descriptor table and fs context (clone without
	// CLONE_FILES or CLONE_FS gives a thread its own).
	var files Files
	if t != nil {
		files = p.TaskFiles(t.tid)
	} else {
		files = p.TaskFiles(0)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Name:\t%s\n", p.comm(t))
	if u, ok := files.(interface{ Umask() uint32 }); ok {
		fmt.Fprintf(&b, "Umask:\t%04o\n", u.Umask())
	}
	fmt.Fprintf(&b, "State:\t%c (%s)\n", letter, state)
	fmt.Fprintf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", p.pid, id, ppid)
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\n", c.ruid, c.euid, c.suid, c.fsuid)
	fmt.Fprintf(&b, "Gid:\t%d\t%d\t%d\t%d\n", c.rgid, c.egid, c.sgid, c.fsgid)
	fdSize := 0 // the table's room, max_fds; 0 once released
	if f, ok := files.(interface{ FDSize() int }); ok {
		fdSize = f.FDSize()
	}
	fmt.Fprintf(&b, "FDSize:\t%d\n", fdSize)
	b.WriteString("Groups:\t")
	for i, g := range groups {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d", g)
	}
	b.WriteString(" \n") // Linux ends the list with a space, even an empty one
	fmt.Fprintf(&b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", p.pid, id, p.pgid.Load(), p.sid.Load())
	b.WriteString("Kthread:\t0\n") // no task of the application is a kernel thread
	if vm, ok := p.vmStat(); ok && !exited {
		var r rssStat
		if got, ok := p.rss(); ok {
			r = got
		}
		kb := func(name string, bytes uint64) { fmt.Fprintf(&b, "%s:\t%8d kB\n", name, bytes>>10) }
		kb("VmPeak", vm.peak)
		kb("VmSize", vm.total)
		kb("VmLck", vm.locked)
		kb("VmPin", 0) // pinned_vm: only RDMA and io_uring pin pages; Cocoon has neither
		kb("VmHWM", kib(r.peak)<<10)
		kb("VmRSS", kib(r.total)<<10)
		kb("RssAnon", kib(r.anon)<<10)
		kb("RssFile", kib(r.file)<<10)
		kb("RssShmem", kib(r.shmem)<<10)
		kb("VmData", vm.data)
		kb("VmStk", vm.stack)
		kb("VmExe", min(vm.text, vm.exec))
		kb("VmLib", vm.exec-min(vm.text, vm.exec))
		kb("VmPTE", vm.pageTables)
		kb("VmSwap", 0)       // there is no swap
		kb("HugetlbPages", 0) // nor hugetlbfs
		// A process whose core is being dumped is already gone here:
		// Cocoon writes no core files.
		b.WriteString("CoreDumping:\t0\n")
		// There are no transparent huge pages: what Linux shows for an
		// mm with THP disabled.
		b.WriteString("THP_enabled:\t0\n")
		// No linear address masking (x86 LAM): addresses are used as
		// they are, as on a CPU without LAM.
		b.WriteString("untag_mask:\t0xffffffffffffffff\n")
	}
	fmt.Fprintf(&b, "Threads:\t%d\n", len(p.Threads()))
	queued := int64(0)
	if q, ok := p.w.sigq.Load(c.ruid); ok {
		queued = q.(*atomic.Int64).Load()
	}
	fmt.Fprintf(&b, "SigQ:\t%d/%d\n", queued, p.rlimit(rlimitSigpending))
	fmt.Fprintf(&b, "SigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n",
		own, shared, sigMask, ign, caught)
	fmt.Fprintf(&b, "CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x\n",
		c.inheritable, c.permitted(), c.effective(), c.bset(), c.ambient)
	nnp := 0
	var sf *seccompFilter
	if mt := p.task(p.pid); mt != nil {
		if mt.noNewPrivs.Load() {
			nnp = 1
		}
		sf = mt.seccomp.Load()
	}
	// Cocoon controls no speculation per task: prctl
	// PR_GET_SPECULATION_CTRL is EINVAL, which Linux shows as "unknown"
	// and "unsupported" (fs/proc/array.c task_seccomp).
	fmt.Fprintf(&b, "NoNewPrivs:\t%d\nSeccomp:\t%d\nSeccomp_filters:\t%d\n", nnp, seccompMode(sf), seccompFilterCount(sf))
	b.WriteString("Speculation_Store_Bypass:\tunknown\nSpeculationIndirectBranch:\tunsupported\n")
	// The application runs on one CPU, CPU 0 (sched_getaffinity), of a
	// machine of one memory node. Mems_allowed is a nodemask of
	// MAX_NUMNODES bits in 32-bit words, 1024 as Debian's kernels are
	// built (CONFIG_NODES_SHIFT=10).
	b.WriteString("Cpus_allowed:\t1\nCpus_allowed_list:\t0\nMems_allowed:\t")
	b.WriteString(strings.Repeat("00000000,", 1024/32-1))
	b.WriteString("00000001\nMems_allowed_list:\t0\n")
	fmt.Fprintf(&b, "voluntary_ctxt_switches:\t%d\nnonvoluntary_ctxt_switches:\t%d\n", p.nvcsw.Load(), p.nivcsw.Load())
	return b.String()
}

// statmText is /proc/PID/statm (fs/proc/array.c proc_pid_statm, in
// pages): size resident shared text lib data dt, lib and dt 0 as on
// Linux since 2.6; all 0 for a zombie or an exited main thread.
func (p *Process) statmText(exited bool) string {
	vm, ok := p.vmStat()
	if !ok || exited {
		return "0 0 0 0 0 0 0\n"
	}
	var r rssStat
	if got, ok := p.rss(); ok {
		r = got
	}
	pg := func(bytes uint64) uint64 { return bytes / mem.PageSize }
	return fmt.Sprintf("%d %d %d %d 0 %d 0\n", pg(vm.total), r.total, r.file+r.shmem, pg(vm.text), pg(vm.data+vm.stack))
}

// rlimitNames are the rows of /proc/PID/limits, by resource number
// (fs/proc/base.c lnames): the name and the unit.
var rlimitNames = [...][2]string{
	{"Max cpu time", "seconds"},
	{"Max file size", "bytes"},
	{"Max data size", "bytes"},
	{"Max stack size", "bytes"},
	{"Max core file size", "bytes"},
	{"Max resident set", "bytes"},
	{"Max processes", "processes"},
	{"Max open files", "files"},
	{"Max locked memory", "bytes"},
	{"Max address space", "bytes"},
	{"Max file locks", "locks"},
	{"Max pending signals", "signals"},
	{"Max msgqueue size", "bytes"},
	{"Max nice priority", ""},
	{"Max realtime priority", ""},
	{"Max realtime timeout", "us"},
}

// limitsText is /proc/PID/limits (fs/proc/base.c proc_pid_limits): the
// soft and hard limit of every resource, in columns.
func (p *Process) limitsText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	value := func(v uint64) string {
		if v == ^uint64(0) {
			return "unlimited"
		}
		return fmt.Sprint(v)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for res, row := range rlimitNames {
		l, ok := p.rlimits[uint64(res)]
		if !ok {
			l = p.defaultRlimit(uint64(res))
		}
		fmt.Fprintf(&b, "%-25s %-20s %-20s ", row[0], value(l[0]), value(l[1]))
		if row[1] != "" {
			fmt.Fprintf(&b, "%-10s", row[1])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// threads counts the threads of the guest's processes (sysinfo's procs,
// which Linux caps at 65535).
func (w *world) threads() uint16 {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, p := range w.procs {
		n += p.threadCount()
	}
	return uint16(min(n, 0xffff))
}

// SetTimerSlack sets the timer slack of the process's thread tid (0: its
// main thread), as a write of /proc/PID/timerslack_ns does: 0 restores
// the thread's default (fs/proc/base.c timerslack_ns_write). ESRCH when
// the thread is gone.
func (p *Process) SetTimerSlack(tid int32, ns uint64) int {
	if tid == 0 {
		tid = p.pid
	}
	t := p.task(tid)
	if t == nil {
		return linux.ESRCH
	}
	t.setTimerSlack(ns)
	return 0
}

// environText is /proc/PID/environ (fs/proc/base.c environ_read): the
// bytes of its memory from env_start to env_end as they are now (a
// program that rewrites its environment strings in place shows the new
// ones), up to the first byte that cannot be read; nothing once its
// memory is gone.
func (p *Process) environText() []byte {
	p.mm.mu.Lock()
	start, end := p.mm.strings[2], p.mm.strings[3]
	p.mm.mu.Unlock()
	p.mu.Lock()
	m := p.m
	p.mu.Unlock()
	if p.LiveFiles() == nil || m == nil || end <= start {
		return nil
	}
	b := make([]byte, end-start)
	n, _ := (&MemFile{p: p, m: m}).Access(b, start, false)
	return b[:n]
}
