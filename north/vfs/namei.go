package vfs

import (
	"strings"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// walker resolves path names (path_resolution(7)).
type walker struct {
	c     *ctx
	links int // symbolic links followed so far

	// The directory and name of the last component walk stepped to, or
	// a zero dir after a magic link, and then the magic link's text (the
	// path of the file it leads to, as Linux's d_path names it).
	lastDir   Loc
	lastName  string
	magicName string

	// restrict are openat2's RESOLVE_* flags restricting the walk, and
	// root the directory a RESOLVE_BENEATH or RESOLVE_IN_ROOT walk stays
	// in.
	restrict uint64
	root     Loc

	// forExec opens a program to run (OpenExec).
	forExec bool
}

// openat2's resolve flags (include/uapi/linux/openat2.h).
const (
	ResolveNoXdev       = 0x01
	ResolveNoMagiclinks = 0x02
	ResolveNoSymlinks   = 0x04
	ResolveBeneath      = 0x08
	ResolveInRoot       = 0x10
	ResolveCached       = 0x20
)

func (w *walker) scoped() bool { return w.restrict&(ResolveBeneath|ResolveInRoot) != 0 }

// jumpRoot is where an absolute path or symbolic link leads (fs/namei.c
// nd_jump_root): the scope's root for RESOLVE_IN_ROOT, EXDEV for
// RESOLVE_BENEATH, and for RESOLVE_NO_XDEV EXDEV if that leaves the mount
// from (zero at the start of a walk, where it is allowed).
func (w *walker) jumpRoot(from Loc) (Loc, error) {
	switch {
	case w.restrict&ResolveInRoot != 0:
		return w.root, nil
	case w.restrict&ResolveBeneath != 0:
		return Loc{}, EXDEV
	}
	root := w.c.fs.Root()
	if w.restrict&ResolveNoXdev != 0 && !from.IsZero() && from.mnt != root.mnt {
		return Loc{}, EXDEV
	}
	return root, nil
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// step returns the entry name of directory dir, handling "." and ".."
// and crossing into a file system mounted there.
func (w *walker) step(dir Loc, name string) (Loc, error) {
	if dir.n.fileType() != linux.SIfdir {
		return Loc{}, ENOTDIR
	}
	if len(name) > linux.NameMax {
		return Loc{}, ENAMETOOLONG
	}
	if err := w.c.cred.search(dir); err != nil {
		return Loc{}, err
	}
	switch name {
	case ".":
		return dir, nil
	case "..":
		// fs/namei.c follow_dotdot: the root of a scoped walk is its
		// top (EXDEV for RESOLVE_BENEATH).
		if w.scoped() && dir == w.root {
			if w.restrict&ResolveBeneath != 0 {
				return Loc{}, EXDEV
			}
			return dir, nil
		}
		up := w.c.fs.parent(dir)
		if w.restrict&ResolveNoXdev != 0 && up.mnt != dir.mnt {
			return Loc{}, EXDEV
		}
		return up, nil
	}
	n, err := dir.n.(dirNode).lookup(w.c, name)
	if err != nil {
		return Loc{}, err
	}
	next := Loc{dir.mnt, n}
	if m := w.c.fs.mounts[next]; m != nil {
		if w.restrict&ResolveNoXdev != 0 {
			return Loc{}, EXDEV
		}
		next = Loc{m, m.root}
	}
	return next, nil
}

// follow returns where symbolic link l leads: a Loc for a magic link, or
// the link's text. RESOLVE_NO_SYMLINKS refuses every link with ELOOP;
// a magic link is ELOOP with RESOLVE_NO_MAGICLINKS, EXDEV in a scoped
// walk or, with RESOLVE_NO_XDEV, when it leads to another mount
// (fs/namei.c pick_link, nd_jump_link).
func (w *walker) follow(l Loc) (Loc, string, error) {
	if w.restrict&ResolveNoSymlinks != 0 {
		return Loc{}, "", ELOOP
	}
	w.links++
	if w.links > linux.MaxSymlinks {
		return Loc{}, "", ELOOP
	}
	if m, ok := l.n.(magicLink); ok {
		to, err := m.follow(w.c)
		if err != errPlainLink {
			if err != nil {
				return Loc{}, "", err
			}
			if w.restrict&ResolveNoMagiclinks != 0 {
				return Loc{}, "", ELOOP
			}
			if w.scoped() || w.restrict&ResolveNoXdev != 0 && to.mnt != l.mnt {
				return Loc{}, "", EXDEV
			}
			return to, "", nil
		}
	}
	target, err := l.n.(linkNode).readlink(w.c)
	if err != nil {
		return Loc{}, "", err
	}
	if target == "" {
		return Loc{}, "", ENOENT
	}
	return Loc{}, target, nil
}

// walk resolves the components comps from dir. Symbolic links are
// followed, the last one only if followLast; mustDir requires a directory
// at the end (a trailing slash), which also follows a last link.
func (w *walker) walk(dir Loc, comps []string, followLast, mustDir bool) (Loc, error) {
	cur := dir
	for i := 0; i < len(comps); i++ {
		next, err := w.step(cur, comps[i])
		if err != nil {
			return Loc{}, err
		}
		w.lastDir, w.lastName = cur, comps[i]
		last := i == len(comps)-1
		if next.n.fileType() == linux.SIflnk && (!last || followLast || mustDir) {
			to, target, err := w.follow(next)
			if err != nil {
				return Loc{}, err
			}
			if !to.IsZero() {
				cur = to
				w.lastDir = Loc{}
				w.magicName, _ = next.n.(linkNode).readlink(w.c)
				continue
			}
			rest := comps[i+1:]
			if target[0] == '/' {
				if cur, err = w.jumpRoot(cur); err != nil {
					return Loc{}, err
				}
			}
			if last && strings.HasSuffix(target, "/") {
				mustDir = true
			}
			comps = append(splitPath(target), rest...)
			i = -1
			continue
		}
		cur = next
	}
	if mustDir && !cur.IsDir() {
		return Loc{}, ENOTDIR
	}
	return cur, nil
}

// start returns where a path begins: the root for an absolute path, else
// at, which must be a directory.
func (w *walker) start(at Loc, path string) (Loc, error) {
	if path == "" {
		return Loc{}, ENOENT
	}
	if len(path) >= linux.PathMax {
		return Loc{}, ENAMETOOLONG
	}
	if path[0] == '/' {
		return w.jumpRoot(Loc{})
	}
	if !at.IsDir() {
		return Loc{}, ENOTDIR
	}
	return at, nil
}

// resolve returns the file path names, relative to at.
func (w *walker) resolve(at Loc, path string, follow bool) (Loc, error) {
	dir, err := w.start(at, path)
	if err != nil {
		return Loc{}, err
	}
	return w.walk(dir, splitPath(path), follow, strings.HasSuffix(path, "/"))
}

// resolveParent returns the directory that holds the last component of
// path and that component's name ("" for "/", which has none), and
// whether path ends in a slash.
func (w *walker) resolveParent(at Loc, path string) (Loc, string, bool, error) {
	dir, err := w.start(at, path)
	if err != nil {
		return Loc{}, "", false, err
	}
	comps := splitPath(path)
	slash := strings.HasSuffix(path, "/")
	if len(comps) == 0 {
		return dir, "", slash, nil
	}
	last := comps[len(comps)-1]
	if len(last) > linux.NameMax {
		return Loc{}, "", false, ENAMETOOLONG
	}
	dir, err = w.walk(dir, comps[:len(comps)-1], true, true)
	if err != nil {
		return Loc{}, "", false, err
	}
	if !dir.IsDir() {
		return Loc{}, "", false, ENOTDIR
	}
	// The last name is looked up in dir too (fs/namei.c
	// link_path_walk's may_lookup).
	if err := w.c.cred.search(dir); err != nil {
		return Loc{}, "", false, err
	}
	return dir, last, slash, nil
}

// Lookup returns the file path names, relative to directory at (ignored
// for an absolute path); follow follows a final symbolic link. p is the
// process looking, for /proc/self; it may be nil.
func (fs *FS) Lookup(p Process, at Loc, path string, follow bool) (Loc, error) {
	return fs.walker(p).resolve(at, path, follow)
}
