package vfs

import (
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// node is an inode of one of the file systems.
type node interface {
	fileType() uint32 // S_IF* bits
	attr() Attr       // without the mount's fields, which Loc.Attr adds
	open(c *ctx, l Loc, flags uint32) (FileImpl, error)
}

// dirNode is what a directory can do. Nodes that are not directories may
// implement it and fail with ENOTDIR; the walker checks fileType first.
type dirNode interface {
	node
	lookup(c *ctx, name string) (node, error)
	parentNode() node // nil at the root of a file system
	nameOf() (string, bool)
	list(c *ctx) ([]Dirent, error) // without "." and ".."
	create(c *ctx, name string, mode uint32) (node, error)
	mkdir(c *ctx, name string, mode uint32) error
	mknod(c *ctx, name string, mode uint32, rdev uint64) error
	symlink(c *ctx, name, target string) error
	link(c *ctx, name string, target node) error
	remove(c *ctx, name string, dir bool) error
	rename(c *ctx, oldName string, newDir node, newName string, flags uint32, oldSlash, newSlash bool) error
}

// linkNode is a symbolic link.
type linkNode interface {
	node
	readlink(c *ctx) (string, error)
}

// magicLink is a /proc link that leads straight to a file instead of
// through its text, as /proc/self/fd/N does on Linux.
type magicLink interface {
	follow(c *ctx) (Loc, error)
}

// attrNode is a node whose mode, owner and times can change.
type attrNode interface {
	setAttr(s SetAttr) error
}

// SetAttr lists attribute changes (chmod, chown, utimensat); nil fields
// stay as they are.
type SetAttr struct {
	Mode         *uint32
	UID, GID     *uint32
	Atime, Mtime *int64 // nanoseconds since the epoch
	// Touch says the times are set to now because no times were given
	// (utimensat with none, or both UTIME_NOW): write permission is
	// enough, where setting given times needs the owner.
	Touch bool
}

// mount is a file system mounted on a directory.
type mount struct {
	id       uint64
	dev      uint64
	root     node
	parent   *mount // nil for the root mount
	point    node   // the directory of parent it covers
	readOnly bool
	fstype   string // what /proc/PID/mountinfo calls it
	fs       *FS
}

// Loc is a place in the tree: a node as reached through a mount.
type Loc struct {
	mnt *mount
	n   node
}

// IsZero reports the zero Loc, which is nowhere.
func (l Loc) IsZero() bool { return l.n == nil }

// IsDir reports a directory.
func (l Loc) IsDir() bool { return l.n != nil && l.n.fileType() == linux.SIfdir }

// Attr returns the attributes of the file at l.
func (l Loc) Attr() Attr {
	a := l.n.attr()
	switch n := l.n.(type) {
	case procNode:
		n.fill(&a, l.mnt.fs)
	case sysNode, nsNode:
		a.Atime, a.Mtime, a.Ctime = l.mnt.fs.mounted, l.mnt.fs.mounted, l.mnt.fs.mounted
	}
	a.Dev, a.MountID, a.MountRoot = l.mnt.dev, l.mnt.id, l.n == l.mnt.root
	return a
}

// ReadOnly reports a place on a read-only mount.
func (l Loc) ReadOnly() bool { return l.mnt.readOnly }

// Process is what /proc/self shows: the process making the call.
type Process interface {
	// Exe is the program's file, /proc/self/exe (zero if unknown), and
	// its path, the link's text. Following the link leads to the file
	// itself, not to what the path names now: Linux's exe link holds the
	// file (mm->exe_file), and a path could lead back to /proc/self/exe.
	Exe() (Loc, string)
	// Cwd is the working directory, /proc/self/cwd.
	Cwd() Loc
	// FD returns the file open as descriptor fd, or nil.
	FD(fd int32) *File
	// FDs lists the open descriptors in increasing order.
	FDs() []int32
}

// ctx is what one call carries down to the file systems.
type ctx struct {
	fs   *FS
	p    Process // may be nil
	cred *cred   // the caller's credentials; nil: root (perm.go)
}

// Options configure New.
type Options struct {
	// ConsoleIn and ConsoleOut are the console's input and output, for
	// /dev/console, /dev/tty and the first three descriptors. Reads from
	// ConsoleIn may block. Nil means no input and discarded output.
	ConsoleIn  io.Reader
	ConsoleOut io.Writer
	// Stdio, if set, replaces the console as the first three
	// descriptors (see Stdio); /dev/console stays the console.
	Stdio *Stdio
	// Random fills a buffer with random bytes, for /dev/random and
	// /dev/urandom. Nil makes both fail with EIO.
	Random func([]byte)
	// Now returns the current time, for file times; nil means time.Now.
	Now func() time.Time
	// ReadOnly mounts the archive without a writable layer: changes below
	// / (but not in /tmp and /dev) fail with EROFS.
	ReadOnly bool
	// MemoryLimit bounds the bytes of file data the writable file systems
	// hold together; writes beyond it fail with ENOSPC. Zero means no
	// limit.
	MemoryLimit int64
	// MaxInodes bounds the files and directories the writable file
	// systems hold together (tmpfs's nr_inodes): creating more fails
	// with ENOSPC. Zero means no limit.
	MaxInodes int64
	// Frames is where file data lives: the kernel's page frames, so that
	// mappings of a file share its pages. Nil means Go memory
	// (mem.HeapFrames).
	Frames mem.Frames
	// Devices adds character devices to /dev by name, such as
	// "sev-guest": misc devices (major 10) with minors from 127 down, in
	// name order. Each open calls the function for the file's
	// operations; fstat reports the device node's attributes.
	Devices map[string]func() FileImpl
}

// FS is the file system tree of one application: the initrd at / with a
// writable overlay, and /tmp, /dev and /proc. It is safe for concurrent
// use.
type FS struct {
	root     *mount
	mounts   map[Loc]*mount // by the directory they cover; fixed by New
	devices  *devices
	stdio    *Stdio
	clock    func() int64
	inos     atomic.Uint64
	used     atomic.Int64 // bytes of file data in the memFSs
	inodes   atomic.Int64 // files and directories made in the memFSs
	mountIDs uint64       // the last mount ID given; only New gives them
	anon     *mount       // unnamed files: shared memory, memfd_create
	nsfs     *mount       // the namespaces /proc/PID/ns leads to (procns.go)
	procs    ProcTable    // what /proc shows (SetProcTable); nil: the caller alone
	// overcommit is vm.overcommit_memory, as /proc/sys/vm shows it
	// (SetOvercommit).
	overcommit int
	version    string                   // /proc/version
	sysctls    map[string]func() string // the files of /proc/sys/kernel and net (SetSysctls)
	netFiles   map[string]func() []byte // the files of /proc/PID/net (SetNetFiles)
	netNames   []string                 // their names, sorted
	cpuinfo    string                   // /proc/cpuinfo
	// mounted is when New mounted the file systems, in nanoseconds since
	// the epoch: the times of /proc's and /sys's own files.
	mounted int64
}

// New mounts archive, a cpio newc archive, at / and the other file systems
// beside it. archive must not change afterwards: files share its bytes.
// A corrupt archive gives an error.
func New(archive []byte, opts Options) (*FS, error) {
	lower := &lowerTree{nextIno: firstIno}
	lower.root = lower.newNode(linux.SIfdir | 0o755)
	if len(archive) > 0 {
		var err error
		if lower, err = parseArchive(archive); err != nil {
			return nil, err
		}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	fs := &FS{mounts: map[Loc]*mount{}, clock: func() int64 { return now().UnixNano() }}
	fs.mounted = fs.clock()
	fs.inos.Store(lower.nextIno)
	fs.stdio = opts.Stdio
	fs.devices = &devices{console: newConsole(opts.ConsoleIn, opts.ConsoleOut), random: opts.Random, misc: map[uint32]func() FileImpl{}}

	frames := opts.Frames
	if frames == nil {
		frames = &mem.HeapFrames{}
	}
	var memFSs []*memFS
	mkfs := func() *memFS {
		m := newMemFS(fs.clock, &fs.inos, &fs.used, fs.devices, opts.MemoryLimit, frames)
		m.inodes = &fs.inodes
		memFSs = append(memFSs, m)
		return m
	}
	rootFS := mkfs()
	rootFS.mu.Lock()
	rootNode := rootFS.fromLower(lower.root, nil)
	rootFS.mu.Unlock()
	fs.root = fs.newMount(rootNode, nil, nil, opts.ReadOnly)
	fs.root.fstype = "rootfs" // the initramfs, as Linux names it

	anonFS := mkfs()
	fs.anon = fs.newMount(anonFS.newNode(linux.SIfdir|0o1777), nil, nil, false)
	tmp := mkfs().newNode(linux.SIfdir | 0o1777)
	fs.mountAt("tmp", tmp, false, "tmpfs")

	dev := mkfs().newNode(linux.SIfdir | 0o755)
	for _, d := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}, {"console", 5, 1}} {
		dev.mknod(nil, d.name, linux.SIfchr|0o666, linux.Mkdev(d.major, d.minor))
	}
	names := make([]string, 0, len(opts.Devices))
	for name := range opts.Devices {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		minor := uint32(miscDynamicMinor - i)
		fs.devices.misc[minor] = opts.Devices[name]
		dev.mknod(nil, name, linux.SIfchr|0o600, linux.Mkdev(miscMajor, minor))
	}
	for name, target := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	} {
		dev.symlink(nil, name, target)
	}
	dev.mkdir(nil, "shm", 0o1777)
	fs.mountAt("dev", dev, false, "tmpfs")

	fs.mountAt("proc", procRootNode, true, "proc")
	fs.mountAt("sys", sysRootNode, true, "sysfs")
	// Made last, so that the mount IDs of the others stay as they were.
	fs.nsfs = fs.newMount(nsNode{-1}, nil, nil, true)
	fs.nsfs.fstype = "nsfs"
	// The inode bound is the application's: /dev's nodes do not count.
	for _, m := range memFSs {
		m.maxIno = opts.MaxInodes
	}
	fs.inodes.Store(0)
	return fs, nil
}

