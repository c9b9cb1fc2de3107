package north

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Credentials and process groups. The application is the only process and
// starts as root (uid and gid 0, no supplementary groups, all
// capabilities); as for root on Linux, every set*id call succeeds and the
// get*id calls report what was set (credentials(7)). Nothing else checks
// them: files keep modes and owners but do not enforce them.

func init() {
	register(102, func(t *Task, a *[6]uint64) int64 { return t.cred(func(c *creds) uint32 { return c.ruid }) }) // getuid
	register(104, func(t *Task, a *[6]uint64) int64 { return t.cred(func(c *creds) uint32 { return c.rgid }) }) // getgid
	register(107, func(t *Task, a *[6]uint64) int64 { return t.cred(func(c *creds) uint32 { return c.euid }) }) // geteuid
	register(108, func(t *Task, a *[6]uint64) int64 { return t.cred(func(c *creds) uint32 { return c.egid }) }) // getegid
	register(105, sysSetuid)                                                                                    // setuid
	register(106, sysSetgid)                                                                                    // setgid
	register(113, sysSetreuid)                                                                                  // setreuid
	register(114, sysSetregid)                                                                                  // setregid
	register(117, sysSetresuid)
	register(118, sysGetresuid)
	register(119, sysSetresgid)
	register(120, sysGetresgid)
	register(115, sysGetgroups)
	register(116, sysSetgroups)
	register(122, sysSetfsuid)
	register(123, sysSetfsgid)
	register(125, sysCapget)
	register(126, sysCapset)
}

// creds are the process's user and group IDs (real, effective, saved,
// and the file-system ID, which follows the effective one unless
// setfsuid/setfsgid set it).
type creds struct {
	ruid, euid, suid, fsuid uint32
	rgid, egid, sgid, fsgid uint32
	groups                  []uint32
}

// setFS sets the file-system ID *fs to id as setfsuid does (kernel/sys.c
// __sys_setfsuid): -1 or an ID the caller may not take leaves it; the
// old value is returned either way. The caller holds p.mu.
func setFS(c *creds, fs *uint32, id uint64, ids [3]uint32) int64 {
	old := *fs
	if keep(id) {
		return int64(old)
	}
	if c.euid == 0 || uint32(id) == ids[0] || uint32(id) == ids[1] || uint32(id) == ids[2] || uint32(id) == old {
		*fs = uint32(id)
	}
	return int64(old)
}

func sysSetfsuid(t *Task, a *[6]uint64) int64 {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	c := &t.p.cred
	return setFS(c, &c.fsuid, a[0], [3]uint32{c.ruid, c.euid, c.suid})
}

func sysSetfsgid(t *Task, a *[6]uint64) int64 {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	c := &t.p.cred
	return setFS(c, &c.fsgid, a[0], [3]uint32{c.rgid, c.egid, c.sgid})
}

func (t *Task) cred(get func(*creds) uint32) int64 {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	return int64(get(&t.p.cred))
}

// keep reports whether an ID argument means "leave unchanged" (-1).
func keep(id uint64) bool { return uint32(id) == ^uint32(0) }

func sysSetuid(t *Task, a *[6]uint64) int64 {
	if keep(a[0]) {
		return -linux.EINVAL
	}
	t.p.mu.Lock()
	c := &t.p.cred
	c.ruid, c.euid, c.suid, c.fsuid = uint32(a[0]), uint32(a[0]), uint32(a[0]), uint32(a[0])
	t.p.mu.Unlock()
	return 0
}

func sysSetgid(t *Task, a *[6]uint64) int64 {
	if keep(a[0]) {
		return -linux.EINVAL
	}
	t.p.mu.Lock()
	c := &t.p.cred
	c.rgid, c.egid, c.sgid, c.fsgid = uint32(a[0]), uint32(a[0]), uint32(a[0]), uint32(a[0])
	t.p.mu.Unlock()
	return 0
}

// setIDs sets real, effective and saved IDs (-1 keeps one); the
// file-system ID follows the effective one.
func setIDs(p *Process, ids [3]uint64, dst [3]*uint32, fs *uint32) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, id := range ids {
		if !keep(id) {
			*dst[i] = uint32(id)
		}
	}
	*fs = *dst[1]
	return 0
}

func sysSetreuid(t *Task, a *[6]uint64) int64 {
	c := &t.p.cred
	return setIDs(t.p, [3]uint64{a[0], a[1], ^uint64(0)}, [3]*uint32{&c.ruid, &c.euid, &c.suid}, &c.fsuid)
}

func sysSetregid(t *Task, a *[6]uint64) int64 {
	c := &t.p.cred
	return setIDs(t.p, [3]uint64{a[0], a[1], ^uint64(0)}, [3]*uint32{&c.rgid, &c.egid, &c.sgid}, &c.fsgid)
}

func sysSetresuid(t *Task, a *[6]uint64) int64 {
	c := &t.p.cred
	return setIDs(t.p, [3]uint64{a[0], a[1], a[2]}, [3]*uint32{&c.ruid, &c.euid, &c.suid}, &c.fsuid)
}

func sysSetresgid(t *Task, a *[6]uint64) int64 {
	c := &t.p.cred
	return setIDs(t.p, [3]uint64{a[0], a[1], a[2]}, [3]*uint32{&c.rgid, &c.egid, &c.sgid}, &c.fsgid)
}

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
	t.p.cred.groups = groups
	t.p.mu.Unlock()
	return 0
}

// capget/capset: struct __user_cap_header_struct {version, pid} and, for
// version 3, two struct __user_cap_data_struct {effective, permitted,
// inheritable} (include/uapi/linux/capability.h). Root holds every
// capability (CAP_LAST_CAP 40 on Linux 6.1: all 41 bits).
const capVersion3 = 0x20080522

func capHeader(t *Task, hdr uint64) int64 {
	v, err := mem.ReadUint32(t.p.m, hdr)
	if err != nil {
		return -linux.EFAULT
	}
	if v != capVersion3 && v != 0x19980330 && v != 0x20071026 {
		mem.WriteUint32(t.p.m, hdr, capVersion3)
		return -linux.EINVAL
	}
	pid, err := mem.ReadUint32(t.p.m, hdr+4)
	if err != nil {
		return -linux.EFAULT
	}
	if int32(pid) != 0 && pid != 1 && t.p.task(int32(pid)) == nil {
		return -linux.ESRCH
	}
	return 0
}

func sysCapget(t *Task, a *[6]uint64) int64 {
	if r := capHeader(t, a[0]); r != 0 {
		return r
	}
	if a[1] == 0 {
		return 0
	}
	var d [24]byte
	all := [2]uint32{0xffffffff, 0x1ff} // capabilities 0-31, 32-40
	for i := 0; i < 2; i++ {
		binary.LittleEndian.PutUint32(d[12*i:], all[i])   // effective
		binary.LittleEndian.PutUint32(d[12*i+4:], all[i]) // permitted
	}
	return errno(t.p.m.CopyOut(a[1], d[:]))
}

// sysCapset accepts any request: root may drop capabilities, and nothing
// in Cocoon checks them.
func sysCapset(t *Task, a *[6]uint64) int64 {
	if r := capHeader(t, a[0]); r != 0 {
		return r
	}
	var d [24]byte
	return errno(t.p.m.CopyIn(a[1], d[:]))
}
