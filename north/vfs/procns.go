package vfs

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// /proc/PID/ns (fs/proc/namespaces.c) and the files of nsfs its links
// lead to (fs/nsfs.c).
//
// Cocoon has one namespace of each kind, every process's: Linux's
// initial ones, whose inode numbers are fixed (include/linux/proc_ns.h
// PROC_*_INIT_INO; in Linux 6.18 the initial network and mount
// namespaces' too), so /proc/PID/ns reads as it does for a process of
// the host's initial namespaces, and a program comparing two processes'
// links or inodes finds them the same.

// namespaces are the links of /proc/PID/ns, in Linux's order (ns_entries):
// the name, the kind (the link's text before the number), the namespace's
// inode and its CLONE_NEW* flag (what NS_GET_NSTYPE returns, and setns
// takes).
var namespaces = [...]struct {
	name, kind string
	ino        uint64
	flag       uint32
}{
	{"net", "net", 0xEFFFFFF9, 0x40000000},
	{"uts", "uts", 0xEFFFFFFE, 0x04000000},
	{"ipc", "ipc", 0xEFFFFFFF, 0x08000000},
	{"pid", "pid", 0xEFFFFFFC, 0x20000000},
	{"pid_for_children", "pid", 0xEFFFFFFC, 0x20000000},
	{"user", "user", 0xEFFFFFFD, 0x10000000},
	{"mnt", "mnt", 0xEFFFFFF8, 0x00020000},
	{"cgroup", "cgroup", 0xEFFFFFFB, 0x02000000},
	{"time", "time", 0xEFFFFFFA, 0x00000080},
	{"time_for_children", "time", 0xEFFFFFFA, 0x00000080},
}

// nsfsMagic is NSFS_MAGIC (include/uapi/linux/magic.h).
const nsfsMagic = 0x6e736673

// nsEntries lists /proc/PID/ns (or /proc/PID/task/TID/ns) of p.
func (p procNode) nsEntries() []procEntry {
	out := make([]procEntry, len(namespaces))
	for i, ns := range namespaces {
		out[i] = procEntry{ns.name, procNode{kind: procNSLink, pid: p.pid, tid: p.tid, n: int32(i)}}
	}
	return out
}

// nsReach checks that the caller may reach the namespace link p
// (fs/proc/namespaces.c proc_ns_get_link and proc_ns_readlink): the
// task must be there, the caller allowed to read it
// (ptrace_may_access with PTRACE_MODE_READ_FSCREDS, as fdinfo's; EACCES)
// and the task still in the namespace: one that exited has left all but
// its PID and user namespaces (exit_task_namespaces drops its nsproxy;
// its struct pid and credentials stay until it is reaped): ENOENT.
func (c *ctx) nsReach(p procNode) error {
	info := c.proc(p.pid, p.tid)
	if info == nil {
		return ENOENT
	}
	if info.Files() == nil {
		if ns := namespaces[p.n]; ns.name != "pid" && ns.name != "user" {
			return ENOENT
		}
		return nil
	}
	return c.mayReadFDInfo(Loc{}, p)
}

// nsText is the text of namespace link n: "net:[4026531833]".
func nsText(n int32) string {
	return fmt.Sprintf("%s:[%d]", namespaces[n].kind, namespaces[n].ino)
}

// nsNode is a namespace, a file of nsfs, what opening a /proc/PID/ns
// link gives; idx is its index in namespaces (-1: nsfs's root, which
// nothing reaches).
type nsNode struct{ idx int32 }

func (n nsNode) fileType() uint32 {
	if n.idx < 0 {
		return linux.SIfdir
	}
	return linux.SIfreg
}

// attr is an nsfs inode's (fs/nsfs.c __ns_get_path): a regular file,
// read-only, of root, numbered as its namespace.
func (n nsNode) attr() Attr {
	if n.idx < 0 {
		return Attr{Mode: linux.SIfdir | 0o555, Nlink: 2, Ino: 1}
	}
	return Attr{Ino: namespaces[n.idx].ino, Mode: linux.SIfreg | 0o444, Nlink: 1}
}

func (n nsNode) open(_ *ctx, l Loc, _ uint32) (FileImpl, error) {
	if n.idx < 0 {
		return nil, EACCES
	}
	return &nsFile{loc: l, idx: n.idx}, nil
}

