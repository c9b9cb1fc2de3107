package fdtable

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

func TestStat(t *testing.T) {
	e := newEnv(t)
	st, r := e.stat("/etc/hosts", 0)
	if r != 0 || st.Mode != linux.SIfreg|0o644 || st.Size != 20 || st.Nlink != 1 || st.Blksize != 4096 || st.Ino == 0 {
		t.Errorf("stat /etc/hosts = %d %+v", r, st)
	}
	lst, r := e.stat("/etc/link", linux.AtSymlinkNofollow)
	if r != 0 || lst.Mode&linux.SIfmt != linux.SIflnk || lst.Size != 5 {
		t.Errorf("lstat /etc/link = %d mode %#o size %d", r, lst.Mode, lst.Size)
	}
	fst, _ := e.stat("/etc/link", 0)
	if fst.Ino != st.Ino {
		t.Errorf("stat through the link: ino %d, want %d", fst.Ino, st.Ino)
	}
	dst, _ := e.stat("/usr", 0)
	if dst.Mode&linux.SIfmt != linux.SIfdir || dst.Nlink != 4 {
		t.Errorf("stat /usr: mode %#o nlink %d, want a directory with 4 links", dst.Mode, dst.Nlink)
	}

	fd := e.open("/etc/hosts", linux.ORdonly, 0)
	buf := e.alloc(linux.SizeofStat)
	if r := e.f.Fstat(e.m, fd, buf); r != 0 || decodeStat(e.get(buf, linux.SizeofStat)) != st {
		t.Errorf("Fstat = %d %+v, want %+v", r, decodeStat(e.get(buf, linux.SizeofStat)), st)
	}
	if r := e.f.Newfstatat(e.m, fd, e.str(""), buf, linux.AtEmptyPath); r != 0 || decodeStat(e.get(buf, linux.SizeofStat)).Ino != st.Ino {
		t.Errorf("Newfstatat(fd, \"\", AT_EMPTY_PATH) = %d", r)
	}
	if r := e.f.Newfstatat(e.m, linux.AtFdcwd, 0, buf, linux.AtEmptyPath); r != 0 || decodeStat(e.get(buf, linux.SizeofStat)).Mode&linux.SIfmt != linux.SIfdir {
		t.Errorf("Newfstatat(AT_FDCWD, NULL, AT_EMPTY_PATH) = %d", r)
	}
	// Pipes and the console stat as what they are.
	p := e.alloc(8)
	e.f.Pipe2(e.m, p, 0)
	e.f.Fstat(e.m, int32(e.u32(p)), buf)
	if m := decodeStat(e.get(buf, linux.SizeofStat)).Mode; m&linux.SIfmt != linux.SIfifo {
		t.Errorf("fstat pipe mode %#o", m)
	}
	e.f.Fstat(e.m, 1, buf)
	if s := decodeStat(e.get(buf, linux.SizeofStat)); s.Mode&linux.SIfmt != linux.SIfchr || s.Rdev != linux.Mkdev(5, 1) {
		t.Errorf("fstat console mode %#o rdev %#x", s.Mode, s.Rdev)
	}

	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"bad fd", e.f.Fstat(e.m, 99, buf), neg(linux.EBADF)},
		{"bad buffer", e.f.Fstat(e.m, fd, badAddr), neg(linux.EFAULT)},
		{"bad path", e.f.Newfstatat(e.m, linux.AtFdcwd, badAddr, buf, 0), neg(linux.EFAULT)},
		{"bad flags", e.f.Newfstatat(e.m, linux.AtFdcwd, e.str("/"), buf, 0x4), neg(linux.EINVAL)},
		{"empty without flag", e.f.Newfstatat(e.m, fd, e.str(""), buf, 0), neg(linux.ENOENT)},
		{"empty path, bad fd", e.f.Newfstatat(e.m, 99, e.str(""), buf, linux.AtEmptyPath), neg(linux.EBADF)},
		{"missing", e.f.Stat(e.m, e.str("/nope"), buf), neg(linux.ENOENT)},
		{"lstat dangling", e.f.Lstat(e.m, e.str("/dangling"), buf), 0},
		{"stat dangling", e.f.Stat(e.m, e.str("/dangling"), buf), neg(linux.ENOENT)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestStatx(t *testing.T) {
	e := newEnv(t)
	st, _ := e.stat("/etc/hosts", 0)
	buf := e.alloc(linux.SizeofStatx)
	if r := e.f.Statx(e.m, linux.AtFdcwd, e.str("/etc/hosts"), 0, linux.StatxBasicStats|linux.StatxMntID, buf); r != 0 {
		t.Fatalf("Statx = %d", r)
	}
	b := e.get(buf, linux.SizeofStatx)
	le := binary.LittleEndian
	mask, mode, ino, size := le.Uint32(b[0:]), le.Uint16(b[28:]), le.Uint64(b[32:]), le.Uint64(b[40:])
	if mask&linux.StatxBasicStats != linux.StatxBasicStats || mask&linux.StatxMntID == 0 ||
		uint32(mode) != st.Mode || ino != st.Ino || size != uint64(st.Size) || le.Uint32(b[4:]) != 4096 {
		t.Errorf("statx: mask %#x mode %#o ino %d size %d", mask, mode, ino, size)
	}
	if major, minor := le.Uint32(b[136:]), le.Uint32(b[140:]); linux.Mkdev(major, minor) != st.Dev {
		t.Errorf("statx dev %d:%d, stat dev %#x", major, minor, st.Dev)
	}
	if r := e.f.Statx(e.m, linux.AtFdcwd, e.str("/tmp"), 0, linux.StatxBasicStats, buf); r != 0 || le.Uint64(e.get(buf+8, 8))&linux.StatxAttrMntRoot == 0 {
		t.Errorf("statx /tmp: %d, attributes %#x; want STATX_ATTR_MOUNT_ROOT", r, le.Uint64(e.get(buf+8, 8)))
	}
	for _, c := range []struct {
		name  string
		path  uint64
		flags uint32
		mask  uint32
		out   uint64
		want  int64
	}{
		{"reserved mask", e.str("/"), 0, linux.StatxReserved, buf, neg(linux.EINVAL)},
		{"bad flags", e.str("/"), 0x1, linux.StatxBasicStats, buf, neg(linux.EINVAL)},
		{"both sync types", e.str("/"), linux.AtStatxSyncType, linux.StatxBasicStats, buf, neg(linux.EINVAL)},
		{"bad buffer", e.str("/"), 0, linux.StatxBasicStats, badAddr, neg(linux.EFAULT)},
		{"bad path", badAddr, 0, linux.StatxBasicStats, buf, neg(linux.EFAULT)},
		{"nofollow", e.str("/etc/link"), linux.AtSymlinkNofollow, linux.StatxBasicStats, buf, 0},
		{"empty path", 0, linux.AtEmptyPath, linux.StatxBasicStats, buf, 0},
	} {
		if got := e.f.Statx(e.m, linux.AtFdcwd, c.path, c.flags, c.mask, c.out); got != c.want {
			t.Errorf("%s: Statx = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestAccess(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/etc", linux.OPath, 0)
	for _, c := range []struct {
		path  string
		mode  uint32
		flags uint32
		want  int64
	}{
		{"/etc/hosts", linux.FOk, 0, 0},
		{"/etc/hosts", linux.ROk | linux.WOk, 0, 0},
		{"/etc/hosts", linux.XOk, 0, neg(linux.EACCES)},
		{"/init", linux.XOk, 0, 0},
		{"/etc", linux.XOk, 0, 0},
		{"/nope", linux.FOk, 0, neg(linux.ENOENT)},
		{"/dangling", linux.FOk, 0, neg(linux.ENOENT)},
		{"/dangling", linux.FOk, linux.AtSymlinkNofollow, 0},
		{"/etc/hosts", 8, 0, neg(linux.EINVAL)},
		{"/etc/hosts", linux.FOk, 0x1, neg(linux.EINVAL)},
		{"/etc/hosts", linux.FOk, linux.AtEaccess, 0},
		{"hosts", linux.ROk, 0, 0}, // relative to the O_PATH descriptor
	} {
		dirfd := int32(linux.AtFdcwd)
		if c.path[0] != '/' {
			dirfd = fd
		}
		if got := e.f.Faccessat2(e.m, dirfd, e.str(c.path), c.mode, c.flags); got != c.want {
			t.Errorf("Faccessat2(%q, %d, %#x) = %d, want %d", c.path, c.mode, c.flags, got, c.want)
		}
	}
	if r := e.f.Faccessat2(e.m, fd, e.str(""), linux.XOk, linux.AtEmptyPath); r != 0 {
		t.Errorf("Faccessat2(fd, \"\", AT_EMPTY_PATH) = %d", r)
	}
	if r := e.f.Faccessat(e.m, linux.AtFdcwd, e.str("/init"), linux.XOk); r != 0 {
		t.Errorf("Faccessat = %d", r)
	}
	if r := e.f.Access(e.m, badAddr, linux.FOk); r != neg(linux.EFAULT) {
		t.Errorf("Access(bad pointer) = %d", r)
	}
}
