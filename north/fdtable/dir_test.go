package fdtable

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

func TestGetdentsResume(t *testing.T) {
	e := newEnv(t)
	var want []string
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("file-with-a-longish-name-%02d", i)
		want = append(want, name)
		e.f.Close(e.open("/tmp/"+name, linux.OCreat|linux.OWronly, 0o644))
	}
	want = append(want, ".", "..")
	sort.Strings(want)
	// A buffer that holds one record at a time, and one that holds a few.
	for _, size := range []int{linux.Dirent64Len("file-with-a-longish-name-00"), 100, 4096} {
		got := e.names("/tmp", size)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("getdents with %d-byte buffer: %d names, want %d", size, len(got), len(want))
		}
	}
}

func TestGetdentsErrors(t *testing.T) {
	e := newEnv(t)
	dir := e.open("/usr/lib", linux.ORdonly|linux.ODirectory, 0)
	file := e.open("/etc/hosts", linux.ORdonly, 0)
	buf := e.alloc(4096)
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"bad fd", e.f.Getdents64(e.m, 99, buf, 4096), neg(linux.EBADF)},
		{"not a directory", e.f.Getdents64(e.m, file, buf, 4096), neg(linux.ENOTDIR)},
		{"buffer too small", e.f.Getdents64(e.m, dir, buf, 10), neg(linux.EINVAL)},
		{"bad buffer", e.f.Getdents64(e.m, dir, badAddr, 4096), neg(linux.EFAULT)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// The failed calls did not move the offset: all four entries come.
	n := e.f.Getdents64(e.m, dir, buf, 4096)
	if n != int64(linux.Dirent64Len(".")+linux.Dirent64Len("..")+2*linux.Dirent64Len("a")) {
		t.Errorf("Getdents64 after failures = %d", n)
	}
	if n := e.f.Getdents64(e.m, dir, buf, 4096); n != 0 {
		t.Errorf("Getdents64 at the end = %d", n)
	}
	// Rewinding lists again; d_off values can be used to seek.
	e.f.Lseek(dir, 0, linux.SeekSet)
	e.f.Getdents64(e.m, dir, buf, uint64(linux.Dirent64Len(".")))
	off := int64(e.u64(buf + 8))
	e.f.Lseek(dir, 0, linux.SeekSet)
	e.f.Lseek(dir, off, linux.SeekSet)
	if n := e.f.Getdents64(e.m, dir, buf, 4096); n != int64(linux.Dirent64Len("..")+2*linux.Dirent64Len("a")) {
		t.Errorf("Getdents64 after seeking to d_off = %d", n)
	}
}

