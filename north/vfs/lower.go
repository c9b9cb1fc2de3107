package vfs

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// lowerNode is a file of the initrd: the read-only lower layer of the root
// overlay. The tree is built once, when the archive is mounted, and never
// changes afterwards, so it needs no lock.
type lowerNode struct {
	ino      uint64
	mode     uint32 // S_IF* and permission bits
	uid, gid uint32
	mtime    int64  // nanoseconds since the epoch
	rdev     uint64 // dev_t of a device file
	nlink    uint32 // names in the archive, for regular files
	data     []byte // file contents or link target: a slice of the archive
	children map[string]*lowerNode
}

func (n *lowerNode) isDir() bool { return n.mode&linux.SIfmt == linux.SIfdir }

// newc header layout (the "new" ASCII format of cpio(5)): the magic
// "070701", then thirteen 8-digit hexadecimal fields (c_ino, c_mode,
// c_uid, c_gid, c_nlink, c_mtime, c_filesize, c_devmajor, c_devminor,
// c_rdevmajor, c_rdevminor, c_namesize, c_check), then the NUL-terminated
// name padded to 4 bytes, then the data padded to 4 bytes. The archive
// ends with the record named newcTrailer.
//
// The kernel reads archives with this reader of its own rather than
// u-root's (which mkimage still uses to write them): u-root's pkg/cpio
// imports pkg/ls, and with it go-humanize, whose package initialiser
// compiles regular expressions at every boot: 9.9 ms of the kernel's
// start under TCG (GODEBUG=inittrace=1), more than any other package.
const (
	newcMagic      = "070701"
	newcHeaderLen  = 110
	newcFields     = 13
	newcFileSize   = 6  // index of c_filesize among the fields
	newcNameSize   = 11 // index of c_namesize
	newcFieldStart = 6
	newcTrailer    = "TRAILER!!!"
)

// newcRec is one record of a newc archive.
type newcRec struct {
	ino, mode, uid, gid, nlink, mtime        uint64
	devMajor, devMinor, rdevMajor, rdevMinor uint64
	name                                     string // as in the archive, without its NUL
	body                                     []byte // a slice of the archive
}

// readNewc reads the record at pos of a newc archive and returns it with
// the offset of the next one; end says the archive ends here (its
// trailer, or no bytes left). Every name and body it returns lies inside
// data: a header claiming more fails before anything is allocated.
func readNewc(data []byte, pos int) (rec newcRec, next int, end bool, err error) {
	if pos >= len(data) {
		return rec, pos, true, nil
	}
	if len(data)-pos < newcHeaderLen {
		return rec, 0, false, fmt.Errorf("cpio: truncated header at offset %d", pos)
	}
	h := data[pos : pos+newcHeaderLen]
	if string(h[:6]) != newcMagic {
		return rec, 0, false, fmt.Errorf("cpio: bad magic %q at offset %d: want a newc (%s) archive", h[:6], pos, newcMagic)
	}
	var f [newcFields]uint64
	for i := range f {
		s := h[newcFieldStart+8*i : newcFieldStart+8*i+8]
		v, err := strconv.ParseUint(string(s), 16, 32)
		if err != nil {
			return rec, 0, false, fmt.Errorf("cpio: bad header field %q at offset %d", s, pos)
		}
		f[i] = v
	}
	nameLen, size := int(f[newcNameSize]), int(f[newcFileSize])
	if nameLen == 0 || nameLen > linux.PathMax {
		return rec, 0, false, fmt.Errorf("cpio: name length %d at offset %d", nameLen, pos)
	}
	nameEnd := pos + newcHeaderLen + nameLen
	if nameEnd > len(data) {
		return rec, 0, false, fmt.Errorf("cpio: name at offset %d runs past the end", pos)
	}
	name := data[pos+newcHeaderLen : nameEnd-1]
	body := (nameEnd + 3) &^ 3
	if string(name) == newcTrailer && (size == 0 || body <= len(data) && size <= len(data)-body) {
		return rec, 0, true, nil
	}
	if body > len(data) || size > len(data)-body {
		return rec, 0, false, fmt.Errorf("cpio: %q: %d bytes of data run past the end", name, size)
	}
	rec = newcRec{
		ino: f[0], mode: f[1], uid: f[2], gid: f[3], nlink: f[4], mtime: f[5],
		devMajor: f[7], devMinor: f[8], rdevMajor: f[9], rdevMinor: f[10],
		name: string(name),
		body: data[body : body+size : body+size],
	}
	return rec, (body + size + 3) &^ 3, false, nil
}

