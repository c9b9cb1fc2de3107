package north

import (
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"runtime"
	"strconv"
	"strings"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// miscCalls are the system calls this file serves (registerAll).
var miscCalls = [...]call{
	{linux.SysUname, sysUname},
	{linux.SysGetrandom, sysGetrandom},
	{linux.SysPrlimit64, sysPrlimit},
	{97, func(t *Task, a *[6]uint64) int64 { return sysPrlimit(t, &[6]uint64{0, a[0], 0, a[1]}) }},  // getrlimit
	{160, func(t *Task, a *[6]uint64) int64 { return sysPrlimit(t, &[6]uint64{0, a[0], a[1], 0}) }}, // setrlimit
	{99, sysSysinfo}, // sysinfo
}

func init() { registerAll(miscCalls[:]) }

// sysUname fills struct utsname: six 65-byte fields
// (include/uapi/linux/utsname.h, struct new_utsname).
func sysUname(t *Task, a *[6]uint64) int64 {
	var b [6 * 65]byte
	names := utsname
	names[1], names[5] = t.p.w.uts.get()
	names[4] = t.machine() // personality(2)
	for i, s := range names {
		copy(b[i*65:], s)
	}
	return errno(t.p.m.CopyOut(a[0], b[:]))
}

// utsname is uname(2)'s answer: sysname, nodename, release, version,
// machine, domainname.
var utsname = [6]string{"Linux", "cocoon", "6.1.0-cocoon", "#1 SMP Cocoon", "x86_64", "(none)"}

// KernelVersion is /proc/version (fs/proc/version.c, init/version.c
// linux_proc_banner): "Linux version RELEASE (BUILDER@HOST) (COMPILER)
// VERSION", the same release and version as uname, built by Go.
func KernelVersion() string {
	return "Linux version " + utsname[2] + " (cocoon@cocoon) (" + runtime.Version() + ") " + utsname[3] + "\n"
}

func sysGetrandom(t *Task, a *[6]uint64) int64 {
	buf, n, flags := a[0], a[1], a[2]
	const grndNonblock, grndRandom, grndInsecure = 1, 2, 4
	if flags&^(grndNonblock|grndRandom|grndInsecure) != 0 {
		return -linux.EINVAL
	}
	if n > 1<<25-1 {
		n = 1<<25 - 1
	}
	chunk := make([]byte, 4096)
	done := uint64(0)
	for done < n {
		k := n - done
		if k > uint64(len(chunk)) {
			k = uint64(len(chunk))
		}
		t.p.cfg.Random(chunk[:k])
		if err := t.p.m.CopyOut(buf+done, chunk[:k]); err != nil {
			if done > 0 {
				return int64(done)
			}
			return -linux.EFAULT
		}
		done += k
	}
	return int64(n)
}

// Resource limits start as defaultRlimit says. Lowering one is always
// allowed, raising a hard limit takes CAP_SYS_RESOURCE.
// prlimitTarget is the process prlimit64's pid names (0: the caller's;
// another thread's ID: its process) if the caller may read and change
// its limits (kernel/sys.c check_prlimit_permission): its own, or one
// whose real, effective and saved user and group IDs all equal the
// caller's real ones, or with CAP_SYS_RESOURCE; or a negated errno.
func (t *Task) prlimitTarget(pid int32) (*Process, int64) {
	if pid < 0 {
		return nil, -linux.ESRCH
	}
	if pid == 0 || pid == t.p.pid {
		return t.p, 0
	}
	w := t.p.w
	w.mu.Lock()
	q := w.procs[pid]
	if q == nil {
		if o := w.taskByID(pid); o != nil {
			q = o.p
		}
	}
	w.mu.Unlock()
	if q == nil {
		return nil, -linux.ESRCH
	}
	if q == t.p {
		return q, 0
	}
	t.p.mu.Lock()
	c := t.p.cred
	t.p.mu.Unlock()
	q.mu.Lock()
	tc := q.cred
	q.mu.Unlock()
	if c.ruid == tc.ruid && c.ruid == tc.euid && c.ruid == tc.suid &&
		c.rgid == tc.rgid && c.rgid == tc.egid && c.rgid == tc.sgid || c.capable(capSysResource) {
		return q, 0
	}
	return nil, -linux.EPERM
}

// nrOpen is fs.nr_open (fs/file.c sysctl_nr_open's default): the
// largest RLIMIT_NOFILE, soft or hard; the descriptor table's bound too
// (fdtable.MaxLimit).
const nrOpen = 1 << 20

func sysPrlimit(t *Task, a *[6]uint64) int64 {
	pid, res, newp, oldp := int32(a[0]), a[1], a[2], a[3]
	// As kernel/sys.c prlimit64: the new limit is read before anything
	// else, the old one written once the change is made (an EFAULT then
	// leaves it made), and neither copy holds the process's lock: a copy
	// may grow the stack, which takes the address space's lock, and that
	// one is held where the limits are read (mmap's may_expand_vm).
	var nb [16]byte
	if newp != 0 {
		if err := t.p.m.CopyIn(newp, nb[:]); err != nil {
			return -linux.EFAULT
		}
	}
	if res >= 16 {
		return -linux.EINVAL
	}
	p, e := t.prlimitTarget(pid)
	if p == nil {
		return e
	}
	t.p.mu.Lock()
	mayRaise := t.p.cred.capable(capSysResource)
	t.p.mu.Unlock()
	cur, e := p.setRlimit(res, newp != 0, getU64(nb[0:]), getU64(nb[8:]), mayRaise)
	if e != 0 {
		return e
	}
	if oldp != 0 {
		var b [16]byte
		putU64(b[0:], cur[0])
		putU64(b[8:], cur[1])
		if err := t.p.m.CopyOut(oldp, b[:]); err != nil {
			return -linux.EFAULT
		}
	}
	return 0
}

// setRlimit returns limit res of p as it was and, if set, makes it
// [soft, hard] (do_prlimit).
func (p *Process) setRlimit(res uint64, set bool, soft, hard uint64, mayRaise bool) ([2]uint64, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur, ok := p.rlimits[res]
	if !ok {
		cur = p.defaultRlimit(res)
	}
	if !set {
		return cur, 0
	}
	if soft > hard {
		return cur, -linux.EINVAL
	}
	if res == linux.RlimitNofile && hard > nrOpen {
		return cur, -linux.EPERM // do_prlimit: even for a privileged caller
	}
	if hard > cur[1] && !mayRaise {
		return cur, -linux.EPERM // raising a hard limit takes CAP_SYS_RESOURCE
	}
	if res == linux.RlimitNofile {
		// The descriptor table enforces this one (fs.nr_open bounds it).
		if l, ok := p.files.(interface{ SetFileLimit(uint64) error }); ok {
			if err := l.SetFileLimit(soft); err != nil {
				return cur, -linux.EPERM
			}
		}
	}
	if p.rlimits == nil {
		p.rlimits = map[uint64][2]uint64{}
	}
	p.rlimits[res] = [2]uint64{soft, hard}
	return cur, 0
}

// sysSysinfo fills struct sysinfo (include/uapi/linux/sysinfo.h): uptime,
// loads, total/free RAM, ..., procs, mem_unit.
func sysSysinfo(t *Task, a *[6]uint64) int64 {
	var b [112]byte
	// uptime: CLOCK_BOOTTIME in seconds, rounded up (kernel/sys.c
	// do_sysinfo), as /proc/uptime's clock.
	up := monotonic()
	putU64(b[0:], uint64((up+1e9-1)/1e9))
	for i, l := range t.p.w.load.get() {
		putU64(b[8+8*i:], l<<(siShift-fshift)) // loads[3] (kernel/sys.c do_sysinfo)
	}
	total, free := t.p.Memory()
	putU64(b[32:], total)                                  // totalram
	putU64(b[40:], free)                                   // freeram
	binary.LittleEndian.PutUint16(b[80:], t.p.w.threads()) // procs: the threads of the guest
	b[104] = 1                                             // mem_unit (u32)
	return errno(t.p.m.CopyOut(a[0], b[:]))
}

// Memory returns the RAM of the guest and how much of it is free, in
// bytes, as sysinfo(2) and /proc/meminfo report them.
func (p *Process) Memory() (total, free uint64) {
	free = p.cfg.RAM / 2 // a machine that does not say (host tests)
	if p.cfg.FreeRAM != nil {
		free = p.cfg.FreeRAM()
	}
	return p.cfg.RAM, free
}

var _ = mem.PageSize

// Sysctls are what the files of /proc/sys/kernel and /proc/sys/net read
// (vfs.FS.SetSysctls): uname's names, random UUIDs (drivers/char/random.c
// proc_do_uuid: a new version 4 UUID at every read of uuid, one per boot
// for boot_id), the listen backlog's ceiling, and the limits programs
// read before they reach them: the ephemeral ports, the largest process
// ID, supplementary groups, capability and descriptor, the mappings of
// an address space.
func (p *Process) Sysctls() map[string]func() string {
	boot := uuid4(p.cfg.Random)
	line := func(s string) func() string { return func() string { return s + "\n" } }
	return map[string]func() string{
		"kernel/ostype":         line(utsname[0]),
		"kernel/osrelease":      line(utsname[2]),
		"kernel/version":        line(utsname[3]),
		"kernel/hostname":       func() string { h, _ := p.w.uts.get(); return h + "\n" },
		"kernel/domainname":     func() string { _, d := p.w.uts.get(); return d + "\n" },
		"kernel/random/uuid":    func() string { return uuid4(p.cfg.Random) },
		"kernel/random/boot_id": line(strings.TrimSuffix(boot, "\n")),
		"net/core/somaxconn":    line(strconv.Itoa(socket.SomaxConn)),
		// Limits as the system calls here enforce them.
		"net/ipv4/ip_local_port_range": line(strconv.Itoa(socket.EphemeralFirst) + "\t" + strconv.Itoa(socket.EphemeralLast)),
		"kernel/pid_max":               line(strconv.Itoa(maxPid)),
		"kernel/ngroups_max":           line(strconv.Itoa(ngroupsMax)),
		"kernel/cap_last_cap":          line(strconv.Itoa(bits.Len64(capAll) - 1)),
		"fs/nr_open":                   line(strconv.Itoa(nrOpen)),
		"vm/max_map_count":             line(strconv.Itoa(kernel.MaxMapCount)),
		// fs/file_table.c proc_nr_files: the open files, the free ones
		// (always 0 since Linux 2.6) and file-max, the limit
		// alloc_empty_file enforces on unprivileged opens. Cocoon has
		// none but memory (ENFILE when the kernel's runs short), so it
		// reads as systemd sets it at boot: LONG_MAX, no limit.
		"fs/file-nr":  func() string { return strconv.FormatInt(vfs.OpenFiles(), 10) + "\t0\t" + fileMax + "\n" },
		"fs/file-max": line(fileMax),
		// fs/eventpoll.c and fs/notify/inotify/inotify_user.c: the
		// limits vfs enforces.
		"fs/epoll/max_user_watches":     func() string { return strconv.FormatInt(vfs.MaxUserWatches(), 10) + "\n" },
		"fs/inotify/max_user_instances": line(strconv.Itoa(vfs.InotifyMaxUserInstances)),
		"fs/inotify/max_user_watches":   line(strconv.Itoa(vfs.InotifyMaxUserWatches)),
		"fs/inotify/max_queued_events":  line(strconv.Itoa(vfs.InotifyMaxQueuedEvents)),
		// drivers/char/random.c since Linux 5.18: the pool is always
		// full, 256 bits.
		"kernel/random/entropy_avail": line("256"),
		"kernel/random/poolsize":      line("256"),
	}
}

// fileMax is fs.file-max as Cocoon reads it: LONG_MAX.
const fileMax = "9223372036854775807"

// uuid4 returns a random version 4 UUID (RFC 9562 section 5.4) as
// /proc/sys/kernel/random/uuid prints it: lower-case hex, a newline.
func uuid4(random func([]byte)) string {
	var b [16]byte
	random(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + "\n"
}
