package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// procKind says which file of /proc a procNode is.
type procKind int

const (
	procRoot               procKind = iota // /proc
	procSelf                               // /proc/self, a link to /proc/PID
	procSys                                // /proc/sys
	procSysFS                              // /proc/sys/fs
	procPipeMaxSize                        // /proc/sys/fs/pipe-max-size, pipe-user-pages-hard and -soft (n: pipeLimits)
	procPid                                // /proc/PID, and /proc/PID/task/TID
	procTaskDir                            // /proc/PID/task
	procFDDir                              // /proc/PID/fd
	procExe                                // /proc/PID/exe
	procCwd                                // /proc/PID/cwd
	procFDLink                             // /proc/PID/fd/N
	procText                               // the text files of /proc/PID (procTexts)
	procSysVM                              // /proc/sys/vm
	procOvercommit                         // /proc/sys/vm/overcommit_memory
	procProtectedHardlinks                 // /proc/sys/fs/protected_hardlinks
	procThreadSelf                         // /proc/thread-self, a link to /proc/PID/task/TID
	procMounts                             // /proc/mounts, a link to self/mounts
	procMeminfo                            // /proc/meminfo
	procVersion                            // /proc/version
	procUptime                             // /proc/uptime
	procFilesystems                        // /proc/filesystems
	procLoadavg                            // /proc/loadavg
	procStat                               // /proc/stat
	procCPUInfo                            // /proc/cpuinfo
	procSysDir                             // a directory of sysDirs under /proc/sys; n is its index
	procSysValue                           // a file of sysFiles; n is its index
	procFDInfoDir                          // /proc/PID/fdinfo
	procFDInfo                             // /proc/PID/fdinfo/N
	procNSDir                              // /proc/PID/ns
	procNSLink                             // /proc/PID/ns/NAME; n is its index in namespaces (procns.go)
	procDiskstats                          // /proc/diskstats
	procNetLink                            // /proc/net, a link to self/net
	procNetDir                             // /proc/PID/net
	procNetFile                            // /proc/PID/net/NAME; n is its index in FS.netNames
	procRootLink                           // /proc/PID/root
	procSwaps                              // /proc/swaps
)

// sysDirs are the directories of /proc/sys beyond fs and vm, each with
// the index of its parent in sysDirs (-1: /proc/sys).
var sysDirs = [...]struct {
	parent int32
	name   string
}{{-1, "kernel"}, {0, "random"}, {-1, "net"}, {2, "core"}, {2, "ipv4"},
	{sysDirFS, "epoll"}, {sysDirFS, "inotify"}}

// sysDirFS stands for /proc/sys/fs in sysFiles: a directory of its own
// kind (procSysFS), which holds these files beside its others.
const sysDirFS = -2

// sysDirVM stands for /proc/sys/vm in sysFiles (procSysVM).
const sysDirVM = -3

// pipeLimits are what /proc/sys/fs/pipe-max-size, pipe-user-pages-hard
// and pipe-user-pages-soft read.
var pipeLimits = [...]int{PipeMaxSize, PipeUserPagesHard, PipeUserPagesSoft}

// sysFiles are the read-only files of those directories: the index of
// the directory in sysDirs (or sysDirFS, sysDirVM) and the name. What each reads
// is the personality's (FS.SetSysctls), by its path under /proc/sys.
var sysFiles = [...]struct {
	dir  int32
	name string
}{{0, "ostype"}, {0, "osrelease"}, {0, "version"}, {0, "hostname"}, {0, "domainname"},
	{0, "pid_max"}, {0, "ngroups_max"}, {0, "cap_last_cap"},
	{1, "uuid"}, {1, "boot_id"}, {1, "entropy_avail"}, {1, "poolsize"},
	{3, "somaxconn"}, {4, "ip_local_port_range"}, {sysDirFS, "nr_open"},
	{sysDirVM, "max_map_count"},
	{sysDirFS, "file-nr"}, {sysDirFS, "file-max"},
	{5, "max_user_watches"}, {6, "max_user_instances"}, {6, "max_user_watches"}, {6, "max_queued_events"},
	{4, "tcp_rmem"}, {4, "tcp_wmem"}}

// sysPath returns the path under /proc/sys of directory d of sysDirs.
func sysPath(d int32) string {
	switch d {
	case sysDirFS:
		return "fs"
	case sysDirVM:
		return "vm"
	}
	if sysDirs[d].parent == -1 {
		return sysDirs[d].name
	}
	return sysPath(sysDirs[d].parent) + "/" + sysDirs[d].name
}

// SetSysctls sets what the files of /proc/sys/kernel and /proc/sys/net
// read: a function for each path under /proc/sys ("kernel/ostype"),
// called at every open. A file without one is not there (ENOENT).
func (fs *FS) SetSysctls(m map[string]func() string) { fs.sysctls = m }

// SetNetFiles sets the files of /proc/PID/net (and so /proc/net): a
// function for each name, called at every open, which the network stack
// gives. Without them the directory is empty.
func (fs *FS) SetNetFiles(m map[string]func() []byte) {
	fs.netFiles = m
	fs.netNames = slices.Sorted(maps.Keys(m))
}

// sysEntries lists directory d of sysDirs (-1: the ones /proc/sys holds
// beside fs and vm).
func sysEntries(d int32) []procEntry {
	var out []procEntry
	for i, e := range sysDirs {
		if e.parent == d {
			out = append(out, procEntry{e.name, procNode{kind: procSysDir, n: int32(i)}})
		}
	}
	for i, e := range sysFiles {
		if e.dir == d {
			out = append(out, procEntry{e.name, procNode{kind: procSysValue, n: int32(i)}})
		}
	}
	return out
}

// procTexts are the text files of a /proc/PID directory, which the
// ProcInfo makes. The index is the node's text field.
var procTexts = [...]string{"cmdline", "comm", "maps", "stat", "status", "mountinfo", "mounts", "statm", "limits", "io", "timerslack_ns", "mem", "oom_score", "oom_score_adj", "oom_adj", "environ", "cgroup", "auxv", "smaps", "smaps_rollup",
	"personality", "uid_map", "gid_map", "projid_map", "setgroups"}

// procInoBase numbers /proc's inodes apart from those of the other file
// systems: procInoBase + pid<<26 + tid-part + kind<<20 + n, where n is the
// descriptor of /proc/PID/fd/N or the text file's index.
const (
	procInoBase = 1 << 40
	procFDIno   = 1 << 20
)

// ProcTable is the processes /proc shows, given by the personality
// (FS.SetProcTable). Without one, /proc shows only the calling process,
// as pid 1, and only what its Process tells.
type ProcTable interface {
	// PIDs lists the processes, live and zombie, in increasing order.
	PIDs() []int32
	// Proc returns process pid, or nil if there is none.
	Proc(pid int32) ProcInfo
}

