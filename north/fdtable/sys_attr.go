package fdtable

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// attrTarget returns the file a *at call with flags AT_SYMLINK_NOFOLLOW
// and AT_EMPTY_PATH names; pathAddr 0 names dirfd itself, as futimens
// does. A zero Loc means a file without a place (a pipe).
func (fs *Files) attrTarget(m mem.Memory, dirfd int32, pathAddr uint64, flags uint32) (vfs.Loc, error) {
	if flags&^(linux.AtSymlinkNofollow|linux.AtEmptyPath) != 0 {
		return vfs.Loc{}, vfs.EINVAL
	}
	path := ""
	if pathAddr != 0 {
		var err error
		if path, err = readPath(m, pathAddr); err != nil {
			return vfs.Loc{}, err
		}
	} else if dirfd == linux.AtFdcwd {
		return vfs.Loc{}, vfs.EFAULT
	}
	if path == "" && (pathAddr == 0 || flags&linux.AtEmptyPath != 0) {
		l, f, err := fs.emptyPathTarget(dirfd)
		if f != nil {
			f.DecRef()
		}
		return l, err
	}
	at, err := fs.dirAt(dirfd, path)
	if err != nil {
		return vfs.Loc{}, err
	}
	return fs.fs.Lookup(fs, at, path, flags&linux.AtSymlinkNofollow == 0)
}

func (fs *Files) setAttr(m mem.Memory, dirfd int32, pathAddr uint64, flags uint32, s vfs.SetAttr) int64 {
	l, err := fs.attrTarget(m, dirfd, pathAddr, flags)
	if err != nil {
		return ret(0, err)
	}
	if l.IsZero() {
		return 0
	}
	return ret(0, vfs.SetAttrAt(fs, l, s))
}

// Utimensat is utimensat(2) (and futimens(3) with a 0 path): times points
// to two struct timespec (access, modification), or is 0 for now.
func (fs *Files) Utimensat(m mem.Memory, dirfd int32, pathAddr, timesAddr uint64, flags uint32) int64 {
	now := fs.fs.Now()
	atime, mtime := &now, &now
	touch := true
	if timesAddr != 0 {
		var b [32]byte
		if err := m.CopyIn(timesAddr, b[:]); err != nil {
			return errno(vfs.EFAULT)
		}
		var ts [2]*int64
		for i := range ts {
			sec := int64(binary.LittleEndian.Uint64(b[16*i:]))
			nsec := int64(binary.LittleEndian.Uint64(b[16*i+8:]))
			switch {
			case nsec == linux.UtimeNow:
				ts[i] = &now
			case nsec == linux.UtimeOmit:
			case nsec < 0 || nsec >= 1e9:
				return errno(vfs.EINVAL)
			default:
				t := sec*1e9 + nsec
				ts[i] = &t
			}
		}
		if ts[0] == nil && ts[1] == nil {
			return 0
		}
		atime, mtime = ts[0], ts[1]
		touch = atime == &now && mtime == &now // both UTIME_NOW
	}
	return fs.setAttr(m, dirfd, pathAddr, flags, vfs.SetAttr{Atime: atime, Mtime: mtime, Touch: touch})
}

// Fchownat is fchownat(2): -1 leaves one unchanged.
func (fs *Files) Fchownat(m mem.Memory, dirfd int32, pathAddr uint64, uid, gid, flags uint32) int64 {
	if pathAddr == 0 {
		return errno(vfs.EFAULT)
	}
	return fs.setAttr(m, dirfd, pathAddr, flags, owners(uid, gid))
}

func owners(uid, gid uint32) vfs.SetAttr {
	var s vfs.SetAttr
	if uid != ^uint32(0) {
		s.UID = &uid
	}
	if gid != ^uint32(0) {
		s.GID = &gid
	}
	return s
}

// Fchown is fchown(2).
func (fs *Files) Fchown(fd int32, uid, gid uint32) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if f.Loc().IsZero() {
		return 0
	}
	return ret(0, vfs.SetAttrAt(fs, f.Loc(), owners(uid, gid)))
}

// Chown is chown(2).
func (fs *Files) Chown(m mem.Memory, pathAddr uint64, uid, gid uint32) int64 {
	return fs.Fchownat(m, linux.AtFdcwd, pathAddr, uid, gid, 0)
}

// Lchown is lchown(2).
func (fs *Files) Lchown(m mem.Memory, pathAddr uint64, uid, gid uint32) int64 {
	return fs.Fchownat(m, linux.AtFdcwd, pathAddr, uid, gid, linux.AtSymlinkNofollow)
}

// Fadvise64 is fadvise64(2): advice is checked and ignored; pipes are
// ESPIPE.
func (fs *Files) Fadvise64(fd int32, off, length int64, advice int32) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	a := f.Stat()
	switch {
	case a.Type() == linux.SIfifo:
		return errno(vfs.ESPIPE)
	case advice < linux.FadvNormal || advice > linux.FadvNoreuse || length < 0:
		return errno(vfs.EINVAL)
	}
	return 0
}
