package fdtable

import (
	"encoding/binary"
	"errors"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// The extended-attribute calls (arch/x86/entry/syscalls/syscall_64.tbl).
const (
	sysSetxattr      = 188
	sysLsetxattr     = 189
	sysFsetxattr     = 190
	sysGetxattr      = 191
	sysLgetxattr     = 192
	sysFgetxattr     = 193
	sysListxattr     = 194
	sysLlistxattr    = 195
	sysFlistxattr    = 196
	sysRemovexattr   = 197
	sysLremovexattr  = 198
	sysFremovexattr  = 199
	sysSetxattrat    = 463
	sysGetxattrat    = 464
	sysListxattrat   = 465
	sysRemovexattrat = 466
)

// IsXattrSyscall reports whether XattrSyscall serves system call nr, so
// that callers work out the caller's privilege only for those.
func IsXattrSyscall(nr uint64) bool {
	switch nr {
	case sysSetxattr, sysLsetxattr, sysFsetxattr, sysGetxattr, sysLgetxattr, sysFgetxattr,
		sysListxattr, sysLlistxattr, sysFlistxattr, sysRemovexattr, sysLremovexattr, sysFremovexattr,
		sysSetxattrat, sysGetxattrat, sysListxattrat, sysRemovexattrat:
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
	case sysSetxattrat, sysGetxattrat, sysListxattrat, sysRemovexattrat:
		return fs.xattrat(m, nr, a, privileged), true
	}
	return 0, false
}

// xattrArgsSize is struct xattr_args's size (XATTR_ARGS_SIZE_VER0):
// value (a pointer), size, flags.
const xattrArgsSize = 16

// xattrat serves setxattrat, getxattrat, listxattrat and removexattrat
// (fs/xattr.c, Linux 6.13): the file at a path relative to a directory
// descriptor (at flags AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH: an empty or
// null path names the descriptor itself, which may not be O_PATH), the
// value and its size for the first two in a struct xattr_args whose size
// is given (EINVAL below 16 bytes, E2BIG above a page or for a non-zero
// tail, EINVAL for getxattrat's flags). They check what the older calls
// check, in the same order, after the structure and the at flags.
func (fs *Files) xattrat(m mem.Memory, nr uint64, a [6]uint64, privileged bool) int64 {
	dfd, pathAddr, atFlags := int32(a[0]), a[1], uint32(a[2])
	var value, size uint64
	var flags uint32
	if nr == sysSetxattrat || nr == sysGetxattrat {
		usize := a[5]
		if usize < xattrArgsSize {
			return errno(vfs.EINVAL)
		}
		if usize > mem.PageSize {
			return errno(vfs.E2BIG)
		}
		b := make([]byte, usize)
		if err := m.CopyIn(a[4], b); err != nil {
			return errno(vfs.EFAULT)
		}
		for _, c := range b[xattrArgsSize:] {
			if c != 0 {
				return errno(vfs.E2BIG) // copy_struct_from_user
			}
		}
		value = binary.LittleEndian.Uint64(b)
		size = uint64(binary.LittleEndian.Uint32(b[8:]))
		flags = binary.LittleEndian.Uint32(b[12:])
		if nr == sysGetxattrat && flags != 0 {
			return errno(vfs.EINVAL)
		}
	}
	if atFlags&^(linux.AtSymlinkNofollow|linux.AtEmptyPath) != 0 {
		return errno(vfs.EINVAL)
	}
	target := func() (vfs.XattrTarget, error) {
		return fs.xattrAtTarget(m, dfd, pathAddr, atFlags)
	}
	switch nr {
	case sysSetxattrat:
		return fs.setxattrOn(m, a[3], value, size, flags, privileged, target)
	case sysGetxattrat:
		return fs.getxattrOn(m, a[3], value, size, privileged, target)
	case sysListxattrat:
		return fs.listxattrOn(m, a[3], a[4], privileged, target)
	}
	return fs.removexattrOn(m, a[3], privileged, target)
}

// xattrAtTarget finds what an *xattrat call acts on (the
// filename_maybe_null of path_setxattrat): with AT_EMPTY_PATH and an
// empty or null path the descriptor dfd (EBADF for O_PATH) or, for
// AT_FDCWD, the working directory; else the path relative to dfd,
// followed unless AT_SYMLINK_NOFOLLOW.
func (fs *Files) xattrAtTarget(m mem.Memory, dfd int32, pathAddr uint64, atFlags uint32) (vfs.XattrTarget, error) {
	path := ""
	if pathAddr != 0 || atFlags&linux.AtEmptyPath == 0 {
		p, err := readPath(m, pathAddr)
		if err != nil {
			return vfs.XattrTarget{}, err
		}
		path = p
	}
	if path == "" && atFlags&linux.AtEmptyPath != 0 {
		switch {
		case dfd == linux.AtFdcwd:
			return vfs.XattrAt(fs.Cwd()), nil
		case dfd < 0:
			return vfs.XattrTarget{}, vfs.EBADF
		}
		f, err := fs.ioFile(dfd)
		if err != nil {
			return vfs.XattrTarget{}, err
		}
		defer f.DecRef()
		return vfs.XattrOf(f), nil
	}
	start, err := fs.dirAt(dfd, path)
	if err != nil {
		return vfs.XattrTarget{}, err
	}
	l, err := fs.fs.Lookup(fs, start, path, atFlags&linux.AtSymlinkNofollow == 0)
	if err != nil {
		return vfs.XattrTarget{}, err
	}
	return vfs.XattrAt(l), nil
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
	return fs.setxattrOn(m, a[1], a[2], a[3], uint32(a[4]), privileged, func() (vfs.XattrTarget, error) {
		return fs.xattrTarget(m, a, nr == sysFsetxattr, nr == sysLsetxattr)
	})
}

// setxattrOn is setxattr of the name at nameAddr, the size bytes at
// valueAddr, on what target finds.
func (fs *Files) setxattrOn(m mem.Memory, nameAddr, valueAddr, size uint64, flags uint32, privileged bool, target func() (vfs.XattrTarget, error)) int64 {
	if flags&^(vfs.XattrCreate|vfs.XattrReplace) != 0 {
		return errno(vfs.EINVAL)
	}
	name, err := xattrName(m, nameAddr)
	if err != nil {
		return ret(0, err)
	}
	if size > vfs.XattrSizeMax {
		return errno(vfs.E2BIG)
	}
	value := make([]byte, size)
	if err := m.CopyIn(valueAddr, value); err != nil {
		return errno(vfs.EFAULT)
	}
	x, err := target()
	if err != nil {
		return ret(0, err)
	}
	return ret(0, vfs.SetXattr(x, name, value, flags, privileged))
}

// getxattr(path|fd, name, value, size): size 0 asks for the length; a
// value longer than size is ERANGE.
func (fs *Files) getxattr(m mem.Memory, nr uint64, a [6]uint64, privileged bool) int64 {
	return fs.getxattrOn(m, a[1], a[2], a[3], privileged, func() (vfs.XattrTarget, error) {
		return fs.xattrTarget(m, a, nr == sysFgetxattr, nr == sysLgetxattr)
	})
}

// getxattrOn is getxattr of the name at nameAddr into size bytes at
// valueAddr, on what target finds.
func (fs *Files) getxattrOn(m mem.Memory, nameAddr, valueAddr, size uint64, privileged bool, target func() (vfs.XattrTarget, error)) int64 {
	name, err := xattrName(m, nameAddr)
	if err != nil {
		return ret(0, err)
	}
	x, err := target()
	if err != nil {
		return ret(0, err)
	}
	v, err := vfs.GetXattr(x, name, privileged)
	if err != nil {
		return ret(0, err)
	}
	size = min(size, vfs.XattrSizeMax)
	if size == 0 {
		return int64(len(v))
	}
	if uint64(len(v)) > size {
		return errno(vfs.ERANGE)
	}
	if err := m.CopyOut(valueAddr, v); err != nil {
		return errno(vfs.EFAULT)
	}
	return int64(len(v))
}

// listxattr(path|fd, list, size): the names, each ended by a NUL; size 0
// asks for the length, a list longer than size is ERANGE.
func (fs *Files) listxattr(m mem.Memory, nr uint64, a [6]uint64, privileged bool) int64 {
	return fs.listxattrOn(m, a[1], a[2], privileged, func() (vfs.XattrTarget, error) {
		return fs.xattrTarget(m, a, nr == sysFlistxattr, nr == sysLlistxattr)
	})
}

// listxattrOn is listxattr into size bytes at listAddr, on what target
// finds.
func (fs *Files) listxattrOn(m mem.Memory, listAddr, size uint64, privileged bool, target func() (vfs.XattrTarget, error)) int64 {
	x, err := target()
	if err != nil {
		return ret(0, err)
	}
	var list []byte
	for _, name := range vfs.ListXattr(x, privileged) {
		list = append(append(list, name...), 0)
	}
	switch {
	case size == 0:
		return int64(len(list))
	case uint64(len(list)) > size:
		if size >= vfs.XattrListMax {
			return errno(vfs.E2BIG)
		}
		return errno(vfs.ERANGE)
	}
	if err := m.CopyOut(listAddr, list); err != nil {
		return errno(vfs.EFAULT)
	}
	return int64(len(list))
}

// removexattr(path|fd, name).
func (fs *Files) removexattr(m mem.Memory, nr uint64, a [6]uint64, privileged bool) int64 {
	return fs.removexattrOn(m, a[1], privileged, func() (vfs.XattrTarget, error) {
		return fs.xattrTarget(m, a, nr == sysFremovexattr, nr == sysLremovexattr)
	})
}

// removexattrOn is removexattr of the name at nameAddr on what target
// finds.
func (fs *Files) removexattrOn(m mem.Memory, nameAddr uint64, privileged bool, target func() (vfs.XattrTarget, error)) int64 {
	name, err := xattrName(m, nameAddr)
	if err != nil {
		return ret(0, err)
	}
	x, err := target()
	if err != nil {
		return ret(0, err)
	}
	return ret(0, vfs.RemoveXattr(x, name, privileged))
}
