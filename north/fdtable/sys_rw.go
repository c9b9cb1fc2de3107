package fdtable

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// uioMaxIov is the most iovecs one call takes (UIO_MAXIOV,
// include/uapi/linux/uio.h).
const uioMaxIov = 1024

// Read is read(2).
func (fs *Files) Read(m mem.Memory, intr <-chan struct{}, fd int32, buf, count uint64) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return fs.read(f, vfs.NewBuf(m, buf, count), intr)
}

func (fs *Files) read(f *vfs.File, dst vfs.Buf, intr <-chan struct{}) int64 {
	if fs.signals != nil {
		vfs.SetSignalReader(f, fs.signals) // a signalfd reads its reader's signals
	}
	return ret(blockingIO(f, vfs.EventsReadable, intr, func() (int64, error) { return f.Read(dst) }))
}

// Write is write(2). Writing to a pipe without readers returns -EPIPE;
// sending SIGPIPE is the caller's business.
func (fs *Files) Write(m mem.Memory, intr <-chan struct{}, fd int32, buf, count uint64) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return fs.write(f, vfs.NewBuf(m, buf, count), intr)
}

func (fs *Files) write(f *vfs.File, src vfs.Buf, intr <-chan struct{}) int64 {
	return ret(fs.writeAll(f, src, intr))
}

// writeAll writes all of src to f as the calling process, waiting for
// room unless f is non-blocking. A Unix socket's messages carry the
// writer's credentials (net/core/scm.c scm_send, which write(2),
// sendfile(2) and splice(2) reach by sock_sendmsg): it sends as send(2)
// with no flags.
func (fs *Files) writeAll(f *vfs.File, src vfs.Buf, intr <-chan struct{}) (int64, error) {
	if s := socket.Of(f); s != nil && s.Domain() == socket.AFUnix {
		return fs.send(intr, f, s, src, &socket.Msg{})
	}
	return writeAll(f, src, intr)
}

// Pread64 is pread64(2): ESPIPE for pipes and other streams.
func (fs *Files) Pread64(m mem.Memory, fd int32, buf, count uint64, off int64) int64 {
	if off < 0 {
		return errno(vfs.EINVAL)
	}
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return ret(f.ReadAt(vfs.NewBuf(m, buf, count), off))
}

// Pwrite64 is pwrite64(2).
func (fs *Files) Pwrite64(m mem.Memory, fd int32, buf, count uint64, off int64) int64 {
	if off < 0 {
		return errno(vfs.EINVAL)
	}
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return ret(f.WriteAt(vfs.NewBuf(m, buf, count), off))
}

// readIovec reads an array of struct iovec (include/uapi/linux/uio.h:
// iov_base u64 at 0, iov_len u64 at 8).
func readIovec(m mem.Memory, addr, n uint64) ([]vfs.Iovec, error) {
	if n > uioMaxIov {
		return nil, vfs.EINVAL
	}
	if n == 0 {
		return nil, nil
	}
	b := make([]byte, 16*n)
	if err := m.CopyIn(addr, b); err != nil {
		return nil, vfs.EFAULT
	}
	iov := make([]vfs.Iovec, n)
	for i := range iov {
		iov[i] = vfs.Iovec{Base: binary.LittleEndian.Uint64(b[16*i:]), Len: binary.LittleEndian.Uint64(b[16*i+8:])}
		if int64(iov[i].Len) < 0 {
			return nil, vfs.EINVAL
		}
		// access_ok on every segment before any I/O (lib/iov_iter.c
		// __import_iovec): a segment past the user address space fails
		// the whole call with EFAULT.
		if iov[i].Len > taskSizeMax || iov[i].Base > taskSizeMax-iov[i].Len {
			return nil, vfs.EFAULT
		}
	}
	return iov, nil
}

// taskSizeMax is x86-64's TASK_SIZE_MAX with 4-level paging, the end of
// the user address space access_ok checks against
// (arch/x86/include/asm/page_64_types.h).
const taskSizeMax = 1<<47 - 4096

