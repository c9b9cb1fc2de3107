package fdtable

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// inotify_init1 flags (include/uapi/linux/inotify.h: O_CLOEXEC and
// O_NONBLOCK).
const (
	inCloexec  = linux.OCloexec
	inNonblock = linux.ONonblock
)

// InotifyInit1 is inotify_init1(2) (and inotify_init(2), flags 0).
func (fs *Files) InotifyInit1(flags uint32) int64 {
	if flags&^(inCloexec|inNonblock) != 0 {
		return errno(vfs.EINVAL)
	}
	f, err := vfs.NewInotify(flags)
	if err != nil {
		return ret(0, err)
	}
	return fs.install(f, flags&inCloexec != 0)
}

// inotifyFile returns the inotify instance open as fd: EBADF for no
// file, EINVAL for another kind.
func (fs *Files) inotifyFile(fd int32) (*vfs.File, error) {
	f, err := fs.file(fd)
	if err != nil {
		return nil, err
	}
	if !vfs.IsInotify(f) {
		f.DecRef()
		return nil, vfs.EINVAL
	}
	return f, nil
}

// InotifyAddWatch is inotify_add_watch(2), checking in the order of
// fs/notify/inotify/inotify_user.c: the mask, the descriptor, the path
// (IN_DONT_FOLLOW, IN_ONLYDIR), read permission on the file.
func (fs *Files) InotifyAddWatch(m mem.Memory, fd int32, pathAddr uint64, mask uint32) int64 {
	if err := vfs.CheckWatchMask(mask); err != nil {
		return ret(0, err)
	}
	f, err := fs.inotifyFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	path, err := readPath(m, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	at, err := fs.dirAt(linux.AtFdcwd, path)
	if err != nil {
		return ret(0, err)
	}
	l, err := fs.fs.Lookup(fs, at, path, mask&vfs.InDontFollow == 0)
	if err != nil {
		return ret(0, err)
	}
	if mask&vfs.InOnlydir != 0 && !l.IsDir() {
		return errno(vfs.ENOTDIR)
	}
	if err := vfs.MayRead(fs, l); err != nil {
		return ret(0, err)
	}
	wd, err := vfs.AddWatch(f, l, mask)
	return ret(int64(wd), err)
}

// InotifyRmWatch is inotify_rm_watch(2).
func (fs *Files) InotifyRmWatch(fd, wd int32) int64 {
	f, err := fs.inotifyFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return ret(0, vfs.RemoveWatch(f, wd))
}
