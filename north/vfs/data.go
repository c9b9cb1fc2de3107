package vfs

// pageSize is the unit in which file data is copied up and allocated.
const pageSize = 4096

// fileData is the contents of a regular file of a memFS: the pages
// written so far over the archive's bytes for the file, if it came from
// the archive. Holes read as zeros and take no memory.
type fileData struct {
	size     int64
	pages    map[int64]*[pageSize]byte // by page index
	lower    []byte                    // the archive's bytes, read-only
	lowerLen int64                     // how much of lower is still the file's
}

var zeroPage [pageSize]byte

// readAt copies the data at off into p and returns how much it copied:
// less than len(p) only at the end of the file.
func (d *fileData) readAt(p []byte, off int64) int {
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
		switch pg := d.pages[pos/pageSize]; {
		case pg != nil:
			copy(p[done:], pg[po:po+n])
		case pos < d.lowerLen:
			n = min(n, d.lowerLen-pos)
			copy(p[done:], d.lower[pos:pos+n])
		default:
			copy(p[done:], zeroPage[:n])
		}
		done += int(n)
	}
	return done
}

// page returns the page with index i for writing, copying it up from the
// archive or allocating it, and the bytes newly allocated.
func (d *fileData) page(i int64) (*[pageSize]byte, int64) {
	if pg := d.pages[i]; pg != nil {
		return pg, 0
	}
	if d.pages == nil {
		d.pages = map[int64]*[pageSize]byte{}
	}
	pg := new([pageSize]byte)
	if start := i * pageSize; start < d.lowerLen {
		copy(pg[:], d.lower[start:min(start+pageSize, d.lowerLen)])
	}
	d.pages[i] = pg
	return pg, pageSize
}

// writeAt copies p into the file at off, growing it as needed, and
// returns how much it wrote and the bytes of pages it allocated. If fs's
// limit does not allow all the new pages it writes up to the first page
// that does not fit, and fails with ENOSPC if that is nothing.
func (d *fileData) writeAt(p []byte, off int64, fs *memFS) (int, int64, error) {
	if fs.limit > 0 {
		room := fs.limit - fs.used.Load()
		for i := off / pageSize; i <= (off+int64(len(p))-1)/pageSize; i++ {
			if d.pages[i] != nil {
				continue
			}
			if room < pageSize {
				if fit := i*pageSize - off; fit < int64(len(p)) {
					p = p[:max(fit, 0)]
				}
				break
			}
			room -= pageSize
		}
		if len(p) == 0 {
			return 0, 0, ENOSPC
		}
	}
	var grew int64
	for done := 0; done < len(p); {
		pos := off + int64(done)
		pg, g := d.page(pos / pageSize)
		grew += g
		done += copy(pg[pos%pageSize:], p[done:])
	}
	if end := off + int64(len(p)); end > d.size {
		d.size = end
	}
	return len(p), grew, nil
}

// truncate sets the size, dropping the pages past it, and returns the
// change in allocated bytes (zero or negative).
func (d *fileData) truncate(size int64) int64 {
	var freed int64
	if size < d.size {
		last := (size + pageSize - 1) / pageSize
		for i := range d.pages {
			if i >= last {
				delete(d.pages, i)
				freed += pageSize
			}
		}
		if pg := d.pages[size/pageSize]; pg != nil && size%pageSize != 0 {
			clear(pg[size%pageSize:])
		}
		d.lowerLen = min(d.lowerLen, size)
	}
	d.size = size
	return -freed
}

// release drops all data and returns the (negative) change in allocated
// bytes.
func (d *fileData) release() int64 {
	freed := int64(len(d.pages)) * pageSize
	*d = fileData{}
	return -freed
}