// ProcInfo is one process, or one of its threads, as /proc/PID and
// /proc/PID/task/TID show it.
type ProcInfo interface {
	// Files are its descriptors, working directory and program; nil once
	// it has exited (a zombie).
	Files() Process
	// Text returns the text of the file name of its /proc directory
	// (cmdline, comm, maps, stat, status, statm, limits, io), ENOENT if
	// there is none.
	Text(name string) ([]byte, error)
	// Tasks lists its threads' IDs in increasing order.
	Tasks() []int32
	// Task returns its thread tid, or nil.
	Task(tid int32) ProcInfo
	// SetComm renames it, as a write of its comm file does (fs/proc/base.c
	// comm_write): from is the writer's address space, and only a thread
	// of the same process may rename (EINVAL otherwise); ESRCH when it is
	// gone.
	SetComm(from mem.Memory, name []byte) error
	// SetTimerSlack sets its timer slack, as a write of its
	// timerslack_ns file does: 0 restores its default; ESRCH when it is
	// gone.
	SetTimerSlack(ns uint64) error
	// Owner returns the owner and group of its /proc files.
	Owner() (uid, gid uint32)
}

// MemoryInfo is what a ProcTable may also tell: the machine's memory
// for the application, total and free, in bytes (/proc/meminfo).
type MemoryInfo interface {
	Memory() (total, free uint64)
}

// meminfo is /proc/meminfo (fs/proc/meminfo.c meminfo_proc_show) with
// the lines Cocoon can give truly: memory total, free and available (all
// that is free: no page cache to reclaim beyond it), and no swap. Each
// line is the label padded to 16 columns and the value to 8, in kB.
func meminfo(total, free uint64) []byte {
	var b []byte
	for _, l := range []struct {
		name string
		v    uint64
	}{{"MemTotal", total}, {"MemFree", free}, {"MemAvailable", free}, {"SwapTotal", 0}, {"SwapFree", 0}} {
		b = fmt.Appendf(b, "%-16s%8d kB\n", l.name+":", l.v>>10)
	}
	return b
}

// UptimeInfo is what a ProcTable may also tell: nanoseconds since boot
// by CLOCK_BOOTTIME, and how long of that the CPU was idle (/proc/uptime).
type UptimeInfo interface {
	Uptime() (up, idle int64)
}

// uptime is /proc/uptime (fs/proc/uptime.c uptime_proc_show): seconds
// since boot and seconds idle, each with two decimals, truncated.
func uptime(up, idle int64) []byte {
	const cs = 1e7 // nanoseconds in a hundredth of a second
	return fmt.Appendf(nil, "%d.%02d %d.%02d\n", up/1e9, up%1e9/cs, idle/1e9, idle%1e9/cs)
}

// LoadInfo is what a ProcTable may also tell for /proc/loadavg: the
// load averages in fixed point with 11 fraction bits (Linux's avenrun,
// FSHIFT), the threads running (thread tid, the reader, counting as one)
// and all threads, and the last process or thread ID given out.
type LoadInfo interface {
	LoadAverage(tid int32) (avg [3]uint64, running, threads int, last int32)
}

// loadavg is /proc/loadavg (fs/proc/loadavg.c loadavg_proc_show): each
// average with two decimals, rounded (get_avenrun's FIXED_1/200 offset),
// "running/threads" and the last ID.
func loadavg(avg [3]uint64, running, threads int, last int32) []byte {
	const fshift = 11
	var b []byte
	for _, a := range avg {
		a += (1 << fshift) / 200
		b = fmt.Appendf(b, "%d.%02d ", a>>fshift, (a&(1<<fshift-1))*100>>fshift)
	}
	return fmt.Appendf(b, "%d/%d %d\n", running, threads, last)
}

// CPUStat is what /proc/stat shows of the one CPU and the threads.
type CPUStat struct {
	// User, System and Idle are nanoseconds of the CPU's time since boot
	// in the application, in the kernel and halted.
	User, System, Idle int64
	// Interrupts and Switches count the interrupts and context switches
	// since boot.
	Interrupts, Switches uint64
	// Boot is when the machine booted, in seconds since the epoch.
	Boot int64
	// Forks counts the processes and threads created since boot.
	Forks int64
	// Running and Blocked count the threads that run or could, the
	// reader among them, and those in uninterruptible sleep.
	Running, Blocked int
}

// StatInfo is what a ProcTable may also tell for /proc/stat, for the
// reader, thread tid.
type StatInfo interface {
	CPUStat(tid int32) CPUStat
}

// stat is /proc/stat (fs/proc/stat.c show_stat) for one CPU: the cpu
// line and cpu0's, in USER_HZ (100) ticks: user, nice, system, idle,
// iowait, irq, softirq, steal, guest, guest_nice. Cocoon has no niced
// time (no task runs at another priority), no block I/O to wait for, no
// separate interrupt accounting (its interrupt time is system time), no
// steal-time channel and no guests. intr gives only the total: Cocoon's
// interrupts have no Linux IRQ numbers to count them by. No thread
// sleeps uninterruptibly, and there are no softirqs.
func stat(s CPUStat) []byte {
	const tick = 1e9 / 100 // nanoseconds in a USER_HZ tick
	times := fmt.Sprintf(" %d 0 %d %d 0 0 0 0 0 0\n", s.User/tick, s.System/tick, s.Idle/tick)
	b := []byte("cpu " + times + "cpu0" + times)
	b = fmt.Appendf(b, "intr %d\nctxt %d\nbtime %d\nprocesses %d\nprocs_running %d\nprocs_blocked %d\n",
		s.Interrupts, s.Switches, s.Boot, s.Forks, s.Running, s.Blocked)
	return append(b, "softirq 0 0 0 0 0 0 0 0 0 0 0\n"...)
}

// filesystems is /proc/filesystems (fs/filesystems.c
// filesystems_proc_show): the kinds of file system Cocoon has, in the
// order Linux registers them, "nodev" marking those without a block
// device. Its tree is tmpfs, proc and sysfs; pipes and sockets live in the
// internal pipefs and sockfs, as fstatfs tells.
const filesystems = "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tsockfs\nnodev\tpipefs\n"

// SetCPUInfo sets the text of /proc/cpuinfo; until then there is none
// (ENOENT).
func (fs *FS) SetCPUInfo(s string) { fs.cpuinfo = s }

// SetKernelVersion sets the text of /proc/version (Linux's
// linux_proc_banner); empty until then.
func (fs *FS) SetKernelVersion(v string) { fs.version = v }

// SetProcTable installs the process table /proc shows.
func (fs *FS) SetProcTable(t ProcTable) { fs.procs = t }

// SetOvercommit sets the overcommit policy /proc/sys/vm/overcommit_memory
// shows (0 or 1; north.Config.Overcommit), before the application starts.
func (fs *FS) SetOvercommit(v int) { fs.overcommit = v }

// pid returns the ID of the process making the call: what its Process
// says, 1 if it does not say, 0 if there is none.
func (c *ctx) pid() int32 {
	if c.p == nil {
		return 0
	}
	if p, ok := c.p.(interface{ Pid() int32 }); ok {
		return p.Pid()
	}
	return 1
}