func TestDirectoryCalls(t *testing.T) {
	e := newEnv(t)
	e.f.Mkdir(e.m, e.str("/tmp/d"), 0o755)
	e.f.Mkdir(e.m, e.str("/tmp/d/sub"), 0o755)
	e.f.Close(e.open("/tmp/d/f", linux.OCreat|linux.OWronly, 0o644))
	e.f.Mkdir(e.m, e.str("/tmp/empty"), 0o755)
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"mkdir existing", e.f.Mkdir(e.m, e.str("/tmp/d"), 0o755), neg(linux.EEXIST)},
		{"mkdir over a symlink", e.f.Mkdir(e.m, e.str("/dangling"), 0o755), neg(linux.EEXIST)},
		{"mkdir root", e.f.Mkdir(e.m, e.str("/"), 0o755), neg(linux.EEXIST)},
		{"mkdir dot", e.f.Mkdir(e.m, e.str("/tmp/."), 0o755), neg(linux.EEXIST)},
		{"mkdir missing parent", e.f.Mkdir(e.m, e.str("/tmp/x/y"), 0o755), neg(linux.ENOENT)},
		{"mkdir under file", e.f.Mkdir(e.m, e.str("/etc/hosts/y"), 0o755), neg(linux.ENOTDIR)},
		{"mkdir with slash", e.f.Mkdir(e.m, e.str("/tmp/slash/"), 0o755), 0},
		{"mkdirat bad dirfd", e.f.Mkdirat(e.m, 99, e.str("x"), 0o755), neg(linux.EBADF)},
		{"rmdir non-empty", e.f.Rmdir(e.m, e.str("/tmp/d")), neg(linux.ENOTEMPTY)},
		{"rmdir file", e.f.Rmdir(e.m, e.str("/tmp/d/f")), neg(linux.ENOTDIR)},
		{"rmdir dot", e.f.Rmdir(e.m, e.str("/tmp/empty/.")), neg(linux.EINVAL)},
		{"rmdir dotdot", e.f.Rmdir(e.m, e.str("/tmp/empty/..")), neg(linux.ENOTEMPTY)},
		{"rmdir root", e.f.Rmdir(e.m, e.str("/")), neg(linux.EBUSY)},
		{"rmdir mount point", e.f.Rmdir(e.m, e.str("/tmp")), neg(linux.EBUSY)},
		{"rmdir missing", e.f.Rmdir(e.m, e.str("/tmp/nope")), neg(linux.ENOENT)},
		{"unlink directory", e.f.Unlink(e.m, e.str("/tmp/d")), neg(linux.EISDIR)},
		{"unlink file with slash", e.f.Unlink(e.m, e.str("/tmp/d/f/")), neg(linux.ENOTDIR)},
		{"unlink missing", e.f.Unlink(e.m, e.str("/tmp/nope")), neg(linux.ENOENT)},
		{"unlinkat bad flags", e.f.Unlinkat(e.m, linux.AtFdcwd, e.str("/tmp/d/f"), 0x1), neg(linux.EINVAL)},
		{"unlink in proc", e.f.Unlink(e.m, e.str("/proc/self/exe")), neg(linux.EROFS)},
		{"rename into itself", e.f.Rename(e.m, e.str("/tmp/d"), e.str("/tmp/d/sub/x")), neg(linux.EINVAL)},
		{"rename across mounts", e.f.Rename(e.m, e.str("/etc/hosts"), e.str("/tmp/hosts")), neg(linux.EXDEV)},
		{"rename dir over file", e.f.Rename(e.m, e.str("/tmp/empty"), e.str("/tmp/d/f")), neg(linux.ENOTDIR)},
		{"rename file over dir", e.f.Rename(e.m, e.str("/tmp/d/f"), e.str("/tmp/empty")), neg(linux.EISDIR)},
		{"rename over non-empty", e.f.Rename(e.m, e.str("/tmp/empty"), e.str("/tmp/d")), neg(linux.ENOTEMPTY)},
		{"rename noreplace", e.f.Renameat2(e.m, linux.AtFdcwd, e.str("/tmp/d/f"), linux.AtFdcwd, e.str("/tmp/d/sub"), linux.RenameNoreplace), neg(linux.EEXIST)},
		{"rename bad flags", e.f.Renameat2(e.m, linux.AtFdcwd, e.str("/tmp/d/f"), linux.AtFdcwd, e.str("/tmp/g"), 8), neg(linux.EINVAL)},
		{"rename both flags", e.f.Renameat2(e.m, linux.AtFdcwd, e.str("/tmp/d/f"), linux.AtFdcwd, e.str("/tmp/g"), 3), neg(linux.EINVAL)},
		{"rename missing", e.f.Rename(e.m, e.str("/tmp/nope"), e.str("/tmp/g")), neg(linux.ENOENT)},
		{"rename dot", e.f.Rename(e.m, e.str("/tmp/d/."), e.str("/tmp/g")), neg(linux.EBUSY)},
		{"rename mount point", e.f.Rename(e.m, e.str("/tmp"), e.str("/tmp2")), neg(linux.EBUSY)},
		{"rename to itself", e.f.Rename(e.m, e.str("/tmp/d/f"), e.str("/tmp/d/f")), 0},
		{"rename noreplace free", e.f.Renameat2(e.m, linux.AtFdcwd, e.str("/tmp/d/f"), linux.AtFdcwd, e.str("/tmp/g"), linux.RenameNoreplace), 0},
		{"rename over empty dir", e.f.Rename(e.m, e.str("/tmp/slash"), e.str("/tmp/empty")), 0},
		{"rmdir empty", e.f.Rmdir(e.m, e.str("/tmp/empty")), 0},
		{"unlink", e.f.Unlink(e.m, e.str("/tmp/g")), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// RENAME_EXCHANGE swaps.
	e.f.Close(e.open("/tmp/x1", linux.OCreat|linux.OWronly, 0o644))
	fd := e.open("/tmp/x2", linux.OCreat|linux.OWronly, 0o644)
	e.write(fd, "two")
	if r := e.f.Renameat2(e.m, linux.AtFdcwd, e.str("/tmp/x1"), linux.AtFdcwd, e.str("/tmp/x2"), linux.RenameExchange); r != 0 {
		t.Fatalf("RENAME_EXCHANGE = %d", r)
	}
	if got := e.cat("/tmp/x1"); got != "two" {
		t.Errorf("after exchange /tmp/x1 = %q", got)
	}
}

