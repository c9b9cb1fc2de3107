package fdtable

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// preadv2 and pwritev2 flags (include/uapi/linux/fs.h RWF_*).
const (
	rwfHipri     = 0x01 // polled I/O: only direct I/O polls; ignored here as by buffered I/O
	rwfDsync     = 0x02 // tmpfs has nothing to write back
	rwfSync      = 0x04
	rwfNowait    = 0x08
	rwfAppend    = 0x10
	rwfNoappend  = 0x20
	rwfAtomic    = 0x40  // needs FMODE_CAN_ATOMIC_WRITE, which tmpfs lacks
	rwfDontcache = 0x80  // needs FOP_DONTCACHE, which tmpfs lacks
	rwfNosignal  = 0x100 // no SIGPIPE (the caller's business, north/syscall.go)
	rwfSupported = 0x1ff
)

// rwFlags checks pwritev2/preadv2 flags for f as include/linux/fs.h
// kiocb_set_rw_flags does: EOPNOTSUPP for an unknown flag or one f
// cannot honour, EINVAL for RWF_APPEND with RWF_NOAPPEND. RWF_NOWAIT
// needs a file that can say it would block (Linux's FMODE_NOWAIT: pipes,
// sockets, eventfds; not tmpfs files); RWF_ATOMIC and RWF_DONTCACHE a
// file system with atomic writes or uncached I/O, which tmpfs is not.
func rwFlags(f *vfs.File, flags uint32, write bool) error {
	if flags&^rwfSupported != 0 || flags&(rwfAtomic|rwfDontcache) != 0 {
		return vfs.EOPNOTSUPP
	}
	if flags&rwfAppend != 0 && flags&rwfNoappend != 0 {
		return vfs.EINVAL
	}
	if flags&rwfNowait != 0 && (!f.Impl().Stream() || f.Queue() == nil) {
		return vfs.EOPNOTSUPP
	}
	return nil
}

// Preadv2 is preadv2(2): preadv at off, or readv at the file's offset
// for off -1, with flags.
func (fs *Files) Preadv2(m mem.Memory, intr <-chan struct{}, fd int32, iovAddr, iovcnt uint64, off int64, flags uint32) int64 {
	if off < -1 {
		return errno(vfs.EINVAL)
	}
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if off >= 0 && f.Impl().Stream() {
		return errno(vfs.ESPIPE) // fs/read_write.c do_preadv: no FMODE_PREAD
	}
	if !f.Readable() {
		return errno(vfs.EBADF)
	}
	iov, err := readIovec(m, iovAddr, iovcnt)
	if err != nil {
		return ret(0, err)
	}
	dst := vfs.NewBufIovec(m, iov)
	if dst.Len() == 0 {
		return 0 // Linux checks no flag for nothing (vfs_readv)
	}
	if err := rwFlags(f, flags, false); err != nil {
		return ret(0, err)
	}
	switch {
	case off >= 0:
		return ret(f.ReadAt(dst, off))
	case flags&rwfNowait != 0:
		return ret(f.Read(dst))
	}
	return fs.read(f, dst, intr)
}

// Pwritev2 is pwritev2(2): pwritev at off, or writev at the file's
// offset for off -1, with flags; RWF_APPEND writes at the end,
// RWF_NOAPPEND at the offset of an O_APPEND file.
func (fs *Files) Pwritev2(m mem.Memory, intr <-chan struct{}, fd int32, iovAddr, iovcnt uint64, off int64, flags uint32) int64 {
	if off < -1 {
		return errno(vfs.EINVAL)
	}
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if off >= 0 && f.Impl().Stream() {
		return errno(vfs.ESPIPE)
	}
	if !f.Writable() {
		return errno(vfs.EBADF)
	}
	iov, err := readIovec(m, iovAddr, iovcnt)
	if err != nil {
		return ret(0, err)
	}
	src := vfs.NewBufIovec(m, iov)
	if src.Len() == 0 {
		return 0
	}
	if err := rwFlags(f, flags, true); err != nil {
		return ret(0, err)
	}
	if f.Impl().Stream() {
		if flags&rwfNowait != 0 {
			return ret(f.Write(src))
		}
		return fs.write(f, src, intr)
	}
	app := f.Flags()&linux.OAppend != 0
	if flags&rwfAppend != 0 {
		app = true
	} else if flags&rwfNoappend != 0 {
		app = false
	}
	return ret(f.WriteAppend(src, off, app))
}

// Readahead is readahead(2): EBADF unless fd is open for reading, EINVAL
// unless it is a regular file. Its pages are all in memory already
// (tmpfs, the archive's page cache), so there is nothing to read ahead
// (mm/fadvise.c generic_fadvise, for a file system without a backing
// device).
func (fs *Files) Readahead(fd int32) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if !f.Readable() {
		return errno(vfs.EBADF)
	}
	if f.Stat().Mode&linux.SIfmt != linux.SIfreg {
		return errno(vfs.EINVAL)
	}
	return 0
}

// Syncfs is syncfs(2): EBADF for no open file; the file systems keep
// their files in memory, so there is nothing to write back.
func (fs *Files) Syncfs(fd int32) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	f.DecRef()
	return 0
}