// tid returns the ID of the thread making the call (/proc/thread-self):
// what its Process says, else the process's.
func (c *ctx) tid() int32 {
	if p, ok := c.p.(interface{ Tid() int32 }); ok {
		return p.Tid()
	}
	return c.pid()
}

// proc returns process pid, or its thread tid (tid != 0), or nil.
func (c *ctx) proc(pid, tid int32) ProcInfo {
	var info ProcInfo
	switch {
	case c.fs.procs != nil:
		info = c.fs.procs.Proc(pid)
	case pid != 0 && pid == c.pid():
		info = selfInfo{c.p, pid}
	}
	if info == nil || tid == 0 {
		return info
	}
	return info.Task(tid)
}

func (c *ctx) pids() []int32 {
	if c.fs.procs != nil {
		return c.fs.procs.PIDs()
	}
	if pid := c.pid(); pid != 0 {
		return []int32{pid}
	}
	return nil
}

// selfInfo is the calling process when there is no ProcTable.
type selfInfo struct {
	p   Process
	pid int32
}

func (s selfInfo) Files() Process { return s.p }
func (s selfInfo) Text(name string) ([]byte, error) {
	if name != "cmdline" {
		return nil, ENOENT
	}
	var text []byte
	if a, ok := s.p.(interface{ Cmdline() []string }); ok {
		for _, arg := range a.Cmdline() {
			text = append(append(text, arg...), 0)
		}
	}
	return text, nil
}
func (s selfInfo) Tasks() []int32                   { return []int32{s.pid} }
func (s selfInfo) SetComm(mem.Memory, []byte) error { return EINVAL }
func (s selfInfo) SetTimerSlack(uint64) error       { return ENOENT }
func (s selfInfo) Owner() (uint32, uint32)          { return 0, 0 }
func (s selfInfo) Task(tid int32) ProcInfo {
	if tid == s.pid {
		return s
	}
	return nil
}

// procNode is a file of /proc: a read-only view of the processes and of
// the system. It is a value, so that the same file is the same node
// however it was reached.
type procNode struct {
	kind     procKind
	pid, tid int32 // procPid and below; tid 0: the process
	n        int32 // procFDLink: the descriptor; procText: the index in procTexts
}

var procRootNode = procNode{kind: procRoot}

func (p procNode) fileType() uint32 {
	switch p.kind {
	case procRoot, procSys, procSysFS, procSysVM, procPid, procTaskDir, procFDDir, procSysDir, procFDInfoDir, procNSDir, procNetDir:
		return linux.SIfdir
	case procPipeMaxSize, procOvercommit, procProtectedHardlinks, procText, procMeminfo, procVersion, procUptime, procFilesystems, procLoadavg, procStat, procCPUInfo, procSysValue, procFDInfo, procDiskstats, procNetFile, procSwaps:
		return linux.SIfreg
	}
	return linux.SIflnk
}

func (p procNode) attr() Attr {
	ino := procInoBase + uint64(p.kind)<<20 + uint64(uint32(p.n))
	if p.pid != 0 {
		id := p.pid
		if p.tid != 0 {
			id = p.tid
			ino += 1 << 25 // a thread's files are not its process's
		}
		ino += uint64(uint32(id)) << 26
	}
	a := Attr{Ino: ino, Mode: linux.SIfdir | 0o555, Nlink: 2}
	// A directory links its subdirectories (find's leaf optimization
	// counts on it): those of /proc/PID and of /proc/sys are fixed;
	// /proc's and /proc/PID/task's are counted by fill.
	switch p.kind {
	case procPid:
		a.Nlink += subdirs(p.pidEntries())
	case procSys, procSysDir, procSysFS, procSysVM:
		ents, _ := p.entries(nil)
		a.Nlink += subdirs(ents)
	}
	switch p.kind {
	case procFDDir:
		a.Mode = linux.SIfdir | 0o500 // fs/proc/base.c: DIR("fd", S_IRUSR|S_IXUSR)
	case procNSDir:
		a.Mode = linux.SIfdir | 0o511 // DIR("ns", S_IRUSR|S_IXUGO)
	}
	switch p.fileType() {
	case linux.SIflnk:
		a.Mode = linux.SIflnk | 0o777
		a.Nlink = 1
		if p.kind == procFDLink {
			a.Mode = linux.SIflnk | 0o700
			a.Size = 64
		}
	case linux.SIfreg:
		// Linux's /proc files report size 0 whatever they hold.
		a.Mode = linux.SIfreg | 0o444
		a.Nlink = 1
		if p.kind == procPipeMaxSize || p.kind == procOvercommit || p.kind == procProtectedHardlinks ||
			p.kind == procText && procTexts[p.n] == "comm" {
			a.Mode = linux.SIfreg | 0o644
		}
		if p.kind == procText && (procTexts[p.n] == "io" || procTexts[p.n] == "environ" || procTexts[p.n] == "auxv" || procTexts[p.n] == "personality") {
			a.Mode = linux.SIfreg | 0o400 // fs/proc/base.c: S_IRUSR
		}
		if p.kind == procText && procTexts[p.n] == "timerslack_ns" {
			a.Mode = linux.SIfreg | 0o666
		}
		if p.kind == procText && (procTexts[p.n] == "oom_score_adj" || procTexts[p.n] == "oom_adj" || userns(procTexts[p.n])) {
			a.Mode = linux.SIfreg | 0o644 // fs/proc/base.c: S_IRUGO|S_IWUSR
		}
		if p.kind == procText && procTexts[p.n] == "mem" {
			a.Mode = linux.SIfreg | 0o600 // fs/proc/base.c: S_IRUSR|S_IWUSR
		}
	}
	return a
}

