package fdtable

import (
	"testing"

	"github.com/cocoon-vm/cocoon/north/vfs"
)

// The choices abidiff (north's differential test) cannot check against
// the host: namespaces Cocoon's tmpfs does not keep, the unprivileged
// security.* rule, /proc, read-only mounts and the memory limit.
func TestXattrNamespacesAndLimits(t *testing.T) {
	e := newEnvWith(t, testFiles, vfs.Options{MemoryLimit: 1 << 20})
	e.open("/tmp/f", 0o101, 0o644) // O_WRONLY|O_CREAT
	f := e.str("/tmp/f")
	v := e.put([]byte("value"))
	set := func(path uint64, name string, size uint64, priv bool) int64 {
		r, _ := e.f.XattrSyscall(e.m, priv, sysSetxattr, [6]uint64{path, e.str(name), v, size, 0})
		return r
	}
	get := func(path uint64, name string, priv bool) int64 {
		r, _ := e.f.XattrSyscall(e.m, priv, sysGetxattr, [6]uint64{path, e.str(name), e.alloc(64), 64})
		return r
	}
	for _, c := range []struct {
		what string
		got  int64
		want int64
	}{
		{"system.posix_acl_access (no ACLs)", set(f, "system.posix_acl_access", 5, true), errno(vfs.EOPNOTSUPP)},
		{"security.capability", set(f, "security.capability", 5, true), errno(vfs.EOPNOTSUPP)},
		{"security.* privileged", set(f, "security.x", 5, true), 0},
		{"security.* read unprivileged", get(f, "security.x", false), 5},
		{"security.* write unprivileged", set(f, "security.y", 5, false), errno(vfs.EPERM)},
		{"trusted.* read unprivileged", get(f, "trusted.none", false), errno(vfs.ENODATA)},
		{"/proc file", get(e.str("/proc/self/cmdline"), "user.a", true), errno(vfs.EOPNOTSUPP)},
		{"set on /proc", set(e.str("/proc/self/cmdline"), "user.a", 5, true), errno(vfs.EOPNOTSUPP)},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.what, c.got, c.want)
		}
	}
	// Attributes count against the file systems' memory: 1 MiB holds
	// fewer than 20 attributes of 64 KiB.
	big := e.put(make([]byte, vfs.XattrSizeMax))
	var r int64
	n := 0
	for ; n < 40; n++ {
		r, _ = e.f.XattrSyscall(e.m, true, sysSetxattr, [6]uint64{f, e.str("user.big" + string(rune('a'+n))), big, vfs.XattrSizeMax, 0})
		if r != 0 {
			break
		}
	}
	if r != errno(vfs.ENOSPC) || n < 10 {
		t.Errorf("filling 1 MiB with 64 KiB attributes: %d stored, then %d; want ENOSPC after at least 10", n, r)
	}
	// Removing one frees room for another.
	if r, _ := e.f.XattrSyscall(e.m, true, sysRemovexattr, [6]uint64{f, e.str("user.biga")}); r != 0 {
		t.Fatalf("removexattr: %d", r)
	}
	if r, _ := e.f.XattrSyscall(e.m, true, sysSetxattr, [6]uint64{f, e.str("user.again"), big, vfs.XattrSizeMax, 0}); r != 0 {
		t.Errorf("setxattr after removexattr freed room: %d", r)
	}
}

func TestXattrReadOnlyMount(t *testing.T) {
	e := newEnvWith(t, testFiles, vfs.Options{ReadOnly: true})
	r, _ := e.f.XattrSyscall(e.m, true, sysSetxattr, [6]uint64{e.str("/etc/hosts"), e.str("user.a"), e.put([]byte("x")), 1, 0})
	if r != errno(vfs.EROFS) {
		t.Errorf("setxattr on a read-only mount: %d, want EROFS", r)
	}
	r, _ = e.f.XattrSyscall(e.m, true, sysGetxattr, [6]uint64{e.str("/etc/hosts"), e.str("user.a"), e.alloc(8), 8})
	if r != errno(vfs.ENODATA) {
		t.Errorf("getxattr on a read-only mount: %d, want ENODATA", r)
	}
}
