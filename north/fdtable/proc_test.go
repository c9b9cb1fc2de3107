package fdtable

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

func TestProcSys(t *testing.T) {
	e := newEnv(t)
	const path = "/proc/sys/fs/pipe-max-size"
	want := "1048576\n"
	if host, err := os.ReadFile(path); err == nil {
		want = string(host) // the host's Linux, unless its administrator changed it
	}
	if got := e.cat(path); got != want {
		t.Errorf("cat %s = %q, want %q", path, got, want)
	}
	// Linux's /proc files have size 0, so readers read until end of file.
	st, r := e.stat(path, 0)
	if r != 0 || st.Mode != linux.SIfreg|0o644 || st.Size != 0 {
		t.Errorf("stat %s = %d, mode %#o size %d, want 0, mode %#o size 0", path, r, st.Mode, st.Size, linux.SIfreg|0o644)
	}
	fd := e.open(path, linux.ORdonly, 0)
	buf := e.alloc(16)
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"read 1", e.f.Read(e.m, nil, fd, buf, 1), 1},
		{"read the rest", e.f.Read(e.m, nil, fd, buf, 16), int64(len(want) - 1)},
		{"read at end", e.f.Read(e.m, nil, fd, buf, 16), 0},
		{"pread at 2", e.f.Pread64(e.m, fd, buf, 16, 2), int64(len(want) - 2)},
		{"lseek to 0", e.f.Lseek(fd, 0, linux.SeekSet), 0},
		{"readlink", e.f.Readlinkat(e.m, linux.AtFdcwd, e.str(path), buf, 16), neg(linux.EINVAL)},
		{"lookup below", e.f.Openat(e.m, nil, linux.AtFdcwd, e.str(path+"/x"), linux.ORdonly, 0), neg(linux.ENOTDIR)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	for dir, want := range map[string][]string{
		"/proc":                   {".", "..", "self", "sys", "thread-self", "mounts", "meminfo", "version", "uptime", "filesystems", "loadavg", "stat", "cpuinfo", "diskstats", "net", "swaps", "1"}, // the caller alone, without a process table
		"/proc/sys":               {".", "..", "fs", "vm", "kernel", "net"},
		"/proc/sys/fs":            {".", "..", "pipe-max-size", "pipe-user-pages-hard", "pipe-user-pages-soft", "protected_hardlinks", "epoll", "inotify", "nr_open", "file-nr", "file-max"},
		"/proc/sys/fs/epoll":      {".", "..", "max_user_watches"},
		"/proc/sys/fs/inotify":    {".", "..", "max_user_instances", "max_user_watches", "max_queued_events"},
		"/proc/sys/vm":            {".", "..", "overcommit_memory", "max_map_count"},
		"/proc/sys/kernel":        {".", "..", "random", "ostype", "osrelease", "version", "hostname", "domainname", "pid_max", "ngroups_max", "cap_last_cap"},
		"/proc/sys/kernel/random": {".", "..", "uuid", "boot_id", "entropy_avail", "poolsize"},
		"/proc/sys/net":           {".", "..", "core", "ipv4"},
		"/proc/sys/net/core":      {".", "..", "somaxconn"},
		"/proc/sys/net/ipv4":      {".", "..", "ip_local_port_range", "tcp_rmem", "tcp_wmem"},
	} {
		if got := e.names(dir, 4096); !slices.Equal(got, want) {
			t.Errorf("ls %s = %q, want %q", dir, got, want)
		}
	}
	if r := e.f.Chdir(e.m, e.str("/proc/sys/fs/../fs")); r != 0 {
		t.Fatalf("Chdir /proc/sys/fs = %d", r)
	}
	if n := e.f.Getcwd(e.m, buf, 16); n < 0 || string(e.get(buf, int(n))) != "/proc/sys/fs\x00" {
		t.Errorf("getcwd in /proc/sys/fs = %d %q", n, e.get(buf, int(max(n, 0))))
	}
}

// TestProcSysctls: the files of /proc/sys/kernel and net read what the
// personality gave (SetSysctls) at every open, are not there without it,
// sit where getcwd finds them, and are read-only as the rest of /proc/sys.
func TestProcSysctls(t *testing.T) {
	e := newEnv(t)
	const path = "/proc/sys/kernel/random/uuid"
	if r := e.f.Openat(e.m, nil, linux.AtFdcwd, e.str(path), linux.ORdonly, 0); r != neg(linux.ENOENT) {
		t.Errorf("open %s without a value = %d, want ENOENT", path, r)
	}
	n := 0
	e.fs.SetSysctls(map[string]func() string{"kernel/random/uuid": func() string { n++; return strconv.Itoa(n) + "\n" }})
	if a, b := e.cat(path), e.cat(path); a != "1\n" || b != "2\n" {
		t.Errorf("two reads of %s = %q, %q, want a value made at each open", path, a, b)
	}
	if r := e.f.Openat(e.m, nil, linux.AtFdcwd, e.str(path), linux.OWronly, 0); r != neg(linux.EROFS) {
		t.Errorf("open %s for writing = %d, want EROFS", path, r)
	}
	if r := e.f.Chdir(e.m, e.str("/proc/sys/kernel/random/../random")); r != 0 {
		t.Fatalf("Chdir /proc/sys/kernel/random = %d", r)
	}
	buf := e.alloc(64)
	if n := e.f.Getcwd(e.m, buf, 64); n < 0 || string(e.get(buf, int(n))) != "/proc/sys/kernel/random\x00" {
		t.Errorf("getcwd in /proc/sys/kernel/random = %d %q", n, e.get(buf, int(max(n, 0))))
	}
	// A directory of /proc/sys/fs's own: its parent is fs.
	e.fs.SetSysctls(map[string]func() string{"fs/inotify/max_queued_events": func() string { return "16384\n" }})
	if r := e.f.Chdir(e.m, e.str("/proc/sys/fs/epoll/../inotify")); r != 0 {
		t.Fatalf("Chdir /proc/sys/fs/inotify = %d", r)
	}
	if n := e.f.Getcwd(e.m, buf, 64); n < 0 || string(e.get(buf, int(n))) != "/proc/sys/fs/inotify\x00" {
		t.Errorf("getcwd in /proc/sys/fs/inotify = %d %q", n, e.get(buf, int(max(n, 0))))
	}
	if got := e.cat("max_queued_events"); got != "16384\n" {
		t.Errorf("cat /proc/sys/fs/inotify/max_queued_events = %q", got)
	}
}