func (p procNode) open(c *ctx, l Loc, _ uint32) (FileImpl, error) {
	switch p.kind {
	case procPipeMaxSize:
		return &procFile{loc: l, text: []byte(strconv.Itoa(pipeLimits[p.n]) + "\n")}, nil
	case procOvercommit:
		// The policy is the image's, fixed at boot: /proc/sys is
		// read-only (roFile), as in a container.
		return &procFile{loc: l, text: []byte(strconv.Itoa(c.fs.overcommit) + "\n")}, nil
	case procMeminfo:
		m, ok := c.fs.procs.(MemoryInfo)
		if !ok {
			return nil, ENOENT
		}
		return &procFile{loc: l, text: meminfo(m.Memory())}, nil
	case procVersion:
		return &procFile{loc: l, text: []byte(c.fs.version)}, nil
	case procUptime:
		u, ok := c.fs.procs.(UptimeInfo)
		if !ok {
			return nil, ENOENT
		}
		return &procFile{loc: l, text: uptime(u.Uptime())}, nil
	case procFilesystems:
		return &procFile{loc: l, text: []byte(filesystems)}, nil
	case procNetFile:
		if c.proc(p.pid, p.tid) == nil || int(p.n) >= len(c.fs.netNames) {
			return nil, ENOENT
		}
		return &procFile{loc: l, text: c.fs.netFiles[c.fs.netNames[p.n]]()}, nil
	case procDiskstats:
		// block/genhd.c diskstats_show: a line for each block device,
		// and Cocoon has none (its files are in memory), as a Linux
		// without disks. node_exporter's diskstats collector failed
		// without the file.
		return &procFile{loc: l}, nil
	case procSwaps:
		// mm/swapfile.c swap_show: the header, and no swap area.
		return &procFile{loc: l, text: []byte("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")}, nil
	case procCPUInfo:
		if c.fs.cpuinfo == "" {
			return nil, ENOENT
		}
		return &procFile{loc: l, text: []byte(c.fs.cpuinfo)}, nil
	case procStat:
		si, ok := c.fs.procs.(StatInfo)
		if !ok {
			return nil, ENOENT
		}
		return &procFile{loc: l, text: stat(si.CPUStat(c.tid()))}, nil
	case procLoadavg:
		li, ok := c.fs.procs.(LoadInfo)
		if !ok {
			return nil, ENOENT
		}
		return &procFile{loc: l, text: loadavg(li.LoadAverage(c.tid()))}, nil
	case procProtectedHardlinks:
		// Always on (mayLinkat), as Debian's systemd sets it; read-only
		// like the rest of /proc/sys.
		return &procFile{loc: l, text: []byte("1\n")}, nil
	case procSysValue:
		f := sysFiles[p.n]
		text := c.fs.sysctls[sysPath(f.dir)+"/"+f.name]
		if text == nil {
			return nil, ENOENT
		}
		return &procFile{loc: l, text: []byte(text())}, nil
	case procFDInfo:
		if err := c.mayReadFDInfo(l, p); err != nil {
			return nil, err
		}
		f, err := p.files(c)
		if err != nil {
			return nil, err
		}
		file := f.FD(p.n)
		if file == nil {
			return nil, ENOENT
		}
		cloexec := false
		if ce, ok := f.(interface{ Cloexec(fd int32) bool }); ok {
			cloexec = ce.Cloexec(p.n)
		}
		return &procFile{loc: l, text: fdInfo(file, cloexec)}, nil
	case procText:
		info := c.proc(p.pid, p.tid)
		if info == nil {
			return nil, ENOENT
		}
		switch procTexts[p.n] {
		case "mountinfo", "mounts":
			// One mount namespace: the same for every process; none
			// for a task that exited, whose namespaces are gone
			// (fs/proc_namespace.c mounts_open_common: no nsproxy,
			// EINVAL), as its files are.
			if info.Files() == nil {
				return nil, EINVAL
			}
			if procTexts[p.n] == "mounts" {
				return &procFile{loc: l, text: c.fs.mountsText()}, nil
			}
			return &procFile{loc: l, text: c.fs.mountinfo()}, nil
		case "cgroup":
			// Every process is in the root of the cgroup v2 hierarchy,
			// the only one (no v1 hierarchy is mounted): what
			// kernel/cgroup/cgroup.c proc_cgroup_show prints then. Go
			// 1.25's runtime, which reads it for GOMAXPROCS, then
			// finds no cgroup2 mount in mountinfo and uses the CPUs.
			return &procFile{loc: l, text: []byte("0::/\n")}, nil
		case "mem":
			return c.openMem(l, info)
		case "environ", "auxv":
			// environ_open, auxv_open: the ptrace access check of mem
			// (a zombie's: ESRCH).
			if _, err := c.openMem(l, info); err != nil {
				return nil, err
			}
		case "uid_map", "gid_map", "projid_map", "setgroups":
			return &procFile{loc: l, text: usernsText(procTexts[p.n]), c: c, node: p}, nil
		case "timerslack_ns":
			if err := c.mayTimerSlack(p.pid); err != nil {
				// Linux's open succeeds; its read fails
				// (fs/proc/base.c timerslack_ns_show).
				return &procFile{loc: l, err: err}, nil
			}
		}
		if r, ok := info.(ProcRecords); ok {
			next, has, err := r.Records(procTexts[p.n])
			if has {
				if err != nil {
					return nil, err
				}
				return &procFile{loc: l, c: c, node: p, records: next}, nil
			}
		}
		text, err := info.Text(procTexts[p.n])
		if err == ESRCH {
			return &procFile{loc: l, err: err}, nil // a read's error (smaps_rollup)
		}
		if err != nil {
			return nil, err
		}
		return &procFile{loc: l, text: text, c: c, node: p}, nil
	}
	if p.kind == procFDInfoDir {
		if err := c.mayReadFDInfo(l, p); err != nil {
			return nil, err
		}
	}
	if p.fileType() == linux.SIfdir {
		return &dirFile{loc: l, c: c}, nil
	}
	return nil, ELOOP
}

// mayReadFDInfo checks that the caller may see the fdinfo of p's
// process: only one that may read its memory (fs/proc/fd.c
// proc_fdinfo_permission, on the directory: ptrace_may_access with
// PTRACE_MODE_READ_FSCREDS; EACCES), as mem's open checks it.
func (c *ctx) mayReadFDInfo(l Loc, p procNode) error {
	info := c.proc(p.pid, p.tid)
	if info == nil {
		return ENOENT
	}
	if _, ok := info.(ProcMem); !ok {
		return nil // no process table: the caller alone
	}
	_, err := c.openMem(l, info)
	return err
}

// procFile is an open /proc file: text made when it was opened.
type procFile struct {
	FileDefaults
	loc  Loc
	text []byte
	// c and node are the opener and the file, for writes (comm).
	c    *ctx
	node procNode
	// err is what reads return instead of text (timerslack_ns of
	// another thread without CAP_SYS_NICE).
	err error
	// records, if set, makes the text record by record as it is read
	// (ProcRecords): rec is record recIdx, which starts at offset recOff
	// (guarded by recMu; started once the first is made).
	records func(i int) []byte
	recMu   sync.Mutex
	started bool
	rec     []byte
	recIdx  int
	recOff  int64
}

// ProcRecords is what a ProcInfo may also do: make the text of a file
// of its directory a record at a time as it is read (smaps: a mapping
// each), as Linux's seq_file does, so that a process with many mappings
// needs no text of them all in the kernel's memory. has is false for a
// name it does not make so (Text does); next(i) is the i-th record, nil
// past the last.
type ProcRecords interface {
	Records(name string) (next func(i int) []byte, has bool, err error)
}

// readRecords reads at off from the records, making them from the first
// again when off is before the record in hand (seq_read after a seek
// back).
func (f *procFile) readRecords(dst Buf, off int64) (int64, error) {
	f.recMu.Lock()
	defer f.recMu.Unlock()
	if !f.started || off < f.recOff {
		f.started, f.recIdx, f.recOff, f.rec = true, 0, 0, f.records(0)
	}
	var done int64
	for dst.Len() > 0 && f.rec != nil {
		if off >= f.recOff+int64(len(f.rec)) {
			f.recOff += int64(len(f.rec))
			f.recIdx++
			f.rec = f.records(f.recIdx)
			continue
		}
		n, err := dst.CopyOut(f.rec[off-f.recOff:])
		done += int64(n)
		off += int64(n)
		if err != nil {
			if done == 0 {
				return 0, EFAULT
			}
			break
		}
		dst = dst.DropFirst(int64(n))
	}
	return done, nil
}