func TestLinksAndUnlinkedFiles(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/tmp/orig", linux.OCreat|linux.ORdwr, 0o644)
	e.write(fd, "data")
	if r := e.f.Link(e.m, e.str("/tmp/orig"), e.str("/tmp/hard")); r != 0 {
		t.Fatalf("Link = %d", r)
	}
	st, _ := e.stat("/tmp/hard", 0)
	if st.Nlink != 2 {
		t.Errorf("nlink = %d, want 2", st.Nlink)
	}
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"link a directory", e.f.Link(e.m, e.str("/tmp"), e.str("/tmp/dirlink")), neg(linux.EPERM)},
		{"link over existing", e.f.Link(e.m, e.str("/tmp/orig"), e.str("/tmp/hard")), neg(linux.EEXIST)},
		{"link across mounts", e.f.Link(e.m, e.str("/etc/hosts"), e.str("/tmp/h")), neg(linux.EXDEV)},
		{"linkat bad flags", e.f.Linkat(e.m, linux.AtFdcwd, e.str("/tmp/orig"), linux.AtFdcwd, e.str("/tmp/h"), 1), neg(linux.EINVAL)},
		{"symlink empty target", e.f.Symlink(e.m, e.str(""), e.str("/tmp/s")), neg(linux.ENOENT)},
		{"symlink existing", e.f.Symlink(e.m, e.str("x"), e.str("/tmp/orig")), neg(linux.EEXIST)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// linkat with AT_EMPTY_PATH links an open file; archive files can be
	// linked within the root too.
	if r := e.f.Linkat(e.m, fd, e.str(""), linux.AtFdcwd, e.str("/tmp/third"), linux.AtEmptyPath); r != 0 {
		t.Errorf("Linkat(AT_EMPTY_PATH) = %d", r)
	}
	if r := e.f.Link(e.m, e.str("/etc/hosts"), e.str("/etc/hosts2")); r != 0 || e.cat("/etc/hosts2") != e.cat("/etc/hosts") {
		t.Errorf("Link of an archive file = %d", r)
	}
	// An open file outlives its names.
	e.f.Unlink(e.m, e.str("/tmp/orig"))
	e.f.Unlink(e.m, e.str("/tmp/hard"))
	e.f.Unlink(e.m, e.str("/tmp/third"))
	e.f.Lseek(fd, 0, linux.SeekSet)
	if got := e.readAll(fd); got != "data" {
		t.Errorf("read of an unlinked open file = %q", got)
	}
	buf := e.alloc(linux.SizeofStat)
	e.f.Fstat(e.m, fd, buf)
	if st := decodeStat(e.get(buf, linux.SizeofStat)); st.Nlink != 0 {
		t.Errorf("nlink of unlinked file = %d", st.Nlink)
	}
}

