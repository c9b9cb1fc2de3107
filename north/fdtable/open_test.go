package fdtable

import (
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

func TestOpenatErrors(t *testing.T) {
	e := newEnv(t)
	fileFD := e.open("/etc/hosts", linux.ORdonly, 0)
	pipeFDs := e.alloc(8)
	if r := e.f.Pipe2(e.m, pipeFDs, 0); r != 0 {
		t.Fatalf("Pipe2 = %d", r)
	}
	pipeFD := int32(e.u32(pipeFDs))
	unterminated := e.put([]byte(strings.Repeat("a", linux.PathMax+10)))
	for _, c := range []struct {
		name  string
		dirfd int32
		path  string
		addr  uint64 // overrides path when set
		flags uint32
		want  int64
	}{
		{"missing", linux.AtFdcwd, "/nope", 0, linux.ORdonly, neg(linux.ENOENT)},
		{"missing dir", linux.AtFdcwd, "/nope/x", 0, linux.ORdonly, neg(linux.ENOENT)},
		{"through file", linux.AtFdcwd, "/etc/hosts/x", 0, linux.ORdonly, neg(linux.ENOTDIR)},
		{"trailing slash on file", linux.AtFdcwd, "/etc/hosts/", 0, linux.ORdonly, neg(linux.ENOTDIR)},
		{"write a directory", linux.AtFdcwd, "/etc", 0, linux.OWronly, neg(linux.EISDIR)},
		{"truncate a directory", linux.AtFdcwd, "/etc", 0, linux.ORdonly | linux.OTrunc, neg(linux.EISDIR)},
		{"create a directory", linux.AtFdcwd, "/etc", 0, linux.OCreat, neg(linux.EISDIR)},
		{"create with slash", linux.AtFdcwd, "/tmp/new/", 0, linux.OCreat | linux.OWronly, neg(linux.EISDIR)},
		{"create and directory", linux.AtFdcwd, "/tmp/new", 0, linux.OCreat | linux.ODirectory, neg(linux.EINVAL)},
		{"exclusive", linux.AtFdcwd, "/etc/hosts", 0, linux.OCreat | linux.OExcl, neg(linux.EEXIST)},
		{"exclusive symlink", linux.AtFdcwd, "/dangling", 0, linux.OCreat | linux.OExcl, neg(linux.EEXIST)},
		{"loop", linux.AtFdcwd, "/loop1", 0, linux.ORdonly, neg(linux.ELOOP)},
		{"loop inside", linux.AtFdcwd, "/loop1/x", 0, linux.ORdonly, neg(linux.ELOOP)},
		{"nofollow", linux.AtFdcwd, "/etc/link", 0, linux.ORdonly | linux.ONofollow, neg(linux.ELOOP)},
		{"directory on file", linux.AtFdcwd, "/etc/hosts", 0, linux.ORdonly | linux.ODirectory, neg(linux.ENOTDIR)},
		{"dangling", linux.AtFdcwd, "/dangling", 0, linux.ORdonly, neg(linux.ENOENT)},
		{"empty", linux.AtFdcwd, "", 0, linux.ORdonly, neg(linux.ENOENT)},
		{"bad pointer", linux.AtFdcwd, "", badAddr, linux.ORdonly, neg(linux.EFAULT)},
		{"unterminated", linux.AtFdcwd, "", unterminated, linux.ORdonly, neg(linux.ENAMETOOLONG)},
		{"long component", linux.AtFdcwd, "/tmp/" + strings.Repeat("x", 256), 0, linux.OCreat | linux.OWronly, neg(linux.ENAMETOOLONG)},
		{"bad dirfd", 77, "x", 0, linux.ORdonly, neg(linux.EBADF)},
		{"negative dirfd", -5, "x", 0, linux.ORdonly, neg(linux.EBADF)},
		{"file dirfd", fileFD, "x", 0, linux.ORdonly, neg(linux.ENOTDIR)},
		{"pipe dirfd", pipeFD, "x", 0, linux.ORdonly, neg(linux.ENOTDIR)},
		{"tmpfile read-only", linux.AtFdcwd, "/tmp", 0, linux.OTmpfile | linux.ORdonly, neg(linux.EINVAL)},
		{"tmpfile and creat", linux.AtFdcwd, "/tmp", 0, linux.OTmpfile | linux.OCreat | linux.ORdwr, neg(linux.EINVAL)},
		{"tmpfile without directory", linux.AtFdcwd, "/tmp", 0, linux.OTmpfile&^linux.ODirectory | linux.ORdwr, neg(linux.EINVAL)},
		{"tmpfile on a file", linux.AtFdcwd, "/etc/hosts", 0, linux.OTmpfile | linux.ORdwr, neg(linux.ENOTDIR)},
		{"tmpfile nowhere", linux.AtFdcwd, "/tmp/none", 0, linux.OTmpfile | linux.ORdwr, neg(linux.ENOENT)},
		{"tmpfile in proc", linux.AtFdcwd, "/proc/self", 0, linux.OTmpfile | linux.ORdwr, neg(linux.EOPNOTSUPP)},
		{"proc elsewhere", linux.AtFdcwd, "/proc/cpuinfo", 0, linux.ORdonly, neg(linux.ENOENT)},
		{"create in proc", linux.AtFdcwd, "/proc/x", 0, linux.OCreat | linux.OWronly, neg(linux.EROFS)},
		{"closed fd link", linux.AtFdcwd, "/proc/self/fd/99", 0, linux.ORdonly, neg(linux.ENOENT)},
		{"slash after a device", linux.AtFdcwd, "/dev/null/", 0, linux.ORdonly, neg(linux.ENOTDIR)},
	} {
		addr := c.addr
		if addr == 0 {
			addr = e.str(c.path)
		}
		if got := e.f.Openat(e.m, nil, c.dirfd, addr, c.flags, 0o644); got != c.want {
			t.Errorf("%s: Openat(%d, %.40q, %#x) = %d, want %d", c.name, c.dirfd, c.path, c.flags, got, c.want)
			if got >= 0 {
				e.f.Close(int32(got))
			}
		}
	}
}

func itoa(fd int32) string {
	if fd == 0 {
		return "0"
	}
	var b []byte
	for ; fd > 0; fd /= 10 {
		b = append([]byte{byte('0' + fd%10)}, b...)
	}
	return string(b)
}

func TestOpenatRelative(t *testing.T) {
	e := newEnv(t)
	dir := e.open("/usr/lib", linux.ORdonly|linux.ODirectory, 0)
	fd := e.f.Openat(e.m, nil, dir, e.str("a"), linux.ORdonly, 0)
	if fd < 0 {
		t.Fatalf("Openat(dirfd, a) = %d", fd)
	}
	if got := e.readAll(int32(fd)); got != "aaa" {
		t.Errorf("read = %q", got)
	}
	// An absolute path ignores the directory descriptor, even a bad one.
	if fd := e.f.Openat(e.m, nil, 99, e.str("/usr/lib/b"), linux.ORdonly, 0); fd < 0 {
		t.Errorf("Openat(99, absolute) = %d", fd)
	}
	// An O_PATH directory works as a directory descriptor.
	pdir := e.open("/usr", linux.OPath|linux.ODirectory, 0)
	if fd := e.f.Openat(e.m, nil, pdir, e.str("lib/../lib/b"), linux.ORdonly, 0); fd < 0 {
		t.Errorf("Openat(O_PATH dirfd) = %d", fd)
	}
	if r := e.f.Read(e.m, nil, pdir, e.alloc(4), 4); r != neg(linux.EBADF) {
		t.Errorf("Read(O_PATH) = %d, want EBADF", r)
	}
	// O_PATH|O_NOFOLLOW opens the link itself.
	lfd := e.open("/etc/link", linux.OPath|linux.ONofollow, 0)
	st := e.alloc(linux.SizeofStat)
	if r := e.f.Fstat(e.m, lfd, st); r != 0 || decodeStat(e.get(st, linux.SizeofStat)).Mode&linux.SIfmt != linux.SIflnk {
		t.Errorf("Fstat(O_PATH link) = %d, mode %#o", r, decodeStat(e.get(st, linux.SizeofStat)).Mode)
	}
	buf := e.alloc(64)
	if n := e.f.Readlinkat(e.m, lfd, e.str(""), buf, 64); n != 5 || string(e.get(buf, 5)) != "hosts" {
		t.Errorf("Readlinkat(O_PATH link, \"\") = %d %q", n, e.get(buf, 5))
	}
}

func TestOpenCreateTruncAppend(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/tmp/f", linux.OCreat|linux.OWronly|linux.OExcl, 0o666)
	e.write(fd, "hello")
	e.f.Close(fd)
	st, r := e.stat("/tmp/f", 0)
	if r != 0 || st.Mode != linux.SIfreg|0o644 || st.Size != 5 {
		t.Errorf("stat /tmp/f = %d, mode %#o size %d; want 0, %#o, 5 (umask 022)", r, st.Mode, st.Size, linux.SIfreg|0o644)
	}
	fd = e.open("/tmp/f", linux.OWronly|linux.OAppend, 0)
	e.write(fd, " world")
	e.f.Close(fd)
	if got := e.cat("/tmp/f"); got != "hello world" {
		t.Errorf("after append = %q", got)
	}
	fd = e.open("/tmp/f", linux.ORdwr|linux.OTrunc, 0)
	if s, n := e.read(fd, 10); n != 0 {
		t.Errorf("read after O_TRUNC = %q", s)
	}
	// O_CREAT through a dangling symbolic link creates its target.
	e.f.Symlinkat(e.m, e.str("/tmp/target"), linux.AtFdcwd, e.str("/tmp/l"))
	fd = e.open("/tmp/l", linux.OCreat|linux.OWronly, 0o600)
	e.write(fd, "via link")
	if got := e.cat("/tmp/target"); got != "via link" {
		t.Errorf("target = %q", got)
	}
	// Creat.
	if fd := e.f.Creat(e.m, nil, e.str("/tmp/c"), 0o600); fd < 0 {
		t.Errorf("Creat = %d", fd)
	}
}

func TestOpenCloexecAndLowestFD(t *testing.T) {
	e := newEnv(t)
	a := e.open("/etc/hosts", linux.ORdonly, 0)
	b := e.open("/etc/hosts", linux.ORdonly|linux.OCloexec, 0)
	if a != 3 || b != 4 {
		t.Fatalf("fds = %d, %d; want 3, 4", a, b)
	}
	if r := e.f.Fcntl(e.m, b, linux.FGetfd, 0); r != linux.FdCloexec {
		t.Errorf("F_GETFD(O_CLOEXEC) = %d", r)
	}
	if r := e.f.Fcntl(e.m, a, linux.FGetfd, 0); r != 0 {
		t.Errorf("F_GETFD = %d", r)
	}
	e.f.Close(a)
	if c := e.open("/etc/hosts", linux.ORdonly, 0); c != 3 {
		t.Errorf("lowest free = %d, want 3", c)
	}
	exe, _, err := e.f.OpenExec(linux.AtFdcwd, "/init", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.f.Exec(exe)
	if r := e.f.Close(b); r != neg(linux.EBADF) {
		t.Errorf("Close(cloexec fd after Exec) = %d, want EBADF", r)
	}
	if r := e.f.Close(3); r != 0 {
		t.Errorf("Close(3) = %d", r)
	}
	if r := e.f.Close(3); r != neg(linux.EBADF) {
		t.Errorf("second Close(3) = %d", r)
	}
	if r := e.f.Close(-1); r != neg(linux.EBADF) {
		t.Errorf("Close(-1) = %d", r)
	}
}

func TestEMFILE(t *testing.T) {
	e := newEnv(t)
	e.f.SetLimit(8)
	for i := 3; i < 8; i++ {
		e.open("/etc/hosts", linux.ORdonly, 0)
	}
	if r := e.f.Openat(e.m, nil, linux.AtFdcwd, e.str("/etc/hosts"), linux.ORdonly, 0); r != neg(linux.EMFILE) {
		t.Errorf("Openat past the limit = %d, want EMFILE", r)
	}
	if r := e.f.Dup(0); r != neg(linux.EMFILE) {
		t.Errorf("Dup past the limit = %d, want EMFILE", r)
	}
	if r := e.f.Pipe2(e.m, e.alloc(8), 0); r != neg(linux.EMFILE) {
		t.Errorf("Pipe2 past the limit = %d, want EMFILE", r)
	}
	if r := e.f.Dup2(0, 8); r != neg(linux.EBADF) {
		t.Errorf("Dup2 to the limit = %d, want EBADF", r)
	}
	if r := e.f.Fcntl(e.m, 0, linux.FDupfd, 8); r != neg(linux.EINVAL) {
		t.Errorf("F_DUPFD at the limit = %d, want EINVAL", r)
	}
	if got := len(e.f.Table().FDs()); got != 8 {
		t.Errorf("%d descriptors open, want 8 (nothing leaked)", got)
	}
}

// TestReopenPipe opens an anonymous pipe again through /proc/self/fd/N,
// as bash's process substitution does with /dev/fd/63: a new end of the
// same pipe.
func TestReopenPipe(t *testing.T) {
	e := newEnv(t)
	p := e.alloc(8)
	if r := e.f.Pipe2(e.m, p, 0); r != 0 {
		t.Fatalf("Pipe2 = %d", r)
	}
	rfd, wfd := int32(e.u32(p)), int32(e.u32(p+4))
	w2 := e.open("/proc/self/fd/"+itoa(wfd), linux.OWronly, 0)
	e.write(w2, "through /proc")
	if got, _ := e.read(rfd, 64); got != "through /proc" {
		t.Errorf("read %q from the pipe, want what the reopened end wrote", got)
	}
	e.f.Close(wfd)
	e.f.Close(w2)
	if got, n := e.read(rfd, 64); got != "" || n != 0 {
		t.Errorf("read after both write ends closed = %q, %d; want end of file", got, n)
	}
	st, r := e.stat("/proc/self/fd/"+itoa(rfd), 0)
	if r != 0 || st.Mode&linux.SIfmt != linux.SIfifo {
		t.Errorf("stat of the pipe's link = %d, mode %#o; want a FIFO", r, st.Mode)
	}
}