// capSysNice is CAP_SYS_NICE (include/uapi/linux/capability.h).
const capSysNice = 23

// mayTimerSlack says whether the caller may read or write the timer
// slack of thread tid (fs/proc/base.c timerslack_ns_show and _write): its
// own, or any with CAP_SYS_NICE; EPERM otherwise.
func (c *ctx) mayTimerSlack(tid int32) error {
	if tid != c.tid() && !c.cred.capable(capSysNice) {
		return EPERM
	}
	return nil
}

// writeTimerSlack is a write of /proc/PID/timerslack_ns: a decimal
// number of nanoseconds, a '+' before it and a newline after it allowed
// (lib/kstrtox.c kstrtoull_from_user, which reads at most 65 bytes); the
// whole count is reported written.
func (f *procFile) writeTimerSlack(src Buf) (int64, error) {
	if err := f.c.mayTimerSlack(f.node.pid); err != nil {
		return 0, err
	}
	b := make([]byte, min(src.Len(), 65))
	if _, err := src.CopyIn(b); err != nil {
		return 0, EFAULT
	}
	s := strings.TrimPrefix(strings.TrimSuffix(string(b), "\n"), "+")
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, EINVAL
	}
	ns, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, ERANGE // only digits: too many of them
	}
	info := f.c.proc(f.node.pid, 0)
	if info == nil {
		return 0, ESRCH
	}
	if err := info.SetTimerSlack(ns); err != nil {
		return 0, err
	}
	return src.Len(), nil
}

// Write renames the process or thread when the file is its comm, as
// fs/proc/base.c comm_write does: the first 15 bytes name it (the rest
// is dropped, a newline kept), the whole count is reported written, and
// the offset is ignored. The other text files take no writes (EINVAL).
func (f *procFile) Write(_ *File, src Buf, _ int64) (int64, error) {
	if f.c != nil && procTexts[f.node.n] == "timerslack_ns" {
		return f.writeTimerSlack(src)
	}
	if f.c != nil && (procTexts[f.node.n] == "oom_score_adj" || procTexts[f.node.n] == "oom_adj") {
		return f.writeOOMAdj(src, procTexts[f.node.n] == "oom_adj")
	}
	if f.c != nil && userns(procTexts[f.node.n]) {
		return f.writeUserns(src)
	}
	if f.c == nil || procTexts[f.node.n] != "comm" {
		return 0, EINVAL
	}
	const taskCommLen = 16 // TASK_COMM_LEN, include/linux/sched.h
	name := make([]byte, min(src.Len(), taskCommLen-1))
	if _, err := src.CopyIn(name); err != nil {
		return 0, EFAULT
	}
	info := f.c.proc(f.node.pid, f.node.tid)
	if info == nil {
		return 0, ESRCH
	}
	if err := info.SetComm(src.m, name); err != nil {
		return 0, err
	}
	return src.Len(), nil
}

// OOMAdjuster is what a ProcInfo may also do: set its process's
// oom_score_adj, as a write of its oom_score_adj file does, or with
// legacy of its oom_adj file (-17..15, scaled), by a caller with
// CAP_SYS_RESOURCE or not (privileged): EINVAL out of range, EACCES
// below what an unprivileged caller may set, ESRCH when it is gone.
type OOMAdjuster interface {
	SetOOMScoreAdj(v int64, legacy, privileged bool) error
}

// capSysResource is CAP_SYS_RESOURCE (include/uapi/linux/capability.h).
const capSysResource = 24

// writeOOMAdj is a write of /proc/PID/oom_score_adj or, with legacy,
// oom_adj (fs/proc/base.c oom_score_adj_write, oom_adj_write): at most 12
// bytes are read (PROC_NUMBUF less its NUL) and reported written; the
// number, blanks around it allowed, is read as kstrtoint with base 0
// does.
func (f *procFile) writeOOMAdj(src Buf, legacy bool) (int64, error) {
	const procNumbuf = 13
	b := make([]byte, min(src.Len(), procNumbuf-1))
	if _, err := src.CopyIn(b); err != nil {
		return 0, EFAULT
	}
	n := int64(len(b))
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i] // the kernel's buffer is a C string
	}
	v, err := kstrtoint(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, err
	}
	info := f.c.proc(f.node.pid, f.node.tid)
	if info == nil {
		return 0, ESRCH
	}
	a, ok := info.(OOMAdjuster)
	if !ok {
		return 0, EINVAL
	}
	if err := a.SetOOMScoreAdj(v, legacy, f.c.cred.capable(capSysResource)); err != nil {
		return 0, err
	}
	return n, nil
}