// lowerTree is the initrd as a tree.
type lowerTree struct {
	root    *lowerNode
	nextIno uint64
}

// parseArchive builds the tree of a newc archive. File bodies stay slices
// of data, which must not change afterwards.
func parseArchive(data []byte) (*lowerTree, error) {
	t := &lowerTree{nextIno: firstIno}
	t.root = t.newNode(linux.SIfdir | 0o755)
	type linkKey struct {
		ino, major, minor uint64
	}
	links := map[linkKey]*lowerNode{}
	for pos := 0; ; {
		rec, next, end, err := readNewc(data, pos)
		if err != nil {
			return nil, err
		}
		if end {
			break
		}
		pos = next
		// Names are relative to the root: leading slashes dropped, then
		// the path cleaned (as u-root's reader, used before, gave them).
		rec.name = path.Clean(strings.TrimLeft(rec.name, "/"))
		body := rec.body
		mode := uint32(rec.mode & 0o177777)
		if rec.name == "." {
			if mode&linux.SIfmt != linux.SIfdir {
				return nil, errors.New("cpio: the root is not a directory")
			}
			t.root.setAttr(rec, mode)
			continue
		}
		if rec.name == ".." || strings.HasPrefix(rec.name, "../") {
			return nil, fmt.Errorf("cpio: %q leaves the archive", rec.name)
		}
		dir, name, err := t.parentOf(rec.name)
		if err != nil {
			return nil, err
		}
		if len(name) > linux.NameMax {
			return nil, fmt.Errorf("cpio: %q: name too long", rec.name)
		}
		var n *lowerNode
		switch mode & linux.SIfmt {
		case linux.SIfdir:
			if old := dir.children[name]; old != nil && old.isDir() {
				old.setAttr(rec, mode)
				continue
			}
			n = t.newNode(mode)
		case linux.SIfreg:
			key := linkKey{rec.ino, rec.devMajor, rec.devMinor}
			if rec.nlink > 1 && links[key] != nil {
				n = links[key]
				n.nlink++
				if len(body) > 0 {
					n.data = body
				}
			} else {
				n = t.newNode(mode)
				n.data = body
				if rec.nlink > 1 {
					links[key] = n
				}
			}
		case linux.SIflnk:
			if len(body) == 0 || len(body) >= linux.PathMax {
				return nil, fmt.Errorf("cpio: %q: symbolic link target of %d bytes", rec.name, len(body))
			}
			n = t.newNode(mode)
			n.data = body
		case linux.SIfchr, linux.SIfblk, linux.SIfifo, linux.SIfsock:
			n = t.newNode(mode)
			n.rdev = linux.Mkdev(uint32(rec.rdevMajor), uint32(rec.rdevMinor))
		default:
			return nil, fmt.Errorf("cpio: %q: unknown file type %#o", rec.name, mode)
		}
		if n.nlink <= 1 {
			n.setAttr(rec, mode)
		}
		if old := dir.children[name]; old != nil && old != n && old.mode&linux.SIfmt == linux.SIfreg {
			old.nlink--
		}
		dir.children[name] = n
	}
	return t, nil
}

// firstIno is the inode number of the archive's root; the others follow.
const firstIno = 1

func (t *lowerTree) newNode(mode uint32) *lowerNode {
	n := &lowerNode{ino: t.nextIno, mode: mode, nlink: 1}
	t.nextIno++
	if mode&linux.SIfmt == linux.SIfdir {
		n.children = map[string]*lowerNode{}
	}
	return n
}

func (n *lowerNode) setAttr(r newcRec, mode uint32) {
	n.mode = mode
	n.uid, n.gid = uint32(r.uid), uint32(r.gid)
	n.mtime = int64(r.mtime) * 1e9
}

// parentOf returns the directory that holds the archive path name
// (cleaned and made relative), creating missing directories as Linux's
// initramfs unpacker would not need to: archives usually list
// directories first, but need not.
func (t *lowerTree) parentOf(name string) (*lowerNode, string, error) {
	dir := t.root
	parts := strings.Split(name, "/")
	for _, p := range parts[:len(parts)-1] {
		c := dir.children[p]
		if c == nil {
			c = t.newNode(linux.SIfdir | 0o755)
			dir.children[p] = c
		}
		if !c.isDir() {
			return nil, "", fmt.Errorf("cpio: %q: %q is not a directory", name, p)
		}
		dir = c
	}
	return dir, parts[len(parts)-1], nil
}