func (fs *FS) newMount(root node, parent *mount, point node, readOnly bool) *mount {
	fs.mountIDs++
	id := fs.mountIDs
	// Anonymous device numbers, major 0, as Linux gives tmpfs and proc.
	return &mount{id: id, dev: linux.Mkdev(0, uint32(id)), root: root, parent: parent, point: point, readOnly: readOnly, fs: fs}
}

// mountAt mounts root on the directory name of the root directory,
// making that directory in the writable layer if the archive lacks it.
func (fs *FS) mountAt(name string, root node, readOnly bool, fstype string) {
	top := fs.root.root.(*memNode)
	top.fsys.mu.Lock()
	point, err := top.child(name)
	if err == nil && !point.isDir() {
		top.unlinkName(name, point)
		err = ENOENT
	}
	if err != nil {
		point = top.fsys.newNode(linux.SIfdir | 0o755)
		point.parent = top
		top.entries[name] = point
		top.placed(name)
	}
	top.fsys.mu.Unlock()
	m := fs.newMount(root, fs.root, point, readOnly)
	m.fstype = fstype
	fs.mounts[Loc{fs.root, point}] = m
}

// Now returns the current time in nanoseconds since the epoch, as file
// times record it.
func (fs *FS) Now() int64 { return fs.clock() }

