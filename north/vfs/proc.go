package vfs

import (
	"strconv"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// procKind says which file of /proc a procNode is.
type procKind int

const (
	procRoot        procKind = iota // /proc
	procSelf                        // /proc/self
	procFDDir                       // /proc/self/fd
	procExe                         // /proc/self/exe
	procCwd                         // /proc/self/cwd
	procFDLink                      // /proc/self/fd/N
	procSys                         // /proc/sys
	procSysFS                       // /proc/sys/fs
	procPipeMaxSize                 // /proc/sys/fs/pipe-max-size
	procCmdline                     // /proc/self/cmdline
)

// procInoBase numbers /proc's inodes apart from those of the other file
// systems; /proc/self/fd/N is procInoBase + procFDIno + N.
const (
	procInoBase = 1 << 40
	procFDIno   = 1 << 20
)

// procNodes are the fixed files of /proc, one node each, so that a Loc
// names them the same way every time.
var procNodes = [...]*procNode{
	procRoot: {kind: procRoot}, procSelf: {kind: procSelf}, procFDDir: {kind: procFDDir},
	procExe: {kind: procExe}, procCwd: {kind: procCwd},
	procSys: {kind: procSys}, procSysFS: {kind: procSysFS}, procPipeMaxSize: {kind: procPipeMaxSize},
	procCmdline: {kind: procCmdline},
}

// procDirs are the names in each fixed directory of /proc, sorted.
var procDirs = map[procKind][]struct {
	name string
	kind procKind
}{
	procRoot:  {{"self", procSelf}, {"sys", procSys}},
	procSelf:  {{"cmdline", procCmdline}, {"cwd", procCwd}, {"exe", procExe}, {"fd", procFDDir}},
	procSys:   {{"fs", procSysFS}},
	procSysFS: {{"pipe-max-size", procPipeMaxSize}},
}

// procNode is a file of /proc: a read-only view of the calling process
// (the ctx's Process) and of the system. Only /proc/self/{cmdline,exe,
// cwd,fd} and /proc/sys/fs/pipe-max-size exist; the rest of Linux's /proc
// does not (ENOENT).
type procNode struct {
	kind procKind
	fd   int32
}

func (p *procNode) fileType() uint32 {
	switch p.kind {
	case procRoot, procSelf, procFDDir, procSys, procSysFS:
		return linux.SIfdir
	case procPipeMaxSize, procCmdline:
		return linux.SIfreg
	}
	return linux.SIflnk
}

func (p *procNode) attr() Attr {
	a := Attr{Ino: procInoBase + uint64(p.kind) + 1, Mode: linux.SIfdir | 0o555, Nlink: 2}
	switch p.kind {
	case procExe, procCwd:
		a.Mode = linux.SIflnk | 0o777
		a.Nlink = 1
	case procFDLink:
		a.Ino = procInoBase + procFDIno + uint64(uint32(p.fd))
		a.Mode = linux.SIflnk | 0o700
		a.Nlink = 1
		a.Size = 64
	case procPipeMaxSize:
		// Linux's /proc files report size 0 whatever they hold.
		a.Mode = linux.SIfreg | 0o644
		a.Nlink = 1
	case procCmdline:
		a.Mode = linux.SIfreg | 0o444
		a.Nlink = 1
	}
	return a
}

func (p *procNode) open(c *ctx, l Loc, _ uint32) (FileImpl, error) {
	switch p.fileType() {
	case linux.SIfdir:
		return &dirFile{loc: l, c: c}, nil
	case linux.SIfreg:
		if p.kind == procCmdline {
			// The arguments, each ended by a NUL (fs/proc/base.c).
			var text []byte
			if a, ok := c.p.(interface{ Cmdline() []string }); ok {
				for _, s := range a.Cmdline() {
					text = append(append(text, s...), 0)
				}
			}
			return &procFile{loc: l, text: text}, nil
		}
		return &procFile{loc: l, text: []byte(strconv.Itoa(PipeMaxSize) + "\n")}, nil
	}
	return nil, ELOOP
}

// procFile is an open /proc file: text made when it was opened.
type procFile struct {
	FileDefaults
	loc  Loc
	text []byte
}

func (f *procFile) Read(_ *File, dst Buf, off int64) (int64, error) {
	if off >= int64(len(f.text)) {
		return 0, nil
	}
	n, err := dst.CopyOut(f.text[off:])
	if n == 0 && err != nil {
		return 0, EFAULT
	}
	return int64(n), nil
}

func (f *procFile) Stream() bool    { return false }
func (f *procFile) Stat(*File) Attr { return f.loc.Attr() }
func (f *procFile) Seek(_ *File, cur, off int64, whence int) (int64, error) {
	return SeekIn(cur, off, whence, int64(len(f.text)))
}

func (p *procNode) lookup(c *ctx, name string) (node, error) {
	switch p.kind {
	case procRoot, procSelf, procSys, procSysFS:
		for _, e := range procDirs[p.kind] {
			if e.name == name {
				return procNodes[e.kind], nil
			}
		}
	case procFDDir:
		fd, err := strconv.ParseInt(name, 10, 32)
		if err != nil || fd < 0 || strconv.FormatInt(fd, 10) != name || c.p == nil || c.p.FD(int32(fd)) == nil {
			return nil, ENOENT
		}
		return &procNode{kind: procFDLink, fd: int32(fd)}, nil
	default:
		return nil, ENOTDIR
	}
	return nil, ENOENT
}

// procParent returns the fixed directory holding kind, and its name there.
func procParent(kind procKind) (procKind, string, bool) {
	for dir, ents := range procDirs {
		for _, e := range ents {
			if e.kind == kind {
				return dir, e.name, true
			}
		}
	}
	return 0, "", false
}

func (p *procNode) parentNode() node {
	if p.fileType() != linux.SIfdir {
		return nil
	}
	if dir, _, ok := procParent(p.kind); ok {
		return procNodes[dir]
	}
	return nil
}

func (p *procNode) nameOf() (string, bool) {
	if p.fileType() != linux.SIfdir {
		return "", false
	}
	_, name, ok := procParent(p.kind)
	return name, ok
}

func (p *procNode) list(c *ctx) ([]Dirent, error) {
	switch p.kind {
	case procRoot, procSelf, procSys, procSysFS:
		var out []Dirent
		for _, e := range procDirs[p.kind] {
			n := procNodes[e.kind]
			out = append(out, Dirent{Name: e.name, Ino: n.attr().Ino, Type: uint8(n.fileType() >> 12)})
		}
		return out, nil
	case procFDDir:
		if c.p == nil {
			return nil, nil
		}
		var out []Dirent
		for _, fd := range c.p.FDs() {
			n := &procNode{kind: procFDLink, fd: fd}
			out = append(out, Dirent{Name: strconv.Itoa(int(fd)), Ino: n.attr().Ino, Type: linux.DtLnk})
		}
		return out, nil
	}
	return nil, ENOTDIR
}

func (p *procNode) readlink(c *ctx) (string, error) {
	if c.p == nil {
		return "", ENOENT
	}
	switch p.kind {
	case procExe:
		return c.p.Exe(), nil
	case procCwd:
		return c.fs.Path(c.p.Cwd())
	case procFDLink:
		if f := c.p.FD(p.fd); f != nil {
			return f.Name(), nil
		}
		return "", ENOENT
	}
	return "", EINVAL
}

func (p *procNode) follow(c *ctx) (Loc, error) {
	if c.p == nil {
		return Loc{}, ENOENT
	}
	switch p.kind {
	case procExe:
		return (&walker{c: c}).resolve(c.fs.Root(), c.p.Exe(), true)
	case procCwd:
		return c.p.Cwd(), nil
	case procFDLink:
		f := c.p.FD(p.fd)
		if f == nil {
			return Loc{}, ENOENT
		}
		if f.Loc().IsZero() {
			// Pipes, eventfds and epoll instances cannot be reopened here.
			return Loc{}, ENXIO
		}
		return f.Loc(), nil
	}
	return Loc{}, EINVAL
}

// /proc cannot be changed; the mount is read-only, so these are not
// reached from the system calls.
func (p *procNode) create(*ctx, string, uint32) (node, error)                   { return nil, EROFS }
func (p *procNode) mkdir(*ctx, string, uint32) error                            { return EROFS }
func (p *procNode) mknod(*ctx, string, uint32, uint64) error                    { return EROFS }
func (p *procNode) symlink(*ctx, string, string) error                          { return EROFS }
func (p *procNode) link(*ctx, string, node) error                               { return EROFS }
func (p *procNode) remove(*ctx, string, bool) error                             { return EROFS }
func (p *procNode) rename(*ctx, string, node, string, uint32, bool, bool) error { return EROFS }
