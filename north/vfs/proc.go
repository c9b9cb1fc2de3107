package vfs

import (
	"strconv"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// procKind says which file of /proc a procNode is.
type procKind int

const (
	procRoot   procKind = iota // /proc
	procSelf                   // /proc/self
	procFDDir                  // /proc/self/fd
	procExe                    // /proc/self/exe
	procCwd                    // /proc/self/cwd
	procFDLink                 // /proc/self/fd/N
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
}

// procNode is a file of /proc: a read-only view of the calling process
// (the ctx's Process). Only /proc/self/{exe,cwd,fd} exist; the rest of
// Linux's /proc does not (ENOENT).
type procNode struct {
	kind procKind
	fd   int32
}

func (p *procNode) fileType() uint32 {
	switch p.kind {
	case procRoot, procSelf, procFDDir:
		return linux.SIfdir
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
	}
	return a
}

func (p *procNode) open(c *ctx, l Loc, _ uint32) (FileImpl, error) {
	if p.fileType() == linux.SIfdir {
		return &dirFile{loc: l, c: c}, nil
	}
	return nil, ELOOP
}

func (p *procNode) lookup(c *ctx, name string) (node, error) {
	switch p.kind {
	case procRoot:
		if name == "self" {
			return procNodes[procSelf], nil
		}
	case procSelf:
		switch name {
		case "exe":
			return procNodes[procExe], nil
		case "cwd":
			return procNodes[procCwd], nil
		case "fd":
			return procNodes[procFDDir], nil
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

func (p *procNode) parentNode() node {
	switch p.kind {
	case procSelf:
		return procNodes[procRoot]
	case procFDDir:
		return procNodes[procSelf]
	}
	return nil
}

func (p *procNode) nameOf() (string, bool) {
	switch p.kind {
	case procSelf:
		return "self", true
	case procFDDir:
		return "fd", true
	}
	return "", false
}

func (p *procNode) list(c *ctx) ([]Dirent, error) {
	switch p.kind {
	case procRoot:
		return []Dirent{{Name: "self", Ino: (procNodes[procSelf]).attr().Ino, Type: linux.DtDir}}, nil
	case procSelf:
		var out []Dirent
		for _, e := range []struct {
			name string
			kind procKind
		}{{"cwd", procCwd}, {"exe", procExe}, {"fd", procFDDir}} {
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
