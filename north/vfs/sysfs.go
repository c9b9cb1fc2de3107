package vfs

import "github.com/cocoon-vm/cocoon/kernel/linux"

// /sys: the few sysfs files programs commonly read about the machine,
// mounted read-only (as a container's /sys is). The application runs on
// one CPU, CPU 0 (sched_getaffinity, /proc/cpuinfo and /proc/stat say
// so), and these say the same: glibc's get_nprocs and get_nprocs_conf
// read cpu/online and cpu/possible, hwloc and the JVM the topology of
// cpu0. /sys/fs/cgroup is the empty directory Linux has before a cgroup
// file system is mounted on it (kernel/cgroup/cgroup.c cgroup_init makes
// it): /proc/PID/cgroup says every process is in the root of the v2
// hierarchy, which is not mounted, so a runtime looking for its CPU
// limit (Go 1.25's GOMAXPROCS, Rust's available_parallelism) finds none.

// sysEntry is a file or directory of /sys.
type sysEntry struct {
	parent int32  // index in sysTree of the directory holding it; -1 for /sys
	name   string // "" for /sys
	dir    bool
	text   string // a file's contents
}

// sysTree is /sys, each directory before what it holds.
var sysTree = [...]sysEntry{
	{-1, "", true, ""},
	{0, "devices", true, ""},
	{1, "system", true, ""},
	{2, "cpu", true, ""},
	// drivers/base/cpu.c: cpumask lists (cpumap_print_list_to_buf).
	{3, "online", false, "0\n"},
	{3, "possible", false, "0\n"},
	{3, "present", false, "0\n"},
	{3, "offline", false, "\n"},
	{3, "cpu0", true, ""},
	{8, "topology", true, ""}, // drivers/base/topology.c
	{9, "physical_package_id", false, "0\n"},
	{9, "die_id", false, "0\n"},
	{9, "core_id", false, "0\n"},
	{9, "core_cpus_list", false, "0\n"},
	{9, "thread_siblings_list", false, "0\n"},
	{9, "core_siblings_list", false, "0\n"},
	{9, "package_cpus_list", false, "0\n"},
	{9, "die_cpus_list", false, "0\n"},
	{0, "fs", true, ""},
	{18, "cgroup", true, ""},
}

// sysfsMagic is SYSFS_MAGIC (include/uapi/linux/magic.h).
const sysfsMagic = 0x62656572

// sysNode is a file or directory of /sys: its index in sysTree.
type sysNode int32

var sysRootNode = sysNode(0)

func (n sysNode) entry() *sysEntry { return &sysTree[n] }

func (n sysNode) fileType() uint32 {
	if n.entry().dir {
		return linux.SIfdir
	}
	return linux.SIfreg
}

// attr: directories 0755 with a link per subdirectory and two more
// (fs/kernfs/inode.c kernfs_refresh_inode), attributes 0444 of size
// PAGE_SIZE whatever they hold (fs/sysfs/file.c sysfs_add_file_mode_ns).
// The times are the mount's (Loc.Attr).
func (n sysNode) attr() Attr {
	a := Attr{Ino: uint64(n) + 1, Mode: linux.SIfreg | 0o444, Nlink: 1, Size: 4096}
	if n.entry().dir {
		a.Mode, a.Size, a.Nlink = linux.SIfdir|0o755, 0, 2
		for _, e := range sysTree {
			if e.parent == int32(n) && e.dir {
				a.Nlink++
			}
		}
	}
	return a
}

func (n sysNode) open(c *ctx, l Loc, _ uint32) (FileImpl, error) {
	if n.entry().dir {
		return &dirFile{loc: l, c: c}, nil
	}
	return &procFile{loc: l, text: []byte(n.entry().text)}, nil
}

func (n sysNode) lookup(_ *ctx, name string) (node, error) {
	if !n.entry().dir {
		return nil, ENOTDIR
	}
	for i, e := range sysTree {
		if e.parent == int32(n) && e.name == name {
			return sysNode(i), nil
		}
	}
	return nil, ENOENT
}

func (n sysNode) parentNode() node {
	if p := n.entry().parent; p >= 0 {
		return sysNode(p)
	}
	return nil
}

func (n sysNode) nameOf() (string, bool) { return n.entry().name, n != 0 }

func (n sysNode) list(*ctx) ([]Dirent, error) {
	if !n.entry().dir {
		return nil, ENOTDIR
	}
	var out []Dirent
	for i, e := range sysTree {
		if e.parent == int32(n) {
			m := sysNode(i)
			out = append(out, Dirent{Name: e.name, Ino: m.attr().Ino, Type: uint8(m.fileType() >> 12)})
		}
	}
	return out, nil
}

// /sys cannot be changed; the mount is read-only, so these are not
// reached from the system calls.
func (n sysNode) create(*ctx, string, uint32) (node, error)                   { return nil, EROFS }
func (n sysNode) mkdir(*ctx, string, uint32) error                            { return EROFS }
func (n sysNode) mknod(*ctx, string, uint32, uint64) error                    { return EROFS }
func (n sysNode) symlink(*ctx, string, string) error                          { return EROFS }
func (n sysNode) link(*ctx, string, node) error                               { return EROFS }
func (n sysNode) remove(*ctx, string, bool) error                             { return EROFS }
func (n sysNode) rename(*ctx, string, node, string, uint32, bool, bool) error { return EROFS }