// Readv is readv(2).
func (fs *Files) Readv(m mem.Memory, intr <-chan struct{}, fd int32, iovAddr, iovcnt uint64) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	iov, err := readIovec(m, iovAddr, iovcnt)
	if err != nil {
		return ret(0, err)
	}
	dst := vfs.NewBufIovec(m, iov)
	if dst.Len() == 0 {
		if !f.Readable() {
			return errno(vfs.EBADF)
		}
		return 0 // Linux does not call the file for nothing (do_iter_read)
	}
	return fs.read(f, dst, intr)
}

// Writev is writev(2).
func (fs *Files) Writev(m mem.Memory, intr <-chan struct{}, fd int32, iovAddr, iovcnt uint64) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	iov, err := readIovec(m, iovAddr, iovcnt)
	if err != nil {
		return ret(0, err)
	}
	src := vfs.NewBufIovec(m, iov)
	if src.Len() == 0 {
		if !f.Writable() {
			return errno(vfs.EBADF)
		}
		return 0
	}
	return fs.write(f, src, intr)
}

// Preadv is preadv(2) (the offset already joined from its two halves).
func (fs *Files) Preadv(m mem.Memory, fd int32, iovAddr, iovcnt uint64, off int64) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	iov, err := readIovec(m, iovAddr, iovcnt)
	if err != nil {
		return ret(0, err)
	}
	return ret(f.ReadAt(vfs.NewBufIovec(m, iov), off))
}

// Pwritev is pwritev(2).
func (fs *Files) Pwritev(m mem.Memory, fd int32, iovAddr, iovcnt uint64, off int64) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	iov, err := readIovec(m, iovAddr, iovcnt)
	if err != nil {
		return ret(0, err)
	}
	return ret(f.WriteAt(vfs.NewBufIovec(m, iov), off))
}

