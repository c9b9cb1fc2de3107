package vfs

import (
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// pageSize is the unit in which file data is copied up and allocated
// (with cpu.Copy: a page-sized memmove is slow under TCG).
const pageSize = 4096

// fileData is the contents of a regular file of a memFS, its page cache:
// the pages written (or mapped) so far, as frames (mem.Frames) that every
// mapping of the file shares, over the archive's bytes for the file if it
// came from the archive. Holes read as zeros and take no memory.
type fileData struct {
	size     int64
	pages    map[int64]uint64 // frames by page index
	lower    []byte           // the archive's bytes, read-only
	lowerLen int64            // how much of lower is still the file's
}

var zeroPage [pageSize]byte

// blocks is st_blocks: the 512-byte blocks of the pages the file holds,
// its own and the archive's it still uses, as tmpfs counts the pages it
// allocated (shmem_getattr: inode->i_blocks); a hole, past a truncate
// that grew the file or a seek before a write, holds none.
func (d *fileData) blocks() int64 {
	n := int64(len(d.pages))
	for i := int64(0); i*pageSize < d.lowerLen; i++ {
		if _, ok := d.pages[i]; !ok {
			n++
		}
	}
	return n * (pageSize / 512)
}

// readAt copies the data at off into p and returns how much it copied:
// less than len(p) only at the end of the file.
func (d *fileData) readAt(fr mem.Frames, p []byte, off int64) int {
	if off >= d.size {
		return 0
	}
	if int64(len(p)) > d.size-off {
		p = p[:d.size-off]
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		po := pos % pageSize
		n := min(int64(len(p)-done), pageSize-po)
		if f, ok := d.pages[pos/pageSize]; ok {
			cpu.Copy(p[done:], fr.Bytes(f)[po:po+n])
		} else if pos < d.lowerLen {
			n = min(n, d.lowerLen-pos)
			cpu.Copy(p[done:], d.lower[pos:pos+n])
		} else {
			copy(p[done:], zeroPage[:n])
		}
		done += int(n)
	}
	return done
}

// page returns the frame of page i, copying it up from the archive or
// allocating it (within fs's limit), and the bytes newly allocated.
func (d *fileData) page(fs *memFS, i int64) (uint64, int64, error) {
	if _, ok := d.pages[i]; !ok && fs.limit > 0 && fs.used.Load()+pageSize > fs.limit {
		return 0, 0, ENOSPC
	}
	return d.cachePage(fs, i)
}

// mapPage is page for a mapping of the file: a copy of the archive's
// bytes is not held to fs's limit, since the file has them already (as
// Linux's initramfs holds its files in memory), and running or mapping a
// program from the archive must not fail because the file systems filled
// up since. Writing still copies up within the limit (page).
func (d *fileData) mapPage(fs *memFS, i int64) (uint64, int64, error) {
	if i*pageSize >= d.lowerLen {
		return d.page(fs, i)
	}
	return d.cachePage(fs, i)
}

// cachePage is page without the limit.
func (d *fileData) cachePage(fs *memFS, i int64) (uint64, int64, error) {
	if f, ok := d.pages[i]; ok {
		return f, 0, nil
	}
	var f uint64
	var err error
	start := i * pageSize
	if start+pageSize <= d.lowerLen {
		// A whole page of the archive: copied into a frame that is not
		// zeroed first (a program's pages, at every first exec).
		f, err = fs.frames.AllocCopy((*[pageSize]byte)(d.lower[start : start+pageSize]))
	} else if f, err = fs.frames.Alloc(); err == nil && start < d.lowerLen {
		cpu.Copy(fs.frames.Bytes(f)[:], d.lower[start:min(start+pageSize, d.lowerLen)])
	}
	if err != nil {
		return 0, 0, ENOMEM // the machine's memory, not the file system's, is exhausted
	}
	if d.pages == nil {
		d.pages = map[int64]uint64{}
	}
	d.pages[i] = f
	fs.used.Add(pageSize)
	return f, pageSize, nil
}

// writeAt copies p into the file at off, growing it as needed, and
// returns how much it wrote. If memory (fs's limit, or the machine's)
// does not allow all the new pages it writes up to the first page that
// does not fit, and fails with ENOSPC if that is nothing.
func (d *fileData) writeAt(p []byte, off int64, fs *memFS) (int, error) {
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		f, _, err := d.page(fs, pos/pageSize)
		if err != nil {
			if done == 0 {
				return 0, err
			}
			break
		}
		done += cpu.Copy(fs.frames.Bytes(f)[pos%pageSize:], p[done:])
	}
	if end := off + int64(done); end > d.size {
		d.size = end
	}
	return done, nil
}

// truncate sets the size, dropping the pages past it and zeroing the
// tail of the last page.
func (d *fileData) truncate(fs *memFS, size int64) {
	if size < d.size {
		d.drop(fs, (size+pageSize-1)/pageSize, -1)
		if f, ok := d.pages[size/pageSize]; ok && size%pageSize != 0 {
			clear(fs.frames.Bytes(f)[size%pageSize:])
		}
		d.lowerLen = min(d.lowerLen, size)
	}
	d.size = size
}

// drop frees the pages with index in [from, to) (to < 0: no end); the
// archive's bytes there stop being the file's. It visits the range or
// the file's pages, whichever is fewer: fallocate undoing a failed
// allocation drops its pages one at a time, and a walk over every page
// each time made that quadratic (65536 pages: hours under TCG, the
// kernel stuck in the call; found by the in-guest fuzzer, seed 1099).
func (d *fileData) drop(fs *memFS, from, to int64) {
	free := func(i int64, f uint64) {
		delete(d.pages, i)
		fs.frames.Free(f)
		fs.used.Add(-pageSize)
	}
	if to >= 0 && to-from <= int64(len(d.pages)) {
		for i := from; i < to; i++ {
			if f, ok := d.pages[i]; ok {
				free(i, f)
			}
		}
		return
	}
	for i, f := range d.pages {
		if i >= from && (to < 0 || i < to) {
			free(i, f)
		}
	}
}

// release drops all data.
func (d *fileData) release(fs *memFS) {
	d.drop(fs, 0, -1)
	*d = fileData{}
}

// punch makes the pages with index in [from, to) holes: dropped, or
// zeroed where dropping would show the archive's bytes again.
func (d *fileData) punch(fs *memFS, from, to int64) {
	lowerPages := (d.lowerLen + pageSize - 1) / pageSize
	if from >= lowerPages {
		d.drop(fs, from, to)
		return
	}
	d.drop(fs, max(from, lowerPages), to)
	for i := from; i < min(to, lowerPages); i++ {
		if f, ok := d.pages[i]; ok {
			clear(fs.frames.Bytes(f)[:])
		} else if _, _, err := d.page(fs, i); err == nil {
			clear(fs.frames.Bytes(d.pages[i])[:])
		}
	}
}
