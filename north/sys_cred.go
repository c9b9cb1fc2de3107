package north

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Credentials (credentials(7), capabilities(7)). Each process has real,
// effective, saved and file-system user and group IDs, supplementary
// groups and four capability sets (effective, permitted, inheritable,
// ambient).
// The application starts as root holding every capability; the set*id
// calls follow kernel/sys.c: a caller without CAP_SETUID (CAP_SETGID) may
// only move among the IDs it already has (EPERM otherwise), and changing
// user IDs away from 0 drops capabilities as cap_task_fix_setuid does.
// Nothing else checks them yet: files keep modes and owners but do not
// enforce them.

// credCalls are the system calls this file serves (registerAll).
var credCalls = [...]call{
	{102, func(t *Task, a *[6]uint64) int64 { return t.cred(func(c *creds) uint32 { return c.ruid }) }}, // getuid
	{104, func(t *Task, a *[6]uint64) int64 { return t.cred(func(c *creds) uint32 { return c.rgid }) }}, // getgid
	{107, func(t *Task, a *[6]uint64) int64 { return t.cred(func(c *creds) uint32 { return c.euid }) }}, // geteuid
	{108, func(t *Task, a *[6]uint64) int64 { return t.cred(func(c *creds) uint32 { return c.egid }) }}, // getegid
	{105, sysSetuid},   // setuid
	{106, sysSetgid},   // setgid
	{113, sysSetreuid}, // setreuid
	{114, sysSetregid}, // setregid
	{117, sysSetresuid},
	{118, sysGetresuid},
	{119, sysSetresgid},
	{120, sysGetresgid},
	{115, sysGetgroups},
	{116, sysSetgroups},
	{122, sysSetfsuid},
	{123, sysSetfsgid},
	{125, sysCapget},
	{126, sysCapset},
}

func init() { registerAll(credCalls[:]) }

// Capabilities (include/uapi/linux/capability.h).
const (
	capChown          = 0
	capDacOverride    = 1
	capDacReadSearch  = 2
	capFowner         = 3
	capFsetid         = 4
	capSetgid         = 6
	capSetuid         = 7
	capSetpcap        = 8
	capLinuxImmutable = 9
	capSysAdmin       = 21
	capSysResource    = 24
	capMknod          = 27
	capMacOverride    = 32
	// capAll is every capability up to CAP_LAST_CAP (40,
	// CAP_CHECKPOINT_RESTORE).
	capAll = 1<<41 - 1
	// capFSMask are the capabilities that follow the file-system user ID
	// (CAP_FS_MASK, include/linux/capability.h).
	capFSMask = 1<<capChown | 1<<capDacOverride | 1<<capDacReadSearch | 1<<capFowner |
		1<<capFsetid | 1<<capLinuxImmutable | 1<<capMknod | 1<<capMacOverride
)

// creds are the process's user and group IDs (real, effective, saved,
// and the file-system ID, which follows the effective one unless
// setfsuid/setfsgid set it) and capabilities. The zero value is root
// with every capability: the effective and permitted sets are kept as
// what was dropped from them.
type creds struct {
	ruid, euid, suid, fsuid uint32
	rgid, egid, sgid, fsgid uint32
	groups                  []uint32
	effDropped, permDropped uint64
	inheritable             uint64
	// ambient are the capabilities a program without file capabilities
	// keeps across execve (capabilities(7), "Ambient capability set");
	// always within the permitted and inheritable sets.
	ambient uint64
	// bsetDropped is what PR_CAPBSET_DROP took from the bounding set
	// (capabilities(7), "Capability bounding set"), which bounds what
	// execve makes permitted and what capset makes inheritable.
	bsetDropped uint64
}

// bset is the capability bounding set.
func (c *creds) bset() uint64 { return capAll &^ c.bsetDropped }

func (c *creds) effective() uint64 { return capAll &^ c.effDropped }
func (c *creds) permitted() uint64 { return capAll &^ c.permDropped }

func (c *creds) setEffective(s uint64) { c.effDropped = capAll &^ s }
func (c *creds) setPermitted(s uint64) { c.permDropped = capAll &^ s }

// CapSysAdmin is CAP_SYS_ADMIN, for FileContext.Capable.
const CapSysAdmin = capSysAdmin

// Capable implements FileContext: whether the task's process holds
// capability n in its effective set.
func (t *Task) Capable(n uint) bool {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	return t.p.cred.capable(n)
}

// ruid is the task's process's real user ID.
func (t *Task) ruid() uint32 {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	return t.p.cred.ruid
}

