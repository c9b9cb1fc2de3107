package fdtable

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

func TestDup(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/etc/hosts", linux.ORdonly|linux.OCloexec, 0)
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"dup", e.f.Dup(fd), 4},
		{"dup bad", e.f.Dup(99), neg(linux.EBADF)},
		{"dup2", e.f.Dup2(fd, 10), 10},
		{"dup2 same", e.f.Dup2(fd, fd), int64(fd)},
		{"dup2 same bad", e.f.Dup2(50, 50), neg(linux.EBADF)},
		{"dup2 bad old", e.f.Dup2(50, 51), neg(linux.EBADF)},
		{"dup2 negative new", e.f.Dup2(fd, -1), neg(linux.EBADF)},
		{"dup2 over open", e.f.Dup2(0, 10), 10},
		{"dup3 equal", e.f.Dup3(fd, fd, 0), neg(linux.EINVAL)},
		{"dup3 bad flags", e.f.Dup3(fd, 11, linux.ONonblock), neg(linux.EINVAL)},
		{"dup3 cloexec", e.f.Dup3(fd, 11, linux.OCloexec), 11},
		{"F_DUPFD", e.f.Fcntl(e.m, fd, linux.FDupfd, 20), 20},
		{"F_DUPFD taken", e.f.Fcntl(e.m, fd, linux.FDupfd, 20), 21},
		{"F_DUPFD negative", e.f.Fcntl(e.m, fd, linux.FDupfd, uint64(0xffffffff)), neg(linux.EINVAL)},
		{"F_DUPFD_CLOEXEC", e.f.Fcntl(e.m, fd, linux.FDupfdCloexec, 30), 30},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// Duplicates share the offset and status flags; the close-on-exec
	// flag is the descriptor's own.
	e.f.Lseek(fd, 4, linux.SeekSet)
	if off := e.f.Lseek(4, 0, linux.SeekCur); off != 4 {
		t.Errorf("offset through dup = %d", off)
	}
	for fd, want := range map[int32]int64{3: 1, 4: 0, 11: 1, 20: 0, 30: 1} {
		if got := e.f.Fcntl(e.m, fd, linux.FGetfd, 0); got != want {
			t.Errorf("F_GETFD(%d) = %d, want %d", fd, got, want)
		}
	}
	// /dev/console is what dup2(0, 10) put at 10.
	buf := e.alloc(linux.SizeofStat)
	e.f.Fstat(e.m, 10, buf)
	if decodeStat(e.get(buf, linux.SizeofStat)).Rdev != linux.Mkdev(5, 1) {
		t.Error("descriptor 10 is not the console after dup2(0, 10)")
	}
}

