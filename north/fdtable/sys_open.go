package fdtable

import (
	"encoding/binary"
	"math"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Openat is openat(2). Opening a
// named FIFO for reading or writing only, without O_NONBLOCK, waits until
// the other side is opened (fifo(7)), or returns EINTR when intr closes.
func (fs *Files) Openat(m mem.Memory, intr <-chan struct{}, dirfd int32, pathAddr uint64, flags, mode uint32) int64 {
	path, err := readPath(m, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	return fs.openat(intr, dirfd, path, flags, mode)
}

func (fs *Files) openat(intr <-chan struct{}, dirfd int32, path string, flags, mode uint32) int64 {
	return fs.openResolve(intr, dirfd, path, flags, mode, 0)
}

// openResolve is openat restricted by openat2's resolve flags.
func (fs *Files) openResolve(intr <-chan struct{}, dirfd int32, path string, flags, mode uint32, resolve uint64) int64 {
	var at vfs.Loc
	var err error
	if resolve == 0 || path == "" || path[0] == '/' && resolve&vfs.ResolveInRoot == 0 {
		at, err = fs.dirAt(dirfd, path)
	} else {
		// A scoped walk's root is the dirfd even for an absolute path
		// (RESOLVE_IN_ROOT).
		at, err = fs.dirAt(dirfd, ".")
	}
	if err != nil {
		return ret(0, err)
	}
	mode &^= fs.umaskNow()
	var f *vfs.File
	if resolve == 0 {
		f, err = fs.fs.Open(fs, at, path, flags, mode)
	} else {
		f, err = fs.fs.OpenResolve(fs, at, path, flags, mode, resolve)
	}
	if err != nil {
		return ret(0, err)
	}
	if err := waitFIFO(f, intr); err != nil {
		f.DecRef()
		return ret(0, err)
	}
	return fs.install(f, flags&linux.OCloexec != 0)
}

// struct open_how (include/uapi/linux/openat2.h): flags, mode and
// resolve, 64 bits each.
const (
	openHowSize0 = 24
	// validOpenFlags is VALID_OPEN_FLAGS (include/linux/fcntl.h) for
	// x86-64.
	validOpenFlags = 0o3 | linux.OCreat | linux.OExcl | 0o400 | linux.OTrunc | linux.OAppend |
		linux.ONonblock | linux.OSync | linux.OAsync | linux.ODirect | linux.OLargefile |
		linux.ODirectory | linux.ONofollow | linux.ONoatime | linux.OCloexec | linux.OPath | linux.OTmpfile
	validResolveFlags = vfs.ResolveNoXdev | vfs.ResolveNoMagiclinks | vfs.ResolveNoSymlinks |
		vfs.ResolveBeneath | vfs.ResolveInRoot | vfs.ResolveCached
	// oPathFlags are the flags O_PATH allows beside it (O_PATH_FLAGS).
	oPathFlags = linux.ODirectory | linux.ONofollow | linux.OPath | linux.OCloexec
)

// Openat2 is openat2(2): openat with a struct open_how of size bytes at
// howAddr, whose flags and mode are checked strictly (fs/open.c
// build_open_flags) and whose resolve flags restrict the path walk. A
// struct larger than Linux's must be zero beyond it (E2BIG).
func (fs *Files) Openat2(m mem.Memory, intr <-chan struct{}, dirfd int32, pathAddr, howAddr, size uint64) int64 {
	if size < openHowSize0 {
		return errno(vfs.EINVAL)
	}
	if size > mem.PageSize {
		return errno(vfs.E2BIG)
	}
	b := make([]byte, size)
	if err := m.CopyIn(howAddr, b); err != nil {
		return errno(vfs.EFAULT)
	}
	for _, c := range b[openHowSize0:] {
		if c != 0 {
			return errno(vfs.E2BIG)
		}
	}
	flags := binary.LittleEndian.Uint64(b[0:]) &^ linux.OCloexec
	mode := binary.LittleEndian.Uint64(b[8:])
	resolve := binary.LittleEndian.Uint64(b[16:])
	cloexec := binary.LittleEndian.Uint64(b[0:]) & linux.OCloexec
	switch {
	case flags&^validOpenFlags != 0, resolve&^validResolveFlags != 0:
		return errno(vfs.EINVAL)
	case resolve&vfs.ResolveBeneath != 0 && resolve&vfs.ResolveInRoot != 0:
		return errno(vfs.EINVAL)
	}
	const tmpfileBit = linux.OTmpfile &^ linux.ODirectory
	if flags&(linux.OCreat|tmpfileBit) != 0 {
		if mode&^0o7777 != 0 {
			return errno(vfs.EINVAL)
		}
	} else if mode != 0 {
		return errno(vfs.EINVAL)
	}
	if flags&(linux.ODirectory|linux.OCreat) == linux.ODirectory|linux.OCreat {
		return errno(vfs.EINVAL)
	}
	if flags&tmpfileBit != 0 && (flags&linux.OTmpfile != linux.OTmpfile || flags&linux.OAccmode == linux.ORdonly) {
		return errno(vfs.EINVAL)
	}
	if flags&linux.OPath != 0 && flags&^oPathFlags != 0 {
		return errno(vfs.EINVAL)
	}
	if resolve&vfs.ResolveCached != 0 && flags&(linux.OTrunc|linux.OCreat|tmpfileBit) != 0 {
		return errno(vfs.EAGAIN)
	}
	path, err := readPath(m, pathAddr)
	if err != nil {
		return ret(0, err)
	}
	if flags&linux.OPath == 0 {
		flags |= linux.OLargefile
	}
	return fs.openResolve(intr, dirfd, path, uint32(flags|cloexec), uint32(mode), resolve)
}

// waitFIFO waits until f, if it is a named FIFO that waits for its other
// side (vfs.FIFOWaiting), has it; a close of intr ends the wait with
// EINTR.
func waitFIFO(f *vfs.File, intr <-chan struct{}) error {
	if !vfs.FIFOWaiting(f) {
		return nil
	}
	w := vfs.NewWaiter()
	w.Watch(f.Queue(), vfs.EventIn|vfs.EventOut)
	defer w.Stop()
	for vfs.FIFOWaiting(f) {
		select {
		case <-w.C:
		case <-intr:
			return vfs.EINTR
		}
	}
	return nil
}

// Open is open(2).
func (fs *Files) Open(m mem.Memory, intr <-chan struct{}, pathAddr uint64, flags, mode uint32) int64 {
	return fs.Openat(m, intr, linux.AtFdcwd, pathAddr, flags, mode)
}

// Creat is creat(2).
func (fs *Files) Creat(m mem.Memory, intr <-chan struct{}, pathAddr uint64, mode uint32) int64 {
	return fs.Openat(m, intr, linux.AtFdcwd, pathAddr, linux.OCreat|linux.OWronly|linux.OTrunc, mode)
}

// Close is close(2).
func (fs *Files) Close(fd int32) int64 {
	// Closing any descriptor of a file drops the process's POSIX record
	// locks on it (fcntl(2), "Advisory record locking"): Remove does.
	return ret(0, fs.tab().Remove(fd))
}

// Dup is dup(2).
func (fs *Files) Dup(fd int32) int64 {
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	return fs.install(f, false)
}

// Dup2 is dup2(2).
func (fs *Files) Dup2(oldfd, newfd int32) int64 {
	f, err := fs.file(oldfd)
	if err != nil {
		return ret(0, err)
	}
	if oldfd == newfd {
		f.DecRef()
		return int64(newfd)
	}
	return fs.dupTo(f, newfd, false)
}

// Dup3 is dup3(2).
func (fs *Files) Dup3(oldfd, newfd int32, flags uint32) int64 {
	if flags&^linux.OCloexec != 0 || oldfd == newfd {
		return errno(vfs.EINVAL)
	}
	f, err := fs.file(oldfd)
	if err != nil {
		return ret(0, err)
	}
	return fs.dupTo(f, newfd, flags&linux.OCloexec != 0)
}

func (fs *Files) dupTo(f *vfs.File, newfd int32, cloexec bool) int64 {
	if err := fs.tab().InstallAt(newfd, f, fs.Limit(), cloexec); err != nil {
		f.DecRef()
		return ret(0, err)
	}
	return int64(newfd)
}

// Fcntl is fcntl(2), with record locks (fcntlLock), file seals and
// signal-driven I/O (fcntlOwner); leases and directory notifications are
// not supported (EINVAL). F_SETLKW waits
// without interruption; the dispatcher's fcntl ends the wait with EINTR.
func (fs *Files) Fcntl(m mem.Memory, fd int32, cmd uint32, arg uint64) int64 {
	return fs.fcntl(m, nil, fd, cmd, arg)
}

func (fs *Files) fcntl(m mem.Memory, intr <-chan struct{}, fd int32, cmd uint32, arg uint64) int64 {
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	switch cmd {
	case linux.FDupfd, linux.FDupfdCloexec:
		min := int32(arg)
		if min < 0 || int(min) >= fs.Limit() {
			return errno(vfs.EINVAL)
		}
		f.IncRef()
		nfd, err := fs.tab().Install(f, min, fs.Limit(), cmd == linux.FDupfdCloexec)
		if err != nil {
			f.DecRef()
			return ret(0, err)
		}
		return int64(nfd)
	case linux.FGetfd:
		on, err := fs.tab().Cloexec(fd)
		if on {
			return ret(linux.FdCloexec, err)
		}
		return ret(0, err)
	case linux.FSetfd:
		return ret(0, fs.tab().SetCloexec(fd, arg&linux.FdCloexec != 0))
	case linux.FGetfl:
		return int64(f.Flags())
	}
	if f.IsPath() {
		return errno(vfs.EBADF)
	}
	switch cmd {
	case linux.FSetfl:
		f.SetFlags(uint32(arg))
		if on := uint32(arg)&linux.OAsync != 0; on != (f.Flags()&linux.OAsync != 0) {
			fs.setAsync(f, fd, on)
		}
		return 0
	case linux.FGetlk, linux.FOfdGetlk, linux.FSetlk, linux.FSetlkw, linux.FOfdSetlk, linux.FOfdSetlkw:
		return fs.fcntlLock(m, intr, f, cmd, arg)
	case linux.FGetown, linux.FSetown, linux.FGetsig, linux.FSetsig, fGetownEx, fSetownEx:
		return fs.fcntlOwner(m, f, cmd, arg)
	case linux.FAddSeals:
		return ret(0, f.AddSeals(uint32(arg)))
	case linux.FGetSeals:
		seals, err := f.Seals()
		return ret(int64(seals), err)
	case linux.FGetlease:
		return linux.FUnlck
	case linux.FGetpipeSz:
		return ret(vfs.PipeSizeOf(f))
	case linux.FSetpipeSz:
		if _, err := vfs.PipeSizeOf(f); err != nil {
			return ret(0, err)
		}
		return ret(vfs.SetPipeSize(fs, f, int64(uint32(arg))))
	}
	return errno(vfs.EINVAL)
}

// fcntlLock serves the record-lock commands with a struct flock
// (include/uapi/asm-generic/fcntl.h: l_type, l_whence, l_start, l_len,
// l_pid). POSIX locks belong to the process (fs), OFD locks to the open
// file description; F_GETLK reports a conflicting lock (l_pid 1 for the
// process's, -1 for an OFD lock) or F_UNLCK.
func (fs *Files) fcntlLock(m mem.Memory, intr <-chan struct{}, f *vfs.File, cmd uint32, arg uint64) int64 {
	var b [linux.SizeofFlock]byte
	if err := m.CopyIn(arg, b[:]); err != nil {
		return errno(vfs.EFAULT)
	}
	typ := int16(binary.LittleEndian.Uint16(b[0:]))
	whence := int16(binary.LittleEndian.Uint16(b[2:]))
	start := int64(binary.LittleEndian.Uint64(b[8:]))
	length := int64(binary.LittleEndian.Uint64(b[16:]))
	pid := int32(binary.LittleEndian.Uint32(b[24:]))
	get := cmd == linux.FGetlk || cmd == linux.FOfdGetlk
	ofd := cmd == linux.FOfdGetlk || cmd == linux.FOfdSetlk || cmd == linux.FOfdSetlkw
	switch typ {
	case linux.FRdlck:
		if f.Flags()&linux.OAccmode == linux.OWronly && !get {
			return errno(vfs.EBADF)
		}
	case linux.FWrlck:
		if f.Flags()&linux.OAccmode == linux.ORdonly && !get {
			return errno(vfs.EBADF)
		}
	case linux.FUnlck:
		if get {
			return errno(vfs.EINVAL)
		}
	default:
		return errno(vfs.EINVAL)
	}
	if ofd && pid != 0 {
		return errno(vfs.EINVAL) // OFD locks need l_pid 0
	}
	var base int64
	switch whence {
	case linux.SeekSet:
	case linux.SeekCur:
		cur, err := f.Seek(0, linux.SeekCur)
		if err != nil {
			return ret(0, err)
		}
		base = cur
	case linux.SeekEnd:
		a := f.Stat()
		base = a.Size
	default:
		return errno(vfs.EINVAL)
	}
	lo, hi := base+start, int64(math.MaxInt64)
	switch {
	case length > 0:
		hi = lo + length
		if hi < lo {
			return errno(vfs.EOVERFLOW)
		}
	case length < 0:
		lo, hi = lo+length, lo
	}
	if lo < 0 {
		return errno(vfs.EINVAL)
	}
	var owner any = fs.tab() // the files_struct owns POSIX locks
	if ofd {
		owner = f
	}
	if get {
		l, found := vfs.GetRecordLock(f, owner, typ == linux.FWrlck, lo, hi)
		if !found {
			binary.LittleEndian.PutUint16(b[0:], linux.FUnlck)
		} else {
			t := uint16(linux.FRdlck)
			if l.Write {
				t = linux.FWrlck
			}
			n := l.End - l.Start
			if l.End == math.MaxInt64 {
				n = 0
			}
			lpid := l.Pid // the process that took it (fs/locks.c posix_lock_to_flock)
			if l.OFD {
				lpid = -1
			}
			binary.LittleEndian.PutUint16(b[0:], t)
			binary.LittleEndian.PutUint16(b[2:], linux.SeekSet)
			binary.LittleEndian.PutUint64(b[8:], uint64(l.Start))
			binary.LittleEndian.PutUint64(b[16:], uint64(n))
			binary.LittleEndian.PutUint32(b[24:], uint32(lpid))
		}
		return ret(0, copyOut(m, arg, b[:]))
	}
	wait := cmd == linux.FSetlkw || cmd == linux.FOfdSetlkw
	return ret(0, vfs.SetRecordLock(f, owner, fs.Pid(), ofd, typ == linux.FWrlck, typ == linux.FUnlck, lo, hi, wait, intr))
}

// Flock is flock(2): LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB for
// EWOULDBLOCK instead of waiting.
func (fs *Files) Flock(intr <-chan struct{}, fd int32, op uint32) int64 {
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if f.IsPath() {
		return errno(vfs.EBADF)
	}
	const lockSh, lockEx, lockNb, lockUn = 1, 2, 4, 8 // include/uapi/asm-generic/fcntl.h
	switch op &^ lockNb {
	case lockSh, lockEx, lockUn:
		return ret(0, vfs.Flock(f, op&^lockNb == lockEx, op&^lockNb == lockUn, op&lockNb != 0, intr))
	}
	return errno(vfs.EINVAL)
}

// Socket ioctls of the owner (include/uapi/asm-generic/sockios.h).
const (
	fioSetown = 0x8901
	siocSpgrp = 0x8902
	fioGetown = 0x8903
	siocGpgrp = 0x8904
)

// Ioctl is ioctl(2): the generic requests FIOCLEX, FIONCLEX, FIONBIO and
// FIOASYNC, then the file's own (terminal requests on the console,
// FIONREAD on pipes, the console and regular files), a socket's owner;
// ENOTTY otherwise.
func (fs *Files) Ioctl(m mem.Memory, fd int32, cmd uint32, arg uint64) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	switch cmd {
	case linux.FIOCLEX, linux.FIONCLEX:
		return ret(0, fs.tab().SetCloexec(fd, cmd == linux.FIOCLEX))
	case linux.FIONBIO, linux.FIOASYNC:
		v, err := mem.ReadUint32(m, arg)
		if err != nil {
			return errno(vfs.EFAULT)
		}
		if cmd == linux.FIOASYNC {
			// ioctl_fioasync: as F_SETFL's O_ASYNC, signal-driven
			// I/O on or off.
			if on := v != 0; on != (f.Flags()&linux.OAsync != 0) {
				fs.setAsync(f, fd, on)
			}
			return 0
		}
		bit := uint32(linux.ONonblock)
		fl := f.Flags() &^ bit
		if v != 0 {
			fl |= bit
		}
		f.SetFlags(fl)
		return 0
	}
	if s := socket.Of(f); s != nil && socket.IsIfIoctl(cmd) {
		return ret(fs.ifIoctl(m, s, cmd, arg))
	}
	if socket.Of(f) != nil {
		// sock_ioctl: a socket's owner, as F_SETOWN and F_GETOWN
		// (f_setown, f_getown).
		switch cmd {
		case fioSetown, siocSpgrp:
			v, err := mem.ReadUint32(m, arg)
			if err != nil {
				return errno(vfs.EFAULT)
			}
			return fs.fcntlOwner(m, f, linux.FSetown, uint64(v))
		case fioGetown, siocGpgrp:
			return ret(0, mem.WriteUint32(m, arg, uint32(fs.fcntlOwner(m, f, linux.FGetown, 0))))
		}
	}
	return ret(f.Ioctl(m, cmd, arg))
}
