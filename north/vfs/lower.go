package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/u-root/u-root/pkg/cpio"
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
// "070701", then thirteen 8-digit hexadecimal fields, then the NUL-
// terminated name padded to 4 bytes, then the data padded to 4 bytes.
const (
	newcMagic      = "070701"
	newcHeaderLen  = 110
	newcFileSize   = 6  // index of c_filesize among the fields
	newcNameSize   = 11 // index of c_namesize
	newcFieldStart = 6
)

// checkNewc walks the record headers of a newc archive and checks that
// every name and body lies inside it, so that reading it later cannot ask
// for more memory than the archive holds. (u-root's reader allocates the
// name length a header claims before reading it.)
func checkNewc(data []byte) error {
	pos := 0
	for pos < len(data) {
		if len(data)-pos < newcHeaderLen {
			return fmt.Errorf("cpio: truncated header at offset %d", pos)
		}
		h := data[pos : pos+newcHeaderLen]
		if string(h[:6]) != newcMagic {
			return fmt.Errorf("cpio: bad magic %q at offset %d: want a newc (%s) archive", h[:6], pos, newcMagic)
		}
		field := func(i int) (int, error) {
			s := h[newcFieldStart+8*i : newcFieldStart+8*i+8]
			v, err := strconv.ParseUint(string(s), 16, 32)
			if err != nil {
				return 0, fmt.Errorf("cpio: bad header field %q at offset %d", s, pos)
			}
			return int(v), nil
		}
		for i := 0; i < 13; i++ {
			if _, err := field(i); err != nil {
				return err
			}
		}
		nameLen, _ := field(newcNameSize)
		size, _ := field(newcFileSize)
		if nameLen == 0 || nameLen > linux.PathMax {
			return fmt.Errorf("cpio: name length %d at offset %d", nameLen, pos)
		}
		nameEnd := pos + newcHeaderLen + nameLen
		if nameEnd > len(data) {
			return fmt.Errorf("cpio: name at offset %d runs past the end", pos)
		}
		name := data[pos+newcHeaderLen : nameEnd-1]
		body := (nameEnd + 3) &^ 3
		if body > len(data) && size == 0 && string(name) == cpio.Trailer {
			return nil
		}
		if body > len(data) || size > len(data)-body {
			return fmt.Errorf("cpio: %q: %d bytes of data run past the end", name, size)
		}
		if string(name) == cpio.Trailer {
			return nil
		}
		pos = (body + size + 3) &^ 3
	}
	return nil
}

// lowerTree is the initrd as a tree.
type lowerTree struct {
	root    *lowerNode
	nextIno uint64
}

// parseArchive builds the tree of a newc archive. File bodies stay slices
// of data, which must not change afterwards.
func parseArchive(data []byte) (*lowerTree, error) {
	if err := checkNewc(data); err != nil {
		return nil, err
	}
	t := &lowerTree{nextIno: firstIno}
	t.root = t.newNode(linux.SIfdir | 0o755)
	type linkKey struct {
		ino, major, minor uint64
	}
	links := map[linkKey]*lowerNode{}
	rr := cpio.Newc.Reader(bytes.NewReader(data))
	for {
		rec, err := rr.ReadRecord()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("cpio: %w", err)
		}
		if rec.FilePos < 0 || rec.FileSize > uint64(len(data)) || uint64(rec.FilePos) > uint64(len(data))-rec.FileSize {
			return nil, fmt.Errorf("cpio: %q: data outside the archive", rec.Name)
		}
		body := data[rec.FilePos : uint64(rec.FilePos)+rec.FileSize]
		mode := uint32(rec.Mode & 0o177777)
		if rec.Name == "." {
			if mode&linux.SIfmt != linux.SIfdir {
				return nil, errors.New("cpio: the root is not a directory")
			}
			t.root.setAttr(rec.Info, mode)
			continue
		}
		if rec.Name == ".." || strings.HasPrefix(rec.Name, "../") {
			return nil, fmt.Errorf("cpio: %q leaves the archive", rec.Name)
		}
		dir, name, err := t.parentOf(rec.Name)
		if err != nil {
			return nil, err
		}
		if len(name) > linux.NameMax {
			return nil, fmt.Errorf("cpio: %q: name too long", rec.Name)
		}
		var n *lowerNode
		switch mode & linux.SIfmt {
		case linux.SIfdir:
			if old := dir.children[name]; old != nil && old.isDir() {
				old.setAttr(rec.Info, mode)
				continue
			}
			n = t.newNode(mode)
		case linux.SIfreg:
			key := linkKey{rec.Ino, rec.Major, rec.Minor}
			if rec.NLink > 1 && links[key] != nil {
				n = links[key]
				n.nlink++
				if len(body) > 0 {
					n.data = body
				}
			} else {
				n = t.newNode(mode)
				n.data = body
				if rec.NLink > 1 {
					links[key] = n
				}
			}
		case linux.SIflnk:
			if len(body) == 0 || len(body) >= linux.PathMax {
				return nil, fmt.Errorf("cpio: %q: symbolic link target of %d bytes", rec.Name, len(body))
			}
			n = t.newNode(mode)
			n.data = body
		case linux.SIfchr, linux.SIfblk, linux.SIfifo, linux.SIfsock:
			n = t.newNode(mode)
			n.rdev = linux.Mkdev(uint32(rec.Rmajor), uint32(rec.Rminor))
		default:
			return nil, fmt.Errorf("cpio: %q: unknown file type %#o", rec.Name, mode)
		}
		if n.nlink <= 1 {
			n.setAttr(rec.Info, mode)
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

func (n *lowerNode) setAttr(i cpio.Info, mode uint32) {
	n.mode = mode
	n.uid, n.gid = uint32(i.UID), uint32(i.GID)
	n.mtime = int64(i.MTime) * 1e9
}

// parentOf returns the directory that holds the archive path name (which
// u-root has cleaned and made relative), creating missing directories as
// Linux's initramfs unpacker would not need to: archives usually list
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
