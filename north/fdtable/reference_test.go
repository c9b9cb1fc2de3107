//go:build linux

package fdtable

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// A side runs path operations relative to a directory: the host's Linux
// kernel, or Files. Each returns 0 or an errno.
type side interface {
	openat(path string, flags uint32) int
	mkdirat(path string) int
	unlinkat(path string, flags uint32) int
	renameat2(oldPath, newPath string, flags uint32) int
	readlinkat(path string) int
	fstatat(path string, flags uint32) int
	symlinkat(target, path string) int
	linkat(oldPath, newPath string, flags uint32) int
	faccessat(path string, mode, flags uint32) int
	fchmodat2(path string, flags uint32) int
}

// refTree is the tree every case starts from: relative links only, so
// that it means the same under any directory.
var refTree = []struct{ kind, path, arg string }{
	{"dir", "d", ""}, {"file", "d/f", "hello"}, {"dir", "d/sub", ""}, {"file", "d/sub/g", "g"},
	{"dir", "e", ""}, {"file", "f2", "two"}, {"link", "l", "d/f"}, {"link", "ld", "d"},
	{"link", "loop1", "loop2"}, {"link", "loop2", "loop1"}, {"link", "dangling", "nowhere"},
	{"link", "dslash", "d/f/"},
}

type hostSide struct{ dir int }

func hostErrno(err error) int {
	if err == nil {
		return 0
	}
	return int(err.(syscall.Errno))
}

func (h hostSide) openat(path string, flags uint32) int {
	fd, err := syscall.Openat(h.dir, path, int(flags|linux.OCloexec), 0o644)
	if err == nil {
		syscall.Close(fd)
	}
	return hostErrno(err)
}

func (h hostSide) mkdirat(path string) int { return hostErrno(syscall.Mkdirat(h.dir, path, 0o755)) }

func (h hostSide) unlinkat(path string, flags uint32) int {
	return hostCall(sysUnlinkat, uintptr(h.dir), cstr(path), uintptr(flags))
}

func hostCall(nr uintptr, args ...uintptr) int {
	var a [6]uintptr
	copy(a[:], args)
	_, _, e := syscall.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	return int(e)
}

func cstr(s string) uintptr {
	p, _ := syscall.BytePtrFromString(s)
	return uintptr(unsafe.Pointer(p)) // the pointer stays live: the call uses it at once
}

func (h hostSide) renameat2(oldPath, newPath string, flags uint32) int {
	return hostCall(sysRenameat2, uintptr(h.dir), cstr(oldPath), uintptr(h.dir), cstr(newPath), uintptr(flags))
}