// kstrtoint parses s as lib/kstrtox.c kstrtoint with base 0: a sign, then
// hexadecimal after 0x, octal after 0, else decimal; one newline may
// follow. EINVAL for anything else, ERANGE past an int.
func kstrtoint(s string) (int64, error) {
	s = strings.TrimSuffix(s, "\n")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := uint64(10)
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1]|0x20) == 'x':
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	var v uint64
	digits, over := 0, false
	for ; digits < len(s); digits++ {
		ch := s[digits]
		d := uint64(16)
		switch {
		case ch >= '0' && ch <= '9':
			d = uint64(ch - '0')
		case ch|0x20 >= 'a' && ch|0x20 <= 'f':
			d = uint64(ch|0x20-'a') + 10
		}
		if d >= base {
			break
		}
		if v > (1<<64-1-d)/base {
			over = true
		}
		v = v*base + d
	}
	switch {
	case over:
		return 0, ERANGE
	case digits == 0 || digits < len(s):
		return 0, EINVAL
	}
	if neg && v > 1<<31 || !neg && v > 1<<31-1 {
		return 0, ERANGE
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

// seqWrite marks /proc's text files as Linux's seq_file files: pwrite
// fails with ESPIPE (seq_open clears FMODE_PWRITE) and write leaves the
// offset where it was. oom_score_adj and oom_adj are no seq_files: their
// writes ignore the offset, pwrite's too.
func (f *procFile) seqWrite() bool {
	return f.c != nil && strings.HasPrefix(procTexts[f.node.n], "oom_")
}

// Truncate accepts and ignores a size, as proc_setattr does (an open
// with O_TRUNC succeeds).
func (f *procFile) Truncate(*File, int64) error { return nil }

func (f *procFile) Read(_ *File, dst Buf, off int64) (int64, error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.records != nil {
		return f.readRecords(dst, off)
	}
	if f.c != nil && strings.HasPrefix(procTexts[f.node.n], "oom_") {
		// Made at each read (fs/proc/base.c oom_score_adj_read).
		if info := f.c.proc(f.node.pid, f.node.tid); info != nil {
			if t, err := info.Text(procTexts[f.node.n]); err == nil {
				f.text = t
			}
		}
	}
	if off >= int64(len(f.text)) {
		return 0, nil
	}
	n, err := dst.CopyOut(f.text[off:])
	if n == 0 && err != nil {
		return 0, EFAULT
	}
	return int64(n), nil
}

func (f *procFile) Stream() bool    { return false }
func (f *procFile) Stat(*File) Attr { return f.loc.Attr() }

// Seek is each file's llseek: a sysfs attribute's is generic_file_llseek
// on its size, PAGE_SIZE; /proc/sys's default_llseek, cmdline's and
// environ's generic_file_llseek and oom_score_adj's and oom_adj's
// default_llseek on a size of 0; the rest of /proc are seq_files, whose
// seq_lseek takes SEEK_SET and SEEK_CUR only (EINVAL otherwise).
func (f *procFile) Seek(_ *File, cur, off int64, whence int) (int64, error) {
	switch n := f.loc.n.(type) {
	case sysNode:
		return SeekIn(cur, off, whence, 4096)
	case procNode:
		switch n.kind {
		case procSysValue, procPipeMaxSize, procOvercommit, procProtectedHardlinks:
			return SeekIn(cur, off, whence, 0)
		case procText:
			switch procTexts[n.n] {
			case "cmdline", "environ", "oom_score_adj", "oom_adj":
				return SeekIn(cur, off, whence, 0)
			}
		}
	}
	if whence != linux.SeekSet && whence != linux.SeekCur {
		return 0, EINVAL
	}
	return SeekIn(cur, off, whence, int64(len(f.text)))
}

// Syncable reports whether fsync(2) may be called on f, as Linux's
// vfs_fsync_range asks whether its file_operations have fsync: a
// regular file or directory's do (noop_fsync on tmpfs, sysfs's
// kernfs_file_fops and kernfs_dir_fops), but /proc's files and
// directories have none (EINVAL).
func Syncable(f *File) bool {
	a := f.Stat()
	if t := a.Type(); t != linux.SIfreg && t != linux.SIfdir {
		return false
	}
	_, inProc := f.loc.n.(procNode)
	return !inProc
}

// fill sets what a's node p cannot tell alone (attr): the owner and
// group of /proc/PID and what is in it, the process's
// (ProcInfo.Owner), root's for the rest of /proc; the times; the mode
// of a /proc/PID/fd/N link, which says how the file is open
// (fs/proc/fd.c tid_fd_update_inode: read, write and search for the
// owner by FMODE_READ and FMODE_WRITE).
//
// Linux gives a /proc inode the time it was made, when it was first
// looked up: its own files (and /proc/self) at the mount, a process's
// soon after the process started. Here they are the mount's time and the
// process's start (ProcInfo's Started, if it tells), not the epoch.
func (p procNode) fill(a *Attr, fs *FS) {
	if fs == nil {
		return
	}
	a.Atime, a.Mtime, a.Ctime = fs.mounted, fs.mounted, fs.mounted
	if p.kind == procRoot && fs.procs != nil {
		a.Nlink = 2 + subdirs(procRootNames[:]) + uint32(len(fs.procs.PIDs()))
	}
	if p.pid == 0 || fs.procs == nil {
		return
	}
	info := fs.procs.Proc(p.pid)
	if info == nil {
		return
	}
	a.UID, a.GID = info.Owner()
	if p.kind == procTaskDir {
		a.Nlink = 2 + uint32(len(info.Tasks())) // proc_task_getattr
	}
	if s, ok := info.(interface{ Started() int64 }); ok {
		t := s.Started()
		a.Atime, a.Mtime, a.Ctime = t, t, t
	}
	if p.kind != procFDLink {
		return
	}
	if p.tid != 0 {
		info = info.Task(p.tid)
	}
	if info == nil || info.Files() == nil {
		return
	}
	if f := info.Files().FD(p.n); f != nil {
		a.Mode = linux.SIflnk
		if f.Readable() {
			a.Mode |= 0o500
		}
		if f.Writable() {
			a.Mode |= 0o300
		}
	}
}

// procReg reports one of the files of /proc that proc_create makes
// (meminfo, version, uptime, filesystems, loadavg, stat, cpuinfo,
// diskstats):
// their mmap is proc_reg_mmap, which without a proc_mmap of their own is
// EIO, where the seq_files of /proc/PID and /proc/sys have none (ENODEV).
func (p procNode) procReg() bool {
	switch p.kind {
	case procMeminfo, procVersion, procUptime, procFilesystems, procLoadavg, procStat, procCPUInfo, procDiskstats, procSwaps:
		return true
	}
	return false
}

// subdirs counts the directories among ents.
func subdirs(ents []procEntry) uint32 {
	n := uint32(0)
	for _, e := range ents {
		if e.node.fileType() == linux.SIfdir {
			n++
		}
	}
	return n
}

// procEntry is one name in a /proc directory.
type procEntry struct {
	name string
	node procNode
}

// entries lists directory p; the names of /proc/PID depend only on
// whether it is a thread's.
func (p procNode) entries(c *ctx) ([]procEntry, error) {
	switch p.kind {
	case procRoot:
		out := append([]procEntry(nil), procRootNames[:]...)
		for _, pid := range c.pids() {
			out = append(out, procEntry{strconv.Itoa(int(pid)), procNode{kind: procPid, pid: pid}})
		}
		return out, nil
	case procSys:
		return append([]procEntry{{"fs", procNode{kind: procSysFS}}, {"vm", procNode{kind: procSysVM}}}, sysEntries(-1)...), nil
	case procSysDir:
		return sysEntries(p.n), nil
	case procSysFS:
		return append([]procEntry{{"pipe-max-size", procNode{kind: procPipeMaxSize}},
			{"pipe-user-pages-hard", procNode{kind: procPipeMaxSize, n: 1}},
			{"pipe-user-pages-soft", procNode{kind: procPipeMaxSize, n: 2}},
			{"protected_hardlinks", procNode{kind: procProtectedHardlinks}}}, sysEntries(sysDirFS)...), nil
	case procSysVM:
		return append([]procEntry{{"overcommit_memory", procNode{kind: procOvercommit}}}, sysEntries(sysDirVM)...), nil
	}
	info := c.proc(p.pid, p.tid)
	if info == nil {
		return nil, ENOENT
	}
	sub := procNode{pid: p.pid, tid: p.tid}
	switch p.kind {
	case procPid:
		out := sub.pidEntries()
		slices.SortFunc(out, func(a, b procEntry) int {
			if a.name < b.name {
				return -1
			}
			return 1
		})
		return out, nil
	case procTaskDir:
		var out []procEntry
		for _, tid := range info.Tasks() {
			out = append(out, procEntry{strconv.Itoa(int(tid)), procNode{kind: procPid, pid: p.pid, tid: tid}})
		}
		return out, nil
	case procNSDir:
		return sub.nsEntries(), nil
	case procNetDir:
		var out []procEntry
		for i, name := range c.fs.netNames {
			out = append(out, procEntry{name, procNode{kind: procNetFile, pid: p.pid, tid: p.tid, n: int32(i)}})
		}
		return out, nil
	case procFDDir, procFDInfoDir:
		f := info.Files()
		if f == nil {
			return nil, nil
		}
		kind := procFDLink
		if p.kind == procFDInfoDir {
			kind = procFDInfo
		}
		var out []procEntry
		for _, fd := range f.FDs() {
			out = append(out, procEntry{strconv.Itoa(int(fd)), procNode{kind: kind, pid: p.pid, tid: p.tid, n: fd}})
		}
		return out, nil
	}
	return nil, ENOTDIR
}

// procRootNames are the names of /proc besides the processes'.
//
// The files of Linux 6.18's /proc that Cocoon does not have, deliberately
// (a program finds them missing, ENOENT, as on a Linux built without
// them, rather than text that would not be true):
//   - the kernel's own: kmsg, kcore, kallsyms, modules, config.gz,
//     execdomains, timer_list, sched_debug, and per process stack,
//     syscall and wchan (kernel stacks and symbols; Cocoon is no Linux
//     kernel whose functions a trace could name);
//   - hardware and drivers: interrupts, softirqs, irq/, iomem, ioports,
//     dma, mtrr, acpi/, bus/, driver/, tty/, devices, misc, consoles,
//     partitions (Cocoon's interrupts have no Linux IRQ numbers, and it
//     has no block devices);
//   - the page allocator's internals: buddyinfo, zoneinfo, pagetypeinfo,
//     slabinfo, vmallocinfo, kpagecount, kpageflags, kpagecgroup, vmstat,
//     and per process pagemap, clear_refs, numa_maps, ksm_stat,
//     ksm_merging_pages and map_files/ (counters and page state Cocoon
//     does not keep);
//   - subsystems Cocoon has not: crypto, keys and key-users (no kernel
//     keyrings), cgroups and pressure/ (no cgroup v1 hierarchies, no
//     PSI), and per process attr/ (no LSM), loginuid and sessionid (no
//     audit), autogroup, sched and schedstat (none of CFS's accounting),
//     coredump_filter (no core dumps), cpuset, mountstats, timers,
//     timens_offsets and arch_status;
//   - cmdline: the kernel's command line is the application's arguments
//     here, which /proc/1/cmdline shows.
var procRootNames = [...]procEntry{{"self", procNode{kind: procSelf}}, {"sys", procNode{kind: procSys}},
	{"thread-self", procNode{kind: procThreadSelf}}, {"mounts", procNode{kind: procMounts}},
	{"meminfo", procNode{kind: procMeminfo}}, {"version", procNode{kind: procVersion}},
	{"uptime", procNode{kind: procUptime}}, {"filesystems", procNode{kind: procFilesystems}},
	{"loadavg", procNode{kind: procLoadavg}}, {"stat", procNode{kind: procStat}},
	{"cpuinfo", procNode{kind: procCPUInfo}}, {"diskstats", procNode{kind: procDiskstats}},
	{"net", procNode{kind: procNetLink}},
	{"swaps", procNode{kind: procSwaps}}}

// pidEntries lists directory /proc/PID (or /proc/PID/task/TID) of p's
// pid and tid, unsorted.
func (p procNode) pidEntries() []procEntry {
	out := make([]procEntry, 0, len(procTexts)+4)
	for i, name := range procTexts {
		if name == "timerslack_ns" && p.tid != 0 {
			continue // a process's only (fs/proc/base.c tgid_base_stuff)
		}
		out = append(out, procEntry{name, procNode{kind: procText, pid: p.pid, tid: p.tid, n: int32(i)}})
	}
	for _, e := range []procEntry{{"cwd", procNode{kind: procCwd}}, {"exe", procNode{kind: procExe}}, {"fd", procNode{kind: procFDDir}}, {"fdinfo", procNode{kind: procFDInfoDir}}, {"ns", procNode{kind: procNSDir}}, {"net", procNode{kind: procNetDir}}, {"root", procNode{kind: procRootLink}}} {
		e.node.pid, e.node.tid = p.pid, p.tid
		out = append(out, e)
	}
	if p.tid == 0 {
		out = append(out, procEntry{"task", procNode{kind: procTaskDir, pid: p.pid}})
	}
	return out
}

// number parses a decimal ID as /proc names them (no sign, no leading
// zeros).
func number(name string) (int32, bool) {
	n, err := strconv.ParseInt(name, 10, 32)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != name {
		return 0, false
	}
	return int32(n), true
}

func (p procNode) lookup(c *ctx, name string) (node, error) {
	if p.fileType() != linux.SIfdir {
		return nil, ENOTDIR
	}
	switch p.kind {
	case procRoot:
		if pid, ok := number(name); ok {
			if pid == 0 || c.proc(pid, 0) == nil {
				return nil, ENOENT
			}
			return procNode{kind: procPid, pid: pid}, nil
		}
		// Not a process: one of the other names, without listing the
		// processes (the Go runtime's start looks up /proc/self).
		for _, e := range procRootNames {
			if e.name == name {
				return e.node, nil
			}
		}
		return nil, ENOENT
	case procPid:
		if c.proc(p.pid, p.tid) == nil {
			return nil, ENOENT
		}
		for _, e := range (procNode{pid: p.pid, tid: p.tid}).pidEntries() {
			if e.name == name {
				return e.node, nil
			}
		}
		return nil, ENOENT
	case procTaskDir:
		tid, ok := number(name)
		if !ok || tid == 0 || c.proc(p.pid, tid) == nil {
			return nil, ENOENT
		}
		return procNode{kind: procPid, pid: p.pid, tid: tid}, nil
	case procFDDir, procFDInfoDir:
		if p.kind == procFDInfoDir {
			if err := c.mayReadFDInfo(Loc{}, p); err != nil {
				return nil, err
			}
		}
		fd, ok := number(name)
		if !ok {
			return nil, ENOENT
		}
		info := c.proc(p.pid, p.tid)
		if info == nil || info.Files() == nil || info.Files().FD(fd) == nil {
			return nil, ENOENT
		}
		if p.kind == procFDInfoDir {
			return procNode{kind: procFDInfo, pid: p.pid, tid: p.tid, n: fd}, nil
		}
		return procNode{kind: procFDLink, pid: p.pid, tid: p.tid, n: fd}, nil
	}
	ents, err := p.entries(c)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if e.name == name {
			return e.node, nil
		}
	}
	return nil, ENOENT
}

