package vfs

import (
	"encoding/binary"
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// memFS is an in-memory file system: tmpfs, or, with a lower tree, the
// writable overlay over the initrd.
//
// The overlay is built lazily. A directory node shows the names it holds
// (entries) over those of the archive directory it stands for (lower),
// minus the archive names deleted or renamed away (whiteouts). A node for
// an archive file is made the first time the name is looked up, shares
// the archive's bytes, and copies a page up only when it is written; its
// identity (inode number, open files) survives the copy-up.
type memFS struct {
	clock   func() int64
	nextIno *atomic.Uint64
	devices *devices
	limit   int64         // bytes of written pages allowed; 0 for no limit
	used    *atomic.Int64 // bytes of written pages, shared by all memFSs
	frames  mem.Frames    // where file pages live
	inodes  *atomic.Int64 // named nodes made by add and not yet unlinked, shared by all memFSs
	maxIno  int64         // bound on inodes; 0 for none

	mu      sync.Mutex // guards the tree: the fields of memNode marked so, byLower and made
	byLower map[*lowerNode]*memNode
	made    uint64 // names made so far (memNode.order)
}

// memNode is an inode of a memFS.
type memNode struct {
	fsys   *memFS
	ino    uint64
	ftype  uint32     // S_IF* bits; never change
	lower  *lowerNode // what this node shows of the archive, or nil
	rdev   uint64     // device files
	target string     // symbolic links

	// Guarded by fsys.mu.
	nlink     uint32              // names, for non-directories
	parent    *memNode            // directories: the one holding this one
	entries   map[string]*memNode // directories: names looked up or made
	whiteouts map[string]bool     // directories: archive names deleted
	order     map[string]uint64   // directories: when each name not from the archive was made
	removed   bool                // directories: removed by rmdir
	linkable  bool                // an O_TMPFILE file linkat(2) may name (I_LINKABLE)
	// dir and name are where the node was last given a name, where
	// inotify reports changes to it (inotify.go placedNode); dir is nil
	// when that name went and others remain.
	dir  *memNode
	name string

	mu                  sync.Mutex // guards the fields below
	perm                uint32     // permission bits of the mode
	uid, gid            uint32
	atime, mtime, ctime int64
	data                fileData // regular files
	opens               int      // open files; the data outlives the last name until they close
	fifo                *pipe    // FIFOs: the pipe while some end is open (fifo.go)
	mappings            map[*Mapping]struct{}
	xattrs              map[string][]byte // extended attributes (xattr.go)
	// File seals (seals.go): the seals set, whether more may be added
	// (a memfd with MFD_ALLOW_SEALING), and the shared mappings that
	// may write the file.
	seals        uint32
	sealsOpen    bool
	writableMaps int
}

func newMemFS(clock func() int64, inos *atomic.Uint64, used *atomic.Int64, d *devices, limit int64, fr mem.Frames) *memFS {
	return &memFS{clock: clock, nextIno: inos, used: used, devices: d, limit: limit, frames: fr, byLower: map[*lowerNode]*memNode{}, inodes: new(atomic.Int64)}
}

// newNode returns a node that has no name yet.
func (fs *memFS) newNode(mode uint32) *memNode {
	now := fs.clock()
	n := &memNode{
		fsys: fs, ino: fs.nextIno.Add(1), ftype: mode & linux.SIfmt, perm: mode &^ linux.SIfmt,
		nlink: 1, atime: now, mtime: now, ctime: now,
	}
	if n.ftype == linux.SIfdir {
		n.entries = map[string]*memNode{}
	}
	return n
}

// fromLower returns the node for archive file ln, making it the first
// time. Called with fs.mu held.
func (fs *memFS) fromLower(ln *lowerNode, parent *memNode) *memNode {
	if n := fs.byLower[ln]; n != nil {
		return n
	}
	n := &memNode{
		fsys: fs, ino: ln.ino, ftype: ln.mode & linux.SIfmt, lower: ln, rdev: ln.rdev,
		nlink: ln.nlink, perm: ln.mode &^ linux.SIfmt, uid: ln.uid, gid: ln.gid,
		atime: ln.mtime, mtime: ln.mtime, ctime: ln.mtime,
	}
	switch n.ftype {
	case linux.SIfdir:
		n.entries = map[string]*memNode{}
		n.parent = parent
	case linux.SIfreg:
		n.data = fileData{size: int64(len(ln.data)), lower: ln.data, lowerLen: int64(len(ln.data))}
		if ln.nlink > 1 {
			fs.byLower[ln] = n
		}
	case linux.SIflnk:
		n.target = string(ln.data)
	}
	return n
}

func (n *memNode) isDir() bool { return n.ftype == linux.SIfdir }

// child returns the node named name in directory n. Called with fs.mu
// held.
func (n *memNode) child(name string) (*memNode, error) {
	if !n.isDir() {
		return nil, ENOTDIR
	}
	if n.removed {
		return nil, ENOENT
	}
	if e := n.entries[name]; e != nil {
		return e, nil
	}
	if n.lower == nil || n.whiteouts[name] {
		return nil, ENOENT
	}
	ln := n.lower.children[name]
	if ln == nil {
		return nil, ENOENT
	}
	e := n.fsys.fromLower(ln, n)
	n.entries[name] = e
	if e.dir == nil {
		e.dir, e.name = n, name
	}
	return e, nil
}

// visit calls fn for every name in directory n with the inode number and
// S_IF* type behind it, without making nodes for archive files. Called
// with fs.mu held.
func (n *memNode) visit(fn func(name string, ino uint64, typ uint32)) {
	for name, e := range n.entries {
		fn(name, e.ino, e.ftype)
	}
	if n.lower == nil {
		return
	}
	for name, ln := range n.lower.children {
		if n.entries[name] == nil && !n.whiteouts[name] {
			fn(name, ln.ino, ln.mode&linux.SIfmt)
		}
	}
}

func (n *memNode) empty() bool {
	empty := true
	n.visit(func(string, uint64, uint32) { empty = false })
	return empty
}

// dropName removes name from directory n, leaving a whiteout if the
// archive has the name. Called with fs.mu held.
func (n *memNode) dropName(name string) {
	delete(n.entries, name)
	delete(n.order, name)
	if n.lower != nil && n.lower.children[name] != nil {
		if n.whiteouts == nil {
			n.whiteouts = map[string]bool{}
		}
		n.whiteouts[name] = true
	}
}

// unlinkName removes name, which holds e, from directory n, and drops e's
// data with its last name. Called with fs.mu held.
func (n *memNode) unlinkName(name string, e *memNode) {
	n.dropName(name)
	if e.dir == n && e.name == name && e.nlink > 1 && !e.isDir() {
		e.dir = nil // another name stays, and no record of where
	}
	if e.isDir() {
		e.removed = true
		e.nlink = 0
		e.fsys.inodes.Add(-1)
		e.mu.Lock()
		e.releaseXattrs()
		e.mu.Unlock()
		return
	}
	e.nlink--
	if e.nlink == 0 {
		e.fsys.inodes.Add(-1)
		e.mu.Lock()
		if e.opens == 0 {
			e.data.release(e.fsys)
			e.releaseXattrs()
		}
		e.mu.Unlock()
	}
}

func (n *memNode) touch(mtime bool) {
	now := n.fsys.clock()
	n.mu.Lock()
	n.ctime = now
	if mtime {
		n.mtime = now
	}
	n.mu.Unlock()
}

func (n *memNode) attr() Attr {
	fs := n.fsys
	fs.mu.Lock()
	nlink := n.nlink
	var size int64
	if n.isDir() {
		nlink = 2
		entries := 2
		n.visit(func(_ string, _ uint64, typ uint32) {
			entries++
			if typ == linux.SIfdir {
				nlink++
			}
		})
		if n.removed {
			nlink = 0
		}
		// tmpfs counts BOGO_DIRENT_SIZE (20) bytes per entry.
		size = int64(entries) * 20
	}
	fs.mu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	a := Attr{
		Ino: n.ino, Mode: n.ftype | n.perm, Nlink: nlink, UID: n.uid, GID: n.gid,
		Rdev: n.rdev, Size: size, Atime: n.atime, Mtime: n.mtime, Ctime: n.ctime,
	}
	switch n.ftype {
	case linux.SIfreg:
		a.Size = n.data.size
		a.Blocks = n.data.blocks()
	case linux.SIflnk:
		a.Size = int64(len(n.target))
	}
	return a
}

func (n *memNode) setAttr(s SetAttr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s.Mode != nil {
		if err := n.sealedMode(*s.Mode &^ linux.SIfmt); err != nil {
			return err
		}
		n.perm = *s.Mode &^ linux.SIfmt
	}
	if s.UID != nil {
		n.uid = *s.UID
	}
	if s.GID != nil {
		n.gid = *s.GID
	}
	if s.Atime != nil {
		n.atime = *s.Atime
	}
	if s.Mtime != nil {
		n.mtime = *s.Mtime
	}
	n.ctime = n.fsys.clock()
	return nil
}

func (n *memNode) readlink(*ctx) (string, error) {
	if n.ftype != linux.SIflnk {
		return "", EINVAL
	}
	return n.target, nil
}

func (n *memNode) lookup(_ *ctx, name string) (node, error) {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	e, err := n.child(name)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (n *memNode) parentNode() node {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	if n.parent == nil {
		return nil
	}
	return n.parent
}

func (n *memNode) list(*ctx) ([]Dirent, error) {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	if n.removed {
		return nil, nil
	}
	var out []Dirent
	n.visit(func(name string, ino uint64, typ uint32) {
		out = append(out, Dirent{Name: name, Ino: ino, Type: uint8(typ >> 12)})
	})
	// Newest first, as tmpfs (since Linux 6.14, and before 6.6) and the
	// initramfs list (fs/libfs.c: a new dentry goes to the head of its
	// parent's d_children, which offset_iterate_dir and dcache_readdir
	// walk): the names made since
	// boot by when, then the archive's in reverse archive order (its
	// inode numbers follow it).
	sort.Slice(out, func(i, j int) bool {
		a, aMade := n.order[out[i].Name]
		b, bMade := n.order[out[j].Name]
		switch {
		case aMade != bMade:
			return aMade
		case aMade:
			return a > b
		case out[i].Ino != out[j].Ino:
			return out[i].Ino > out[j].Ino
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// add makes a new node named name in directory n.
func (n *memNode) add(c *ctx, name string, mode uint32, fill func(*memNode)) (*memNode, error) {
	fs := n.fsys
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if n.removed {
		return nil, ENOENT
	}
	if _, err := n.child(name); err == nil {
		return nil, EEXIST
	} else if err != ENOENT {
		return nil, err
	}
	if fs.maxIno > 0 && fs.inodes.Load() >= fs.maxIno {
		return nil, ENOSPC // tmpfs's nr_inodes
	}
	fs.inodes.Add(1)
	e := fs.newNode(mode)
	if e.isDir() {
		e.parent = n
	}
	n.own(c, e)
	if fill != nil {
		fill(e)
	}
	n.entries[name] = e
	n.placed(name)
	e.dir, e.name = n, name
	n.touch(true)
	return e, nil
}

// placed records that name was just made in directory n. Called with
// fs.mu held.
func (n *memNode) placed(name string) {
	n.fsys.made++
	if n.order == nil {
		n.order = map[string]uint64{}
	}
	n.order[name] = n.fsys.made
}

// own gives e, new in directory n, its owner: the caller's fs IDs, or n's
// group for a set-group-ID n.
func (n *memNode) own(c *ctx, e *memNode) {
	e.uid, e.gid = c.owner()
	n.mu.Lock()
	if n.perm&linux.SIsgid != 0 {
		// A set-group-ID directory gives its group, and to a new
		// directory its set-group-ID bit (fs/inode.c inode_init_owner).
		e.gid = n.gid
		if e.isDir() {
			e.perm |= linux.SIsgid
		}
	}
	n.mu.Unlock()
}

// tmpfile makes a regular file with no name on n's file system
// (mm/shmem.c shmem_tmpfile; fs/namei.c vfs_tmpfile): linkat(2) may give
// it one if linkable (open(2) without O_EXCL).
func (n *memNode) tmpfile(c *ctx, mode uint32, linkable bool) (*memNode, error) {
	fs := n.fsys
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if n.removed {
		return nil, ENOENT
	}
	if fs.maxIno > 0 && fs.inodes.Load() >= fs.maxIno {
		return nil, ENOSPC
	}
	e := fs.newNode(linux.SIfreg | mode&0o7777)
	e.nlink, e.linkable = 0, linkable
	n.own(c, e)
	return e, nil
}

func (n *memNode) create(c *ctx, name string, mode uint32) (node, error) {
	e, err := n.add(c, name, linux.SIfreg|mode&0o7777, nil)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (n *memNode) mkdir(c *ctx, name string, mode uint32) error {
	_, err := n.add(c, name, linux.SIfdir|mode&0o7777, nil)
	return err
}

func (n *memNode) mknod(c *ctx, name string, mode uint32, rdev uint64) error {
	_, err := n.add(c, name, mode, func(e *memNode) { e.rdev = rdev })
	return err
}

func (n *memNode) symlink(c *ctx, name, target string) error {
	_, err := n.add(c, name, linux.SIflnk|0o777, func(e *memNode) { e.target = target })
	return err
}

func (n *memNode) link(_ *ctx, name string, target node) error {
	t, ok := target.(*memNode)
	if !ok || t.fsys != n.fsys {
		return EXDEV
	}
	if t.isDir() {
		return EPERM
	}
	fs := n.fsys
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if n.removed {
		return ENOENT
	}
	if _, err := n.child(name); err == nil {
		return EEXIST
	} else if err != ENOENT {
		return err
	}
	// fs/namei.c vfs_link: a file without names gets one only once, if
	// it is an O_TMPFILE file opened without O_EXCL.
	if t.nlink == 0 {
		if !t.linkable {
			return ENOENT
		}
		t.linkable = false
		fs.inodes.Add(1)
	}
	t.nlink++
	n.entries[name] = t
	n.placed(name)
	if t.dir == nil {
		t.dir, t.name = n, name
	}
	n.touch(true)
	t.touch(false)
	return nil
}

func (n *memNode) remove(_ *ctx, name string, dir bool) error {
	fs := n.fsys
	fs.mu.Lock()
	defer fs.mu.Unlock()
	e, err := n.child(name)
	if err != nil {
		return err
	}
	switch {
	case dir && !e.isDir():
		return ENOTDIR
	case !dir && e.isDir():
		return EISDIR
	case dir && !e.empty():
		return ENOTEMPTY
	}
	n.unlinkName(name, e)
	n.touch(true)
	e.touch(false)
	return nil
}

// rename checks in the order Linux's do_renameat2 and vfs_rename do, so
// that the same error comes first; oldSlash and newSlash report trailing
// slashes on the two paths.
func (n *memNode) rename(_ *ctx, oldName string, newDir node, newName string, flags uint32, oldSlash, newSlash bool) error {
	nd, ok := newDir.(*memNode)
	if !ok || nd.fsys != n.fsys {
		return EXDEV
	}
	fs := n.fsys
	fs.mu.Lock()
	defer fs.mu.Unlock()
	src, err := n.child(oldName)
	if err != nil {
		return err
	}
	if nd.removed {
		return ENOENT
	}
	dst, err := nd.child(newName)
	if err != nil && err != ENOENT {
		return err
	}
	exchange := flags&linux.RenameExchange != 0
	switch {
	case flags&linux.RenameNoreplace != 0 && dst != nil:
		return EEXIST
	case exchange && dst == nil:
		return ENOENT
	case exchange && newSlash && !dst.isDir():
		return ENOTDIR
	case !src.isDir() && (oldSlash || newSlash && !exchange):
		return ENOTDIR
	case n != nd && src.isDir() && nd.within(src):
		return EINVAL // the source holds the target
	case n != nd && dst != nil && dst.isDir() && n.within(dst):
		if exchange {
			return EINVAL
		}
		return ENOTEMPTY // the target holds the source
	case src == dst:
		return nil
	}
	if exchange {
		n.entries[oldName], nd.entries[newName] = dst, src
		src.dir, src.name, dst.dir, dst.name = nd, newName, n, oldName
		if src.isDir() {
			src.parent = nd
		}
		if dst.isDir() {
			dst.parent = n
		}
		n.touch(true)
		nd.touch(true)
		return nil
	}
	if dst != nil {
		switch {
		case src.isDir() && !dst.isDir():
			return ENOTDIR
		case !src.isDir() && dst.isDir():
			return EISDIR
		case dst.isDir() && !dst.empty():
			return ENOTEMPTY
		}
		nd.unlinkName(newName, dst)
	}
	n.dropName(oldName)
	if src.isDir() {
		src.parent = nd
	}
	nd.entries[newName] = src
	nd.placed(newName)
	src.dir, src.name = nd, newName
	n.touch(true)
	nd.touch(true)
	src.touch(false)
	return nil
}

// within reports whether directory n is dir or lies below it. Called with
// fs.mu held.
func (n *memNode) within(dir *memNode) bool {
	for d := n; d != nil; d = d.parent {
		if d == dir {
			return true
		}
	}
	return false
}

func (n *memNode) open(c *ctx, l Loc, flags uint32) (FileImpl, error) {
	switch n.ftype {
	case linux.SIfreg:
		n.mu.Lock()
		n.opens++
		n.mu.Unlock()
		return &regFile{n: n, loc: l}, nil
	case linux.SIfdir:
		return &dirFile{loc: l, c: c}, nil
	case linux.SIfchr:
		return n.fsys.devices.open(l, n.rdev, flags)
	case linux.SIfifo:
		return n.openFIFO(c, l, flags)
	}
	return nil, ENXIO
}

// nameOf returns the name under which directory n sits in its parent.
func (n *memNode) nameOf() (string, bool) {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	if n.parent == nil || n.removed {
		return "", false
	}
	for name, e := range n.parent.entries {
		if e == n {
			return name, true
		}
	}
	return "", false
}

// read copies file data at off into dst.
func (n *memNode) read(dst Buf, off int64) (int64, error) {
	want := dst.Len()
	var done int64
	buf := make([]byte, min(want, ioChunk))
	for done < want {
		chunk := min(want-done, ioChunk)
		n.mu.Lock()
		k := n.data.readAt(n.fsys.frames, buf[:chunk], off+done)
		n.mu.Unlock()
		if k == 0 {
			break
		}
		c, err := dst.DropFirst(done).CopyOut(buf[:k])
		done += int64(c)
		if err != nil {
			if done == 0 {
				return 0, EFAULT
			}
			break
		}
		if int64(k) < chunk {
			break
		}
	}
	return done, nil
}

// write copies src into the file at off.
func (n *memNode) write(src Buf, off int64) (int64, error) {
	want := src.Len()
	if off > maxFileSize-want {
		if off >= maxFileSize {
			return 0, EFBIG
		}
		want = maxFileSize - off
	}
	n.mu.Lock()
	want, err := n.sealedWrite(off, want)
	n.mu.Unlock()
	if err != nil {
		return 0, err
	}
	var done int64
	buf := make([]byte, min(want, ioChunk))
	for done < want {
		c, ferr := src.DropFirst(done).CopyIn(buf[:min(want-done, ioChunk)])
		if c > 0 {
			n.mu.Lock()
			w, err := n.data.writeAt(buf[:c], off+done, n.fsys)
			if w > 0 {
				now := n.fsys.clock()
				n.mtime, n.ctime = now, now
			}
			n.mu.Unlock()
			done += int64(w)
			if err != nil || w < c {
				if done == 0 {
					return 0, err
				}
				return done, nil
			}
		}
		if ferr != nil {
			if done == 0 {
				return 0, EFAULT
			}
			break
		}
	}
	return done, nil
}

func (n *memNode) truncate(size int64) error {
	if size > maxFileSize {
		return EFBIG
	}
	n.mu.Lock()
	if err := n.sealedResize(size); err != nil {
		n.mu.Unlock()
		return err
	}
	shrunk := size < n.data.size
	n.data.truncate(n.fsys, size)
	now := n.fsys.clock()
	n.mtime, n.ctime = now, now
	n.mu.Unlock()
	if shrunk {
		n.invalidate((size+pageSize-1)/pageSize, -1)
	}
	return nil
}

// ioChunk is how much of a file's data a read or write handles at a time.
const ioChunk = 64 << 10

// maxFileSize is the largest file size (MAX_LFS_FILESIZE on 64-bit Linux).
const maxFileSize = 1<<63 - 1

// regFile is an open regular file of a memFS.
type regFile struct {
	FileDefaults
	n   *memNode
	loc Loc
}

func (r *regFile) Read(_ *File, dst Buf, off int64) (int64, error) { return r.n.read(dst, off) }

func (r *regFile) Write(_ *File, src Buf, off int64) (int64, error) {
	return r.n.write(src, off)
}
func (r *regFile) Stream() bool    { return false }
func (r *regFile) Stat(*File) Attr { return r.loc.Attr() }
func (r *regFile) Truncate(_ *File, size int64) error {
	return r.n.truncate(size)
}
func (r *regFile) Seek(_ *File, cur, off int64, whence int) (int64, error) {
	return SeekIn(cur, off, whence, r.loc.Attr().Size)
}

func (r *regFile) Release(*File) {
	n := r.n
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.opens--
	if n.opens == 0 && n.nlink == 0 {
		n.data.release(n.fsys)
		n.releaseXattrs()
	}
}

func (n *memNode) fileType() uint32 { return n.ftype }

// place implements placedNode.
func (n *memNode) place() (dir node, name string, unlinked bool) {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	if n.dir == nil {
		return nil, "", n.nlink == 0
	}
	return n.dir, n.name, n.nlink == 0
}

// gone reports a node with no name and no open file left, which Linux
// would evict (inotify's IN_DELETE_SELF).
func (n *memNode) gone() bool {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	if n.isDir() {
		return n.removed
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.nlink == 0 && n.opens == 0
}

// Ioctl answers FIONREAD: the bytes from the offset to the end.
func (r *regFile) Ioctl(f *File, m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	if cmd != linux.FIONREAD {
		return 0, ENOTTY
	}
	n := max(r.loc.Attr().Size-f.Offset(), 0)
	return 0, copyOut(m, arg, binary.LittleEndian.AppendUint32(nil, uint32(min(n, math.MaxInt32))))
}