// Root returns the root directory.
func (fs *FS) Root() Loc { return Loc{fs.root, fs.root.root} }

// Console returns a new open file for the console (/dev/console), read
// and write, as the first three descriptors of a process start.
func (fs *FS) Console() *File {
	l, err := fs.Lookup(nil, fs.Root(), "/dev/console", true)
	if err != nil {
		panic("vfs: no /dev/console: " + err.Error())
	}
	impl, _ := l.n.open(&ctx{fs: fs}, l, linux.ORdwr)
	f := NewFile(impl, linux.ORdwr|linux.OLargefile, "/dev/console")
	f.loc = l
	return f
}

// StdioFiles returns new open files for descriptors 0, 1 and 2 of the
// first process: Options.Stdio's streams if set, else the console (read
// and write) three times.
func (fs *FS) StdioFiles() [3]*File {
	if fs.stdio != nil {
		return stdioFiles(fs.stdio)
	}
	con := fs.Console()
	con.IncRef()
	con.IncRef()
	return [3]*File{con, con, con}
}

// Path returns the absolute path of l (getcwd(2)); ENOENT if l is a
// removed directory.
func (fs *FS) Path(l Loc) (string, error) {
	var parts []string
	for {
		if l.n == l.mnt.root {
			if l.mnt.parent == nil {
				break
			}
			l = Loc{l.mnt.parent, l.mnt.point}
			continue
		}
		d, ok := l.n.(dirNode)
		if !ok {
			return "", ENOENT
		}
		name, ok := d.nameOf()
		p := d.parentNode()
		if !ok || p == nil {
			return "", ENOENT
		}
		parts = append(parts, name)
		l = Loc{l.mnt, p}
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return "/" + strings.Join(parts, "/"), nil
}

// parent returns the directory above directory l, crossing mounts; the
// root is its own parent.
func (fs *FS) parent(l Loc) Loc {
	for l.n == l.mnt.root {
		if l.mnt.parent == nil {
			return l
		}
		l = Loc{l.mnt.parent, l.mnt.point}
	}
	if d, ok := l.n.(dirNode); ok {
		if p := d.parentNode(); p != nil {
			return Loc{l.mnt, p}
		}
	}
	return l
}

// The node kinds, checked at compile time.
var (
	_ dirNode   = (*memNode)(nil)
	_ linkNode  = (*memNode)(nil)
	_ attrNode  = (*memNode)(nil)
	_ dirNode   = procNode{}
	_ linkNode  = procNode{}
	_ magicLink = procNode{}
	_ dirNode   = sysRootNode
)
