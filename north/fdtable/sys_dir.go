package fdtable

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Getdents64 is getdents64(2), writing struct linux_dirent64 records
// (include/linux/dirent.h). The directory offset moves only past records
// that reached the buffer.
func (fs *Files) Getdents64(m mem.Memory, fd int32, dirp, count uint64) int64 {
	return fs.getdents(m, fd, dirp, count, linux.Dirent64Len, linux.AppendDirent64)
}

// Getdents is getdents(2), the first one: struct linux_dirent records
// (fs/readdir.c filldir), whose type is their last byte.
func (fs *Files) Getdents(m mem.Memory, fd int32, dirp, count uint64) int64 {
	return fs.getdents(m, fd, dirp, count, direntLen, appendDirent)
}

// direntLen is the length of a struct linux_dirent record naming name:
// d_ino, d_off, d_reclen, the name and its NUL, d_type, aligned to 8.
func direntLen(name string) int { return (8 + 8 + 2 + len(name) + 2 + 7) &^ 7 }

// appendDirent appends a struct linux_dirent record.
func appendDirent(b []byte, ino uint64, off int64, typ uint8, name string) []byte {
	n := direntLen(name)
	b = binary.LittleEndian.AppendUint64(b, ino)
	b = binary.LittleEndian.AppendUint64(b, uint64(off))
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	b = append(b, name...)
	b = append(b, make([]byte, n-18-len(name))...)
	b[len(b)-1] = typ
	return b
}

// getdents fills dirp with records as size and add make them.
func (fs *Files) getdents(m mem.Memory, fd int32, dirp, count uint64, size func(string) int, add func([]byte, uint64, int64, uint8, string) []byte) int64 {
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if count > vfs.MaxRW {
		count = vfs.MaxRW
	}
	start := f.Offset()
	var out []byte
	tooSmall := false
	err = f.Getdents(func(d vfs.Dirent) bool {
		if uint64(len(out)+size(d.Name)) > count {
			tooSmall = len(out) == 0
			return false
		}
		out = add(out, d.Ino, d.Off, d.Type, d.Name)
		return true
	})
	switch {
	case err != nil:
		return ret(0, err)
	case tooSmall:
		return errno(vfs.EINVAL)
	case len(out) == 0:
		return 0
	}
	if err := m.CopyOut(dirp, out); err != nil {
		f.Seek(start, linux.SeekSet)
		return errno(vfs.EFAULT)
	}
	return int64(len(out))
}