// capable reports whether capability n is in the effective set.
func (c *creds) capable(n uint) bool { return c.effective()&(1<<n) != 0 }

// fixSetuid adjusts the capabilities after the user IDs changed from old
// (capabilities(7), "Effect of user ID changes on capabilities";
// security/commoncap.c cap_emulate_setxuid and cap_task_fix_setuid).
func (c *creds) fixSetuid(old creds, keepCaps bool) {
	wasRoot := old.ruid == 0 || old.euid == 0 || old.suid == 0
	if wasRoot && c.ruid != 0 && c.euid != 0 && c.suid != 0 {
		if !keepCaps {
			c.setPermitted(0)
		}
		c.setEffective(0)
		c.ambient = 0 // even with keepCaps (cap_emulate_setxuid)
	}
	if old.euid == 0 && c.euid != 0 {
		c.setEffective(0)
	}
	if old.euid != 0 && c.euid == 0 {
		c.setEffective(c.permitted())
	}
	c.fixSetfsuid(old.fsuid)
}

// fixSetfsuid moves the file-system capabilities with the file-system
// user ID: dropped when it leaves 0, restored from the permitted set
// when it becomes 0.
func (c *creds) fixSetfsuid(old uint32) {
	switch {
	case old == 0 && c.fsuid != 0:
		c.setEffective(c.effective() &^ capFSMask)
	case old != 0 && c.fsuid == 0:
		c.setEffective(c.effective() | c.permitted()&capFSMask)
	}
}

// exec applies execve's transformation for a program without file
// capabilities or set-user-ID bits (capabilities(7), "Transformation of
// capabilities during execve"; security/commoncap.c
// cap_bprm_creds_from_file): root (real or effective user ID 0) gets
// the bounding set's capabilities and the inheritable ones permitted
// and, with effective user ID 0, effective;
// anyone else keeps only the ambient set, permitted and effective. The
// ambient set stays. The saved IDs become the effective ones.
func (c *creds) exec() {
	if c.ruid == 0 || c.euid == 0 {
		// handle_privileged_root: the bounding and inheritable sets.
		c.setPermitted(c.bset() | c.inheritable)
	} else {
		c.setPermitted(c.ambient)
	}
	if c.euid == 0 {
		c.setEffective(c.permitted())
	} else {
		c.setEffective(c.ambient)
	}
	c.suid, c.fsuid = c.euid, c.euid
	c.sgid, c.fsgid = c.egid, c.egid
}

// setFS sets the file-system ID *fs to id as setfsuid does (kernel/sys.c
// __sys_setfsuid): -1 or an ID the caller may not take leaves it; the
// old value is returned either way. The caller holds p.mu.
func setFS(c *creds, fs *uint32, id uint64, ids [3]uint32, capN uint) int64 {
	old := *fs
	if keep(id) {
		return int64(old)
	}
	if c.capable(capN) || uint32(id) == ids[0] || uint32(id) == ids[1] || uint32(id) == ids[2] || uint32(id) == old {
		*fs = uint32(id)
	}
	return int64(old)
}

func sysSetfsuid(t *Task, a *[6]uint64) int64 {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	c := &t.p.cred
	prev := *c
	old := setFS(c, &c.fsuid, a[0], [3]uint32{c.ruid, c.euid, c.suid}, capSetuid)
	c.fixSetfsuid(uint32(old))
	t.p.credsChanged(prev)
	return old
}

func sysSetfsgid(t *Task, a *[6]uint64) int64 {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	c := &t.p.cred
	prev := *c
	old := setFS(c, &c.fsgid, a[0], [3]uint32{c.rgid, c.egid, c.sgid}, capSetgid)
	t.p.credsChanged(prev)
	return old
}

func (t *Task) cred(get func(*creds) uint32) int64 {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	return int64(get(&t.p.cred))
}

// keep reports whether an ID argument means "leave unchanged" (-1).
func keep(id uint64) bool { return uint32(id) == ^uint32(0) }

// ids views the user or group half of creds: real, effective, saved and
// file-system ID, and the capability that lets a caller take any ID.
type ids struct {
	r, e, s, fs *uint32
	capN        uint
}

func userIDs(c *creds) ids  { return ids{&c.ruid, &c.euid, &c.suid, &c.fsuid, capSetuid} }
func groupIDs(c *creds) ids { return ids{&c.rgid, &c.egid, &c.sgid, &c.fsgid, capSetgid} }