func TestFcntl(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/tmp/f", linux.OCreat|linux.ORdwr, 0o644)
	if fl := e.f.Fcntl(e.m, fd, linux.FGetfl, 0); fl != linux.ORdwr|linux.OLargefile {
		t.Errorf("F_GETFL = %#x", fl)
	}
	e.f.Fcntl(e.m, fd, linux.FSetfl, linux.ONonblock|linux.OAppend|linux.ORdonly|linux.OCreat)
	if fl := e.f.Fcntl(e.m, fd, linux.FGetfl, 0); fl != linux.ORdwr|linux.OLargefile|linux.ONonblock|linux.OAppend {
		t.Errorf("F_GETFL after F_SETFL = %#x (the access mode and O_CREAT must not change)", fl)
	}
	e.f.Fcntl(e.m, fd, linux.FSetfd, linux.FdCloexec)
	if r := e.f.Fcntl(e.m, fd, linux.FGetfd, 0); r != linux.FdCloexec {
		t.Errorf("F_GETFD = %d", r)
	}
	e.f.Fcntl(e.m, fd, linux.FSetfd, 0)
	if r := e.f.Fcntl(e.m, fd, linux.FGetfd, 0); r != 0 {
		t.Errorf("F_GETFD = %d", r)
	}
	// Locks: F_GETLK reports unlocked; F_SETLK succeeds.
	lk := make([]byte, linux.SizeofFlock)
	binary.LittleEndian.PutUint16(lk, linux.FWrlck)
	lkAddr := e.put(lk)
	if r := e.f.Fcntl(e.m, fd, linux.FGetlk, lkAddr); r != 0 || binary.LittleEndian.Uint16(e.get(lkAddr, 2)) != linux.FUnlck {
		t.Errorf("F_GETLK = %d, l_type %d", r, binary.LittleEndian.Uint16(e.get(lkAddr, 2)))
	}
	binary.LittleEndian.PutUint16(lk, linux.FWrlck)
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"F_SETLK", e.f.Fcntl(e.m, fd, linux.FSetlk, e.put(lk)), 0},
		{"F_SETLKW", e.f.Fcntl(e.m, fd, linux.FSetlkw, e.put(lk)), 0},
		{"F_SETLK bad pointer", e.f.Fcntl(e.m, fd, linux.FSetlk, badAddr), neg(linux.EFAULT)},
		{"unknown command", e.f.Fcntl(e.m, fd, 9999, 0), neg(linux.EINVAL)},
		{"bad fd", e.f.Fcntl(e.m, 99, linux.FGetfl, 0), neg(linux.EBADF)},
		{"F_GETPIPE_SZ on a file", e.f.Fcntl(e.m, fd, linux.FGetpipeSz, 0), neg(linux.EBADF)},
		{"F_GETOWN", e.f.Fcntl(e.m, fd, linux.FGetown, 0), 0},
		{"flock", e.f.Flock(nil, fd, 2), 0},
		{"flock bad op", e.f.Flock(nil, fd, 3), neg(linux.EINVAL)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	bad := make([]byte, linux.SizeofFlock)
	binary.LittleEndian.PutUint16(bad, 7)
	if r := e.f.Fcntl(e.m, fd, linux.FSetlk, e.put(bad)); r != neg(linux.EINVAL) {
		t.Errorf("F_SETLK with l_type 7 = %d", r)
	}
	// O_PATH descriptors allow only a few commands.
	p := e.open("/etc", linux.OPath, 0)
	if r := e.f.Fcntl(e.m, p, linux.FSetfl, 0); r != neg(linux.EBADF) {
		t.Errorf("F_SETFL on O_PATH = %d", r)
	}
	if r := e.f.Fcntl(e.m, p, linux.FGetfl, 0); r&linux.OPath == 0 {
		t.Errorf("F_GETFL on O_PATH = %#x", r)
	}
	// Pipe sizes.
	fds := e.alloc(8)
	e.f.Pipe2(e.m, fds, 0)
	r := int32(e.u32(fds))
	if sz := e.f.Fcntl(e.m, r, linux.FGetpipeSz, 0); sz != 65536 {
		t.Errorf("F_GETPIPE_SZ = %d", sz)
	}
	if sz := e.f.Fcntl(e.m, r, linux.FSetpipeSz, 5000); sz != 8192 {
		t.Errorf("F_SETPIPE_SZ(5000) = %d, want 8192", sz)
	}
	// Past pipe-max-size with CAP_SYS_RESOURCE (a process without
	// credentials is root); past 2 GiB no one.
	if sz := e.f.Fcntl(e.m, r, linux.FSetpipeSz, 1<<30); sz != 1<<30 {
		t.Errorf("F_SETPIPE_SZ(1 GiB) as root = %d", sz)
	}
	if sz := e.f.Fcntl(e.m, r, linux.FSetpipeSz, 1<<31+1); sz != neg(linux.EINVAL) {
		t.Errorf("F_SETPIPE_SZ(2 GiB + 1) = %d, want EINVAL", sz)
	}
}

// TestPipeUserPages: an unprivileged user's pipes past
// pipe-user-pages-soft get two pages and may not grow (fs/pipe.c
// alloc_pipe_info, pipe_set_size); closing them gives the pages back.
func TestPipeUserPages(t *testing.T) {
	e := newEnv(t)
	e.f.SetCred(procCred{uid: [3]uint32{54321, 54321, 54321}, gid: [3]uint32{1, 1, 1}})
	if err := e.f.SetLimit(4096); err != nil {
		t.Fatal(err)
	}
	fds := e.alloc(8)
	var ends []int32
	pipe := func() (int32, int64) {
		if r := e.f.Pipe2(e.m, fds, 0); r != 0 {
			t.Fatalf("pipe2 = %d", r)
		}
		r, w := int32(e.u32(fds)), int32(e.u32(fds+4))
		ends = append(ends, r, w)
		return r, e.f.Fcntl(e.m, r, linux.FGetpipeSz, 0)
	}
	r, _ := pipe()
	if sz := e.f.Fcntl(e.m, r, linux.FSetpipeSz, 2<<20); sz != neg(linux.EPERM) {
		t.Errorf("F_SETPIPE_SZ(2 MiB) unprivileged = %d, want EPERM", sz)
	}
	full := 1
	for ; full < 2000; full++ {
		if _, sz := pipe(); sz != 65536 {
			if sz != 8192 {
				t.Fatalf("pipe %d: F_GETPIPE_SZ = %d, want 8192", full+1, sz)
			}
			break
		}
	}
	if full != 16384/16 {
		t.Errorf("%d pipes of 64 KiB before a small one, want %d", full, 16384/16)
	}
	small := ends[len(ends)-2]
	if sz := e.f.Fcntl(e.m, small, linux.FSetpipeSz, 65536); sz != neg(linux.EPERM) {
		t.Errorf("growing a pipe over the soft limit = %d, want EPERM", sz)
	}
	if sz := e.f.Fcntl(e.m, small, linux.FSetpipeSz, 4096); sz != 4096 {
		t.Errorf("shrinking a pipe over the soft limit = %d", sz)
	}
	for _, fd := range ends[:8] {
		e.f.Close(fd)
	}
	if _, sz := pipe(); sz != 65536 {
		t.Errorf("after closing four pipes: F_GETPIPE_SZ = %d, want 65536", sz)
	}
	for _, fd := range ends[8:] {
		e.f.Close(fd)
	}
}

