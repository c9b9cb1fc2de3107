package fdtable

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Map returns a mapping of the pages of the file open as fd (for mmap),
// whose pages leaving the file are reported to inv, and the file's
// access mode (O_RDONLY, O_WRONLY or O_RDWR). EBADF for a bad or O_PATH
// descriptor, ENODEV for a file that cannot be mapped (a pipe, a
// directory, a device), EACCES for a file not open for reading.
func (fs *Files) Map(fd int32, inv func(from, to int64)) (mem.Pager, uint32, int64) {
	f, err := fs.ioFile(fd)
	if err != nil {
		return nil, 0, ret(0, err)
	}
	defer f.DecRef()
	if !f.Readable() { // do_mmap: FMODE_READ before the file's own mmap
		return nil, 0, errno(vfs.EACCES)
	}
	m, err := f.Map(inv)
	if err != nil {
		return nil, 0, ret(0, err)
	}
	return m, f.Flags() & linux.OAccmode, 0
}

// MapsAnonymous reports whether fd is open for reading on a file whose
// mapping is fresh anonymous memory (/dev/zero, vfs.File.MapsAnonymous).
func (fs *Files) MapsAnonymous(fd int32) bool {
	f, err := fs.ioFile(fd)
	if err != nil {
		return false
	}
	defer f.DecRef()
	return f.Readable() && f.MapsAnonymous()
}

// MapAnon returns a mapping of a new unnamed file of size bytes (shared
// anonymous memory and SysV shared memory, which live in tmpfs as on
// Linux).
func (fs *Files) MapAnon(size int64, inv func(from, to int64)) (mem.Pager, error) {
	f, err := fs.fs.NewMemFile("/dev/zero (deleted)", size)
	if err != nil {
		return nil, err
	}
	defer f.DecRef()
	return f.Map(inv)
}

// memfd_create(2) flags (include/uapi/linux/memfd.h).
const (
	mfdCloexec      = 0x1
	mfdAllowSealing = 0x2
	mfdHugetlb      = 0x4
	mfdNoexecSeal   = 0x8
	mfdExec         = 0x10
)

// MemfdCreate is memfd_create(2): an unnamed tmpfs file, open read-write,
// that takes seals with MFD_ALLOW_SEALING (MFD_NOEXEC_SEAL: sealed with
// F_SEAL_EXEC, without execute bits). Huge pages are not supported:
// EINVAL.
func (fs *Files) MemfdCreate(m mem.Memory, nameAddr uint64, flags uint32) int64 {
	name, err := mem.ReadString(m, nameAddr, 250)
	if err != nil {
		if err == mem.ErrNameTooLong {
			return errno(vfs.EINVAL)
		}
		return errno(vfs.EFAULT)
	}
	if flags&^(mfdCloexec|mfdAllowSealing|mfdNoexecSeal|mfdExec) != 0 || flags&mfdNoexecSeal != 0 && flags&mfdExec != 0 {
		return errno(vfs.EINVAL)
	}
	f, err := fs.fs.NewMemFileFor(fs, "/memfd:"+name+" (deleted)", 0)
	if err != nil {
		return ret(0, err)
	}
	f.MarkLargefile()
	switch {
	case flags&mfdNoexecSeal != 0:
		f.AllowSealing(vfs.SealExec)
	case flags&mfdAllowSealing != 0:
		f.AllowSealing(0)
	}
	fd, err := fs.tab().Install(f, 0, fs.Limit(), flags&mfdCloexec != 0)
	if err != nil {
		f.DecRef()
		return ret(0, err)
	}
	return int64(fd)
}

// Fallocate is fallocate(2).
func (fs *Files) Fallocate(fd int32, mode uint32, off, length int64) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return ret(0, f.Allocate(mode, off, length))
}