// TestProcOvercommit checks /proc/sys/vm/overcommit_memory: the policy
// the kernel was booted with (SetOvercommit), Linux's default 0 until
// then, and fixed: /proc/sys is read-only here, as in a container, so
// opening it for writing fails with EROFS.
func TestProcOvercommit(t *testing.T) {
	e := newEnv(t)
	const path = "/proc/sys/vm/overcommit_memory"
	if got := e.cat(path); got != "0\n" {
		t.Errorf("cat %s = %q, want the default \"0\\n\"", path, got)
	}
	e.fs.SetOvercommit(1)
	if got := e.cat(path); got != "1\n" {
		t.Errorf("after SetOvercommit(1): cat %s = %q, want \"1\\n\"", path, got)
	}
	if r := e.f.Openat(e.m, nil, linux.AtFdcwd, e.str(path), linux.OWronly, 0); r != neg(linux.EROFS) {
		t.Errorf("open %s for writing = %d, want EROFS", path, r)
	}
}

// TestProcMounts: /proc/mounts, a link to self/mounts, lists the mounts
// as fs/proc_namespace.c show_vfsmnt does (df and mount read it; without
// it busybox df said "can't find mount point"), in mountinfo's order.
func TestProcMounts(t *testing.T) {
	e := newEnv(t)
	buf := e.alloc(64)
	if n := e.f.Readlink(e.m, e.str("/proc/mounts"), buf, 64); n != 11 || string(e.get(buf, 11)) != "self/mounts" {
		t.Errorf("readlink /proc/mounts = %d %q", n, e.get(buf, max(int(n), 0)))
	}
	mounts := e.cat("/proc/mounts")
	info := strings.Split(strings.TrimSuffix(e.cat("/proc/self/mountinfo"), "\n"), "\n")
	lines := strings.Split(strings.TrimSuffix(mounts, "\n"), "\n")
	if len(lines) != len(info) || len(lines) < 2 {
		t.Fatalf("/proc/mounts:\n%s\nmountinfo:\n%s", mounts, strings.Join(info, "\n"))
	}
	for i, l := range lines {
		f, mi := strings.Fields(l), strings.Fields(info[i])
		// mountinfo: ID parent dev root point opts - fstype source superopts
		want := []string{mi[8], mi[4], mi[7], mi[5], "0", "0"}
		if !slices.Equal(f, want) {
			t.Errorf("/proc/mounts line %d = %q, want %q (from mountinfo %q)", i+1, f, want, info[i])
		}
	}
	if !strings.Contains(mounts, "proc /proc proc ro,relatime 0 0\n") {
		t.Errorf("/proc/mounts lacks /proc:\n%s", mounts)
	}
}

// TestProcVersion: /proc/version is the text the kernel set, as Linux's
// linux_proc_banner.
func TestProcVersion(t *testing.T) {
	e := newEnv(t)
	const v = "Linux version 6.1.0-cocoon (cocoon@cocoon) (go) #1 SMP Cocoon\n"
	e.fs.SetKernelVersion(v)
	if got := e.cat("/proc/version"); got != v {
		t.Errorf("cat /proc/version = %q, want %q", got, v)
	}
}

// TestProcFilesystems: every file system /proc/mounts shows but the
// initramfs (rootfs, which Linux does not list either) is a "nodev" line
// of /proc/filesystems, as are the pipefs and sockfs fstatfs reports.
func TestProcFilesystems(t *testing.T) {
	e := newEnv(t)
	listed := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(e.cat("/proc/filesystems"), "\n"), "\n") {
		dev, name, ok := strings.Cut(l, "\t")
		if !ok || dev != "nodev" {
			t.Errorf("/proc/filesystems line %q, want \"nodev\\tNAME\"", l)
		}
		listed[name] = true
	}
	for _, l := range strings.Split(strings.TrimSuffix(e.cat("/proc/mounts"), "\n"), "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[2] != "rootfs" && !listed[f[2]] {
			t.Errorf("/proc/filesystems lacks %s, mounted: %q", f[2], l)
		}
	}
	for _, fs := range []string{"pipefs", "sockfs"} {
		if !listed[fs] {
			t.Errorf("/proc/filesystems lacks %s", fs)
		}
	}
}

// TestProcUptimeNeedsClock: without a process table telling the time,
// /proc/uptime is not there rather than made up.
func TestProcUptimeNeedsClock(t *testing.T) {
	e := newEnv(t)
	if fd := e.f.Openat(e.m, nil, linux.AtFdcwd, e.str("/proc/uptime"), linux.ORdonly, 0); fd != -linux.ENOENT {
		t.Errorf("open /proc/uptime without a clock = %d, want -ENOENT", fd)
	}
}
