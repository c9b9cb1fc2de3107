package fdtable

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// fuzzPaths are places worth reaching; fuzz input may also spell its own.
var fuzzPaths = []string{
	"/", "/etc/hosts", "/etc/link", "/etc", "/loop1", "/dangling", "/tmp", "/tmp/a", "/tmp/a/b",
	"/dev/null", "/dev/zero", "/dev/urandom", "/dev/stdout", "/proc/self/fd", "/proc/self/fd/3",
	"/proc/self/exe", "usr/lib", "..", ".", "", "/usr/lib/a", "/tmp/a/../b/", "x",
}

// fuzzReader hands out the fuzz input a little at a time.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *fuzzReader) u32() uint32 {
	return uint32(r.byte()) | uint32(r.byte())<<8 | uint32(r.byte())<<16 | uint32(r.byte())<<24
}

func (r *fuzzReader) u64() uint64 { return uint64(r.u32()) | uint64(r.u32())<<32 }

// FuzzFileCalls feeds random sequences of file system calls with random
// paths, flags, descriptors, offsets, lengths and pointers (some bad) to
// one process. Nothing may panic or block, and every result must be a
// count or a Linux errno.
func FuzzFileCalls(f *testing.F) {
	f.Add([]byte("\x00\x01\x41\x00\x00\x00\x10\x03\x00\x00\x00"))
	f.Add([]byte("\x00\x06\x42\x02\x00\x00\x01\x03\x03\x00\x00\x00\x02\x03\x00\x00\x00\xff"))
	f.Add([]byte("\x0d\x00\x00\x00\x00\x0e\x03\x00\x00\x00\x01\x00\x00\x00\x00\x01\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := newEnv(t)
		intr := make(chan struct{})
		close(intr) // anything that would block returns EINTR instead
		r := &fuzzReader{data}
		scratch := e.alloc(64 << 10)
		addr := func() uint64 {
			switch k := r.byte(); k % 8 {
			case 0:
				return badAddr
			case 1:
				return memBase + memSize - uint64(r.byte()) // near the end
			case 2:
				return 0
			default:
				return scratch + uint64(r.u32()%(60<<10))
			}
		}
		path := func() uint64 {
			k := r.byte()
			if k < 200 {
				return e.str(fuzzPaths[int(k)%len(fuzzPaths)])
			}
			n := int(r.byte())
			b := make([]byte, 0, n)
			for i := 0; i < n; i++ {
				b = append(b, r.byte()|1) // no NULs inside
			}
			if k == 255 {
				return e.put(b) // maybe unterminated
			}
			return e.str(string(b))
		}
		fd := func() int32 {
			k := r.byte()
			if k == 255 {
				return linux.AtFdcwd
			}
			return int32(k%12) - 1
		}
		length := func() uint64 {
			if k := r.byte(); k == 255 {
				return r.u64()
			} else {
				return uint64(k) * 97
			}
		}
		for steps := 0; len(r.b) > 0 && steps < 64; steps++ {
			var res int64
			switch op := r.byte() % 30; op {
			case 0:
				res = e.f.Openat(e.m, intr, fd(), path(), r.u32(), r.u32())
			case 1:
				res = e.f.Read(e.m, intr, fd(), addr(), length())
			case 2:
				res = e.f.Write(e.m, intr, fd(), addr(), length())
			case 3:
				res = e.f.Pread64(e.m, fd(), addr(), length(), int64(r.u64()))
			case 4:
				res = e.f.Pwrite64(e.m, fd(), addr(), length()%(1<<20), int64(r.u32()))
			case 5:
				res = e.f.Lseek(fd(), int64(r.u64()), uint32(r.byte()%6))
			case 6:
				res = e.f.Close(fd())
			case 7:
				res = e.f.Dup3(fd(), fd(), uint32(r.byte())<<12)
			case 8:
				res = e.f.Getdents64(e.m, fd(), addr(), length())
			case 9:
				res = e.f.Mkdirat(e.m, fd(), path(), r.u32())
			case 10:
				res = e.f.Unlinkat(e.m, fd(), path(), uint32(r.byte())<<2)
			case 11:
				res = e.f.Renameat2(e.m, fd(), path(), fd(), path(), uint32(r.byte()%8))
			case 12:
				res = e.f.Symlinkat(e.m, path(), fd(), path())
			case 13:
				res = e.f.Readlinkat(e.m, fd(), path(), addr(), int32(r.u32()))
			case 14:
				res = e.f.Newfstatat(e.m, fd(), path(), addr(), uint32(r.byte())<<8)
			case 15:
				res = e.f.Statx(e.m, fd(), path(), uint32(r.byte())<<8, r.u32(), addr())
			case 16:
				res = e.f.Fcntl(e.m, fd(), uint32(r.byte()%12)|uint32(r.byte()%2)*1024, uint64(r.u32()))
			case 17:
				res = e.f.Ioctl(e.m, fd(), 0x5400|uint32(r.byte()%0x60), addr())
			case 18:
				res = e.f.Pipe2(e.m, addr(), uint32(r.byte())<<11)
			case 19:
				res = e.f.EpollCreate1(uint32(r.byte()) << 19)
			case 20:
				res = e.f.EpollCtl(e.m, fd(), uint32(r.byte()%4), fd(), addr())
			case 21:
				res = e.f.EpollPwait(e.m, intr, fd(), addr(), int32(r.byte()%4), int32(r.byte()%2)-1)
			case 22:
				res = e.f.Eventfd2(r.u32(), uint32(r.byte()))
			case 23:
				res = e.f.Ftruncate(fd(), int64(r.u32()))
			case 24:
				res = e.f.Chdir(e.m, path())
			case 25:
				res = e.f.Getcwd(e.m, addr(), length())
			case 26:
				res = e.f.Readv(e.m, intr, fd(), addr(), uint64(r.byte()%4))
			case 27:
				res = e.f.Writev(e.m, intr, fd(), addr(), uint64(r.byte()%4))
			case 28:
				res = e.f.Faccessat2(e.m, fd(), path(), uint32(r.byte()%9), uint32(r.byte())<<8)
			case 29:
				n := uint64(r.byte() % 4)
				p := e.alloc(8 * int(n))
				for i := uint64(0); i < n; i++ {
					binary.LittleEndian.PutUint32(e.m.Data[p-memBase+8*i:], uint32(fd()))
					binary.LittleEndian.PutUint16(e.m.Data[p-memBase+8*i+4:], uint16(r.byte()))
				}
				res = e.f.Ppoll(e.m, intr, p, n, 0)
			}
			if res < 0 && (res < -133) {
				t.Fatalf("step %d: result %d is not an errno", steps, res)
			}
			if e.next > memBase+memSize-(64<<10) {
				break
			}
		}
		e.f.Release()
	})
}