// Mkdirat is mkdirat(2).
func (fs *Files) Mkdirat(m mem.Memory, dirfd int32, pathAddr uint64, mode uint32) int64 {
	path, at, err := fs.pathAt(m, dirfd, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	return ret(0, fs.fs.Mkdir(fs, at, path, mode&^fs.umaskNow()))
}

// Mkdir is mkdir(2).
func (fs *Files) Mkdir(m mem.Memory, pathAddr uint64, mode uint32) int64 {
	return fs.Mkdirat(m, linux.AtFdcwd, pathAddr, mode)
}

// Mknodat is mknodat(2): regular files, device files and FIFOs work;
// sockets can be made but not opened (ENXIO, as on Linux).
func (fs *Files) Mknodat(m mem.Memory, dirfd int32, pathAddr uint64, mode uint32, dev uint32) int64 {
	path, at, err := fs.pathAt(m, dirfd, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	mode = mode&linux.SIfmt | mode&0o7777&^fs.umaskNow()
	return ret(0, fs.fs.Mknod(fs, at, path, mode, linux.Mkdev(dev>>8&0xfff, dev&0xff|dev>>12&^0xff)))
}

// pathAt reads a path argument and where it starts.
func (fs *Files) pathAt(m mem.Memory, dirfd int32, pathAddr uint64) (string, vfs.Loc, error) {
	path, err := readPath(m, pathAddr)
	if err != nil {
		return "", vfs.Loc{}, err
	}
	at, err := fs.dirAt(dirfd, path)
	return path, at, err
}

func (fs *Files) umaskNow() uint32 {
	c := fs.fsc()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.umask
}

// CurrentUmask returns the file mode creation mask (/proc/PID/status).
func (fs *Files) CurrentUmask() uint32 { return fs.umaskNow() }

// Umask is umask(2).
func (fs *Files) Umask(mask uint32) int64 {
	c := fs.fsc()
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.umask
	c.umask = mask & 0o777
	return int64(old)
}

// Unlinkat is unlinkat(2).
func (fs *Files) Unlinkat(m mem.Memory, dirfd int32, pathAddr uint64, flags uint32) int64 {
	if flags&^linux.AtRemovedir != 0 {
		return errno(vfs.EINVAL)
	}
	path, at, err := fs.pathAt(m, dirfd, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	return ret(0, fs.fs.Unlink(fs, at, path, flags&linux.AtRemovedir != 0))
}

// Unlink is unlink(2).
func (fs *Files) Unlink(m mem.Memory, pathAddr uint64) int64 {
	return fs.Unlinkat(m, linux.AtFdcwd, pathAddr, 0)
}

// Rmdir is rmdir(2).
func (fs *Files) Rmdir(m mem.Memory, pathAddr uint64) int64 {
	return fs.Unlinkat(m, linux.AtFdcwd, pathAddr, linux.AtRemovedir)
}

// Renameat2 is renameat2(2) with flags 0, RENAME_NOREPLACE or
// RENAME_EXCHANGE.
func (fs *Files) Renameat2(m mem.Memory, olddirfd int32, oldAddr uint64, newdirfd int32, newAddr uint64, flags uint32) int64 {
	oldPath, oldAt, err := fs.pathAt(m, olddirfd, oldAddr)
	if err != nil {
		return ret(0, err)
	}
	newPath, newAt, err := fs.pathAt(m, newdirfd, newAddr)
	if err != nil {
		return ret(0, err)
	}
	return ret(0, fs.fs.Rename(fs, oldAt, oldPath, newAt, newPath, flags))
}

// Renameat is renameat(2).
func (fs *Files) Renameat(m mem.Memory, olddirfd int32, oldAddr uint64, newdirfd int32, newAddr uint64) int64 {
	return fs.Renameat2(m, olddirfd, oldAddr, newdirfd, newAddr, 0)
}

// Rename is rename(2).
func (fs *Files) Rename(m mem.Memory, oldAddr, newAddr uint64) int64 {
	return fs.Renameat2(m, linux.AtFdcwd, oldAddr, linux.AtFdcwd, newAddr, 0)
}

// Readlinkat is readlinkat(2): the target, truncated to bufsiz bytes,
// without a NUL. An empty path reads the symbolic link open (O_PATH) as
// dirfd.
func (fs *Files) Readlinkat(m mem.Memory, dirfd int32, pathAddr, buf uint64, bufsiz int32) int64 {
	path, err := readPath(m, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	if bufsiz <= 0 {
		return errno(vfs.EINVAL)
	}
	var target string
	if path == "" {
		l, f, err := fs.emptyPathTarget(dirfd)
		if err != nil {
			return ret(0, err)
		}
		if f != nil {
			f.DecRef()
		}
		if l.IsZero() || l.IsDir() {
			return errno(vfs.ENOENT)
		}
		if target, err = fs.fs.ReadlinkLoc(fs, l); err != nil {
			return ret(0, err)
		}
	} else {
		at, err := fs.dirAt(dirfd, path)
		if err != nil {
			return ret(0, err)
		}
		if target, err = fs.fs.Readlink(fs, at, path); err != nil {
			return ret(0, err)
		}
	}
	if len(target) > int(bufsiz) {
		target = target[:bufsiz]
	}
	if err := m.CopyOut(buf, []byte(target)); err != nil {
		return errno(vfs.EFAULT)
	}
	return int64(len(target))
}

// Readlink is readlink(2).
func (fs *Files) Readlink(m mem.Memory, pathAddr, buf uint64, bufsiz int32) int64 {
	return fs.Readlinkat(m, linux.AtFdcwd, pathAddr, buf, bufsiz)
}

// Symlinkat is symlinkat(2).
func (fs *Files) Symlinkat(m mem.Memory, targetAddr uint64, newdirfd int32, linkAddr uint64) int64 {
	target, err := readPath(m, targetAddr)
	if err != nil {
		return ret(0, err)
	}
	path, at, err := fs.pathAt(m, newdirfd, linkAddr)
	if err != nil {
		return ret(0, err)
	}
	return ret(0, fs.fs.Symlink(fs, target, at, path))
}

// Symlink is symlink(2).
func (fs *Files) Symlink(m mem.Memory, targetAddr, linkAddr uint64) int64 {
	return fs.Symlinkat(m, targetAddr, linux.AtFdcwd, linkAddr)
}

// Linkat is linkat(2), with AT_SYMLINK_FOLLOW and AT_EMPTY_PATH.
func (fs *Files) Linkat(m mem.Memory, olddirfd int32, oldAddr uint64, newdirfd int32, newAddr uint64, flags uint32) int64 {
	if flags&^(linux.AtSymlinkFollow|linux.AtEmptyPath) != 0 {
		return errno(vfs.EINVAL)
	}
	oldPath, err := readPath(m, oldAddr)
	if err != nil {
		return ret(0, err)
	}
	newPath, newAt, err := fs.pathAt(m, newdirfd, newAddr)
	if err != nil {
		return ret(0, err)
	}
	if oldPath == "" && flags&linux.AtEmptyPath != 0 {
		l, f, err := fs.emptyPathTarget(olddirfd)
		if err != nil {
			return ret(0, err)
		}
		if f != nil {
			f.DecRef()
		}
		if l.IsZero() {
			return errno(vfs.ENOENT)
		}
		return ret(0, fs.fs.LinkLoc(fs, l, newAt, newPath))
	}
	oldAt, err := fs.dirAt(olddirfd, oldPath)
	if err != nil {
		return ret(0, err)
	}
	return ret(0, fs.fs.Link(fs, oldAt, oldPath, newAt, newPath, flags&linux.AtSymlinkFollow != 0))
}

// Link is link(2).
func (fs *Files) Link(m mem.Memory, oldAddr, newAddr uint64) int64 {
	return fs.Linkat(m, linux.AtFdcwd, oldAddr, linux.AtFdcwd, newAddr, 0)
}

// Getcwd is getcwd(2): the length written, including the NUL.
func (fs *Files) Getcwd(m mem.Memory, buf, size uint64) int64 {
	path, err := fs.fs.Path(fs.Cwd())
	if err != nil {
		return ret(0, err)
	}
	if uint64(len(path))+1 > size {
		return errno(vfs.ERANGE)
	}
	if err := m.CopyOut(buf, append([]byte(path), 0)); err != nil {
		return errno(vfs.EFAULT)
	}
	return int64(len(path)) + 1
}

// Chdir is chdir(2).
func (fs *Files) Chdir(m mem.Memory, pathAddr uint64) int64 {
	path, at, err := fs.pathAt(m, linux.AtFdcwd, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	l, err := fs.fs.Lookup(fs, at, path, true)
	if err != nil {
		return ret(0, err)
	}
	return fs.setCwd(l)
}

// ChdirPath makes path the working directory, as chdir(2) does, for the
// kernel starting a process in a given directory.
func (fs *Files) ChdirPath(path string) error {
	l, err := fs.fs.Lookup(fs, fs.Cwd(), path, true)
	if err != nil {
		return err
	}
	if n := fs.setCwd(l); n < 0 {
		return vfs.Errno(-n)
	}
	return nil
}

// Fchdir is fchdir(2).
func (fs *Files) Fchdir(fd int32) int64 {
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return fs.setCwd(f.Loc())
}

func (fs *Files) setCwd(l vfs.Loc) int64 {
	if !l.IsDir() {
		return errno(vfs.ENOTDIR)
	}
	if err := vfs.Search(fs, l); err != nil {
		return ret(0, err) // fs/open.c chdir: MAY_EXEC | MAY_CHDIR
	}
	c := fs.fsc()
	c.mu.Lock()
	c.cwd = l
	c.mu.Unlock()
	return 0
}

// Ftruncate is ftruncate(2).
func (fs *Files) Ftruncate(fd int32, length int64) int64 {
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return ret(0, f.Truncate(length))
}

// Truncate is truncate(2).
func (fs *Files) Truncate(m mem.Memory, pathAddr uint64, length int64) int64 {
	path, at, err := fs.pathAt(m, linux.AtFdcwd, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	l, err := fs.fs.Lookup(fs, at, path, true)
	if err != nil {
		return ret(0, err)
	}
	return ret(0, vfs.TruncateAs(fs, l, length))
}

// Fsync is fsync(2): everything is in memory, so there is nothing to do
// for regular files and directories; other files, and /proc's, cannot be
// synced (EINVAL), as on Linux (vfs.Syncable).
func (fs *Files) Fsync(fd int32) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if !vfs.Syncable(f) {
		return errno(vfs.EINVAL)
	}
	return 0
}

// Fdatasync is fdatasync(2).
func (fs *Files) Fdatasync(fd int32) int64 { return fs.Fsync(fd) }

// Fchmod is fchmod(2).
func (fs *Files) Fchmod(fd int32, mode uint32) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if f.Loc().IsZero() {
		return 0
	}
	mode &= 0o7777
	return ret(0, vfs.SetAttrAt(fs, f.Loc(), vfs.SetAttr{Mode: &mode}))
}

// Fchmodat is fchmodat(2).
func (fs *Files) Fchmodat(m mem.Memory, dirfd int32, pathAddr uint64, mode uint32) int64 {
	path, at, err := fs.pathAt(m, dirfd, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	l, err := fs.fs.Lookup(fs, at, path, true)
	if err != nil {
		return ret(0, err)
	}
	mode &= 0o7777
	return ret(0, vfs.SetAttrAt(fs, l, vfs.SetAttr{Mode: &mode}))
}

// Fchmodat2 is fchmodat2(2) (Linux 6.6): fchmodat with the flags
// AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH. A symbolic link's mode cannot
// change (EOPNOTSUPP, as notify_change answers since Linux 6.6).
func (fs *Files) Fchmodat2(m mem.Memory, dirfd int32, pathAddr uint64, mode, flags uint32) int64 {
	if pathAddr == 0 {
		return errno(vfs.EFAULT)
	}
	l, err := fs.attrTarget(m, dirfd, pathAddr, flags)
	switch {
	case err != nil:
		return ret(0, err)
	case l.IsZero():
		return 0 // a pipe's mode is not kept
	case l.ReadOnly():
		return errno(vfs.EROFS)
	case l.Attr().Mode&linux.SIfmt == linux.SIflnk:
		return errno(vfs.EOPNOTSUPP)
	}
	mode &= 0o7777
	return ret(0, vfs.SetAttrAt(fs, l, vfs.SetAttr{Mode: &mode}))
}

// Chmod is chmod(2).
func (fs *Files) Chmod(m mem.Memory, pathAddr uint64, mode uint32) int64 {
	return fs.Fchmodat(m, linux.AtFdcwd, pathAddr, mode)
}
