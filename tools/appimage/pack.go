package appimage

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// File is a host file, directory (copied recursively) or symbolic link
// (copied as a link) to put in the archive at Dst, an absolute path in
// the application's file system.
type File struct {
	Src, Dst string
	// KeepTimes keeps the host files' modification times; otherwise
	// they are zero, so that the same files make the same archive.
	KeepTimes bool
}

// Standard directories every archive has, and their modes (Linux's usual
// permissions: /tmp world-writable and sticky, /proc read-only).
var standardDirs = map[string]os.FileMode{
	"dev":  0o755,
	"etc":  0o755,
	"proc": 0o555,
	"tmp":  0o777 | fs.ModeSticky,
}

// maxFileSize is the largest file a newc header can describe: its size
// field is 8 hex digits.
const maxFileSize = 1<<32 - 1

// entry is one archive member before it is written.
type entry struct {
	mode   uint64 // Linux st_mode: type and permission bits
	src    string // host file with the contents (regular files)
	size   int64
	target string // symlink target
	mtime  int64  // modification time, seconds since the epoch
}

// Pack writes a cpio newc archive to w holding the static executable init
// as /init (mode 0755), the standard directories /dev, /etc, /proc and
// /tmp, and files, each with its parent directories (mode 0755 unless
// given). Files keep their permission bits (including setuid, setgid and
// sticky); owners are root, times zero unless a File keeps them. init is checked with CheckStatic
// before anything is written.
func Pack(w io.Writer, init string, files []File) error {
	if err := CheckStatic(init); err != nil {
		return err
	}
	ents := map[string]*entry{}
	st, err := os.Stat(init)
	if err != nil {
		return err
	}
	if st.Size() > maxFileSize {
		return fmt.Errorf("%s: %d bytes is more than a cpio newc archive can hold (4 GiB)", init, st.Size())
	}
	ents["init"] = &entry{mode: cpio.S_IFREG | 0o755, src: init, size: st.Size()}

	for _, f := range files {
		dst, err := archivePath(f.Dst)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Src, err)
		}
		if err := addTree(ents, f.Src, dst, f.KeepTimes); err != nil {
			return err
		}
	}
	for name, mode := range standardDirs {
		switch e := ents[name]; {
		case e == nil:
			ents[name] = &entry{mode: linuxMode(mode | fs.ModeDir)}
		case e.mode&cpio.S_IFMT != cpio.S_IFDIR:
			return fmt.Errorf("/%s must be a directory", name)
		}
	}
	// Parent directories, checking nothing sits under a non-directory.
	names := make([]string, 0, len(ents))
	for name := range ents {
		names = append(names, name)
	}
	for _, name := range names {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			e := ents[dir]
			if e == nil {
				ents[dir] = &entry{mode: cpio.S_IFDIR | 0o755}
				continue
			}
			if e.mode&cpio.S_IFMT != cpio.S_IFDIR {
				return fmt.Errorf("/%s is not a directory but /%s is inside it", dir, name)
			}
		}
	}

	names = names[:0]
	for name := range ents {
		names = append(names, name)
	}
	sort.Strings(names)
	rw := cpio.Newc.Writer(w)
	for i, name := range names {
		if err := writeEntry(rw, name, uint64(i+1), ents[name]); err != nil {
			return err
		}
	}
	return cpio.WriteTrailer(rw)
}

// addTree adds the host file or tree src at archive path dst.
func addTree(ents map[string]*entry, src, dst string, keepTimes bool) error {
	root, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if !root.IsDir() {
		return addOne(ents, src, dst, root, keepTimes)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := dst
		if rel != "." {
			name = path.Join(dst, filepath.ToSlash(rel))
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return addOne(ents, p, name, info, keepTimes)
	})
}

// addOne adds the host file src, described by info, as archive member
// name, with its modification time if keepTime (a newc header holds 32
// bits: times outside 1970-2106 are zero).
func addOne(ents map[string]*entry, src, name string, info fs.FileInfo, keepTime bool) error {
	e := &entry{mode: linuxMode(info.Mode())}
	if t := info.ModTime().Unix(); keepTime && t > 0 && t <= 1<<32-1 {
		e.mtime = t
	}
	switch {
	case info.Mode().IsRegular():
		if info.Size() > maxFileSize {
			return fmt.Errorf("%s: %d bytes is more than a cpio newc archive can hold (4 GiB)", src, info.Size())
		}
		e.src, e.size = src, info.Size()
	case info.Mode()&fs.ModeSymlink != 0:
		t, err := os.Readlink(src)
		if err != nil {
			return err
		}
		e.target = t
	case info.IsDir():
	default:
		return fmt.Errorf("%s: %v files cannot go in the archive (only regular files, directories and symbolic links)", src, info.Mode().Type())
	}
	// Two trees may share directories (the later one's mode wins); any
	// other repeated name is a mistake.
	if old := ents[name]; old != nil && (old.mode&cpio.S_IFMT != cpio.S_IFDIR || !info.IsDir()) {
		return fmt.Errorf("%s: /%s is already in the archive", src, name)
	}
	ents[name] = e
	return nil
}

// writeEntry writes one member with inode number ino.
func writeEntry(rw cpio.RecordWriter, name string, ino uint64, e *entry) error {
	info := cpio.Info{Ino: ino, Mode: e.mode, NLink: 1, Name: name, MTime: uint64(e.mtime)}
	rec := cpio.Record{Info: info}
	switch e.mode & cpio.S_IFMT {
	case cpio.S_IFDIR:
		rec.NLink = 2
	case cpio.S_IFLNK:
		rec.ReaderAt = strings.NewReader(e.target)
		rec.FileSize = uint64(len(e.target))
	case cpio.S_IFREG:
		f, err := os.Open(e.src)
		if err != nil {
			return err
		}
		// The writer closes f after copying it, and fails if the file no
		// longer has the size it had when it was listed.
		rec.ReaderAt = f
		rec.FileSize = uint64(e.size)
	}
	if err := rw.WriteRecord(rec); err != nil {
		if c, ok := rec.ReaderAt.(io.Closer); ok {
			c.Close()
		}
		return fmt.Errorf("writing /%s: %w", name, err)
	}
	return nil
}

// linuxMode converts a Go file mode to a Linux st_mode.
func linuxMode(m fs.FileMode) uint64 {
	mode := uint64(m.Perm())
	switch {
	case m.IsDir():
		mode |= cpio.S_IFDIR
	case m&fs.ModeSymlink != 0:
		mode |= cpio.S_IFLNK
	case m.IsRegular():
		mode |= cpio.S_IFREG
	}
	if m&fs.ModeSetuid != 0 {
		mode |= cpio.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		mode |= cpio.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		mode |= cpio.S_ISVTX
	}
	return mode
}