// where returns the directory holding directory p and p's name there.
func (p procNode) where() (procNode, string, bool) {
	switch p.kind {
	case procSys:
		return procRootNode, "sys", true
	case procSysFS:
		return procNode{kind: procSys}, "fs", true
	case procSysVM:
		return procNode{kind: procSys}, "vm", true
	case procSysDir:
		d := sysDirs[p.n]
		switch d.parent {
		case -1:
			return procNode{kind: procSys}, d.name, true
		case sysDirFS:
			return procNode{kind: procSysFS}, d.name, true
		}
		return procNode{kind: procSysDir, n: d.parent}, d.name, true
	case procPid:
		if p.tid != 0 {
			return procNode{kind: procTaskDir, pid: p.pid}, strconv.Itoa(int(p.tid)), true
		}
		return procRootNode, strconv.Itoa(int(p.pid)), true
	case procTaskDir:
		return procNode{kind: procPid, pid: p.pid}, "task", true
	case procFDDir:
		return procNode{kind: procPid, pid: p.pid, tid: p.tid}, "fd", true
	case procFDInfoDir:
		return procNode{kind: procPid, pid: p.pid, tid: p.tid}, "fdinfo", true
	case procNSDir:
		return procNode{kind: procPid, pid: p.pid, tid: p.tid}, "ns", true
	case procNetDir:
		return procNode{kind: procPid, pid: p.pid, tid: p.tid}, "net", true
	}
	return procNode{}, "", false
}

