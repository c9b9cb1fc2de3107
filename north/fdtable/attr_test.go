package fdtable

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

func TestUtimensatAndChown(t *testing.T) {
	e := newEnv(t)
	ts := func(asec, ansec, msec, mnsec int64) uint64 {
		b := make([]byte, 32)
		for i, v := range []int64{asec, ansec, msec, mnsec} {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
		}
		return e.put(b)
	}
	fd := e.open("/tmp/u", linux.OCreat|linux.OWronly, 0o644)
	pr, _ := e.pipe(0)
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"set", e.f.Utimensat(e.m, linux.AtFdcwd, e.str("/tmp/u"), ts(100, 0, 200, 5), 0), 0},
		{"bad nsec", e.f.Utimensat(e.m, linux.AtFdcwd, e.str("/tmp/u"), ts(1, 1e9, 2, 0), 0), neg(linux.EINVAL)},
		{"bad times pointer", e.f.Utimensat(e.m, linux.AtFdcwd, e.str("/tmp/u"), badAddr, 0), neg(linux.EFAULT)},
		{"bad flags", e.f.Utimensat(e.m, linux.AtFdcwd, e.str("/tmp/u"), 0, 1), neg(linux.EINVAL)},
		{"both omitted", e.f.Utimensat(e.m, linux.AtFdcwd, e.str("/nope"), ts(0, linux.UtimeOmit, 0, linux.UtimeOmit), 0), 0},
		{"missing", e.f.Utimensat(e.m, linux.AtFdcwd, e.str("/nope"), 0, 0), neg(linux.ENOENT)},
		{"futimens", e.f.Utimensat(e.m, fd, 0, ts(0, linux.UtimeOmit, 300, 0), 0), 0},
		{"NULL path at cwd", e.f.Utimensat(e.m, linux.AtFdcwd, 0, 0, 0), neg(linux.EFAULT)},
		{"read-only mount", e.f.Utimensat(e.m, linux.AtFdcwd, e.str("/proc/self"), 0, 0), neg(linux.EROFS)},
		{"chown", e.f.Chown(e.m, e.str("/tmp/u"), 7, ^uint32(0)), 0},
		{"fchown", e.f.Fchown(fd, ^uint32(0), 9), 0},
		{"lchown", e.f.Lchown(e.m, e.str("/dangling"), 1, 1), 0},
		{"chown missing", e.f.Chown(e.m, e.str("/nope"), 1, 1), neg(linux.ENOENT)},
		{"fchownat bad flags", e.f.Fchownat(e.m, linux.AtFdcwd, e.str("/tmp/u"), 1, 1, 2), neg(linux.EINVAL)},
		{"fadvise", e.f.Fadvise64(fd, 0, 0, linux.FadvSequential), 0},
		{"fadvise bad advice", e.f.Fadvise64(fd, 0, 0, 9), neg(linux.EINVAL)},
		{"fadvise console", e.f.Fadvise64(0, 0, 0, 0), 0},
		{"fadvise pipe", e.f.Fadvise64(pr, 0, 0, 0), neg(linux.ESPIPE)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	st, _ := e.stat("/tmp/u", 0)
	if st.Mtime != 300 || st.UID != 7 || st.GID != 9 {
		t.Errorf("after utimensat and chown: mtime %d uid %d gid %d", st.Mtime, st.UID, st.GID)
	}
}

