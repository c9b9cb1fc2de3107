package vfs

import (
	"strconv"
	"strings"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// These are the path operations of the system calls. Each takes the
// calling process (for /proc/self; may be nil), the directory a relative
// path starts from, and the path, and returns Linux's errors
// (path_resolution(7) and each call's manual page).

// isSpecial reports the last components that name no entry of their own.
func isSpecial(name string) bool { return name == "" || name == "." || name == ".." }

func (fs *FS) walker(p Process) *walker {
	return &walker{c: &ctx{fs: fs, p: p, cred: credOf(p, false)}}
}

// entry returns the node named name in dir without crossing a mount, and
// whether a file system is mounted on it.
func (w *walker) entry(dir Loc, name string) (node, bool, error) {
	n, err := dir.n.(dirNode).lookup(w.c, name)
	if err != nil {
		return nil, false, err
	}
	return n, w.c.fs.mounts[Loc{dir.mnt, n}] != nil, nil
}

// Open opens path (openat(2)). flags are open(2)'s; mode is the mode of a
// created file, with the umask already applied.
func (fs *FS) Open(p Process, at Loc, path string, flags, mode uint32) (*File, error) {
	return fs.open(fs.walker(p), at, path, flags, mode)
}

// OpenResolve is Open restricted by openat2(2)'s RESOLVE_* flags, with at
// (the dirfd) as the root of a RESOLVE_BENEATH or RESOLVE_IN_ROOT walk.
// The caller has checked the flags.
func (fs *FS) OpenResolve(p Process, at Loc, path string, flags, mode uint32, resolve uint64) (*File, error) {
	w := fs.walker(p)
	w.restrict, w.root = resolve, at
	return fs.open(w, at, path, flags, mode)
}

func (fs *FS) open(w *walker, at Loc, path string, flags, mode uint32) (*File, error) {
	if flags&(linux.OTmpfile&^linux.ODirectory) != 0 {
		return fs.openTmpfile(w, at, path, flags, mode)
	}
	isPath := flags&linux.OPath != 0
	if isPath {
		flags &= linux.OPath | linux.ODirectory | linux.ONofollow
	}
	create := flags&linux.OCreat != 0
	if create && flags&linux.ODirectory != 0 {
		return nil, EINVAL
	}
	acc := flags & linux.OAccmode
	write := !isPath && (acc != linux.ORdonly || flags&linux.OTrunc != 0)
	follow := flags&linux.ONofollow == 0

	var l Loc
	created := false
	if !create {
		var err error
		if l, err = w.resolve(at, path, follow); err != nil {
			return nil, err
		}
	} else {
		dir, name, slash, err := w.resolveParent(at, path)
		if err != nil {
			return nil, err
		}
		if slash {
			return nil, EISDIR
		}
		for {
			if isSpecial(name) {
				if flags&linux.OExcl != 0 {
					return nil, EEXIST
				}
				return nil, EISDIR
			}
			child, err := w.step(dir, name)
			if err == ENOENT {
				if dir.mnt.readOnly {
					return nil, EROFS
				}
				if err := w.c.cred.mayCreate(dir); err != nil {
					return nil, err
				}
				n, err := dir.n.(dirNode).create(w.c, name, mode&0o7777)
				if err == EEXIST {
					continue // made by someone else meanwhile
				}
				if err != nil {
					return nil, err
				}
				l = Loc{dir.mnt, n}
				w.lastDir, w.lastName = dir, name
				created = true
				break
			}
			if err != nil {
				return nil, err
			}
			if flags&linux.OExcl != 0 {
				return nil, EEXIST
			}
			if child.n.fileType() == linux.SIflnk {
				if !follow {
					return nil, ELOOP
				}
				to, target, err := w.follow(child)
				if err != nil {
					return nil, err
				}
				if !to.IsZero() {
					l = to
					w.lastDir = Loc{}
					break
				}
				if dir, name, slash, err = w.resolveParent(dir, target); err != nil {
					return nil, err
				}
				if slash {
					return nil, EISDIR
				}
				continue
			}
			l = child
			w.lastDir, w.lastName = dir, name
			break
		}
	}

	typ := l.n.fileType()
	switch {
	case typ == linux.SIflnk && !isPath:
		return nil, ELOOP
	case flags&linux.ODirectory != 0 && typ != linux.SIfdir:
		return nil, ENOTDIR
	case typ == linux.SIfdir && (write || create):
		return nil, EISDIR
	case write && roFile(l):
		return nil, EROFS
	case w.forExec && typ != linux.SIfreg:
		return nil, EACCES
	}
	// A file this open made is not checked (fs/namei.c may_open after
	// FMODE_CREATED); a program is opened to be executed, not read
	// (do_open_execat: MAY_EXEC).
	if !isPath && !created {
		mask := openMask(flags)
		if w.forExec {
			mask = mayExec
		}
		if err := w.c.cred.may(l, mask); err != nil {
			return nil, err
		}
	}
	var impl FileImpl
	var held int8
	if isPath {
		impl = &pathFile{loc: l}
	} else {
		// An executor denies writers and a writer executors, ETXTBSY
		// (do_open_execat deny_write_access; do_dentry_open
		// get_write_access for FMODE_WRITE; handle_truncate for O_TRUNC
		// without it, only while it truncates).
		var err error
		if held, err = holdAccess(l.n, w.forExec, acc == linux.OWronly || acc == linux.ORdwr || flags&linux.OTrunc != 0); err != nil {
			return nil, err
		}
		if impl, err = l.n.open(w.c, l, flags); err != nil {
			releaseAccess(l.n, held)
			return nil, err
		}
		if flags&linux.OTrunc != 0 && typ == linux.SIfreg {
			if err := impl.Truncate(nil, 0); err != nil {
				impl.Release(nil)
				releaseAccess(l.n, held)
				return nil, err
			}
		}
		if held < 0 && acc != linux.OWronly && acc != linux.ORdwr {
			releaseAccess(l.n, held) // O_RDONLY|O_TRUNC: truncated, not a writer
			held = 0
		}
	}
	if !isPath {
		flags |= linux.OLargefile // as 64-bit Linux forces it
	}
	f := NewFile(impl, flags, fs.nameOf(w, l))
	f.loc, f.held = l, held
	if created {
		notifyDir(w.lastDir.n, InCreate, w.lastName, l.n, 0)
	}
	if !isPath {
		notifyNode(l.n, InOpen)
		if flags&linux.OTrunc != 0 && typ == linux.SIfreg && !created {
			notifyNode(l.n, InModify) // fs/namei.c handle_truncate, after vfs_open
		}
	}
	return f, nil
}

// openTmpfile is open(2) with O_TMPFILE (fs/open.c build_open_flags,
// fs/namei.c do_tmpfile and vfs_tmpfile): an unnamed regular file, open
// for writing, on the file system of directory path, which linkat(2) may
// name unless flags has O_EXCL. File systems other than the memory ones
// (/proc) have none (EOPNOTSUPP).
func (fs *FS) openTmpfile(w *walker, at Loc, path string, flags, mode uint32) (*File, error) {
	if flags&(linux.OTmpfile|linux.OCreat) != linux.OTmpfile || flags&linux.OAccmode == linux.ORdonly {
		return nil, EINVAL
	}
	dir, err := w.resolve(at, path, flags&linux.ONofollow == 0)
	if err != nil {
		return nil, err
	}
	if !dir.IsDir() {
		return nil, ENOTDIR
	}
	d, ok := dir.n.(*memNode)
	if !ok {
		return nil, EOPNOTSUPP
	}
	if dir.mnt.readOnly {
		return nil, EROFS
	}
	if err := w.c.cred.mayCreate(dir); err != nil {
		return nil, err
	}
	n, err := d.tmpfile(w.c, mode, flags&linux.OExcl == 0)
	if err != nil {
		return nil, err
	}
	l := Loc{dir.mnt, n}
	impl, err := n.open(w.c, l, flags)
	if err != nil {
		return nil, err
	}
	// /proc/self/fd shows the directory and the inode number (fs/d_path.c
	// d_path of a d_tmpfile dentry named "#ino").
	name, err := fs.Path(dir)
	if err != nil {
		name = "?"
	}
	f := NewFile(impl, flags|linux.OLargefile, strings.TrimSuffix(name, "/")+"/#"+strconv.FormatUint(n.ino, 10)+" (deleted)")
	f.loc = l
	return f, nil
}

// OpenExec opens path for execve(2) (fs/exec.c do_open_execat): a
// regular file the caller may execute (EACCES otherwise), opened for
// reading whatever its read permission; nofollow refuses a final
// symbolic link (ELOOP).
func (fs *FS) OpenExec(p Process, at Loc, path string, nofollow bool) (*File, error) {
	w := fs.walker(p)
	w.forExec = true
	flags := uint32(linux.ORdonly)
	if nofollow {
		flags |= linux.ONofollow
	}
	return fs.open(w, at, path, flags, 0)
}

// nameOf returns the path /proc/self/fd shows for l, reached last through
// w.
func (fs *FS) nameOf(w *walker, l Loc) string {
	if n, ok := l.n.(pipeNode); ok {
		return n.p.name()
	}
	if n, ok := l.n.(nsNode); ok && n.idx >= 0 {
		return nsText(n.idx) // fs/nsfs.c ns_dname
	}
	if l.IsDir() {
		if s, err := fs.Path(l); err == nil {
			return s
		}
	}
	if !w.lastDir.IsZero() {
		if s, err := fs.Path(w.lastDir); err == nil {
			if s == "/" {
				return "/" + w.lastName
			}
			return s + "/" + w.lastName
		}
	}
	if w.lastDir.IsZero() && w.magicName != "" {
		return w.magicName
	}
	return "?"
}

// pathFile is a file opened with O_PATH: a place, good for fstat and as a
// directory descriptor only.
type pathFile struct {
	FileDefaults
	loc Loc
}

func (p *pathFile) Stat(*File) Attr { return p.loc.Attr() }

// Mkdir makes directory path (mkdirat(2)).
func (fs *FS) Mkdir(p Process, at Loc, path string, mode uint32) error {
	return fs.make(p, at, path, true, func(w *walker, dir dirNode, name string) error {
		return dir.mkdir(w.c, name, mode&0o7777)
	})
}

// Mknod makes a regular file, device file, FIFO or socket at path
// (mknodat(2)). FIFOs open as fifo(7) says (fifo.go); sockets made this
// way cannot be opened (ENXIO), as on Linux.
func (fs *FS) Mknod(p Process, at Loc, path string, mode uint32, rdev uint64) error {
	switch mode & linux.SIfmt {
	case 0:
		mode |= linux.SIfreg
	case linux.SIfreg, linux.SIfchr, linux.SIfblk, linux.SIfifo, linux.SIfsock:
	case linux.SIfdir:
		return EPERM
	default:
		return EINVAL
	}
	return fs.make(p, at, path, false, func(w *walker, dir dirNode, name string) error {
		if mode&linux.SIfmt == linux.SIfreg {
			_, err := dir.create(w.c, name, mode&0o7777)
			return err
		}
		return dir.mknod(w.c, name, mode&(linux.SIfmt|0o7777), rdev)
	})
}

// Symlink makes a symbolic link at path holding target (symlinkat(2)).
func (fs *FS) Symlink(p Process, target string, at Loc, path string) error {
	if target == "" {
		return ENOENT
	}
	if len(target) >= linux.PathMax {
		return ENAMETOOLONG
	}
	return fs.make(p, at, path, false, func(w *walker, dir dirNode, name string) error {
		return dir.symlink(w.c, name, target)
	})
}

// make makes a new name path with mk: EEXIST if it exists, ENOENT for a
// trailing slash unless isDir, then EROFS (fs/namei.c filename_create).
func (fs *FS) make(p Process, at Loc, path string, isDir bool, mk func(*walker, dirNode, string) error) error {
	w := fs.walker(p)
	dir, name, slash, err := w.resolveParent(at, path)
	if err != nil {
		return err
	}
	if isSpecial(name) {
		return EEXIST
	}
	if _, _, err := w.entry(dir, name); err == nil {
		return EEXIST
	} else if err != ENOENT {
		return err
	}
	if slash && !isDir {
		return ENOENT
	}
	if dir.mnt.readOnly {
		return EROFS
	}
	if err := w.c.cred.mayCreate(dir); err != nil {
		return err
	}
	if err := mk(w, dir.n.(dirNode), name); err != nil {
		return err
	}
	mask := uint32(InCreate)
	if isDir {
		mask |= InIsdir
	}
	notifyDir(dir.n, mask, name, nil, 0)
	return nil
}

// Link makes newPath another name for oldPath (linkat(2)); follow follows
// a symbolic link at oldPath (AT_SYMLINK_FOLLOW).
func (fs *FS) Link(p Process, oldAt Loc, oldPath string, newAt Loc, newPath string, follow bool) error {
	w := fs.walker(p)
	old, err := w.resolve(oldAt, oldPath, follow)
	if err != nil {
		return err
	}
	return fs.LinkLoc(p, old, newAt, newPath)
}

// LinkLoc makes newPath another name for the file at old (linkat(2) with
// AT_EMPTY_PATH).
func (fs *FS) LinkLoc(p Process, old Loc, newAt Loc, newPath string) error {
	w := fs.walker(p)
	dir, name, slash, err := w.resolveParent(newAt, newPath)
	if err != nil {
		return err
	}
	if isSpecial(name) {
		return EEXIST
	}
	if _, _, err := w.entry(dir, name); err == nil {
		return EEXIST
	} else if err != ENOENT {
		return err
	}
	if slash {
		return ENOENT
	}
	if dir.mnt.readOnly {
		return EROFS
	}
	if old.mnt != dir.mnt {
		return EXDEV
	}
	if err := w.c.cred.mayLinkat(old); err != nil {
		return err
	}
	if err := w.c.cred.mayCreate(dir); err != nil {
		return err
	}
	if old.IsDir() {
		return EPERM
	}
	if err := dir.n.(dirNode).link(w.c, name, old.n); err != nil {
		return err
	}
	notifySelf(old.n, InAttrib) // the link count (fsnotify_link)
	notifyDir(dir.n, InCreate, name, old.n, 0)
	return nil
}

// Unlink removes path (unlinkat(2)); dir removes a directory
// (AT_REMOVEDIR, rmdir(2)).
func (fs *FS) Unlink(p Process, at Loc, path string, dir bool) error {
	w := fs.walker(p)
	parent, name, slash, err := w.resolveParent(at, path)
	if err != nil {
		return err
	}
	if dir {
		switch name {
		case "":
			return EBUSY
		case ".":
			return EINVAL
		case "..":
			return ENOTEMPTY
		}
	} else if isSpecial(name) {
		return EISDIR
	}
	if parent.mnt.readOnly {
		return EROFS
	}
	n, mounted, err := w.entry(parent, name)
	if err != nil {
		return err
	}
	if err := w.c.cred.mayDelete(parent, Loc{parent.mnt, n}); err != nil {
		return err
	}
	isDir := n.fileType() == linux.SIfdir
	switch {
	case mounted:
		return EBUSY
	case !dir && isDir:
		return EISDIR
	case !isDir && (dir || slash):
		return ENOTDIR
	}
	if err := parent.n.(dirNode).remove(w.c, name, dir); err != nil {
		return err
	}
	// fs/namei.c vfs_unlink: the link count; the inode's watches end
	// if it is gone (d_delete: fsnotify_inoderemove); then the name
	// (d_delete_notify: fsnotify_delete).
	if !isDir {
		notifySelf(n, InAttrib)
	}
	notifyGone(n)
	notifyDir(parent.n, InDelete, name, n, 0)
	return nil
}

// Rename renames oldPath to newPath (renameat2(2)) with flags
// RENAME_NOREPLACE or RENAME_EXCHANGE; RENAME_WHITEOUT is not supported
// (EINVAL).
func (fs *FS) Rename(p Process, oldAt Loc, oldPath string, newAt Loc, newPath string, flags uint32) error {
	if flags&^(linux.RenameNoreplace|linux.RenameExchange) != 0 ||
		flags == linux.RenameNoreplace|linux.RenameExchange {
		return EINVAL
	}
	w := fs.walker(p)
	od, on, oslash, err := w.resolveParent(oldAt, oldPath)
	if err != nil {
		return err
	}
	nd, nn, nslash, err := w.resolveParent(newAt, newPath)
	if err != nil {
		return err
	}
	if od.mnt != nd.mnt {
		return EXDEV
	}
	if isSpecial(on) || isSpecial(nn) {
		return EBUSY
	}
	if od.mnt.readOnly {
		return EROFS
	}
	// fs/namei.c vfs_rename: the old name may be deleted, the new one
	// made or, if it exists, deleted; a directory moving to another
	// parent must be writable (its ".." changes).
	if on1, _, err := w.entry(od, on); err == nil {
		old := Loc{od.mnt, on1}
		if err := w.c.cred.mayDelete(od, old); err != nil {
			return err
		}
		if nn1, _, err := w.entry(nd, nn); err == nil {
			if err := w.c.cred.mayDelete(nd, Loc{nd.mnt, nn1}); err != nil {
				return err
			}
		} else if err := w.c.cred.mayCreate(nd); err != nil {
			return err
		}
		if old.IsDir() && od != nd {
			if err := w.c.cred.may(old, mayWrite); err != nil {
				return err
			}
		}
	}
	if _, mounted, err := w.entry(od, on); err == nil && mounted {
		return EBUSY
	}
	if _, mounted, err := w.entry(nd, nn); err == nil && mounted {
		return EBUSY
	}
	src, _, _ := w.entry(od, on)
	dst, _, _ := w.entry(nd, nn)
	if err := od.n.(dirNode).rename(w.c, on, nd.n, nn, flags, oslash, nslash); err != nil {
		return err
	}
	if src == dst {
		return nil
	}
	// include/linux/fsnotify.h fsnotify_move, twice for an exchange.
	exchange := flags&linux.RenameExchange != 0
	move := func(od, nd node, on, nn string, moved, target node) {
		cookie := renameCookie()
		notifyDir(od, InMovedFrom, on, moved, cookie)
		notifyDir(nd, InMovedTo, nn, moved, cookie)
		if target != nil {
			notifySelf(target, InAttrib)
		}
		notifySelf(moved, InMoveSelf)
	}
	if exchange {
		move(od.n, nd.n, on, nn, src, nil)
		move(nd.n, od.n, nn, on, dst, nil)
		return nil
	}
	move(od.n, nd.n, on, nn, src, dst)
	notifyGone(dst)
	return nil
}

// Readlink returns the target of symbolic link path (readlinkat(2)).
func (fs *FS) Readlink(p Process, at Loc, path string) (string, error) {
	w := fs.walker(p)
	l, err := w.resolve(at, path, false)
	if err != nil {
		return "", err
	}
	return fs.ReadlinkLoc(p, l)
}

// ReadlinkLoc returns the target of the symbolic link at l.
func (fs *FS) ReadlinkLoc(p Process, l Loc) (string, error) {
	ln, ok := l.n.(linkNode)
	if !ok || l.n.fileType() != linux.SIflnk {
		return "", EINVAL
	}
	return ln.readlink(&ctx{fs: fs, p: p})
}

// roFile reports a file that cannot be written because its mount is
// read-only (a regular file, directory or link there). /proc's text
// files are opened for writing as on Linux, where /proc is mounted
// read-write: comm takes names, the others refuse writes (EINVAL).
func roFile(l Loc) bool {
	if p, ok := l.n.(procNode); ok && p.kind == procText {
		return false
	}
	typ := l.n.fileType()
	return l.mnt.readOnly && (typ == linux.SIfreg || typ == linux.SIfdir || typ == linux.SIflnk)
}

// Access checks access(2) mode (R_OK, W_OK, X_OK bits; 0 for F_OK) for
// the file at l for process p: as its real IDs (fs/open.c
// access_override_creds), or its effective ones with effective
// (faccessat2's AT_EACCESS). Writing fails on a read-only mount (EROFS);
// root executes only what has an execute bit, or a directory.
func Access(p Process, l Loc, mode uint32, effective bool) error {
	if mode&^(linux.ROk|linux.WOk|linux.XOk) != 0 {
		return EINVAL
	}
	if mode&linux.WOk != 0 && roFile(l) {
		return EROFS
	}
	if mode == 0 {
		return nil
	}
	// R_OK, W_OK and X_OK are MAY_READ, MAY_WRITE and MAY_EXEC.
	return credOf(p, !effective).may(l, mode)
}

// LookupAccess is Lookup for access(2): the directories are searched as
// Access checks (the real IDs unless effective).
func (fs *FS) LookupAccess(p Process, at Loc, path string, follow, effective bool) (Loc, error) {
	w := &walker{c: &ctx{fs: fs, p: p, cred: credOf(p, !effective)}}
	return w.resolve(at, path, follow)
}

// SetAttrAt changes the mode, owner or times of the file at l for
// process p (chmod(2), chown(2), utimensat(2)), as fs/attr.c
// setattr_prepare and may_setattr allow: the mode and given times only
// for the owner or CAP_FOWNER, times set to now also with write
// permission; the owner only with CAP_CHOWN; the group by the owner to
// one of its groups, or with CAP_CHOWN (EPERM otherwise). A mode change
// by a caller outside the file's group and without CAP_FSETID loses the
// set-group-ID bit.
func SetAttrAt(p Process, l Loc, s SetAttr) error {
	if l.mnt.readOnly {
		return EROFS
	}
	n, ok := l.n.(attrNode)
	if !ok {
		return EPERM
	}
	c := credOf(p, false)
	if c != nil {
		const capChown, capFsetid = 0, 4
		a := permAttr(l)
		owner := c.uid == a.UID || c.capable(capFowner)
		if s.Atime != nil || s.Mtime != nil {
			if s.Touch && !owner {
				if err := c.permission(a, mayWrite); err != nil {
					return err
				}
			} else if !owner {
				return EPERM
			}
		}
		if s.UID != nil && !(c.uid == a.UID && *s.UID == a.UID) && !c.capable(capChown) {
			return EPERM
		}
		if s.GID != nil && !(c.uid == a.UID && (*s.GID == a.GID || c.inGroup(*s.GID))) && !c.capable(capChown) {
			return EPERM
		}
		if s.Mode != nil {
			if !owner {
				return EPERM
			}
			gid := a.GID
			if s.GID != nil {
				gid = *s.GID
			}
			if !c.inGroup(gid) && !c.capable(capFsetid) {
				m := *s.Mode &^ linux.SIsgid
				s.Mode = &m
			}
		}
	}
	if err := n.setAttr(s); err != nil {
		return err
	}
	// include/linux/fsnotify.h fsnotify_change: owner, group, mode or
	// both times: IN_ATTRIB; the access time alone IN_ACCESS, the
	// modification time alone IN_MODIFY.
	var mask uint32
	switch {
	case s.UID != nil || s.GID != nil || s.Mode != nil || s.Atime != nil && s.Mtime != nil:
		mask = InAttrib
	case s.Atime != nil:
		mask = InAccess
	case s.Mtime != nil:
		mask = InModify
	}
	if mask != 0 {
		notifyNode(l.n, mask)
	}
	return nil
}

// TruncateAs checks that process p may truncate the file at l (write
// permission: fs/open.c vfs_truncate) and truncates it (truncate(2)).
func TruncateAs(p Process, l Loc, size int64) error {
	if l.n.fileType() == linux.SIfreg && !l.mnt.readOnly && size >= 0 {
		if err := credOf(p, false).may(l, mayWrite); err != nil {
			return err
		}
	}
	return Truncate(l, size)
}

// Truncate sets the size of the file at l (truncate(2)).
func Truncate(l Loc, size int64) error {
	switch l.n.fileType() {
	case linux.SIfdir:
		return EISDIR
	case linux.SIfreg:
	default:
		return EINVAL
	}
	if size < 0 {
		return EINVAL
	}
	if l.mnt.readOnly {
		return EROFS
	}
	// fs/open.c vfs_truncate: not a program some process runs.
	if err := getWrite(l.n); err != nil {
		return err
	}
	defer putWrite(l.n, -1)
	if err := l.n.(*memNode).truncate(size); err != nil {
		return err
	}
	notifyNode(l.n, InModify)
	return nil
}
