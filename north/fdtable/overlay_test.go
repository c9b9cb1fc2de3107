package fdtable

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/vfs"
	"github.com/u-root/u-root/pkg/cpio"
)

func TestOverlayCopyUp(t *testing.T) {
	e := newEnv(t)
	orig := append([]byte(nil), e.archive...)
	before, _ := e.stat("/etc/hosts", 0)

	fd := e.open("/etc/hosts", linux.ORdwr, 0)
	reader := e.open("/etc/hosts", linux.ORdonly, 0)
	e.write(fd, "10.0.0.10")
	if got := e.cat("/etc/hosts"); got != "10.0.0.10 localhost\n" {
		t.Errorf("after write = %q", got)
	}
	// A descriptor opened before the copy-up sees the new data too.
	if got := e.readAll(reader); got != "10.0.0.10 localhost\n" {
		t.Errorf("earlier descriptor reads %q", got)
	}
	after, _ := e.stat("/etc/hosts", 0)
	if after.Ino != before.Ino {
		t.Errorf("inode changed on copy-up: %d -> %d", before.Ino, after.Ino)
	}
	if !bytes.Equal(e.archive, orig) {
		t.Error("the archive's bytes changed")
	}
	// Grow it past a page and shrink it again.
	big := strings.Repeat("x", 10000)
	e.f.Pwrite64(e.m, fd, e.put([]byte(big)), uint64(len(big)), 5)
	if r := e.f.Ftruncate(fd, 3); r != 0 {
		t.Fatalf("Ftruncate = %d", r)
	}
	if r := e.f.Ftruncate(fd, 6); r != 0 {
		t.Fatalf("Ftruncate = %d", r)
	}
	if got := e.cat("/etc/hosts"); got != "10.\x00\x00\x00" {
		t.Errorf("after truncate = %q", got)
	}
}

