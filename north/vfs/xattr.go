package vfs

import (
	"sort"
	"strings"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// Extended attributes (xattr(7)), kept as tmpfs keeps them (mm/shmem.c
// since Linux 6.6, fs/xattr.c): every file of the in-memory file systems
// (the root's writable layer, /tmp, /dev, memfds) holds names in the
// user.*, trusted.* and security.* namespaces. system.* (POSIX ACLs) is
// not supported, as on a tmpfs built without CONFIG_TMPFS_POSIX_ACL, and
// neither is security.capability (file capabilities): both EOPNOTSUPP.
// Pipes, sockets and /proc have none (EOPNOTSUPP), as on Linux without a
// security module.

// Limits and flags (include/uapi/linux/limits.h, include/uapi/linux/xattr.h).
const (
	XattrNameMax = 255
	XattrSizeMax = 65536
	XattrListMax = 65536
	XattrCreate  = 1
	XattrReplace = 2
)

const (
	xattrUser     = "user."
	xattrTrusted  = "trusted."
	xattrSecurity = "security."
	xattrSystem   = "system."
)

// xattrNode is a node that keeps extended attributes.
type xattrNode interface {
	getXattr(name string) ([]byte, error)
	setXattr(name string, value []byte, flags uint32) error
	listXattr() []string
	removeXattr(name string) error
}

// XattrTarget is the file an xattr call acts on: the node at Loc, or,
// for a file with no place in the tree (a pipe, a socket), just its mode.
type XattrTarget struct {
	Loc  Loc
	Mode uint32
}

// XattrOf is the target of the f* calls: the file open as f.
func XattrOf(f *File) XattrTarget {
	l := f.Loc()
	if r, ok := f.impl.(*regFile); ok {
		l = r.loc // unnamed files too: memfds, shared memory
	}
	return XattrTarget{Loc: l, Mode: f.Stat().Mode}
}

// XattrAt is the target of the path calls: the file at l.
func XattrAt(l Loc) XattrTarget { return XattrTarget{Loc: l, Mode: l.Attr().Mode} }

func (x XattrTarget) node() xattrNode {
	if x.Loc.IsZero() {
		return nil
	}
	n, _ := x.Loc.n.(xattrNode)
	return n
}

// xattrPermission is fs/xattr.c xattr_permission: trusted.* needs
// CAP_SYS_ADMIN (privileged), user.* exists only on regular files and
// directories; a write refused is EPERM, a read ENODATA.
func xattrPermission(mode uint32, name string, write, privileged bool) error {
	refuse := ENODATA
	if write {
		refuse = EPERM
	}
	switch {
	case strings.HasPrefix(name, xattrTrusted):
		if !privileged {
			return refuse
		}
	case strings.HasPrefix(name, xattrUser):
		if t := mode & linux.SIfmt; t != linux.SIfreg && t != linux.SIfdir {
			return refuse
		}
	}
	return nil
}

// xattrResolve is fs/xattr.c xattr_resolve_name for tmpfs's handlers: a
// known prefix with a name after it, EINVAL for a bare prefix, EOPNOTSUPP
// for any other namespace.
func xattrResolve(name string) error {
	for _, p := range []string{xattrUser, xattrTrusted, xattrSecurity} {
		if strings.HasPrefix(name, p) {
			if len(name) == len(p) {
				return EINVAL
			}
			if name == "security.capability" {
				return EOPNOTSUPP
			}
			return nil
		}
	}
	return EOPNOTSUPP
}

// GetXattr returns the value of attribute name: ENODATA if the file has
// none.
func GetXattr(x XattrTarget, name string, privileged bool) ([]byte, error) {
	if err := xattrPermission(x.Mode, name, false, privileged); err != nil {
		return nil, err
	}
	n := x.node()
	if n == nil {
		return nil, EOPNOTSUPP
	}
	if err := xattrResolve(name); err != nil {
		return nil, err
	}
	return n.getXattr(name)
}

// SetXattr sets attribute name to value: with XattrCreate EEXIST if it
// exists, with XattrReplace ENODATA if it does not.
func SetXattr(x XattrTarget, name string, value []byte, flags uint32, privileged bool) error {
	if flags&^(XattrCreate|XattrReplace) != 0 {
		return EINVAL
	}
	n, err := xattrWritable(x, name, privileged)
	if err != nil {
		return err
	}
	if err := n.setXattr(name, value, flags); err != nil {
		return err
	}
	notifyNode(x.Loc.n, InAttrib) // fsnotify_xattr
	return nil
}

// xattrWritable is the checks setxattr and removexattr share, in Linux's
// order: permission, a file that has attributes, a writable mount, a known
// namespace, and security.* only for the privileged
// (security/commoncap.c cap_inode_setxattr and cap_inode_removexattr).
func xattrWritable(x XattrTarget, name string, privileged bool) (xattrNode, error) {
	if err := xattrPermission(x.Mode, name, true, privileged); err != nil {
		return nil, err
	}
	n := x.node()
	if n == nil {
		return nil, EOPNOTSUPP
	}
	if x.Loc.ReadOnly() {
		return nil, EROFS
	}
	if err := xattrResolve(name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, xattrSecurity) && !privileged {
		return nil, EPERM
	}
	return n, nil
}

// RemoveXattr removes attribute name: ENODATA if the file has none.
func RemoveXattr(x XattrTarget, name string, privileged bool) error {
	n, err := xattrWritable(x, name, privileged)
	if err != nil {
		return err
	}
	if err := n.removeXattr(name); err != nil {
		return err
	}
	notifyNode(x.Loc.n, InAttrib)
	return nil
}

// ListXattr returns the attribute names in the order tmpfs lists them
// (its tree's order, which is decreasing byte order), without trusted.* for an unprivileged caller.
func ListXattr(x XattrTarget, privileged bool) []string {
	n := x.node()
	if n == nil {
		return nil
	}
	var out []string
	for _, name := range n.listXattr() {
		if privileged || !strings.HasPrefix(name, xattrTrusted) {
			out = append(out, name)
		}
	}
	return out
}

func (n *memNode) getXattr(name string) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	v, ok := n.xattrs[name]
	if !ok {
		return nil, ENODATA
	}
	return append([]byte(nil), v...), nil
}

