package run

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// OpenPidfd implements north.PidfdFiles.
func (f *files) OpenPidfd(d *north.Pidfd, nonblock bool) int64 {
	file := vfs.NewPidFD(d, nonblock)
	fd, err := f.f.Table().Install(file, 0, f.f.Limit(), true)
	if err != nil {
		file.DecRef()
		return -int64(vfs.ErrnoOf(err))
	}
	return int64(fd)
}

// TakeFD serves pidfd_getfd: the file open as fd in from, installed
// close-on-exec at the lowest free descriptor (receive_fd).
func (f *files) TakeFD(from north.Files, fd int32) int64 {
	src, ok := from.(*files)
	if !ok {
		return -int64(linux.EBADF)
	}
	file, ok := src.f.Table().Get(fd)
	if !ok {
		return -int64(linux.EBADF)
	}
	n, err := f.f.Table().Install(file, 0, f.f.Limit(), true)
	if err != nil {
		file.DecRef()
		return -int64(vfs.ErrnoOf(err))
	}
	return int64(n)
}

// ChdirRoot serves setns of a mount namespace: the working directory
// becomes the root (mntns_install).
func (f *files) ChdirRoot() error { return f.f.ChdirPath("/") }

// Pidfd implements north.PidfdFiles.
func (f *files) Pidfd(fd int32) (*north.Pidfd, bool) {
	file, ok := f.f.Table().Get(fd)
	if !ok {
		return nil, false
	}
	defer file.DecRef()
	d, _ := vfs.PidFDOf(file).(*north.Pidfd)
	return d, file.Flags()&linux.ONonblock != 0
}

// Namespace implements north.NamespaceFiles.
func (f *files) Namespace(fd int32) (uint64, bool) {
	file, ok := f.f.Table().Get(fd)
	if !ok {
		return 0, false
	}
	defer file.DecRef()
	return uint64(vfs.NamespaceOf(file)), file.Flags()&linux.OPath != 0
}