func (h hostSide) readlinkat(path string) int {
	var buf [256]byte
	return hostCall(sysReadlinkat, uintptr(h.dir), cstr(path), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
}

func (h hostSide) fstatat(path string, flags uint32) int {
	var st syscall.Stat_t
	return hostCall(sysNewfstatat, uintptr(h.dir), cstr(path), uintptr(unsafe.Pointer(&st)), uintptr(flags))
}

func (h hostSide) symlinkat(target, path string) int {
	return hostCall(sysSymlinkat, cstr(target), uintptr(h.dir), cstr(path))
}

func (h hostSide) linkat(oldPath, newPath string, flags uint32) int {
	return hostCall(sysLinkat, uintptr(h.dir), cstr(oldPath), uintptr(h.dir), cstr(newPath), uintptr(flags))
}

func (h hostSide) faccessat(path string, mode, flags uint32) int {
	return hostCall(sysFaccessat2, uintptr(h.dir), cstr(path), uintptr(mode), uintptr(flags))
}

func (h hostSide) fchmodat2(path string, flags uint32) int {
	return hostCall(sysFchmodat2, uintptr(h.dir), cstr(path), 0o640, uintptr(flags))
}

func newHostSide(t *testing.T, base string, i int) hostSide {
	root := filepath.Join(base, strconv.Itoa(i))
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range refTree {
		p := filepath.Join(root, n.path)
		var err error
		switch n.kind {
		case "dir":
			err = os.Mkdir(p, 0o755)
		case "file":
			err = os.WriteFile(p, []byte(n.arg), 0o644)
		case "link":
			err = os.Symlink(n.arg, p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	fd, err := syscall.Open(root, syscall.O_DIRECTORY|syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return hostSide{fd}
}

type oursSide struct {
	e   *env
	dir int32
}

func errnoOf(r int64) int {
	if r < 0 {
		return int(-r)
	}
	return 0
}

func (o oursSide) openat(path string, flags uint32) int {
	r := o.e.f.Openat(o.e.m, nil, o.dir, o.e.str(path), flags, 0o644)
	if r >= 0 {
		o.e.f.Close(int32(r))
	}
	return errnoOf(r)
}

func (o oursSide) mkdirat(path string) int {
	return errnoOf(o.e.f.Mkdirat(o.e.m, o.dir, o.e.str(path), 0o755))
}

func (o oursSide) unlinkat(path string, flags uint32) int {
	return errnoOf(o.e.f.Unlinkat(o.e.m, o.dir, o.e.str(path), flags))
}

func (o oursSide) renameat2(oldPath, newPath string, flags uint32) int {
	return errnoOf(o.e.f.Renameat2(o.e.m, o.dir, o.e.str(oldPath), o.dir, o.e.str(newPath), flags))
}

func (o oursSide) readlinkat(path string) int {
	return errnoOf(o.e.f.Readlinkat(o.e.m, o.dir, o.e.str(path), o.e.alloc(256), 256))
}

func (o oursSide) fstatat(path string, flags uint32) int {
	return errnoOf(o.e.f.Newfstatat(o.e.m, o.dir, o.e.str(path), o.e.alloc(linux.SizeofStat), flags))
}

func (o oursSide) symlinkat(target, path string) int {
	return errnoOf(o.e.f.Symlinkat(o.e.m, o.e.str(target), o.dir, o.e.str(path)))
}

func (o oursSide) linkat(oldPath, newPath string, flags uint32) int {
	return errnoOf(o.e.f.Linkat(o.e.m, o.dir, o.e.str(oldPath), o.dir, o.e.str(newPath), flags))
}

func (o oursSide) faccessat(path string, mode, flags uint32) int {
	return errnoOf(o.e.f.Faccessat2(o.e.m, o.dir, o.e.str(path), mode, flags))
}

func (o oursSide) fchmodat2(path string, flags uint32) int {
	return errnoOf(o.e.f.Fchmodat2(o.e.m, o.dir, o.e.str(path), 0o640, flags))
}

func newOursSide(t *testing.T) oursSide {
	e := newEnv(t)
	e.f.Mkdir(e.m, e.str("/tmp/ref"), 0o755)
	dir := e.open("/tmp/ref", linux.ORdonly|linux.ODirectory, 0)
	o := oursSide{e, dir}
	for _, n := range refTree {
		switch n.kind {
		case "dir":
			o.mkdirat(n.path)
		case "file":
			fd := e.f.Openat(e.m, nil, dir, e.str(n.path), linux.OCreat|linux.OWronly, 0o644)
			e.write(int32(fd), n.arg)
			e.f.Close(int32(fd))
		case "link":
			o.symlinkat(n.arg, n.path)
		}
	}
	return o
}

// TestAgainstLinux runs path operations on the host kernel and on Files,
// each on a fresh copy of refTree, and wants the same errno from both.
func TestAgainstLinux(t *testing.T) {
	const (
		rd, wr, rdwr = linux.ORdonly, linux.OWronly, linux.ORdwr
		creat, excl  = linux.OCreat, linux.OExcl
		dir, nofol   = linux.ODirectory, linux.ONofollow
		trunc, path  = linux.OTrunc, linux.OPath
		nofollowAt   = linux.AtSymlinkNofollow
		rmdir        = linux.AtRemovedir
	)
	cases := []struct {
		name string
		op   func(s side) int
	}{}
	add := func(name string, op func(s side) int) {
		cases = append(cases, struct {
			name string
			op   func(s side) int
		}{name, op})
	}
	for _, p := range []string{"d", "d/f", "d/f/", "d/sub/../f", "l", "ld", "ld/", "ld/f", "loop1", "loop1/x",
		"dangling", "dangling/", "dslash", "missing", "missing/x", "d/f/x", ".", "e/..", "", "d//sub///g",
		"d/sub/", "e/", "new/", "d/./f", "l/", "ld/sub/g", "d/f/.", "..", "missing/"} {
		for _, fl := range []uint32{rd, wr, rdwr, rd | dir, rd | nofol, creat | wr, creat | excl | wr, creat | rd | nofol,
			rd | trunc, path | nofol, path, wr | dir, creat | wr | nofol} {
			p, fl := p, fl
			add("openat "+p+" "+flagString(fl), func(s side) int { return s.openat(p, fl) })
		}
		add("mkdirat "+p, func(s side) int { return s.mkdirat(p) })
		add("unlinkat "+p, func(s side) int { return s.unlinkat(p, 0) })
		add("rmdir "+p, func(s side) int { return s.unlinkat(p, rmdir) })
		add("readlinkat "+p, func(s side) int { return s.readlinkat(p) })
		add("fstatat "+p, func(s side) int { return s.fstatat(p, 0) })
		add("lstat "+p, func(s side) int { return s.fstatat(p, nofollowAt) })
		add("symlinkat "+p, func(s side) int { return s.symlinkat("t", p) })
		add("linkat f2 "+p, func(s side) int { return s.linkat("f2", p, 0) })
		add("linkat "+p+" new", func(s side) int { return s.linkat(p, "new", 0) })
		add("faccessat W_OK "+p, func(s side) int { return s.faccessat(p, linux.WOk, 0) })
		add("faccessat X_OK "+p, func(s side) int { return s.faccessat(p, linux.XOk, 0) })
		for _, fl := range []uint32{0, nofollowAt, linux.AtEmptyPath, nofollowAt | linux.AtEmptyPath, linux.AtRemovedir} {
			fl := fl
			add("fchmodat2 "+p+" "+flagString(fl), func(s side) int { return s.fchmodat2(p, fl) })
		}
		for _, to := range []string{"new", "e", "d", "f2", "d/sub", "e/x", "missing/x", "l", "d/f/"} {
			to := to
			for _, fl := range []uint32{0, linux.RenameNoreplace, linux.RenameExchange} {
				fl := fl
				add("renameat2 "+p+" "+to+" "+flagString(fl), func(s side) int { return s.renameat2(p, to, fl) })
			}
		}
	}
	base := tmpfsDir(t)
	for i, c := range cases {
		host := newHostSide(t, base, i)
		want := c.op(host)
		syscall.Close(host.dir)
		if got := c.op(newOursSide(t)); got != want {
			t.Errorf("%s: errno %d (%v), Linux gives %d (%v)", c.name, got, syscall.Errno(got), want, syscall.Errno(want))
		}
	}
}

func flagString(fl uint32) string {
	return "0x" + func() string {
		const hex = "0123456789abcdef"
		var b []byte
		for ; fl > 0; fl >>= 4 {
			b = append([]byte{hex[fl&15]}, b...)
		}
		if b == nil {
			return "0"
		}
		return string(b)
	}()
}

// tmpfsDir returns a temporary directory on tmpfs (/dev/shm) when there is
// one, which is what Files imitates and much faster than a disk, else
// under t.TempDir.
func tmpfsDir(t *testing.T) string {
	if d, err := os.MkdirTemp("/dev/shm", "fdtable-ref-"); err == nil {
		t.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return t.TempDir()
}