// nsFile is an open namespace (fs/nsfs.c ns_file_operations): no reads,
// writes nor seeks; its ioctls tell what it is.
type nsFile struct {
	FileDefaults
	loc Loc
	idx int32
}

func (f *nsFile) Stat(*File) Attr { return f.loc.Attr() }

// The NS_GET_* ioctls (include/uapi/linux/nsfs.h).
const (
	nsGetUserns   = 0xb701
	nsGetParent   = 0xb702
	nsGetNstype   = 0xb703
	nsGetOwnerUID = 0xb704
)

// Ioctl serves fs/nsfs.c ns_ioctl for the initial namespaces:
// NS_GET_NSTYPE is the CLONE_NEW* flag; NS_GET_OWNER_UID (a user
// namespace's only) is root's; NS_GET_PARENT of the initial PID or user
// namespace has none (EPERM), and other kinds have no parents (EINVAL).
// NS_GET_USERNS, which would open the owning user namespace, is not
// served (ENOTTY). FIONREAD of the regular file is 0 (do_vfs_ioctl).
func (f *nsFile) Ioctl(file *File, m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	ns := namespaces[f.idx]
	switch cmd {
	case nsGetNstype:
		return int64(ns.flag), nil
	case nsGetOwnerUID:
		if ns.kind != "user" {
			return 0, EINVAL
		}
		return 0, copyOut(m, arg, binary.LittleEndian.AppendUint32(nil, 0))
	case nsGetParent:
		if ns.kind != "pid" && ns.kind != "user" {
			return 0, EINVAL
		}
		return 0, EPERM
	case linux.FIONREAD:
		return 0, copyOut(m, arg, binary.LittleEndian.AppendUint32(nil, 0))
	}
	return 0, ENOTTY
}

// NamespaceOf returns the CLONE_NEW* flag of the namespace f is open on,
// or 0 if f is no namespace file (setns).
func NamespaceOf(f *File) uint32 {
	if n, ok := f.impl.(*nsFile); ok {
		return namespaces[n.idx].flag
	}
	return 0
}

// rootOf is where /proc/PID/root leads (fs/proc/base.c proc_root_link):
// the task's root directory, the tree's root (Cocoon has no chroot),
// for a caller that may read the task (proc_fd_access_allowed: EACCES);
// ENOENT once the task exited (exit_fs).
func (c *ctx) rootOf(p procNode) (Loc, error) {
	if _, err := p.files(c); err != nil {
		return Loc{}, err
	}
	if err := c.mayReadFDInfo(Loc{}, p); err != nil {
		return Loc{}, err
	}
	return Loc{c.fs.root, c.fs.root.root}, nil
}

// userns reports the files of /proc/PID that show its user namespace
// (kernel/user_namespace.c): uid_map, gid_map, projid_map, setgroups.
func userns(name string) bool {
	switch name {
	case "uid_map", "gid_map", "projid_map", "setgroups":
		return true
	}
	return false
}

// usernsText is the text of one of them for Cocoon's only user namespace,
// the initial one: the maps are the identity over all IDs
// (uid_m_show: "%10u %10u %10u"), and setgroups is allowed.
func usernsText(name string) []byte {
	if name == "setgroups" {
		return []byte("allow\n")
	}
	return fmt.Appendf(nil, "%10d %10d %10d\n", 0, 0, uint32(1<<32-1))
}

// writeUserns is a write of a user namespace file (map_write,
// proc_setgroups_write): the initial namespace's maps are set already
// (EPERM); setgroups reads "allow" or "deny" and blanks after it
// (EINVAL otherwise), then takes "allow", which it is (a no-op), from a
// caller with CAP_SYS_ADMIN, and refuses "deny" once gid_map is set
// (EPERM).
func (f *procFile) writeUserns(src Buf) (int64, error) {
	if procTexts[f.node.n] != "setgroups" {
		return 0, EPERM
	}
	b := make([]byte, min(src.Len(), 7))
	if _, err := src.CopyIn(b); err != nil {
		return 0, EFAULT
	}
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	allow := strings.HasPrefix(s, "allow")
	switch {
	case allow:
		s = s[5:]
	case strings.HasPrefix(s, "deny"):
		s = s[4:]
	default:
		return 0, EINVAL
	}
	if strings.TrimLeft(s, " \t\n\v\f\r") != "" {
		return 0, EINVAL
	}
	if !allow || !f.c.cred.capable(capSysAdmin) {
		return 0, EPERM
	}
	return src.Len(), nil
}
