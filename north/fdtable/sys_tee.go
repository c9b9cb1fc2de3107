package fdtable

import (
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// System call numbers of tee(2) and vmsplice(2).
const (
	sysTee      = 276
	sysVmsplice = 278
)

// spliceAll are the flags splice, tee and vmsplice know (SPLICE_F_ALL).
const spliceAll = spliceMove | spliceNonblock | spliceMore | spliceGift

// Tee is tee(2) (fs/splice.c do_tee): up to n of the bytes in the pipe
// fdIn copied into the pipe fdOut, staying in fdIn. EINVAL for unknown
// flags, 0 for n 0, EBADF for an end that is not open the right way,
// EINVAL unless both are ends of two different pipes. It waits for bytes
// in fdIn (0 once its writers are gone) and for room in fdOut (EPIPE,
// with SIGPIPE from the caller, once its readers are gone), unless
// SPLICE_F_NONBLOCK or either end is O_NONBLOCK (EAGAIN).
func (fs *Files) Tee(intr <-chan struct{}, fdIn, fdOut int32, n uint64, flags uint32) int64 {
	if flags&^spliceAll != 0 {
		return errno(vfs.EINVAL)
	}
	if n == 0 {
		return 0
	}
	in, out, e := fs.ioPair(fdIn, fdOut)
	if in == nil {
		return e
	}
	defer in.DecRef()
	defer out.DecRef()
	if !vfs.IsPipe(in) || !vfs.IsPipe(out) || vfs.SamePipe(in, out) {
		return errno(vfs.EINVAL)
	}
	nonblock := flags&spliceNonblock != 0 || in.NonBlocking() || out.NonBlocking()
	bp := spliceBufs.Get().(*[]byte)
	defer spliceBufs.Put(bp)
	buf := (*bp)[:min(n, spliceChunk)]
	k, err := waitFor(in, nonblock, vfs.EventsReadable, intr, func() (int64, error) {
		k, err := vfs.PipePeek(in, buf)
		return int64(k), err
	})
	if err != nil || k == 0 {
		return ret(0, err)
	}
	room, err := waitFor(out, nonblock, vfs.EventsWritable, intr, func() (int64, error) {
		r, err := vfs.PipeRoom(out)
		if err == nil && r == 0 {
			return 0, vfs.EAGAIN
		}
		return int64(r), err
	})
	if err != nil {
		return ret(0, err)
	}
	// Bytes the writer added meanwhile are for the next call.
	k, err = func() (int64, error) {
		k, err := vfs.PipePeek(in, buf[:min(k, room)])
		return int64(k), err
	}()
	if err != nil || k == 0 {
		return ret(0, err)
	}
	return ret(out.Write(vfs.BytesBuf(buf[:k])))
}

// Vmsplice is vmsplice(2) (fs/splice.c): the caller's iovecs written
// into the pipe fd if it is open for writing, else read out of it.
// EINVAL for unknown flags, EBADF for a descriptor that is not open for
// reading or writing or is no pipe; nothing to move is 0. Only
// SPLICE_F_NONBLOCK keeps it from waiting (EAGAIN): the pipe's O_NONBLOCK
// does not (wait_for_space, splice_from_pipe_next). Bytes are copied
// (Linux gives the pipe references to the pages: SPLICE_F_GIFT is only
// a hint).
func (fs *Files) Vmsplice(m mem.Memory, intr <-chan struct{}, fd int32, iovAddr, n uint64, flags uint32) int64 {
	if flags&^spliceAll != 0 {
		return errno(vfs.EINVAL)
	}
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	write := f.Writable()
	if !write && !f.Readable() {
		return errno(vfs.EBADF)
	}
	iov, err := readIovec(m, iovAddr, n)
	if err != nil {
		return ret(0, err)
	}
	b := vfs.NewBufIovec(m, iov)
	if b.Len() == 0 {
		return 0
	}
	if !vfs.IsPipe(f) {
		return errno(vfs.EBADF)
	}
	nonblock := flags&spliceNonblock != 0
	if write {
		return ret(waitFor(f, nonblock, vfs.EventsWritable, intr, func() (int64, error) { return f.Write(b) }))
	}
	return ret(waitFor(f, nonblock, vfs.EventsReadable, intr, func() (int64, error) { return f.Read(b) }))
}
