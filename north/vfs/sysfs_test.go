package vfs

import (
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// TestSysfs: /sys is a read-only sysfs mount whose CPU lists name CPU 0
// alone, as sched_getaffinity does; its files are 0444 of size 4096, its
// directories link their subdirectories; nothing in it can be made,
// written or removed (EROFS); mountinfo, /proc/mounts and
// /proc/filesystems show it, and statfs says SYSFS_MAGIC.
func TestSysfs(t *testing.T) {
	fs, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/sys/devices/system/cpu/online":                       "0\n",
		"/sys/devices/system/cpu/possible":                     "0\n",
		"/sys/devices/system/cpu/present":                      "0\n",
		"/sys/devices/system/cpu/offline":                      "\n",
		"/sys/devices/system/cpu/cpu0/topology/core_id":        "0\n",
		"/sys/devices/system/cpu/cpu0/../cpu0/topology/die_id": "0\n",
	} {
		if got := readFile(t, fs, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	a := lookupAll(t, fs, "/sys/devices/system/cpu/online", true).Attr()
	if a.Mode != linux.SIfreg|0o444 || a.Size != 4096 || a.Mtime == 0 {
		t.Errorf("online: mode %o size %d mtime %d, want 0100444, 4096 and the mount's time", a.Mode, a.Size, a.Mtime)
	}
	if a := lookupAll(t, fs, "/sys/devices/system/cpu", true).Attr(); a.Mode != linux.SIfdir|0o755 || a.Nlink != 3 {
		t.Errorf("cpu: mode %o nlink %d, want 040755 and 3 (cpu0)", a.Mode, a.Nlink)
	}
	d, err := fs.Open(nil, fs.Root(), "/sys/fs/cgroup", linux.ORdonly|linux.ODirectory, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	d.Getdents(func(e Dirent) bool { names = append(names, e.Name); return true })
	d.DecRef()
	if strings.Join(names, " ") != ". .." {
		t.Errorf("/sys/fs/cgroup lists %q, want it empty", names)
	}
	if _, err := fs.Open(nil, fs.Root(), "/sys/devices/system/cpu/online", linux.OWronly, 0); err != EROFS {
		t.Errorf("open online for writing = %v, want EROFS", err)
	}
	if _, err := fs.Open(nil, fs.Root(), "/sys/new", linux.OCreat|linux.OWronly, 0o644); err != EROFS {
		t.Errorf("create in /sys = %v, want EROFS", err)
	}
	if err := fs.Mkdir(nil, fs.Root(), "/sys/fs/cgroup/x", 0o755); err != EROFS {
		t.Errorf("mkdir in /sys/fs/cgroup = %v, want EROFS", err)
	}
	if err := fs.Unlink(nil, fs.Root(), "/sys/devices/system/cpu/online", false); err != EROFS {
		t.Errorf("unlink online = %v, want EROFS", err)
	}
	if _, err := fs.Open(nil, fs.Root(), "/sys/devices/system/cpu/cpu1", linux.ORdonly, 0); err != ENOENT {
		t.Errorf("open cpu1 = %v, want ENOENT", err)
	}
	if p, err := fs.Path(lookupAll(t, fs, "/sys/devices/system/cpu/cpu0", true)); p != "/sys/devices/system/cpu/cpu0" || err != nil {
		t.Errorf("Path of cpu0 = %q, %v", p, err)
	}
	if s := lookupAll(t, fs, "/sys/devices", true).Statfs(); s.Type != sysfsMagic || s.Flags&stRdonly == 0 {
		t.Errorf("statfs /sys/devices: type %#x flags %#x, want SYSFS_MAGIC read-only", s.Type, s.Flags)
	}
	if m := string(fs.mountsText()); !strings.Contains(m, "sysfs /sys sysfs ro,relatime 0 0\n") {
		t.Errorf("/proc/mounts lacks /sys:\n%s", m)
	}
	if m := string(fs.mountinfo()); !strings.Contains(m, " / /sys ro,relatime - sysfs sysfs ro\n") {
		t.Errorf("mountinfo lacks /sys:\n%s", m)
	}
	if !strings.HasPrefix(filesystems, "nodev\tsysfs\n") {
		t.Errorf("/proc/filesystems does not start with sysfs, as Linux's registers it first:\n%s", filesystems)
	}
}