func (p procNode) parentNode() node {
	if d, _, ok := p.where(); ok {
		return d
	}
	return nil
}

func (p procNode) nameOf() (string, bool) {
	_, name, ok := p.where()
	return name, ok
}

func (p procNode) list(c *ctx) ([]Dirent, error) {
	if p.fileType() != linux.SIfdir {
		return nil, ENOTDIR
	}
	ents, err := p.entries(c)
	if err != nil {
		return nil, err
	}
	out := make([]Dirent, 0, len(ents))
	for _, e := range ents {
		out = append(out, Dirent{Name: e.name, Ino: e.node.attr().Ino, Type: uint8(e.node.fileType() >> 12)})
	}
	return out, nil
}

// files returns the descriptors and working directory of the process p
// names, ENOENT if it has none (it is gone, or a zombie).
func (p procNode) files(c *ctx) (Process, error) {
	info := c.proc(p.pid, p.tid)
	if info == nil || info.Files() == nil {
		return nil, ENOENT
	}
	return info.Files(), nil
}

func (p procNode) readlink(c *ctx) (string, error) {
	switch p.kind {
	case procMounts:
		return "self/mounts", nil
	case procNetLink:
		return "self/net", nil
	case procSelf, procThreadSelf:
		pid := c.pid()
		if pid == 0 {
			return "", ENOENT
		}
		if p.kind == procThreadSelf {
			return strconv.Itoa(int(pid)) + "/task/" + strconv.Itoa(int(c.tid())), nil
		}
		return strconv.Itoa(int(pid)), nil
	}
	if p.fileType() != linux.SIflnk {
		return "", EINVAL
	}
	if p.kind == procNSLink {
		if err := c.nsReach(p); err != nil {
			return "", err
		}
		return nsText(p.n), nil
	}
	if p.kind == procRootLink {
		if _, err := c.rootOf(p); err != nil {
			return "", err
		}
		return "/", nil
	}
	f, err := p.files(c)
	if err != nil {
		return "", err
	}
	switch p.kind {
	case procExe:
		if exe, at := f.Exe(); !exe.IsZero() {
			return at, nil
		}
	case procCwd:
		return c.fs.Path(f.Cwd())
	case procFDLink:
		if file := f.FD(p.n); file != nil {
			return file.Name(), nil
		}
	}
	return "", ENOENT
}

// errPlainLink is what magicLink.follow returns for a link that is
// followed through its text.
var errPlainLink = errors.New("not a magic link")

// follow leads /proc/PID/{exe,cwd,fd/N} straight to their files; only
// /proc/self, /proc/thread-self and /proc/mounts are ordinary links
// (their text: the caller's pid, its pid and tid, self/mounts).
func (p procNode) follow(c *ctx) (Loc, error) {
	if p.kind == procSelf || p.kind == procThreadSelf || p.kind == procMounts || p.kind == procNetLink {
		return Loc{}, errPlainLink
	}
	if p.kind == procNSLink {
		if err := c.nsReach(p); err != nil {
			return Loc{}, err
		}
		return Loc{c.fs.nsfs, nsNode{p.n}}, nil
	}
	if p.kind == procRootLink {
		return c.rootOf(p)
	}
	f, err := p.files(c)
	if err != nil {
		return Loc{}, err
	}
	switch p.kind {
	case procExe:
		if exe, _ := f.Exe(); !exe.IsZero() {
			return exe, nil
		}
		return Loc{}, ENOENT
	case procCwd:
		return f.Cwd(), nil
	case procFDLink:
		file := f.FD(p.n)
		if file == nil {
			return Loc{}, ENOENT
		}
		if file.Loc().IsZero() {
			if e, ok := file.impl.(*pipeEnd); ok {
				return Loc{c.fs.anon, pipeNode{e.p}}, nil
			}
			// Eventfds, epoll instances and sockets cannot be reopened
			// here.
			return Loc{}, ENXIO
		}
		return file.Loc(), nil
	}
	return Loc{}, EINVAL
}

// /proc cannot be changed; the mount is read-only, so these are not
// reached from the system calls.
func (p procNode) create(*ctx, string, uint32) (node, error)                   { return nil, EROFS }
func (p procNode) mkdir(*ctx, string, uint32) error                            { return EROFS }
func (p procNode) mknod(*ctx, string, uint32, uint64) error                    { return EROFS }
func (p procNode) symlink(*ctx, string, string) error                          { return EROFS }
func (p procNode) link(*ctx, string, node) error                               { return EROFS }
func (p procNode) remove(*ctx, string, bool) error                             { return EROFS }
func (p procNode) rename(*ctx, string, node, string, uint32, bool, bool) error { return EROFS }

// mountList is the mounts, the root first, in the order they were made.
func (fs *FS) mountList() []*mount {
	ms := []*mount{fs.root}
	for _, m := range fs.mounts {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].id < ms[j].id })
	return ms
}

// mountPoint is the path m is mounted on.
func (fs *FS) mountPoint(m *mount) string {
	if m.parent != nil {
		if s, err := fs.Path(Loc{m.parent, m.point}); err == nil {
			return s
		}
	}
	return "/"
}

// opts is the mount's access option, rw or ro.
func (m *mount) opts() string {
	if m.readOnly {
		return "ro"
	}
	return "rw"
}

// mountinfo is /proc/PID/mountinfo (proc(5)): a line per mount, the root
// first, "ID parentID major:minor root mountpoint options - fstype source
// superoptions"; the root mount is its own parent.
func (fs *FS) mountinfo() []byte {
	var b []byte
	for _, m := range fs.mountList() {
		parent := m.id
		if m.parent != nil {
			parent = m.parent.id
		}
		b = fmt.Appendf(b, "%d %d %d:%d / %s %s,relatime - %s %s %s\n",
			m.id, parent, linux.DevMajor(m.dev), linux.DevMinor(m.dev), fs.mountPoint(m), m.opts(), m.fstype, m.fstype, m.opts())
	}
	return b
}

// mountsText is /proc/PID/mounts, which /proc/mounts leads to (proc(5),
// fs/proc_namespace.c show_vfsmnt): a line per mount, in mountinfo's
// order, "source mountpoint fstype options 0 0".
func (fs *FS) mountsText() []byte {
	var b []byte
	for _, m := range fs.mountList() {
		b = fmt.Appendf(b, "%s %s %s %s,relatime 0 0\n", m.fstype, fs.mountPoint(m), m.fstype, m.opts())
	}
	return b
}
