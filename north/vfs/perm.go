package vfs

import "github.com/cocoon-vm/cocoon/kernel/linux"

// File permissions, checked as Linux checks them (fs/namei.c
// generic_permission, may_open, may_create, may_delete): against the
// caller's file-system user and group IDs and supplementary groups, with
// the capabilities that override them (CAP_DAC_OVERRIDE,
// CAP_DAC_READ_SEARCH, CAP_FOWNER).

// CredSource tells the credentials of the process calls are made for
// (the personality's process): the fs user and group IDs, the
// supplementary groups and the effective capabilities (bit n is
// capability n, include/uapi/linux/capability.h); with real, those
// access(2) uses instead (fs/open.c access_override_creds).
type CredSource interface {
	FileCred(real bool) (uid, gid uint32, groups []uint32, caps uint64)
}

// cred is who makes a call, as the permission checks see it. A nil
// *cred is root with every capability: a caller that tells none.
type cred struct {
	uid, gid uint32
	groups   []uint32
	caps     uint64
}

// Capabilities the checks use (include/uapi/linux/capability.h).
const (
	capDacOverride   = 1
	capDacReadSearch = 2
	capFowner        = 3
	capSysAdmin      = 21
)

// What a permission check asks for (include/linux/fs.h MAY_*).
const (
	mayExec  = 1
	mayWrite = 2
	mayRead  = 4
)

// credOf returns the credentials of process p (real: access(2)'s), nil
// for root with every capability when p tells none.
func credOf(p Process, real bool) *cred {
	s, ok := p.(interface{ CredSource() CredSource })
	if !ok {
		return nil
	}
	src := s.CredSource()
	if src == nil {
		return nil
	}
	uid, gid, groups, caps := src.FileCred(real)
	return &cred{uid: uid, gid: gid, groups: groups, caps: caps}
}

func (c *cred) capable(n uint) bool { return c == nil || c.caps&(1<<n) != 0 }

func (c *cred) inGroup(gid uint32) bool {
	if c.gid == gid {
		return true
	}
	for _, g := range c.groups {
		if g == gid {
			return true
		}
	}
	return false
}

// permission is generic_permission: the owner's, the group's or the
// others' bits of a, whichever class the caller is in, must grant mask
// (MAY_* bits); else CAP_DAC_READ_SEARCH grants reading a file and
// reading or searching a directory, and CAP_DAC_OVERRIDE anything but
// executing a file that has no execute bit at all.
func (c *cred) permission(a Attr, mask uint32) error {
	if c != nil {
		mode := a.Mode
		switch {
		case c.uid == a.UID:
			mode >>= 6
		case c.inGroup(a.GID):
			mode >>= 3
		}
		if mask&^mode&7 == 0 {
			return nil
		}
	}
	if a.Type() == linux.SIfdir {
		if mask&mayWrite == 0 && c.capable(capDacReadSearch) || c.capable(capDacOverride) {
			return nil
		}
		return EACCES
	}
	if mask == mayRead && c.capable(capDacReadSearch) {
		return nil
	}
	if (mask&mayExec == 0 || a.Mode&0o111 != 0) && c.capable(capDacOverride) {
		return nil
	}
	return EACCES
}

// may is permission for the file at l, without reading its attributes
// when a capability decides.
func (c *cred) may(l Loc, mask uint32) error {
	if c.capable(capDacOverride) && (mask&mayExec == 0 || l.IsDir()) {
		return nil
	}
	return c.permission(permAttr(l), mask)
}

// permAttr returns the mode, owner and group of the file at l: all a
// permission check reads. A directory's full attributes cost a walk of
// its entries (its link count and size); these do not.
func permAttr(l Loc) Attr {
	if n, ok := l.n.(interface {
		modeOwner() (uint32, uint32, uint32)
	}); ok {
		mode, uid, gid := n.modeOwner()
		return Attr{Mode: mode, UID: uid, GID: gid}
	}
	return l.Attr()
}

// search checks that directory dir may be searched (fs/namei.c
// may_lookup). Root with CAP_DAC_READ_SEARCH always may.
func (c *cred) search(dir Loc) error {
	if c.capable(capDacReadSearch) {
		return nil
	}
	return c.permission(permAttr(dir), mayExec)
}

// mayCreate checks that a name may be made in directory dir (fs/namei.c
// may_create: write and search permission).
func (c *cred) mayCreate(dir Loc) error { return c.may(dir, mayWrite|mayExec) }

// mayDelete checks that the entry victim of directory dir may be removed
// or renamed away (fs/namei.c may_delete): write and search permission
// on dir and, in a sticky directory, owning the file or the directory,
// or CAP_FOWNER (check_sticky: EPERM).
func (c *cred) mayDelete(dir, victim Loc) error {
	if err := c.may(dir, mayWrite|mayExec); err != nil {
		return err
	}
	if c == nil || c.capable(capFowner) {
		return nil
	}
	d := permAttr(dir)
	if d.Mode&linux.SIsvtx != 0 && c.uid != permAttr(victim).UID && c.uid != d.UID {
		return EPERM
	}
	return nil
}

// mayLinkat is fs.protected_hardlinks, which is always 1 here (fs/namei.c
// may_linkat): a hard link to a file needs its owner, CAP_FOWNER, or a
// safe source, a regular file that is neither set-user-ID nor an
// executable set-group-ID file and that the caller may read and write;
// EPERM otherwise.
func (c *cred) mayLinkat(old Loc) error {
	if c.capable(capFowner) {
		return nil
	}
	a := permAttr(old)
	if c.uid == a.UID {
		return nil
	}
	safe := a.Type() == linux.SIfreg && a.Mode&linux.SIsuid == 0 &&
		a.Mode&(linux.SIsgid|0o010) != linux.SIsgid|0o010 && c.permission(a, mayRead|mayWrite) == nil
	if !safe {
		return EPERM
	}
	return nil
}

// openMask is what opening with flags asks for (fs/open.c
// build_open_flags: reading, writing, and writing for O_TRUNC).
func openMask(flags uint32) uint32 {
	var m uint32
	switch flags & linux.OAccmode {
	case linux.ORdonly:
		m = mayRead
	case linux.OWronly:
		m = mayWrite
	default:
		m = mayRead | mayWrite
	}
	if flags&linux.OTrunc != 0 {
		m |= mayWrite
	}
	return m
}

// owner returns the owner and group of a file the caller makes: its fs
// user and group IDs (root's for a nil ctx or cred).
func (c *ctx) owner() (uid, gid uint32) {
	if c == nil || c.cred == nil {
		return 0, 0
	}
	return c.cred.uid, c.cred.gid
}

// Search checks that process p may search directory l (chdir(2),
// fchdir(2)).
func Search(p Process, l Loc) error { return credOf(p, false).search(l) }

// MayWrite checks that process p may write the file at l (inode
// permission MAY_WRITE), as connect(2) and sendto(2) to a Unix socket's
// file ask (net/unix/af_unix.c unix_find_bsd): EACCES otherwise.
func MayWrite(p Process, l Loc) error { return credOf(p, false).may(l, mayWrite) }

// MayRead checks that process p may read the file at l (inode permission
// MAY_READ), as execve asks of the programs it runs to decide whether
// the process stays dumpable (fs/exec.c would_dump): EACCES otherwise.
func MayRead(p Process, l Loc) error { return credOf(p, false).may(l, mayRead) }

// modeOwner is permAttr's: the mode, owner and group without the walk of
// a directory's entries that attr makes.
func (n *memNode) modeOwner() (mode, uid, gid uint32) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ftype | n.perm, n.uid, n.gid
}
