// Package vfs is the file system of Cocoon's Linux personality: the
// application's files as Linux system calls see them.
//
// The root is the initrd, a cpio newc archive, mounted read-only with a
// writable in-memory layer over it (an overlay: files are copied up a page
// at a time when written, names deleted or renamed away from the archive
// are hidden by whiteouts). /tmp and /dev are plain in-memory file systems;
// /dev holds null, zero, full, random, urandom, tty and console, and the
// devices Options.Devices adds, such as sev-guest. /proc shows
// /proc/self/exe, /proc/self/cwd and /proc/self/fd. Pipes, eventfds and
// epoll instances are files too.
//
// Permissions are checked as Linux checks them (perm.go): against the
// credentials of the process a call is made for (CredSource), root's when
// it tells none; nothing on a read-only mount can be changed (EROFS).
//
// Nothing here blocks: an operation that would block returns EAGAIN and
// the caller waits on the file's Queue (north/fdtable does both).
package vfs

import (
	"errors"
	"strconv"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Errno is a Linux error number as a Go error.
type Errno uint32

// The errors this package returns.
const (
	EPERM        = Errno(linux.EPERM)
	ENOENT       = Errno(linux.ENOENT)
	EINTR        = Errno(linux.EINTR)
	EIO          = Errno(linux.EIO)
	ENXIO        = Errno(linux.ENXIO)
	EBADF        = Errno(linux.EBADF)
	EAGAIN       = Errno(linux.EAGAIN)
	ENOMEM       = Errno(linux.ENOMEM)
	EACCES       = Errno(linux.EACCES)
	EFAULT       = Errno(linux.EFAULT)
	EBUSY        = Errno(linux.EBUSY)
	EEXIST       = Errno(linux.EEXIST)
	EXDEV        = Errno(linux.EXDEV)
	ENOTDIR      = Errno(linux.ENOTDIR)
	EISDIR       = Errno(linux.EISDIR)
	EINVAL       = Errno(linux.EINVAL)
	EMFILE       = Errno(linux.EMFILE)
	ENFILE       = Errno(linux.ENFILE)
	ENOTTY       = Errno(linux.ENOTTY)
	EFBIG        = Errno(linux.EFBIG)
	ENOSPC       = Errno(linux.ENOSPC)
	ESPIPE       = Errno(linux.ESPIPE)
	EROFS        = Errno(linux.EROFS)
	EMLINK       = Errno(linux.EMLINK)
	EPIPE        = Errno(linux.EPIPE)
	ERANGE       = Errno(linux.ERANGE)
	ENAMETOOLONG = Errno(linux.ENAMETOOLONG)
	ENOTEMPTY    = Errno(linux.ENOTEMPTY)
	ELOOP        = Errno(linux.ELOOP)
	EOVERFLOW    = Errno(linux.EOVERFLOW)
	EOPNOTSUPP   = Errno(linux.EOPNOTSUPP)
	ETIMEDOUT    = Errno(linux.ETIMEDOUT)
	ENODEV       = Errno(linux.ENODEV)
	ENODATA      = Errno(linux.ENODATA)
	ESRCH        = Errno(linux.ESRCH)
	E2BIG        = Errno(linux.E2BIG)
	ETXTBSY      = Errno(linux.ETXTBSY)
)

var errnoText = [...]string{
	EPERM: "operation not permitted", ENOENT: "no such file or directory",
	EINTR: "interrupted system call", EIO: "input/output error",
	ENXIO: "no such device or address", EBADF: "bad file descriptor",
	EAGAIN: "resource temporarily unavailable", ENOMEM: "cannot allocate memory",
	EACCES: "permission denied", EFAULT: "bad address", EBUSY: "device or resource busy",
	EEXIST: "file exists", EXDEV: "invalid cross-device link", ENOTDIR: "not a directory",
	EISDIR: "is a directory", EINVAL: "invalid argument", EMFILE: "too many open files", ENFILE: "too many open files in system",
	ENOTTY: "inappropriate ioctl for device", EFBIG: "file too large",
	ENOSPC: "no space left on device", ESPIPE: "illegal seek", EROFS: "read-only file system",
	EMLINK: "too many links", EPIPE: "broken pipe", ERANGE: "numerical result out of range",
	ENAMETOOLONG: "file name too long", ENOTEMPTY: "directory not empty",
	ENODEV: "no such device", ELOOP: "too many levels of symbolic links", EOVERFLOW: "value too large for defined data type",
	EOPNOTSUPP: "operation not supported", ETIMEDOUT: "connection timed out",
	ENODATA: "no data available", ESRCH: "no such process", E2BIG: "argument list too long",
	ETXTBSY: "text file busy",
}

// LinuxErrno is the error number, for packages that do not import this
// one.
func (e Errno) LinuxErrno() uint32 { return uint32(e) }

func (e Errno) Error() string {
	if uint64(e) < uint64(len(errnoText)) && errnoText[e] != "" {
		return errnoText[e]
	}
	return "errno " + strconv.Itoa(int(e))
}

// ErrnoOf returns the Linux errno for err: an Errno itself, EFAULT for
// mem.ErrFault, ENAMETOOLONG for mem.ErrNameTooLong, and EIO for anything
// else. It returns 0 for nil.
func ErrnoOf(err error) Errno {
	if e, ok := err.(Errno); ok {
		return e // not wrapped: no errors.As and its reflection
	}
	var e Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return e
	case errors.Is(err, mem.ErrFault):
		return EFAULT
	case errors.Is(err, mem.ErrNameTooLong):
		return ENAMETOOLONG
	}
	return EIO
}