func TestOverlayPartialPageCopyUp(t *testing.T) {
	content := strings.Repeat("0123456789", 1000) // 10000 bytes: three pages
	e := newEnvWith(t, []cpio.Record{cpio.StaticFile("big", content, 0o644)}, vfs.Options{})
	fd := e.open("/big", linux.OWronly, 0)
	e.f.Pwrite64(e.m, fd, e.put([]byte("ABC")), 3, 4095)
	want := content[:4095] + "ABC" + content[4098:]
	if got := e.cat("/big"); got != want {
		t.Errorf("after a write across a page boundary, contents differ at %d", firstDiff(got, want))
	}
	// Truncating into the archive's part and growing again reads zeros,
	// not the archive's bytes.
	e.f.Ftruncate(fd, 9000)
	e.f.Ftruncate(fd, 9500)
	got := e.cat("/big")
	if got[:9000] != want[:9000] || got[9000:] != strings.Repeat("\x00", 500) {
		t.Errorf("after shrink and grow, contents differ at %d", firstDiff(got, want[:9000]+strings.Repeat("\x00", 500)))
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestOverlayWhiteouts(t *testing.T) {
	e := newEnv(t)
	if r := e.f.Unlink(e.m, e.str("/usr/lib/a")); r != 0 {
		t.Fatalf("Unlink = %d", r)
	}
	if _, r := e.stat("/usr/lib/a", 0); r != neg(linux.ENOENT) {
		t.Errorf("stat of unlinked archive file = %d, want ENOENT", r)
	}
	if got := e.names("/usr/lib", 4096); !slices.Equal(got, []string{".", "..", "b"}) {
		t.Errorf("ls /usr/lib = %q", got)
	}
	// The name can be made again.
	fd := e.open("/usr/lib/a", linux.OCreat|linux.OWronly|linux.OExcl, 0o644)
	e.write(fd, "new")
	if got := e.cat("/usr/lib/a"); got != "new" {
		t.Errorf("recreated = %q", got)
	}
	// Rename hides the old name and keeps the contents.
	if r := e.f.Rename(e.m, e.str("/usr/lib/b"), e.str("/usr/share/b2")); r != 0 {
		t.Fatalf("Rename = %d", r)
	}
	if _, r := e.stat("/usr/lib/b", 0); r != neg(linux.ENOENT) {
		t.Errorf("stat of renamed-away name = %d", r)
	}
	if got := e.cat("/usr/share/b2"); got != "bbb" {
		t.Errorf("renamed = %q", got)
	}
	// Removing a whole archive directory and making it again gives an
	// empty directory: the archive's entries stay hidden.
	for _, p := range []string{"/usr/lib/a"} {
		e.f.Unlink(e.m, e.str(p))
	}
	if r := e.f.Rmdir(e.m, e.str("/usr/lib")); r != 0 {
		t.Fatalf("Rmdir(/usr/lib) = %d", r)
	}
	if r := e.f.Mkdir(e.m, e.str("/usr/lib"), 0o755); r != 0 {
		t.Fatalf("Mkdir(/usr/lib) = %d", r)
	}
	if got := e.names("/usr/lib", 4096); !slices.Equal(got, []string{".", ".."}) {
		t.Errorf("ls of remade /usr/lib = %q", got)
	}
	// Renaming an archive directory carries its archive entries along.
	if r := e.f.Rename(e.m, e.str("/etc"), e.str("/etc2")); r != 0 {
		t.Fatalf("Rename(/etc) = %d", r)
	}
	if got := e.cat("/etc2/link"); got != "127.0.0.1 localhost\n" {
		t.Errorf("cat /etc2/link = %q", got)
	}
	if got := e.names("/", 4096); slices.Contains(got, "etc") || !slices.Contains(got, "etc2") {
		t.Errorf("ls / = %q", got)
	}
}

func TestOverlayWritableRootAndTmp(t *testing.T) {
	e := newEnv(t)
	for _, dir := range []string{"/", "/tmp", "/usr/share", "/dev/shm"} {
		p := strings.TrimSuffix(dir, "/") + "/newfile"
		fd := e.open(p, linux.OCreat|linux.OWronly, 0o644)
		e.write(fd, dir)
		e.f.Close(fd)
		if got := e.cat(p); got != dir {
			t.Errorf("cat %s = %q", p, got)
		}
	}
	got := e.names("/", 4096)
	for _, want := range []string{".", "..", "etc", "init", "usr", "tmp", "dev", "proc", "newfile"} {
		if !slices.Contains(got, want) {
			t.Errorf("ls / = %q, missing %q", got, want)
		}
	}
	st, _ := e.stat("/tmp", 0)
	if st.Mode != linux.SIfdir|0o1777 {
		t.Errorf("/tmp mode = %#o", st.Mode)
	}
	root, _ := e.stat("/", 0)
	if st.Dev == root.Dev {
		t.Error("/tmp has the root's st_dev: it should be its own mount")
	}
}

func TestReadOnlyRoot(t *testing.T) {
	e := newEnvWith(t, testFiles, vfs.Options{ReadOnly: true})
	erofs := neg(linux.EROFS)
	for _, c := range []struct {
		name string
		got  int64
	}{
		{"open for write", e.f.Openat(e.m, nil, linux.AtFdcwd, e.str("/etc/hosts"), linux.OWronly, 0)},
		{"open O_TRUNC", e.f.Openat(e.m, nil, linux.AtFdcwd, e.str("/etc/hosts"), linux.ORdonly|linux.OTrunc, 0)},
		{"create", e.f.Openat(e.m, nil, linux.AtFdcwd, e.str("/new"), linux.OCreat|linux.OWronly, 0o644)},
		{"mkdir", e.f.Mkdir(e.m, e.str("/newdir"), 0o755)},
		{"unlink", e.f.Unlink(e.m, e.str("/etc/hosts"))},
		{"unlink missing", e.f.Unlink(e.m, e.str("/missing"))},
		{"rmdir", e.f.Rmdir(e.m, e.str("/usr/share"))},
		{"rename", e.f.Rename(e.m, e.str("/init"), e.str("/init2"))},
		{"symlink", e.f.Symlink(e.m, e.str("x"), e.str("/sl"))},
		{"link", e.f.Link(e.m, e.str("/init"), e.str("/init2"))},
		{"chmod", e.f.Chmod(e.m, e.str("/init"), 0o700)},
		{"truncate", e.f.Truncate(e.m, e.str("/init"), 0)},
		{"access W_OK", e.f.Access(e.m, e.str("/init"), linux.WOk)},
	} {
		if c.got != erofs {
			t.Errorf("%s = %d, want EROFS", c.name, c.got)
		}
	}
	if r := e.f.Mkdir(e.m, e.str("/etc"), 0o755); r != neg(linux.EEXIST) {
		t.Errorf("mkdir existing on a read-only mount = %d, want EEXIST", r)
	}
	// /tmp and /dev stay writable; device files can be written.
	fd := e.open("/tmp/x", linux.OCreat|linux.OWronly, 0o644)
	e.write(fd, "ok")
	fd = e.open("/dev/null", linux.OWronly, 0)
	e.write(fd, "ok")
	if r := e.f.Access(e.m, e.str("/dev/null"), linux.WOk); r != 0 {
		t.Errorf("access(/dev/null, W_OK) = %d", r)
	}
}