// TestTmpfile: open(2) with O_TMPFILE makes a file without a name, which
// linkat(2) names once, through /proc/self/fd or AT_EMPTY_PATH, unless it
// was opened with O_EXCL; its data goes when the last descriptor closes.
func TestTmpfile(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/tmp", linux.OTmpfile|linux.ORdwr, 0o640)
	e.write(fd, "unnamed")
	st, _ := e.stat("/proc/self/fd/"+itoa(fd), 0)
	if st.Nlink != 0 || st.Mode != linux.SIfreg|0o640 || st.Size != 7 {
		t.Errorf("stat of an O_TMPFILE file: nlink %d mode %#o size %d, want 0 %#o 7", st.Nlink, st.Mode, st.Size, linux.SIfreg|0o640)
	}
	buf := e.alloc(64)
	if n := e.f.Readlink(e.m, e.str("/proc/self/fd/"+itoa(fd)), buf, 64); n < 0 || !strings.HasPrefix(string(e.get(buf, int(n))), "/tmp/#") || !strings.HasSuffix(string(e.get(buf, int(n))), " (deleted)") {
		t.Errorf("readlink of its descriptor = %d %q, want /tmp/#INO (deleted)", n, e.get(buf, max(int(n), 0)))
	}
	if r := e.f.Linkat(e.m, linux.AtFdcwd, e.str("/proc/self/fd/"+itoa(fd)), linux.AtFdcwd, e.str("/tmp/named"), linux.AtSymlinkFollow); r != 0 {
		t.Fatalf("linkat through /proc/self/fd = %d", r)
	}
	if got := e.cat("/tmp/named"); got != "unnamed" {
		t.Errorf("the linked file reads %q", got)
	}
	if st, _ := e.stat("/tmp/named", 0); st.Nlink != 1 {
		t.Errorf("nlink after linkat = %d, want 1", st.Nlink)
	}
	// Once named and unnamed again it is an ordinary unlinked file.
	e.f.Unlink(e.m, e.str("/tmp/named"))
	if r := e.f.Linkat(e.m, fd, e.str(""), linux.AtFdcwd, e.str("/tmp/again"), linux.AtEmptyPath); r != neg(linux.ENOENT) {
		t.Errorf("second linkat = %d, want ENOENT", r)
	}
	excl := e.open("/tmp", linux.OTmpfile|linux.OExcl|linux.OWronly, 0o600)
	if r := e.f.Linkat(e.m, excl, e.str(""), linux.AtFdcwd, e.str("/tmp/excl"), linux.AtEmptyPath); r != neg(linux.ENOENT) {
		t.Errorf("linkat of an O_EXCL tmpfile = %d, want ENOENT", r)
	}
	if r := e.f.Linkat(e.m, fd, e.str(""), linux.AtFdcwd, e.str("/etc/x"), linux.AtEmptyPath); r != neg(linux.EXDEV) {
		t.Errorf("linkat to another file system = %d, want EXDEV", r)
	}
}

