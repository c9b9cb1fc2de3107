package fdtable

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Fstat is fstat(2), writing struct stat (arch/x86/include/uapi/asm/
// stat.h).
func (fs *Files) Fstat(m mem.Memory, fd int32, statAddr uint64) int64 {
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	a := f.Stat()
	return writeStat(m, statAddr, &a)
}

func writeStat(m mem.Memory, addr uint64, a *vfs.Attr) int64 {
	s := a.Stat()
	if err := m.CopyOut(addr, s.Marshal()); err != nil {
		return errno(vfs.EFAULT)
	}
	return 0
}

// statAt returns the attributes of path relative to dirfd: flags may hold
// AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH (an empty path means dirfd
// itself).
func (fs *Files) statAt(m mem.Memory, dirfd int32, pathAddr uint64, flags uint32) (vfs.Attr, error) {
	var path string
	if pathAddr != 0 || flags&linux.AtEmptyPath == 0 {
		var err error
		if path, err = readPath(m, pathAddr); err != nil {
			return vfs.Attr{}, err
		}
	}
	if path == "" && flags&linux.AtEmptyPath != 0 {
		l, f, err := fs.emptyPathTarget(dirfd)
		if err != nil {
			return vfs.Attr{}, err
		}
		if f != nil {
			defer f.DecRef()
			return f.Stat(), nil
		}
		return l.Attr(), nil
	}
	at, err := fs.dirAt(dirfd, path)
	if err != nil {
		return vfs.Attr{}, err
	}
	l, err := fs.fs.Lookup(fs, at, path, flags&linux.AtSymlinkNofollow == 0)
	if err != nil {
		return vfs.Attr{}, err
	}
	return l.Attr(), nil
}

// Newfstatat is newfstatat(2).
func (fs *Files) Newfstatat(m mem.Memory, dirfd int32, pathAddr, statAddr uint64, flags uint32) int64 {
	if flags&^(linux.AtSymlinkNofollow|linux.AtNoAutomount|linux.AtEmptyPath) != 0 {
		return errno(vfs.EINVAL)
	}
	a, err := fs.statAt(m, dirfd, pathAddr, flags)
	if err != nil {
		return ret(0, err)
	}
	return writeStat(m, statAddr, &a)
}

// Stat is stat(2).
func (fs *Files) Stat(m mem.Memory, pathAddr, statAddr uint64) int64 {
	return fs.Newfstatat(m, linux.AtFdcwd, pathAddr, statAddr, 0)
}

// Lstat is lstat(2).
func (fs *Files) Lstat(m mem.Memory, pathAddr, statAddr uint64) int64 {
	return fs.Newfstatat(m, linux.AtFdcwd, pathAddr, statAddr, linux.AtSymlinkNofollow)
}

// Statx is statx(2), writing struct statx (include/uapi/linux/stat.h).
// All basic fields are always filled, and the mount ID on request.
func (fs *Files) Statx(m mem.Memory, dirfd int32, pathAddr uint64, flags, mask uint32, statxAddr uint64) int64 {
	if flags&^(linux.AtSymlinkNofollow|linux.AtNoAutomount|linux.AtEmptyPath|linux.AtStatxSyncType) != 0 ||
		flags&linux.AtStatxSyncType == linux.AtStatxSyncType || mask&linux.StatxReserved != 0 {
		return errno(vfs.EINVAL)
	}
	a, err := fs.statAt(m, dirfd, pathAddr, flags)
	if err != nil {
		return ret(0, err)
	}
	s := a.Statx(mask)
	if err := m.CopyOut(statxAddr, s.Marshal()); err != nil {
		return errno(vfs.EFAULT)
	}
	return 0
}

// Faccessat2 is faccessat2(2), checked as the caller's real IDs unless
// AT_EACCESS: see vfs.Access.
func (fs *Files) Faccessat2(m mem.Memory, dirfd int32, pathAddr uint64, mode, flags uint32) int64 {
	if mode&^(linux.ROk|linux.WOk|linux.XOk) != 0 ||
		flags&^(linux.AtEaccess|linux.AtSymlinkNofollow|linux.AtEmptyPath) != 0 {
		return errno(vfs.EINVAL)
	}
	path, err := readPath(m, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	var l vfs.Loc
	if path == "" && flags&linux.AtEmptyPath != 0 {
		var f *vfs.File
		if l, f, err = fs.emptyPathTarget(dirfd); err != nil {
			return ret(0, err)
		}
		if f != nil {
			defer f.DecRef()
		}
		if l.IsZero() {
			return 0 // a pipe or the like: its creator's, mode 0600
		}
	} else {
		at, err := fs.dirAt(dirfd, path)
		if err != nil {
			return ret(0, err)
		}
		if l, err = fs.fs.LookupAccess(fs, at, path, flags&linux.AtSymlinkNofollow == 0, flags&linux.AtEaccess != 0); err != nil {
			return ret(0, err)
		}
	}
	return ret(0, vfs.Access(fs, l, mode, flags&linux.AtEaccess != 0))
}

// Faccessat is faccessat(2), which has no flags.
func (fs *Files) Faccessat(m mem.Memory, dirfd int32, pathAddr uint64, mode uint32) int64 {
	return fs.Faccessat2(m, dirfd, pathAddr, mode, 0)
}

// Access is access(2).
func (fs *Files) Access(m mem.Memory, pathAddr uint64, mode uint32) int64 {
	return fs.Faccessat2(m, linux.AtFdcwd, pathAddr, mode, 0)
}