func TestIoctl(t *testing.T) {
	e := newEnv(t)
	buf := e.alloc(64)
	if r := e.f.Ioctl(e.m, 0, linux.TCGETS, buf); r != 0 {
		t.Fatalf("TCGETS on the console = %d", r)
	}
	got := linux.UnmarshalTermios(e.get(buf, linux.SizeofTermios))
	if got != linux.DefaultTermios {
		t.Errorf("TCGETS = %+v, want Linux's default termios", got)
	}
	// Raw mode sticks.
	raw := got
	raw.Lflag = 0
	if r := e.f.Ioctl(e.m, 0, linux.TCSETS, e.put(raw.Marshal())); r != 0 {
		t.Errorf("TCSETS = %d", r)
	}
	e.f.Ioctl(e.m, 1, linux.TCGETS, buf)
	if linux.UnmarshalTermios(e.get(buf, linux.SizeofTermios)).Lflag != 0 {
		t.Error("TCSETS did not stick")
	}
	if r := e.f.Ioctl(e.m, 1, linux.TIOCGWINSZ, buf); r != 0 || binary.LittleEndian.Uint16(e.get(buf+2, 2)) != 80 {
		t.Errorf("TIOCGWINSZ = %d, cols %d", r, binary.LittleEndian.Uint16(e.get(buf+2, 2)))
	}
	file := e.open("/etc/hosts", linux.ORdonly, 0)
	p := e.alloc(8)
	e.f.Pipe2(e.m, p, 0)
	r, w := int32(e.u32(p)), int32(e.u32(p+4))
	e.write(w, "abc")
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"TCGETS on a file", e.f.Ioctl(e.m, file, linux.TCGETS, buf), neg(linux.ENOTTY)},
		{"TCGETS on a pipe", e.f.Ioctl(e.m, r, linux.TCGETS, buf), neg(linux.ENOTTY)},
		{"TCGETS bad pointer", e.f.Ioctl(e.m, 0, linux.TCGETS, badAddr), neg(linux.EFAULT)},
		{"TCSETS bad pointer", e.f.Ioctl(e.m, 0, linux.TCSETS, badAddr), neg(linux.EFAULT)},
		{"bad fd", e.f.Ioctl(e.m, 99, linux.TCGETS, buf), neg(linux.EBADF)},
		{"unknown", e.f.Ioctl(e.m, 0, 0x1234, buf), neg(linux.ENOTTY)},
		{"FIONREAD pipe", e.f.Ioctl(e.m, r, linux.FIONREAD, buf), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if n := e.u32(buf); n != 3 {
		t.Errorf("FIONREAD = %d, want 3", n)
	}
	if r := e.f.Ioctl(e.m, file, linux.FIONREAD, buf); r != 0 || e.u32(buf) != 20 {
		t.Errorf("FIONREAD on a file = %d, %d", r, e.u32(buf))
	}
	// FIOCLEX and FIONBIO.
	e.f.Ioctl(e.m, file, linux.FIOCLEX, 0)
	if r := e.f.Fcntl(e.m, file, linux.FGetfd, 0); r != linux.FdCloexec {
		t.Errorf("F_GETFD after FIOCLEX = %d", r)
	}
	one := e.put([]byte{1, 0, 0, 0})
	e.f.Ioctl(e.m, r, linux.FIONBIO, one)
	if fl := e.f.Fcntl(e.m, r, linux.FGetfl, 0); fl&linux.ONonblock == 0 {
		t.Errorf("F_GETFL after FIONBIO = %#x", fl)
	}
	if r := e.f.Ioctl(e.m, r, linux.FIONBIO, badAddr); r != neg(linux.EFAULT) {
		t.Errorf("FIONBIO bad pointer = %d", r)
	}
}