func TestReadlink(t *testing.T) {
	e := newEnv(t)
	buf := e.alloc(256)
	fd := e.open("/etc/hosts", linux.ORdonly, 0)
	p := e.alloc(8)
	e.f.Pipe2(e.m, p, 0)
	e.f.Chdir(e.m, e.str("/usr/lib"))
	for _, c := range []struct {
		path   string
		bufsiz int32
		want   string
		errno  int
	}{
		{"/etc/link", 256, "hosts", 0},
		{"/etc/abs", 256, "/etc/hosts", 0},
		{"/etc/abs", 4, "/etc", 0},
		{"/proc/self/exe", 256, "/init", 0},
		{"/proc/self/cwd", 256, "/usr/lib", 0},
		{"/proc/self/fd/" + itoa(fd), 256, "/etc/hosts", 0},
		{"/proc/self/fd/0", 256, "/dev/console", 0},
		{"/proc/self/fd/" + itoa(int32(e.u32(p))), 256, "pipe:[", 0},
		{"/dev/stdin", 256, "/proc/self/fd/0", 0},
		{"/etc/hosts", 256, "", linux.EINVAL},
		{"/etc/link", 0, "", linux.EINVAL},
		{"/etc/link", -1, "", linux.EINVAL},
		{"/nope", 256, "", linux.ENOENT},
		{"", 256, "", linux.ENOENT},
	} {
		n := e.f.Readlink(e.m, e.str(c.path), buf, c.bufsiz)
		if c.errno != 0 {
			if n != neg(c.errno) {
				t.Errorf("Readlink(%q, %d) = %d, want -%d", c.path, c.bufsiz, n, c.errno)
			}
			continue
		}
		if n < int64(len(c.want)) || string(e.get(buf, len(c.want))) != c.want {
			t.Errorf("Readlink(%q, %d) = %d %q, want %q", c.path, c.bufsiz, n, e.get(buf, max(int(n), 0)), c.want)
		}
	}
	if n := e.f.Readlink(e.m, e.str("/etc/link"), badAddr, 10); n != neg(linux.EFAULT) {
		t.Errorf("Readlink(bad buffer) = %d", n)
	}
	// Following /proc/self/exe and /proc/self/fd/N reaches the files.
	if got := e.cat("/proc/self/exe"); got != "\x7fELF..." {
		t.Errorf("cat /proc/self/exe = %q", got)
	}
	if got := e.cat("/proc/self/fd/" + itoa(fd)); got != "127.0.0.1 localhost\n" {
		t.Errorf("cat /proc/self/fd/N = %q", got)
	}
	names := e.names("/proc/self/fd", 4096)
	if !slices.Contains(names, itoa(fd)) || !slices.Contains(names, "0") {
		t.Errorf("ls /proc/self/fd = %q", names)
	}
	if got := e.names("/proc/self", 4096); !slices.Equal(got, []string{".", "..", "auxv", "cgroup", "cmdline", "comm", "cwd", "environ", "exe", "fd", "fdinfo", "gid_map", "io", "limits", "maps", "mem", "mountinfo", "mounts", "net", "ns", "oom_adj", "oom_score", "oom_score_adj", "personality", "projid_map", "root", "setgroups", "smaps", "smaps_rollup", "stat", "statm", "status", "task", "timerslack_ns", "uid_map"}) {
		t.Errorf("ls /proc/self = %q", got)
	}
	mi := e.cat("/proc/self/mountinfo")
	for _, want := range []string{"1 1 0:1 / / rw,relatime - rootfs rootfs rw\n", " / /tmp rw,relatime - tmpfs tmpfs rw\n", " / /proc ro,relatime - proc proc ro\n"} {
		if !strings.Contains(mi, want) {
			t.Errorf("/proc/self/mountinfo lacks %q:\n%s", want, mi)
		}
	}
}

func TestCwd(t *testing.T) {
	e := newEnv(t)
	buf := e.alloc(256)
	getcwd := func() string {
		n := e.f.Getcwd(e.m, buf, 256)
		if n < 0 {
			return fmt.Sprint(n)
		}
		return string(e.get(buf, int(n)))
	}
	if got := getcwd(); got != "/\x00" {
		t.Errorf("getcwd = %q", got)
	}
	if r := e.f.Chdir(e.m, e.str("/etc/link/..")); r != neg(linux.ENOTDIR) {
		t.Errorf("Chdir through a file link = %d", r)
	}
	if r := e.f.Chdir(e.m, e.str("usr/lib")); r != 0 {
		t.Fatalf("Chdir = %d", r)
	}
	if got := e.cat("a"); got != "aaa" {
		t.Errorf("relative cat = %q", got)
	}
	if got := getcwd(); got != "/usr/lib\x00" {
		t.Errorf("getcwd = %q", got)
	}
	if r := e.f.Getcwd(e.m, buf, 5); r != neg(linux.ERANGE) {
		t.Errorf("Getcwd small = %d, want ERANGE", r)
	}
	if r := e.f.Getcwd(e.m, badAddr, 256); r != neg(linux.EFAULT) {
		t.Errorf("Getcwd bad = %d, want EFAULT", r)
	}
	e.f.Chdir(e.m, e.str("/proc/self/fd"))
	if got := getcwd(); got != "/proc/1/fd\x00" { // /proc/self is a link to /proc/PID
		t.Errorf("getcwd in proc = %q", got)
	}
	e.f.Chdir(e.m, e.str("/tmp"))
	if got := getcwd(); got != "/tmp\x00" {
		t.Errorf("getcwd = %q", got)
	}
	if got := e.names("..", 4096); !slices.Contains(got, "etc") {
		t.Errorf("ls .. from /tmp = %q", got)
	}
	fd := e.open("/etc", linux.ORdonly, 0)
	if r := e.f.Fchdir(fd); r != 0 || getcwd() != "/etc\x00" {
		t.Errorf("Fchdir = %d, cwd %q", r, getcwd())
	}
	file := e.open("/etc/hosts", linux.ORdonly, 0)
	if r := e.f.Fchdir(file); r != neg(linux.ENOTDIR) {
		t.Errorf("Fchdir(file) = %d", r)
	}
	if r := e.f.Fchdir(99); r != neg(linux.EBADF) {
		t.Errorf("Fchdir(99) = %d", r)
	}
	// A removed working directory has no path.
	e.f.Mkdir(e.m, e.str("/tmp/gone"), 0o755)
	e.f.Chdir(e.m, e.str("/tmp/gone"))
	e.f.Rmdir(e.m, e.str("/tmp/gone"))
	if r := e.f.Getcwd(e.m, buf, 256); r != neg(linux.ENOENT) {
		t.Errorf("Getcwd of removed dir = %d, want ENOENT", r)
	}
	if r := e.f.Openat(e.m, nil, linux.AtFdcwd, e.str("x"), linux.OCreat|linux.OWronly, 0o644); r != neg(linux.ENOENT) {
		t.Errorf("create in removed dir = %d, want ENOENT", r)
	}
}

