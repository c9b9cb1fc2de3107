package vfs

import (
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// dirFile is an open directory. Its listing is a snapshot taken when
// reading starts at offset 0 (after open or a rewind), so that offsets
// stay valid however the directory changes: entries added or removed
// after the snapshot may or may not appear, as readdir(3) allows.
type dirFile struct {
	FileDefaults
	loc Loc
	c   *ctx

	mu   sync.Mutex
	snap []Dirent
}

func (d *dirFile) Read(*File, Buf, int64) (int64, error)  { return 0, EISDIR }
func (d *dirFile) Write(*File, Buf, int64) (int64, error) { return 0, EISDIR }
func (d *dirFile) Stream() bool                           { return false }
func (d *dirFile) Stat(*File) Attr                        { return d.loc.Attr() }

// Seek allows SEEK_SET and SEEK_CUR to any offset, as tmpfs does.
func (d *dirFile) Seek(_ *File, cur, off int64, whence int) (int64, error) {
	switch whence {
	case linux.SeekSet:
	case linux.SeekCur:
		off += cur
	default:
		return 0, EINVAL
	}
	if off < 0 {
		return 0, EINVAL
	}
	return off, nil
}

func (d *dirFile) Dirents(_ *File, off int64) ([]Dirent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if off == 0 || d.snap == nil {
		ents, err := d.loc.n.(dirNode).list(d.c)
		if err != nil {
			return nil, err
		}
		parent := d.c.fs.parent(d.loc)
		d.snap = append([]Dirent{
			{Name: ".", Ino: d.loc.n.attr().Ino, Type: linux.DtDir},
			{Name: "..", Ino: parent.n.attr().Ino, Type: linux.DtDir},
		}, ents...)
		for i := range d.snap {
			d.snap[i].Off = int64(i) + 1
		}
	}
	if off >= int64(len(d.snap)) {
		return nil, nil
	}
	return d.snap[off:], nil
}
