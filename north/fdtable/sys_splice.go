package fdtable

import (
	"sync"

	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// sysSplice is splice(2)'s number.
const sysSplice = 275

// splice(2) flags (include/linux/splice.h).
const (
	spliceMove     = 1
	spliceNonblock = 2
	spliceMore     = 4
	spliceGift     = 8
)

// spliceChunk bounds what one call moves: four default pipe sizes
// (Linux moves up to the pipe's capacity; Go's pipes for splice hold
// 1 MiB). Guest instructions for 64 MiB from a Unix socket to TCP
// through Go's io.Copy (QEMU -icount): 300M with 64 KiB, 256M with 256 KiB.
const spliceChunk = 4 * vfs.PipeSize

// Splice is splice(2): it moves bytes from a pipe to a file or socket,
// or from a file or socket into a pipe. Bytes leave a pipe only once the
// other side took them. SPLICE_F_NONBLOCK makes the pipe's side (and a
// socket's) non-blocking; without it the call waits as read and write
// would.
func (fs *Files) Splice(m mem.Memory, intr <-chan struct{}, fdIn int32, offIn uint64, fdOut int32, offOut uint64, n uint64, flags uint32) int64 {
	if flags&^(spliceMove|spliceNonblock|spliceMore|spliceGift) != 0 {
		return errno(vfs.EINVAL)
	}
	in, out, e := fs.ioPair(fdIn, fdOut)
	if in == nil {
		return e
	}
	defer in.DecRef()
	defer out.DecRef()
	inPipe, outPipe := vfs.IsPipe(in), vfs.IsPipe(out)
	switch {
	case !inPipe && !outPipe:
		return errno(vfs.EINVAL)
	case inPipe && offIn != 0, outPipe && offOut != 0:
		return errno(vfs.ESPIPE)
	case n == 0:
		return 0
	}
	readOff, err := spliceOffset(m, offIn)
	if err != nil {
		return ret(0, err)
	}
	writeOff, err := spliceOffset(m, offOut)
	if err != nil {
		return ret(0, err)
	}
	nonblock := flags&spliceNonblock != 0
	bp := spliceBufs.Get().(*[]byte)
	defer spliceBufs.Put(bp)
	buf := (*bp)[:min(n, spliceChunk)]
	var moved int64
	if inPipe {
		// Look at the pipe's bytes, give them to out, take from the
		// pipe what out took.
		k, err := waitFor(in, nonblock || in.NonBlocking(), vfs.EventsReadable, intr, func() (int64, error) {
			k, err := vfs.PipePeek(in, buf)
			return int64(k), err
		})
		if err != nil || k == 0 {
			return ret(0, err)
		}
		moved, err = fs.spliceWrite(out, vfs.BytesBuf(buf[:k]), writeOff, nonblock, intr)
		if err != nil {
			return ret(0, err)
		}
		vfs.PipeDiscard(in, int(moved))
	} else {
		room, err := waitFor(out, nonblock || out.NonBlocking(), vfs.EventsWritable, intr, func() (int64, error) {
			r, err := vfs.PipeRoom(out)
			if err == nil && r == 0 {
				return 0, vfs.EAGAIN
			}
			return int64(r), err
		})
		if err != nil {
			return ret(0, err)
		}
		chunk := vfs.BytesBuf(buf[:min(int64(len(buf)), room)])
		var k int64
		if readOff >= 0 {
			k, err = in.ReadAt(chunk, readOff)
		} else {
			k, err = waitFor(in, nonblock || in.NonBlocking(), vfs.EventsReadable, intr, func() (int64, error) { return in.Read(chunk) })
		}
		if err != nil || k == 0 {
			return ret(0, err)
		}
		if moved, err = out.Write(chunk.TakeFirst(k)); err != nil {
			return ret(0, err)
		}
	}
	if offIn != 0 && mem.WriteUint64(m, offIn, uint64(readOff+moved)) != nil {
		return errno(vfs.EFAULT)
	}
	if offOut != 0 && mem.WriteUint64(m, offOut, uint64(writeOff+moved)) != nil {
		return errno(vfs.EFAULT)
	}
	return moved
}

// spliceBufs holds the buffers splice moves bytes through: one that each
// call allocated and zeroed cost a pass over its bytes and the garbage
// collector's work, the most of a big transfer's kernel time after the
// copies themselves.
var spliceBufs = sync.Pool{New: func() any { b := make([]byte, spliceChunk); return &b }}

// spliceOffset reads an offset argument: -1 for none.
func spliceOffset(m mem.Memory, addr uint64) (int64, error) {
	if addr == 0 {
		return -1, nil
	}
	v, err := mem.ReadUint64(m, addr)
	if err != nil {
		return 0, vfs.EFAULT
	}
	if int64(v) < 0 {
		return 0, vfs.EINVAL
	}
	return int64(v), nil
}

// spliceWrite writes src to out, at off unless it is -1, waiting for
// room unless nonblock; it returns what out took. A Unix socket's
// messages carry the calling process's credentials, as a write's
// (splice_to_socket reaches unix_stream_sendmsg and unix_dgram_sendmsg).
func (fs *Files) spliceWrite(out *vfs.File, src vfs.Buf, off int64, nonblock bool, intr <-chan struct{}) (int64, error) {
	if off >= 0 {
		return out.WriteAt(src, off)
	}
	write := func() (int64, error) { return out.Write(src) }
	if s := socket.Of(out); s != nil && s.Domain() == socket.AFUnix {
		write = func() (int64, error) { return s.Send(sockCtx{fs}, src, &socket.Msg{}) }
	}
	return waitFor(out, nonblock || out.NonBlocking(), vfs.EventsWritable, intr, write)
}

// waitFor runs op until it returns something other than EAGAIN, waiting
// for f's events in mask between tries, or once if nonblock.
func waitFor(f *vfs.File, nonblock bool, mask vfs.Events, intr <-chan struct{}, op func() (int64, error)) (int64, error) {
	return sockWait(f, nonblock, mask, intr, 0, op)
}

// ioPair takes references to the two files of a transfer from fdIn to
// fdOut (sendfile, splice, tee): EBADF for a descriptor not open, or in
// not open for reading or out for writing. On failure in is nil and e the
// negated errno; otherwise the caller drops both references.
func (fs *Files) ioPair(fdIn, fdOut int32) (in, out *vfs.File, e int64) {
	in, err := fs.ioFile(fdIn)
	if err != nil {
		return nil, nil, ret(0, err)
	}
	out, err = fs.ioFile(fdOut)
	if err != nil {
		in.DecRef()
		return nil, nil, ret(0, err)
	}
	if !in.Readable() || !out.Writable() {
		in.DecRef()
		out.DecRef()
		return nil, nil, errno(vfs.EBADF)
	}
	return in, out, 0
}