// xattrCost is what an attribute is charged against the file system's
// memory limit, as tmpfs charges simple_xattr_space against its inode
// space.
func xattrCost(name string, value []byte) int64 { return int64(len(name) + len(value) + 32) }

func (n *memNode) setXattr(name string, value []byte, flags uint32) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	old, exists := n.xattrs[name]
	switch {
	case flags&XattrCreate != 0 && exists:
		return EEXIST
	case flags&XattrReplace != 0 && !exists:
		return ENODATA
	}
	delta := xattrCost(name, value)
	if exists {
		delta -= xattrCost(name, old)
	}
	fs := n.fsys
	if delta > 0 && fs.limit > 0 && fs.used.Load()+delta > fs.limit {
		return ENOSPC
	}
	fs.used.Add(delta)
	if n.xattrs == nil {
		n.xattrs = map[string][]byte{}
	}
	n.xattrs[name] = append([]byte{}, value...)
	n.ctime = fs.clock()
	return nil
}

func (n *memNode) removeXattr(name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	v, ok := n.xattrs[name]
	if !ok {
		return ENODATA
	}
	delete(n.xattrs, name)
	n.fsys.used.Add(-xattrCost(name, v))
	n.ctime = n.fsys.clock()
	return nil
}

func (n *memNode) listXattr() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.xattrs))
	for name := range n.xattrs {
		out = append(out, name)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

// releaseXattrs returns the attributes' charge when the node's data
// goes. Called with n.mu held.
func (n *memNode) releaseXattrs() {
	for name, v := range n.xattrs {
		n.fsys.used.Add(-xattrCost(name, v))
	}
	n.xattrs = nil
}
