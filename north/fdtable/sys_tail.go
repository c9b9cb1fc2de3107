package fdtable

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Statfs is statfs(2): struct statfs for the file system holding path.
func (fs *Files) Statfs(m mem.Memory, pathAddr, buf uint64) int64 {
	path, err := readPath(m, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	at, err := fs.dirAt(linux.AtFdcwd, path)
	if err != nil {
		return ret(0, err)
	}
	l, err := fs.fs.Lookup(fs, at, path, true)
	if err != nil {
		return ret(0, err)
	}
	return ret(0, copyOut(m, buf, l.Statfs().Bytes()))
}

// Fstatfs is fstatfs(2).
func (fs *Files) Fstatfs(m mem.Memory, fd int32, buf uint64) int64 {
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return ret(0, copyOut(m, buf, vfs.FileStatfs(f).Bytes()))
}

func copyOut(m mem.Memory, addr uint64, b []byte) error {
	if m.CopyOut(addr, b) != nil {
		return vfs.EFAULT
	}
	return nil
}

// Utime is utime(2): times points to struct utimbuf (actime, modtime in
// seconds), or is 0 for now.
func (fs *Files) Utime(m mem.Memory, pathAddr, timesAddr uint64) int64 {
	if timesAddr == 0 {
		return fs.Utimensat(m, linux.AtFdcwd, pathAddr, 0, 0)
	}
	var b [16]byte
	if m.CopyIn(timesAddr, b[:]) != nil {
		return errno(vfs.EFAULT)
	}
	at := int64(binary.LittleEndian.Uint64(b[0:])) * 1e9
	mt := int64(binary.LittleEndian.Uint64(b[8:])) * 1e9
	return fs.setAttr(m, linux.AtFdcwd, pathAddr, 0, vfs.SetAttr{Atime: &at, Mtime: &mt})
}

// Utimes is utimes(2).
func (fs *Files) Utimes(m mem.Memory, pathAddr, timesAddr uint64) int64 {
	return fs.Futimesat(m, linux.AtFdcwd, pathAddr, timesAddr)
}

// Futimesat is futimesat(2): times points to two struct timeval (access,
// modification), EINVAL unless 0 <= tv_usec < 1000000 (do_futimesat),
// or is 0 for now; a 0 path names dirfd itself.
func (fs *Files) Futimesat(m mem.Memory, dirfd int32, pathAddr, timesAddr uint64) int64 {
	if timesAddr == 0 {
		return fs.Utimensat(m, dirfd, pathAddr, 0, 0)
	}
	var b [32]byte
	if m.CopyIn(timesAddr, b[:]) != nil {
		return errno(vfs.EFAULT)
	}
	var ts [2]int64
	for i := range ts {
		sec := int64(binary.LittleEndian.Uint64(b[16*i:]))
		usec := int64(binary.LittleEndian.Uint64(b[16*i+8:]))
		if usec < 0 || usec >= 1e6 {
			return errno(vfs.EINVAL)
		}
		ts[i] = sec*1e9 + usec*1e3
	}
	return fs.setAttr(m, dirfd, pathAddr, 0, vfs.SetAttr{Atime: &ts[0], Mtime: &ts[1]})
}

// sync_file_range flags (include/uapi/linux/fs.h).
const (
	syncFileRangeWaitBefore = 1
	syncFileRangeWrite      = 2
	syncFileRangeWaitAfter  = 4
)

// SyncFileRange is sync_file_range(2). File data lives in memory and is
// never written back anywhere, so once the arguments check out there is
// nothing to wait for: Linux's answer for a tmpfs file too.
func (fs *Files) SyncFileRange(fd int32, off, n int64, flags uint32) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if flags&^(syncFileRangeWaitBefore|syncFileRangeWrite|syncFileRangeWaitAfter) != 0 || off < 0 || n < 0 || off+n < off {
		return errno(vfs.EINVAL)
	}
	a := f.Stat()
	switch a.Type() {
	case linux.SIfreg, linux.SIfdir, linux.SIflnk, linux.SIfblk:
		return 0
	}
	return errno(vfs.ESPIPE)
}