// changeIDs runs change on the process's user (user) or group IDs with
// p.mu held and, for user IDs, fixes the capabilities afterwards.
func changeIDs(t *Task, user bool, change func(c *creds, x ids) int64) int64 {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.cred
	x := groupIDs(&p.cred)
	if user {
		x = userIDs(&p.cred)
	}
	if r := change(&p.cred, x); r != 0 {
		p.cred = old
		return r
	}
	if user {
		p.cred.fixSetuid(old, p.keepCaps.Load())
	}
	p.credsChanged(old)
	return 0
}

// credsChanged clears the dumpable flag when new credentials change the
// effective or file-system IDs or gain a permitted capability
// (kernel/cred.c commit_creds, with fs.suid_dumpable 0). The caller
// holds p.mu.
func (p *Process) credsChanged(old creds) {
	c := &p.cred
	if c.euid != old.euid || c.egid != old.egid || c.fsuid != old.fsuid || c.fsgid != old.fsgid ||
		c.permitted()&^old.permitted() != 0 {
		p.undumpable.Store(true)
	}
}

// ProcOwner returns the owner and group of the process's /proc/PID
// files: its effective IDs while it is dumpable, root's otherwise
// (fs/proc/base.c task_dump_owner).
func (p *Process) ProcOwner() (uid, gid uint32) {
	if p.undumpable.Load() {
		return 0, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cred.euid, p.cred.egid
}

// setid is setuid/setgid (kernel/sys.c __sys_setuid): with the
// capability every ID but the file-system one's history changes; without
// it only the effective (and file-system) ID, to the real or saved one.
func setid(t *Task, user bool, id uint64) int64 {
	if keep(id) {
		return -linux.EINVAL
	}
	v := uint32(id)
	return changeIDs(t, user, func(c *creds, x ids) int64 {
		if c.capable(x.capN) {
			*x.r, *x.s = v, v
		} else if v != *x.r && v != *x.s {
			return -linux.EPERM
		}
		*x.e, *x.fs = v, v
		return 0
	})
}

func sysSetuid(t *Task, a *[6]uint64) int64 { return setid(t, true, a[0]) }
func sysSetgid(t *Task, a *[6]uint64) int64 { return setid(t, false, a[0]) }

// setreid is setreuid/setregid (kernel/sys.c __sys_setreuid): without the
// capability the real ID may become the real or effective one, the
// effective ID the real, effective or saved one. The saved ID follows
// the effective one when the real ID is set or the effective one moves
// away from the old real ID.
func setreid(t *Task, user bool, r, e uint64) int64 {
	return changeIDs(t, user, func(c *creds, x ids) int64 {
		oldR, oldE, oldS := *x.r, *x.e, *x.s
		priv := c.capable(x.capN)
		if !keep(r) {
			if v := uint32(r); v != oldR && v != oldE && !priv {
				return -linux.EPERM
			}
			*x.r = uint32(r)
		}
		if !keep(e) {
			if v := uint32(e); v != oldR && v != oldE && v != oldS && !priv {
				return -linux.EPERM
			}
			*x.e = uint32(e)
		}
		if !keep(r) || !keep(e) && uint32(e) != oldR {
			*x.s = *x.e
		}
		*x.fs = *x.e
		return 0
	})
}

func sysSetreuid(t *Task, a *[6]uint64) int64 { return setreid(t, true, a[0], a[1]) }
func sysSetregid(t *Task, a *[6]uint64) int64 { return setreid(t, false, a[0], a[1]) }

// setresid is setresuid/setresgid (kernel/sys.c __sys_setresuid): without
// the capability each new ID must be one of the three current ones.
func setresid(t *Task, user bool, r, e, s uint64) int64 {
	return changeIDs(t, user, func(c *creds, x ids) int64 {
		if !c.capable(x.capN) {
			for _, id := range []uint64{r, e, s} {
				if v := uint32(id); !keep(id) && v != *x.r && v != *x.e && v != *x.s {
					return -linux.EPERM
				}
			}
		}
		for i, id := range []uint64{r, e, s} {
			if !keep(id) {
				*[]*uint32{x.r, x.e, x.s}[i] = uint32(id)
			}
		}
		*x.fs = *x.e
		return 0
	})
}

func sysSetresuid(t *Task, a *[6]uint64) int64 { return setresid(t, true, a[0], a[1], a[2]) }
func sysSetresgid(t *Task, a *[6]uint64) int64 { return setresid(t, false, a[0], a[1], a[2]) }

func getIDs(t *Task, addrs [3]uint64, ids [3]uint32) int64 {
	for i, addr := range addrs {
		if err := mem.WriteUint32(t.p.m, addr, ids[i]); err != nil {
			return -linux.EFAULT
		}
	}
	return 0
}

func sysGetresuid(t *Task, a *[6]uint64) int64 {
	t.p.mu.Lock()
	c := t.p.cred
	t.p.mu.Unlock()
	return getIDs(t, [3]uint64{a[0], a[1], a[2]}, [3]uint32{c.ruid, c.euid, c.suid})
}

func sysGetresgid(t *Task, a *[6]uint64) int64 {
	t.p.mu.Lock()
	c := t.p.cred
	t.p.mu.Unlock()
	return getIDs(t, [3]uint64{a[0], a[1], a[2]}, [3]uint32{c.rgid, c.egid, c.sgid})
}

// ngroupsMax is NGROUPS_MAX (include/uapi/linux/limits.h).
const ngroupsMax = 65536

func sysGetgroups(t *Task, a *[6]uint64) int64 {
	size := int32(a[0])
	t.p.mu.Lock()
	groups := append([]uint32(nil), t.p.cred.groups...)
	t.p.mu.Unlock()
	if size < 0 {
		return -linux.EINVAL
	}
	if size == 0 {
		return int64(len(groups))
	}
	if int(size) < len(groups) {
		return -linux.EINVAL
	}
	b := make([]byte, 4*len(groups))
	for i, g := range groups {
		binary.LittleEndian.PutUint32(b[4*i:], g)
	}
	if err := t.p.m.CopyOut(a[1], b); err != nil {
		return -linux.EFAULT
	}
	return int64(len(groups))
}

func sysSetgroups(t *Task, a *[6]uint64) int64 {
	size := int64(a[0])
	if size < 0 || size > ngroupsMax {
		return -linux.EINVAL
	}
	b := make([]byte, 4*size)
	if err := t.p.m.CopyIn(a[1], b); err != nil {
		return -linux.EFAULT
	}
	groups := make([]uint32, size)
	for i := range groups {
		groups[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	if !t.p.cred.capable(capSetgid) {
		return -linux.EPERM
	}
	t.p.cred.groups = groups
	return 0
}

// capget/capset: struct __user_cap_header_struct {version, pid} and
// struct __user_cap_data_struct {effective, permitted, inheritable}, one
// for version 1 (32 capabilities), two for versions 2 and 3
// (include/uapi/linux/capability.h).
const (
	capVersion1 = 0x19980330
	capVersion2 = 0x20071026
	capVersion3 = 0x20080522
)

// capVersion reads the header's version at hdr and returns how many data
// structs it has; an unknown version is answered with the preferred one
// written back and EINVAL.
func capVersion(t *Task, hdr uint64) (int, int64) {
	v, err := mem.ReadUint32(t.p.m, hdr)
	if err != nil {
		return 0, -linux.EFAULT
	}
	switch v {
	case capVersion1:
		return 1, 0
	case capVersion2, capVersion3:
		return 2, 0
	}
	if mem.WriteUint32(t.p.m, hdr, capVersion3) != nil {
		return 0, -linux.EFAULT
	}
	return 0, -linux.EINVAL
}

// capPid reads the header's pid.
func capPid(t *Task, hdr uint64) (int32, int64) {
	pid, err := mem.ReadUint32(t.p.m, hdr+4)
	if err != nil {
		return 0, -linux.EFAULT
	}
	return int32(pid), 0
}

// sysCapget reports a process's sets (kernel/capability.c): a null data
// pointer only probes the version.
func sysCapget(t *Task, a *[6]uint64) int64 {
	n, r := capVersion(t, a[0])
	if a[1] == 0 {
		if r == -linux.EINVAL {
			return 0
		}
		return r
	}
	if r != 0 {
		return r
	}
	pid, r := capPid(t, a[0])
	if r != 0 {
		return r
	}
	p := t.p
	switch {
	case pid < 0:
		return -linux.EINVAL
	case pid != 0 && pid != t.p.pid:
		if p = t.p.w.lookup(pid); p == nil {
			return -linux.ESRCH
		}
	}
	p.mu.Lock()
	c := p.cred
	p.mu.Unlock()
	var d [24]byte
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(d[12*i:], uint32(c.effective()>>(32*i)))
		binary.LittleEndian.PutUint32(d[12*i+4:], uint32(c.permitted()>>(32*i)))
		binary.LittleEndian.PutUint32(d[12*i+8:], uint32(c.inheritable>>(32*i)))
	}
	return errno(t.p.m.CopyOut(a[1], d[:12*n]))
}

// sysCapset changes the caller's own sets (security/commoncap.c
// cap_capset): the permitted set may only shrink, the effective set must
// lie within the new permitted one, and the inheritable set within the
// old inheritable and permitted ones unless the caller has CAP_SETPCAP.
func sysCapset(t *Task, a *[6]uint64) int64 {
	n, r := capVersion(t, a[0])
	if r != 0 {
		return r
	}
	pid, r := capPid(t, a[0])
	if r != 0 {
		return r
	}
	if pid != 0 && pid != t.p.pid {
		return -linux.EPERM
	}
	var d [24]byte
	if err := t.p.m.CopyIn(a[1], d[:12*n]); err != nil {
		return -linux.EFAULT
	}
	// Version 1 sets only capabilities 0-31: the others are cleared.
	var eff, perm, inh uint64
	for i := 0; i < n; i++ {
		eff |= uint64(binary.LittleEndian.Uint32(d[12*i:])) << (32 * i)
		perm |= uint64(binary.LittleEndian.Uint32(d[12*i+4:])) << (32 * i)
		inh |= uint64(binary.LittleEndian.Uint32(d[12*i+8:])) << (32 * i)
	}
	eff, perm, inh = eff&capAll, perm&capAll, inh&capAll
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	c := &t.p.cred
	switch {
	case perm&^c.permitted() != 0, eff&^perm != 0:
		return -linux.EPERM
	case !c.capable(capSetpcap) && inh&^(c.inheritable|c.permitted()) != 0:
		return -linux.EPERM
	case inh&^(c.inheritable|c.bset()) != 0:
		return -linux.EPERM // no new inheritable capability outside the bounding set
	}
	c.setEffective(eff)
	c.setPermitted(perm)
	c.inheritable = inh
	c.ambient &= perm & inh // no longer both permitted and inheritable: gone
	return 0
}

// capbset serves prctl(PR_CAPBSET_READ, n) and (drop) PR_CAPBSET_DROP
// as security/commoncap.c cap_task_prctl: reading needs a capability up
// to CAP_LAST_CAP (EINVAL), dropping CAP_SETPCAP first (EPERM), then a
// valid one. The set is the process's, as are its other sets here (Linux
// keeps it per thread; a thread group drops it together).
func (t *Task) capbset(n uint64, drop bool) int64 {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	c := &t.p.cred
	if drop && !c.capable(capSetpcap) {
		return -linux.EPERM
	}
	if n >= 64 || capAll&(1<<n) == 0 {
		return -linux.EINVAL
	}
	if drop {
		c.bsetDropped |= 1 << n
		return 0
	}
	if c.bset()&(1<<n) != 0 {
		return 1
	}
	return 0
}

// prctl(PR_CAP_AMBIENT) operations (include/uapi/linux/prctl.h).
const (
	capAmbientIsSet    = 1
	capAmbientRaise    = 2
	capAmbientLower    = 3
	capAmbientClearAll = 4
)

// capAmbient serves prctl(PR_CAP_AMBIENT, op, n, a4, a5) as
// security/commoncap.c cap_task_prctl does: a capability may be raised
// only if it is both permitted and inheritable.
func (t *Task) capAmbient(op, n, a4, a5 uint64) int64 {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	c := &t.p.cred
	if op == capAmbientClearAll {
		if n|a4|a5 != 0 {
			return -linux.EINVAL
		}
		c.ambient = 0
		return 0
	}
	if n >= 64 || capAll&(1<<n) == 0 || a4|a5 != 0 {
		return -linux.EINVAL
	}
	bit := uint64(1) << n
	switch op {
	case capAmbientIsSet:
		if c.ambient&bit != 0 {
			return 1
		}
		return 0
	case capAmbientRaise:
		if c.permitted()&bit == 0 || c.inheritable&bit == 0 {
			return -linux.EPERM
		}
		c.ambient |= bit
	case capAmbientLower:
		c.ambient &^= bit
	default:
		return -linux.EINVAL
	}
	return 0
}

// SockCred returns what AF_UNIX credentials need of the process
// (net/core/sock.c cred_to_ucred, net/core/scm.c scm_check_creds): its
// real, effective and saved user and group IDs, in that order, and its
// effective capabilities.
func (p *Process) SockCred() (uid, gid [3]uint32, caps uint64) {
	p.mu.Lock()
	c := p.cred
	p.mu.Unlock()
	return [3]uint32{c.ruid, c.euid, c.suid}, [3]uint32{c.rgid, c.egid, c.sgid}, c.effective()
}

// PidExists reports whether id names a process, live or zombie, or a
// thread (kernel/pid.c find_get_pid).
func (p *Process) PidExists(id int32) bool {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return p.w.procs[id] != nil || p.w.taskByID(id) != nil
}