// Lseek is lseek(2).
func (fs *Files) Lseek(fd int32, off int64, whence uint32) int64 {
	f, err := fs.file(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return ret(f.Seek(off, int(whence)))
}

// Sendfile is sendfile(2): it copies up to count bytes from inFd, at
// *offAddr if offAddr is not 0 (then updating it), else at inFd's offset,
// to outFd.
func (fs *Files) Sendfile(m mem.Memory, intr <-chan struct{}, outFd, inFd int32, offAddr, count uint64) int64 {
	in, out, e := fs.ioPair(inFd, outFd)
	if in == nil {
		return e
	}
	defer in.DecRef()
	defer out.DecRef()
	if out.Flags()&linux.OAppend != 0 {
		return errno(vfs.EINVAL)
	}
	off := int64(-1)
	if offAddr != 0 {
		v, err := mem.ReadUint64(m, offAddr)
		if err != nil {
			return errno(vfs.EFAULT)
		}
		if off = int64(v); off < 0 {
			return errno(vfs.EINVAL)
		}
	}
	if off < 0 && in.Stat().Mode&linux.SIfmt == linux.SIfifo {
		// A pipe has no splice_read (fs/pipe.c pipefifo_fops), which
		// sendfile's in_fd needs (do_splice_read, fs/splice.c): EINVAL,
		// and callers such as Go's io.Copy fall back to read and write.
		// (With an offset, the ESPIPE of the read comes first.)
		return errno(vfs.EINVAL)
	}
	if !vfs.Spliceable(in) {
		return errno(vfs.EINVAL)
	}
	count = min(count, vfs.MaxRW)
	buf := make([]byte, min(count, 64<<10))
	var done int64
	var ferr error
	for uint64(done) < count {
		chunk := vfs.BytesBuf(buf[:min(count-uint64(done), uint64(len(buf)))])
		var n int64
		if off >= 0 {
			n, ferr = in.ReadAt(chunk, off+done)
		} else {
			n, ferr = blockingIO(in, vfs.EventsReadable, intr, func() (int64, error) { return in.Read(chunk) })
		}
		if n <= 0 {
			break
		}
		var w int64
		var err error
		if vfs.Spliceable(out) {
			w, err = fs.writeAll(out, chunk.TakeFirst(n), intr)
		} else {
			// Linux reads first, then finds out_fd has no splice_write
			// (do_splice_from, fs/splice.c): EINVAL, the input as it
			// was. (Written 8 bytes at a time, a 2 GiB sendfile to an
			// eventfd kept the kernel busy for hours: fuzzer seed 1210.)
			err = vfs.EINVAL
		}
		done += w
		if err != nil || w < n {
			if off < 0 && !in.Impl().Stream() {
				in.Seek(w-n, linux.SeekCur) // give back what was not written
			}
			ferr = err
			break
		}
		if done > 0 && in.Impl().Stream() {
			break
		}
	}
	if offAddr != 0 {
		if err := mem.WriteUint64(m, offAddr, uint64(off+done)); err != nil {
			return errno(vfs.EFAULT)
		}
	}
	if done == 0 && ferr != nil {
		return ret(0, ferr)
	}
	return done
}

// CopyFileRange is copy_file_range(2): it copies up to count bytes from
// the regular file inFd to the regular file outFd, at *offInAddr and
// *offOutAddr when they are not 0 (then updating them), else at the files'
// offsets (then moving them). It stops at the end of the input and
// refuses overlapping ranges of one file (EINVAL). The checks and their
// order are vfs_copy_file_range's and generic_copy_file_checks' in Linux's
// fs/read_write.c.
func (fs *Files) CopyFileRange(m mem.Memory, inFd int32, offInAddr uint64, outFd int32, offOutAddr, count uint64, flags uint32) int64 {
	in, err := fs.ioFile(inFd)
	if err != nil {
		return ret(0, err)
	}
	defer in.DecRef()
	out, err := fs.ioFile(outFd)
	if err != nil {
		return ret(0, err)
	}
	defer out.DecRef()
	offIn, offOut := in.Offset(), out.Offset()
	for _, p := range []struct {
		addr uint64
		off  *int64
	}{{offInAddr, &offIn}, {offOutAddr, &offOut}} {
		if p.addr != 0 {
			v, err := mem.ReadUint64(m, p.addr)
			if err != nil {
				return errno(vfs.EFAULT)
			}
			*p.off = int64(v)
		}
	}
	if flags != 0 {
		return errno(vfs.EINVAL)
	}
	ai, ao := in.Stat(), out.Stat()
	switch {
	case ai.Mode&linux.SIfmt == linux.SIfdir || ao.Mode&linux.SIfmt == linux.SIfdir:
		return errno(vfs.EISDIR)
	case ai.Mode&linux.SIfmt != linux.SIfreg || ao.Mode&linux.SIfmt != linux.SIfreg:
		return errno(vfs.EINVAL)
	case !in.Readable() || !out.Writable() || out.Flags()&linux.OAppend != 0:
		return errno(vfs.EBADF)
	case uint64(offIn)+count < uint64(offIn) || uint64(offOut)+count < uint64(offOut):
		return errno(vfs.EOVERFLOW)
	}
	if offIn >= ai.Size {
		count = 0
	} else {
		count = min(count, uint64(ai.Size-offIn))
	}
	if ai.Dev == ao.Dev && ai.Ino == ao.Ino && offOut+int64(count) > offIn && offOut < offIn+int64(count) {
		return errno(vfs.EINVAL)
	}
	if offIn < 0 || offOut < 0 {
		return errno(vfs.EINVAL)
	}
	count = min(count, vfs.MaxRW)
	buf := make([]byte, min(count, 64<<10))
	var done int64
	var ferr error
	for uint64(done) < count {
		chunk := vfs.BytesBuf(buf[:min(count-uint64(done), uint64(len(buf)))])
		n, err := in.ReadAt(chunk, offIn+done)
		if n <= 0 {
			ferr = err
			break
		}
		w, err := out.WriteAt(chunk.TakeFirst(n), offOut+done)
		done += max(w, 0)
		if err != nil || w < n {
			ferr = err
			break
		}
	}
	if done == 0 {
		return ret(0, ferr)
	}
	for _, p := range []struct {
		f    *vfs.File
		addr uint64
		off  int64
	}{{in, offInAddr, offIn + done}, {out, offOutAddr, offOut + done}} {
		if p.addr == 0 {
			p.f.Seek(p.off, linux.SeekSet)
		} else if err := mem.WriteUint64(m, p.addr, uint64(p.off)); err != nil {
			return errno(vfs.EFAULT)
		}
	}
	return done
}