func TestSendfile(t *testing.T) {
	e := newEnv(t)
	in := e.open("/etc/hosts", linux.ORdonly, 0)
	out := e.open("/tmp/copy", linux.OCreat|linux.OWronly, 0o644)
	if n := e.f.Sendfile(e.m, nil, out, in, 0, 1<<40); n != 20 {
		t.Errorf("Sendfile = %d, want 20", n)
	}
	if got := e.cat("/tmp/copy"); got != "127.0.0.1 localhost\n" {
		t.Errorf("copy = %q", got)
	}
	off := e.put(binary.LittleEndian.AppendUint64(nil, 10))
	if n := e.f.Sendfile(e.m, nil, 1, in, off, 5); n != 5 || e.u64(off) != 15 || e.out.String() != "local" {
		t.Errorf("Sendfile with offset = %d, offset %d, console %q", n, e.u64(off), e.out.String())
	}
	r, w := e.pipe(0)
	e.write(w, "piped")
	// Linux (6.18 checked) refuses a pipe as in_fd: it has no
	// splice_read.
	if n := e.f.Sendfile(e.m, nil, out, r, 0, 100); n != neg(linux.EINVAL) {
		t.Errorf("Sendfile from a pipe = %d, want EINVAL", n)
	}
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"bad in", e.f.Sendfile(e.m, nil, out, 99, 0, 1), neg(linux.EBADF)},
		{"bad out", e.f.Sendfile(e.m, nil, 99, in, 0, 1), neg(linux.EBADF)},
		{"bad offset pointer", e.f.Sendfile(e.m, nil, out, in, badAddr, 1), neg(linux.EFAULT)},
		{"offset on a pipe", e.f.Sendfile(e.m, nil, out, r, off, 1), neg(linux.ESPIPE)},
		{"out read-only", e.f.Sendfile(e.m, nil, in, in, 0, 1), neg(linux.EBADF)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestSendfileEventfd: an eventfd has no splice_read or splice_write, so
// Linux (6.18 checked natively) refuses it at either end of sendfile with
// EINVAL, leaving the input's offset where it was, but reads the input
// first: nothing to send is 0. Cocoon used to write the input to the
// eventfd 8 bytes at a time, each a counter increment: from a large sparse
// file, hours of kernel time no signal could end (fuzzer seed 1210).
func TestSendfileEventfd(t *testing.T) {
	e := newEnv(t)
	in := e.open("/etc/hosts", linux.ORdonly, 0)
	empty := e.open("/tmp/empty", linux.OCreat|linux.ORdwr, 0o644)
	efd := int32(e.f.Eventfd2(0, linux.EfdNonblock))
	off := e.put(binary.LittleEndian.AppendUint64(nil, 3))
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"to an eventfd", e.f.Sendfile(e.m, nil, efd, in, 0, 1<<31), neg(linux.EINVAL)},
		{"input offset after", e.f.Lseek(in, 0, linux.SeekCur), 0},
		{"to an eventfd at an offset", e.f.Sendfile(e.m, nil, efd, in, off, 16), neg(linux.EINVAL)},
		{"offset after", int64(e.u64(off)), 3},
		{"nothing to an eventfd", e.f.Sendfile(e.m, nil, efd, empty, 0, 100), 0},
		{"from an eventfd", e.f.Sendfile(e.m, nil, empty, efd, 0, 8), neg(linux.EINVAL)},
	} {
		if c.got != c.want {
			t.Errorf("sendfile %s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if _, r := e.read(efd, 8); r != neg(linux.EAGAIN) {
		t.Errorf("read of the eventfd after the refused sendfiles = %d, want EAGAIN (counter 0)", r)
	}
}

func TestFchmodat2(t *testing.T) {
	e := newEnv(t)
	e.f.Close(e.open("/tmp/f", linux.OCreat|linux.OWronly, 0o644))
	if r := e.f.Symlinkat(e.m, e.str("f"), linux.AtFdcwd, e.str("/tmp/l")); r != 0 {
		t.Fatalf("Symlinkat = %d", r)
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"through a link", e.f.Fchmodat2(e.m, linux.AtFdcwd, e.str("/tmp/l"), 0o600, 0), 0},
		{"a link itself", e.f.Fchmodat2(e.m, linux.AtFdcwd, e.str("/tmp/l"), 0o600, linux.AtSymlinkNofollow), neg(linux.EOPNOTSUPP)},
		{"null path", e.f.Fchmodat2(e.m, linux.AtFdcwd, 0, 0o600, linux.AtEmptyPath), neg(linux.EFAULT)},
		{"an archive file", e.f.Fchmodat2(e.m, linux.AtFdcwd, e.str("/etc/hosts"), 0o600, linux.AtSymlinkNofollow), 0},
		{"bad flags", e.f.Fchmodat2(e.m, linux.AtFdcwd, e.str("/tmp/f"), 0o600, linux.AtRemovedir), neg(linux.EINVAL)},
	} {
		if c.got != c.want {
			t.Errorf("fchmodat2 %s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if st, _ := e.stat("/tmp/f", 0); st.Mode != linux.SIfreg|0o600 {
		t.Errorf("mode after fchmodat2 = %#o, want %#o", st.Mode, linux.SIfreg|0o600)
	}
	fd := e.open("/tmp/f", linux.OPath, 0)
	if r := e.f.Fchmodat2(e.m, fd, e.str(""), 0o4751, linux.AtEmptyPath); r != 0 {
		t.Errorf("fchmodat2 of an O_PATH descriptor with AT_EMPTY_PATH = %d", r)
	}
	if st, _ := e.stat("/tmp/f", 0); st.Mode != linux.SIfreg|0o4751 {
		t.Errorf("mode after fchmodat2 AT_EMPTY_PATH = %#o, want %#o", st.Mode, linux.SIfreg|0o4751)
	}
}

// TestBlocksCountPagesHeld: st_blocks counts the pages a file holds, as
// tmpfs does, not its size: a file grown by ftruncate or written past a
// hole holds only the pages written (busybox's truncate -s 1M showed 2048
// blocks where Linux shows 0), and the archive's files hold theirs.
func TestBlocksCountPagesHeld(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/tmp/sparse", linux.OCreat|linux.ORdwr, 0o644)
	blocks := func(path string) int64 {
		st, r := e.stat(path, 0)
		if r != 0 {
			t.Fatalf("stat %s = %d", path, r)
		}
		return st.Blocks
	}
	if r := e.f.Ftruncate(fd, 1<<20); r != 0 {
		t.Fatalf("ftruncate = %d", r)
	}
	if b := blocks("/tmp/sparse"); b != 0 {
		t.Errorf("1 MiB hole: %d blocks, want 0", b)
	}
	if r := e.f.Pwrite64(e.m, fd, e.put([]byte("x")), 1, 3*4096+5); r != 1 {
		t.Fatalf("pwrite = %d", r)
	}
	if b := blocks("/tmp/sparse"); b != 8 {
		t.Errorf("one page written in the hole: %d blocks, want 8", b)
	}
	if r := e.f.Ftruncate(fd, 100); r != 0 {
		t.Fatalf("ftruncate = %d", r)
	}
	if b := blocks("/tmp/sparse"); b != 0 {
		t.Errorf("truncated below the written page: %d blocks, want 0", b)
	}
	if b := blocks("/etc/hosts"); b != 8 {
		t.Errorf("a 20-byte file of the archive: %d blocks, want 8", b)
	}
}
