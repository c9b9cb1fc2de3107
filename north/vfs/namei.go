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
	// a zero dir after a magic link.
	lastDir  Loc
	lastName string
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
	switch name {
	case ".":
		return dir, nil
	case "..":
		return w.c.fs.parent(dir), nil
	}
	n, err := dir.n.(dirNode).lookup(w.c, name)
	if err != nil {
		return Loc{}, err
	}
	next := Loc{dir.mnt, n}
	if m := w.c.fs.mounts[next]; m != nil {
		next = Loc{m, m.root}
	}
	return next, nil
}

// follow returns where symbolic link l leads: a Loc for a magic link, or
// the link's text.
func (w *walker) follow(l Loc) (Loc, string, error) {
	w.links++
	if w.links > linux.MaxSymlinks {
		return Loc{}, "", ELOOP
	}
	if m, ok := l.n.(magicLink); ok {
		to, err := m.follow(w.c)
		return to, "", err
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
				continue
			}
			rest := comps[i+1:]
			if target[0] == '/' {
				cur = w.c.fs.Root()
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
		return w.c.fs.Root(), nil
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
	return dir, last, slash, nil
}

// Lookup returns the file path names, relative to directory at (ignored
// for an absolute path); follow follows a final symbolic link. p is the
// process looking, for /proc/self; it may be nil.
func (fs *FS) Lookup(p Process, at Loc, path string, follow bool) (Loc, error) {
	w := &walker{c: &ctx{fs: fs, p: p}}
	return w.resolve(at, path, follow)
}
