package fdtable

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

func TestStatfs(t *testing.T) {
	e := newEnv(t)
	buf := e.alloc(120)
	for _, c := range []struct {
		path  string
		magic uint64
		ro    bool
	}{{"/tmp", 0x01021994, false}, {"/proc/self", 0x9fa0, true}, {"/dev/null", 0x01021994, false}} {
		if r := e.f.Statfs(e.m, e.str(c.path), buf); r != 0 {
			t.Fatalf("statfs(%s) = %d", c.path, r)
		}
		b := e.get(buf, 120)
		typ, bsize, namelen, flags := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:]), binary.LittleEndian.Uint64(b[64:]), binary.LittleEndian.Uint64(b[80:])
		if typ != c.magic || bsize != 4096 || namelen != 255 || flags&0x20 == 0 || (flags&1 != 0) != c.ro {
			t.Errorf("statfs(%s): type %#x bsize %d namelen %d flags %#x", c.path, typ, bsize, namelen, flags)
		}
	}
	if r := e.f.Statfs(e.m, e.str("/nonexistent"), buf); r != neg(linux.ENOENT) {
		t.Errorf("statfs of a missing path = %d, want ENOENT", r)
	}
	rd, _ := e.pipe(0)
	if r := e.f.Fstatfs(e.m, rd, buf); r != 0 || binary.LittleEndian.Uint64(e.get(buf, 8)) != 0x50495045 {
		t.Errorf("fstatfs(pipe) = %d, type %#x, want pipefs", r, binary.LittleEndian.Uint64(e.get(buf, 8)))
	}
	if r := e.f.Fstatfs(e.m, 99, buf); r != neg(linux.EBADF) {
		t.Errorf("fstatfs(99) = %d, want EBADF", r)
	}
	if r := e.f.Fstatfs(e.m, rd, badAddr); r != neg(linux.EFAULT) {
		t.Errorf("fstatfs to a bad address = %d, want EFAULT", r)
	}
}

func TestUtimes(t *testing.T) {
	e := newEnv(t)
	e.f.Close(e.open("/tmp/f", linux.OCreat|linux.OWronly, 0o644))
	path := e.str("/tmp/f")
	tv := e.put(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(
		binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1000), 5), 2000), 7))
	if r := e.f.Utimes(e.m, path, tv); r != 0 {
		t.Fatalf("utimes = %d", r)
	}
	st, _ := e.stat("/tmp/f", 0)
	if st.Atime != 1000 || st.AtimeNsec != 5000 || st.Mtime != 2000 || st.MtimeNsec != 7000 {
		t.Errorf("after utimes: atime %d.%d mtime %d.%d", st.Atime, st.AtimeNsec, st.Mtime, st.MtimeNsec)
	}
	ub := e.put(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 300), 400))
	if r := e.f.Utime(e.m, path, ub); r != 0 {
		t.Fatalf("utime = %d", r)
	}
	if st, _ = e.stat("/tmp/f", 0); st.Atime != 300 || st.Mtime != 400 || st.MtimeNsec != 0 {
		t.Errorf("after utime: atime %d.%d mtime %d.%d", st.Atime, st.AtimeNsec, st.Mtime, st.MtimeNsec)
	}
	bad := e.put(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(
		binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1), 1000000), 2), 0))
	if r := e.f.Futimesat(e.m, linux.AtFdcwd, path, bad); r != neg(linux.EINVAL) {
		t.Errorf("futimesat with tv_usec 1000000 = %d, want EINVAL", r)
	}
	dir := e.open("/tmp", linux.ORdonly|linux.ODirectory, 0)
	if r := e.f.Futimesat(e.m, dir, e.str("f"), tv); r != 0 {
		t.Errorf("futimesat relative to /tmp = %d", r)
	}
	if r := e.f.Utimes(e.m, e.str("/tmp/none"), tv); r != neg(linux.ENOENT) {
		t.Errorf("utimes of a missing file = %d, want ENOENT", r)
	}
	if r := e.f.Utimes(e.m, path, badAddr); r != neg(linux.EFAULT) {
		t.Errorf("utimes with a bad times pointer = %d, want EFAULT", r)
	}
}

func TestSyncFileRange(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/tmp/g", linux.OCreat|linux.ORdwr, 0o644)
	rd, _ := e.pipe(0)
	for _, c := range []struct {
		name   string
		fd     int32
		off, n int64
		flags  uint32
		want   int64
	}{
		{"file", fd, 0, 100, 7, 0},
		{"bad flags", fd, 0, 100, 8, neg(linux.EINVAL)},
		{"negative offset", fd, -1, 100, 0, neg(linux.EINVAL)},
		{"negative length", fd, 0, -1, 0, neg(linux.EINVAL)},
		{"pipe", rd, 0, 0, 0, neg(linux.ESPIPE)},
		{"closed", 77, 0, 0, 0, neg(linux.EBADF)},
	} {
		if r := e.f.SyncFileRange(c.fd, c.off, c.n, c.flags); r != c.want {
			t.Errorf("sync_file_range %s = %d, want %d", c.name, r, c.want)
		}
	}
}

func TestRandomIoctls(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/dev/urandom", linux.ORdonly, 0)
	cnt := e.alloc(8)
	if r := e.f.Ioctl(e.m, fd, 0x80045200, cnt); r != 0 || e.u32(cnt) != 256 {
		t.Errorf("RNDGETENTCNT = %d, count %d, want 256", r, e.u32(cnt))
	}
	if r := e.f.Ioctl(e.m, fd, 0x80045200, badAddr); r != neg(linux.EFAULT) {
		t.Errorf("RNDGETENTCNT to a bad address = %d", r)
	}
	negative := e.put([]byte{0xff, 0xff, 0xff, 0xff})
	if r := e.f.Ioctl(e.m, fd, 0x40045201, negative); r != neg(linux.EINVAL) {
		t.Errorf("RNDADDTOENTCNT -1 = %d, want EINVAL", r)
	}
	if r := e.f.Ioctl(e.m, fd, 0x5299, 0); r != neg(linux.EINVAL) {
		t.Errorf("unknown random ioctl = %d, want EINVAL", r)
	}
	null := e.open("/dev/null", linux.ORdonly, 0)
	if r := e.f.Ioctl(e.m, null, 0x80045200, cnt); r >= 0 {
		t.Errorf("RNDGETENTCNT on /dev/null = %d, want an error", r)
	}
}

func TestProcSelfCmdline(t *testing.T) {
	e := newEnv(t)
	if got := e.cat("/proc/self/cmdline"); got != "" {
		t.Errorf("cmdline before SetCmdline = %q", got)
	}
	e.f.SetCmdline([]string{"/init", "-v", "two words"})
	if got, want := e.cat("/proc/self/cmdline"), "/init\x00-v\x00two words\x00"; got != want {
		t.Errorf("/proc/self/cmdline = %q, want %q", got, want)
	}
	if st, r := e.stat("/proc/self/cmdline", 0); r != 0 || st.Mode != linux.SIfreg|0o444 {
		t.Errorf("stat /proc/self/cmdline = %d, mode %#o", r, st.Mode)
	}
}