func TestTruncateAndChmod(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/tmp/t", linux.OCreat|linux.ORdwr, 0o644)
	e.write(fd, "0123456789")
	ro := e.open("/tmp/t", linux.ORdonly, 0)
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"ftruncate", e.f.Ftruncate(fd, 4), 0},
		{"ftruncate negative", e.f.Ftruncate(fd, -1), neg(linux.EINVAL)},
		{"ftruncate read-only", e.f.Ftruncate(ro, 1), neg(linux.EINVAL)},
		{"ftruncate console", e.f.Ftruncate(1, 1), neg(linux.EINVAL)},
		{"ftruncate bad fd", e.f.Ftruncate(99, 1), neg(linux.EBADF)},
		{"truncate", e.f.Truncate(e.m, e.str("/tmp/t"), 2), 0},
		{"truncate dir", e.f.Truncate(e.m, e.str("/tmp"), 2), neg(linux.EISDIR)},
		{"truncate device", e.f.Truncate(e.m, e.str("/dev/null"), 2), neg(linux.EINVAL)},
		{"fsync", e.f.Fsync(fd), 0},
		{"fdatasync", e.f.Fdatasync(fd), 0},
		{"fsync console", e.f.Fsync(1), neg(linux.EINVAL)},
		{"fsync bad fd", e.f.Fsync(99), neg(linux.EBADF)},
		{"fchmod", e.f.Fchmod(fd, 0o600), 0},
		{"chmod", e.f.Chmod(e.m, e.str("/etc/hosts"), 0o400), 0},
		{"chmod missing", e.f.Chmod(e.m, e.str("/nope"), 0o400), neg(linux.ENOENT)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if got := e.cat("/tmp/t"); got != "01" {
		t.Errorf("after truncates = %q", got)
	}
	if st, _ := e.stat("/tmp/t", 0); st.Mode != linux.SIfreg|0o600 {
		t.Errorf("mode after fchmod = %#o", st.Mode)
	}
	if st, _ := e.stat("/etc/hosts", 0); st.Mode != linux.SIfreg|0o400 {
		t.Errorf("mode after chmod = %#o", st.Mode)
	}
	if old := e.f.Umask(0o077); old != 0o022 {
		t.Errorf("Umask = %#o", old)
	}
	e.f.Mkdir(e.m, e.str("/tmp/um"), 0o777)
	if st, _ := e.stat("/tmp/um", 0); st.Mode != linux.SIfdir|0o700 {
		t.Errorf("mkdir under umask 077: %#o", st.Mode)
	}
}
