package fdtable

import (
	"errors"

	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// The extended-attribute calls (arch/x86/entry/syscalls/syscall_64.tbl).
const (
	sysSetxattr     = 188
	sysLsetxattr    = 189
	sysFsetxattr    = 190
	sysGetxattr     = 191
	sysLgetxattr    = 192
	sysFgetxattr    = 193
	sysListxattr    = 194
	sysLlistxattr   = 195
	sysFlistxattr   = 196
	sysRemovexattr  = 197
	sysLremovexattr = 198
	sysFremovexattr = 199
)

// IsXattrSyscall reports whether XattrSyscall serves system call nr, so
// that callers work out the caller's privilege only for those.
func IsXattrSyscall(nr uint64) bool {
	switch nr {
	case sysSetxattr, sysLsetxattr, sysFsetxattr, sysGetxattr, sysLgetxattr, sysFgetxattr,
		sysListxattr, sysLlistxattr, sysFlistxattr, sysRemovexattr, sysLremovexattr, sysFremovexattr:
		return true
	}
	return false
}

// XattrSyscall serves the extended-attribute calls (xattr(7); the
// attributes themselves are vfs's) for a caller that holds CAP_SYS_ADMIN
// if privileged (trusted.* and security.*). handled is false for other
// calls.
func (fs *Files) XattrSyscall(m mem.Memory, privileged bool, nr uint64, a [6]uint64) (int64, bool) {
	switch nr {
	case sysSetxattr, sysLsetxattr, sysFsetxattr:
		return fs.setxattr(m, nr, a, privileged), true
	case sysGetxattr, sysLgetxattr, sysFgetxattr:
		return fs.getxattr(m, nr, a, privileged), true
	case sysListxattr, sysLlistxattr, sysFlistxattr:
		return fs.listxattr(m, nr, a, privileged), true
	case sysRemovexattr, sysLremovexattr, sysFremovexattr:
		return fs.removexattr(m, nr, a, privileged), true
	}
	return 0, false
}

// xattrTarget finds what call nr acts on: the descriptor in a[0] for the
// f* calls (an O_PATH descriptor is EBADF), else the path in a[0],
// followed unless the call is an l* one.
func (fs *Files) xattrTarget(m mem.Memory, a [6]uint64, fd, nofollow bool) (vfs.XattrTarget, error) {
	if fd {
		f, err := fs.ioFile(int32(a[0]))
		if err != nil {
			return vfs.XattrTarget{}, err
		}
		defer f.DecRef()
		return vfs.XattrOf(f), nil
	}
	path, err := readPath(m, a[0])
	if err != nil {
		return vfs.XattrTarget{}, err
	}
	l, err := fs.fs.Lookup(fs, fs.Cwd(), path, !nofollow)
	if err != nil {
		return vfs.XattrTarget{}, err
	}
	return vfs.XattrAt(l), nil
}

// xattrName reads an attribute name (fs/xattr.c import_xattr_name): empty
// or longer than XATTR_NAME_MAX is ERANGE.
func xattrName(m mem.Memory, addr uint64) (string, error) {
	name, err := mem.ReadString(m, addr, vfs.XattrNameMax+1)
	switch {
	case errors.Is(err, mem.ErrNameTooLong):
		return "", vfs.ERANGE
	case err != nil:
		return "", vfs.EFAULT
	case name == "":
		return "", vfs.ERANGE
	}
	return name, nil
}

// setxattr(path|fd, name, value, size, flags): the flags, name and value
// are checked before the file is looked up, as fs/xattr.c does.
func (fs *Files) setxattr(m mem.Memory, nr uint64, a [6]uint64, privileged bool) int64 {
	flags := uint32(a[4])
	if flags&^(vfs.XattrCreate|vfs.XattrReplace) != 0 {
		return errno(vfs.EINVAL)
	}
	name, err := xattrName(m, a[1])
	if err != nil {
		return ret(0, err)
	}
	size := a[3]
	if size > vfs.XattrSizeMax {
		return errno(vfs.E2BIG)
	}
	value := make([]byte, size)
	if err := m.CopyIn(a[2], value); err != nil {
		return errno(vfs.EFAULT)
	}
	x, err := fs.xattrTarget(m, a, nr == sysFsetxattr, nr == sysLsetxattr)
	if err != nil {
		return ret(0, err)
	}
	return ret(0, vfs.SetXattr(x, name, value, flags, privileged))
}

// getxattr(path|fd, name, value, size): size 0 asks for the length; a
// value longer than size is ERANGE.
func (fs *Files) getxattr(m mem.Memory, nr uint64, a [6]uint64, privileged bool) int64 {
	name, err := xattrName(m, a[1])
	if err != nil {
		return ret(0, err)
	}
	x, err := fs.xattrTarget(m, a, nr == sysFgetxattr, nr == sysLgetxattr)
	if err != nil {
		return ret(0, err)
	}
	v, err := vfs.GetXattr(x, name, privileged)
	if err != nil {
		return ret(0, err)
	}
	size := min(a[3], vfs.XattrSizeMax)
	if size == 0 {
		return int64(len(v))
	}
	if uint64(len(v)) > size {
		return errno(vfs.ERANGE)
	}
	if err := m.CopyOut(a[2], v); err != nil {
		return errno(vfs.EFAULT)
	}
	return int64(len(v))
}

// listxattr(path|fd, list, size): the names, each ended by a NUL; size 0
// asks for the length, a list longer than size is ERANGE.
func (fs *Files) listxattr(m mem.Memory, nr uint64, a [6]uint64, privileged bool) int64 {
	x, err := fs.xattrTarget(m, a, nr == sysFlistxattr, nr == sysLlistxattr)
	if err != nil {
		return ret(0, err)
	}
	var list []byte
	for _, name := range vfs.ListXattr(x, privileged) {
		list = append(append(list, name...), 0)
	}
	size := a[2]
	switch {
	case size == 0:
		return int64(len(list))
	case uint64(len(list)) > size:
		if size >= vfs.XattrListMax {
			return errno(vfs.E2BIG)
		}
		return errno(vfs.ERANGE)
	}
	if err := m.CopyOut(a[1], list); err != nil {
		return errno(vfs.EFAULT)
	}
	return int64(len(list))
}

// removexattr(path|fd, name).
func (fs *Files) removexattr(m mem.Memory, nr uint64, a [6]uint64, privileged bool) int64 {
	name, err := xattrName(m, a[1])
	if err != nil {
		return ret(0, err)
	}
	x, err := fs.xattrTarget(m, a, nr == sysFremovexattr, nr == sysLremovexattr)
	if err != nil {
		return ret(0, err)
	}
	return ret(0, vfs.RemoveXattr(x, name, privileged))
}
