package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/u-root/u-root/pkg/cpio"
)

func makeArchive(t testing.TB, recs ...cpio.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// newcRecord writes one newc record by hand, for archives u-root's writer
// would not make: fields are ino, mode, uid, gid, nlink, mtime, filesize,
// devmajor, devminor, rdevmajor, rdevminor, namesize, check.
func newcRecord(name string, fields [13]uint32, data string) []byte {
	var b bytes.Buffer
	b.WriteString(newcMagic)
	for _, f := range fields {
		fmt.Fprintf(&b, "%08X", f)
	}
	b.WriteString(name)
	b.WriteByte(0)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.WriteString(data)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func regular(name, data string, ino, nlink uint32) []byte {
	return newcRecord(name, [13]uint32{ino, linux.SIfreg | 0o644, 0, 0, nlink, 0, uint32(len(data)), 0, 0, 0, 0, uint32(len(name) + 1), 0}, data)
}

func trailer() []byte {
	return newcRecord(cpio.Trailer, [13]uint32{0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, uint32(len(cpio.Trailer) + 1), 0}, "")
}

func lookupAll(t *testing.T, fs *FS, path string, follow bool) Loc {
	t.Helper()
	l, err := fs.Lookup(nil, fs.Root(), path, follow)
	if err != nil {
		t.Fatalf("Lookup(%q) = %v", path, err)
	}
	return l
}

func readFile(t *testing.T, fs *FS, path string) string {
	t.Helper()
	f, err := fs.Open(nil, fs.Root(), path, linux.ORdonly, 0)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	defer f.DecRef()
	var out []byte
	buf := make([]byte, 3)
	for {
		n, err := f.Read(BytesBuf(buf))
		if err != nil {
			t.Fatalf("Read(%q) = %v", path, err)
		}
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

func TestMountArchive(t *testing.T) {
	archive := makeArchive(t,
		cpio.Record{Info: cpio.Info{Name: ".", Mode: linux.SIfdir | 0o700, MTime: 1000}},
		cpio.StaticFile("a/b/c/file", "deep", 0o600), // parents not listed
		cpio.Symlink("a/sym", "b/c/file"),
		cpio.CharDev("a/console", 0o600, 5, 1),
		cpio.Record{Info: cpio.Info{Name: "a/fifo", Mode: linux.SIfifo | 0o644}},
		cpio.StaticRecord([]byte("#!/bin/sh\n"), cpio.Info{Name: "bin/run", Mode: linux.SIfreg | 0o755, UID: 5, GID: 6, MTime: 1234}),
	)
	fs, err := New(archive, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := readFile(t, fs, "/a/sym"); got != "deep" {
		t.Errorf("/a/sym = %q", got)
	}
	a := lookupAll(t, fs, "/bin/run", false).Attr()
	if a.Mode != linux.SIfreg|0o755 || a.UID != 5 || a.GID != 6 || a.Mtime != 1234e9 || a.Size != 10 {
		t.Errorf("attributes of /bin/run = %+v", a)
	}
	if a := lookupAll(t, fs, "/a/b", false).Attr(); a.Mode != linux.SIfdir|0o755 {
		t.Errorf("implicit directory mode = %#o", a.Mode)
	}
	if a := fs.Root().Attr(); a.Mode != linux.SIfdir|0o700 || a.Mtime != 1000e9 {
		t.Errorf("root from the \".\" record: %+v", a)
	}
	// A character device from the archive opens the device with its
	// numbers: 5:1 is the console.
	f, err := fs.Open(nil, fs.Root(), "/a/console", linux.ORdwr, 0)
	if err != nil {
		t.Fatalf("open /a/console: %v", err)
	}
	if _, ok := f.Impl().(*consoleFile); !ok {
		t.Errorf("/a/console opened as %T", f.Impl())
	}
	// An archive FIFO is a FIFO: a non-blocking writer needs a reader.
	if _, err := fs.Open(nil, fs.Root(), "/a/fifo", linux.OWronly|linux.ONonblock, 0); err != ENXIO {
		t.Errorf("non-blocking open for writing of an archive FIFO without readers = %v, want ENXIO", err)
	}
	r, err := fs.Open(nil, fs.Root(), "/a/fifo", linux.ORdonly|linux.ONonblock, 0)
	if err != nil {
		t.Fatalf("non-blocking open for reading of an archive FIFO: %v", err)
	}
	if a := r.Stat(); a.Mode != linux.SIfifo|0o644 {
		t.Errorf("fstat of an archive FIFO: mode %#o", a.Mode)
	}
	r.DecRef()
}

func TestMountHardLinks(t *testing.T) {
	// In newc, the names of a hard-linked file share an inode number and
	// the data comes with the last of them.
	var archive []byte
	archive = append(archive, regular("one", "", 7, 2)...)
	archive = append(archive, regular("two", "shared", 7, 2)...)
	archive = append(archive, trailer()...)
	fs, err := New(archive, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	one, two := lookupAll(t, fs, "/one", false), lookupAll(t, fs, "/two", false)
	if one.n != two.n {
		t.Error("the two names are different nodes")
	}
	if a := one.Attr(); a.Nlink != 2 || a.Size != 6 {
		t.Errorf("hard link attributes %+v", a)
	}
	if got := readFile(t, fs, "/one"); got != "shared" {
		t.Errorf("/one = %q", got)
	}
	// Writing through one name shows through the other (one copy-up).
	f, _ := fs.Open(nil, fs.Root(), "/two", linux.OWronly, 0)
	f.Write(BytesBuf([]byte("SH")))
	if got := readFile(t, fs, "/one"); got != "SHared" {
		t.Errorf("/one after writing /two = %q", got)
	}
}

func TestMountDuplicatesAndEmpty(t *testing.T) {
	var archive []byte
	archive = append(archive, regular("f", "old", 1, 1)...)
	archive = append(archive, regular("f", "new", 2, 1)...)
	archive = append(archive, trailer()...)
	fs, err := New(archive, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, fs, "/f"); got != "new" {
		t.Errorf("duplicate name: /f = %q, want the later record", got)
	}
	// No archive at all: an empty root with /tmp, /dev and /proc.
	fs, err = New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/tmp", "/dev/null", "/proc/sys"} {
		lookupAll(t, fs, p, true)
	}
	// An archive without a trailer is accepted, as the kernel does.
	if _, err := New(regular("x", "y", 1, 1), Options{}); err != nil {
		t.Errorf("archive without trailer: %v", err)
	}
}

func TestMountCorrupt(t *testing.T) {
	good := regular("file", "data", 1, 1)
	withField := func(i int, v string) []byte {
		b := append([]byte(nil), good...)
		copy(b[newcFieldStart+8*i:], v)
		return b
	}
	for _, c := range []struct {
		name    string
		archive []byte
		want    string
	}{
		{"bad magic", append([]byte("070707"), good[6:]...), "magic"},
		{"truncated header", good[:50], "truncated"},
		{"bad hex", withField(1, "0000XYZ0"), "field"},
		{"huge name length", withField(newcNameSize, "FFFFFFFF"), "name length"},
		{"zero name length", withField(newcNameSize, "00000000"), "name length"},
		{"name past the end", withField(newcNameSize, "00000FFF"), "past the end"},
		{"huge file size", withField(newcFileSize, "FFFFFFFF"), "past the end"},
		{"data past the end", good[:len(good)-4], "past the end"},
		{"parent escape", append(regular("../etc/passwd", "x", 1, 1), trailer()...), "leaves"},
		{"file under a file", append(append(regular("a", "x", 1, 1), regular("a/b", "y", 2, 1)...), trailer()...), "not a directory"},
		{"unknown type", newcRecord("w", [13]uint32{1, 0o170644, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0}, ""), "unknown file type"},
		{"empty symlink", newcRecord("l", [13]uint32{1, linux.SIflnk | 0o777, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0}, ""), "symbolic link"},
		{"root not a directory", regular(".", "x", 1, 1), "root"},
		{"long component", regular(strings.Repeat("n", 300), "x", 1, 1), "too long"},
	} {
		_, err := New(c.archive, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New = %v, want an error about %q", c.name, err, c.want)
		}
	}
}

func FuzzMount(f *testing.F) {
	f.Add(makeArchive(f, cpio.StaticFile("etc/hosts", "x", 0o644), cpio.Symlink("l", "etc/hosts"), cpio.Directory("d", 0o755)))
	f.Add(append(regular("a", "b", 1, 2), regular("c", "d", 1, 2)...))
	f.Add(trailer())
	f.Fuzz(func(t *testing.T, archive []byte) {
		fs, err := New(archive, Options{})
		if err != nil {
			return
		}
		// Whatever mounted can be walked and read.
		var walk func(path string, depth int)
		walk = func(path string, depth int) {
			f, err := fs.Open(nil, fs.Root(), path, linux.ORdonly, 0)
			if err != nil {
				return
			}
			defer f.DecRef()
			if depth > 8 {
				return
			}
			if !f.Loc().IsDir() {
				f.Read(BytesBuf(make([]byte, 64)))
				return
			}
			f.Getdents(func(d Dirent) bool {
				if d.Name != "." && d.Name != ".." && d.Name != "proc" {
					walk(strings.TrimSuffix(path, "/")+"/"+d.Name, depth+1)
				}
				return true
			})
		}
		walk("/", 0)
	})
}

// TestMountNames checks how the kernel's own newc reader takes names:
// leading slashes dropped and paths cleaned, as u-root's reader did; an
// archive may end without a trailer, and nothing after the trailer is
// read.
func TestMountNames(t *testing.T) {
	archive := append(regular("/etc/abs", "a", 1, 1), regular("./etc//x/../rel", "r", 2, 1)...)
	fs, err := New(archive, Options{})
	if err != nil {
		t.Fatalf("New without a trailer = %v", err)
	}
	if got := readFile(t, fs, "/etc/abs"); got != "a" {
		t.Errorf("/etc/abs = %q, want %q", got, "a")
	}
	if got := readFile(t, fs, "/etc/rel"); got != "r" {
		t.Errorf("/etc/rel = %q, want %q", got, "r")
	}
	archive = append(append(regular("kept", "k", 1, 1), trailer()...), []byte("garbage after the trailer")...)
	fs, err = New(archive, Options{})
	if err != nil {
		t.Fatalf("New with bytes after the trailer = %v", err)
	}
	if got := readFile(t, fs, "/kept"); got != "k" {
		t.Errorf("/kept = %q, want %q", got, "k")
	}
}

// TestMappingPopulate checks that Populate makes an archive file's pages
// present as copies of the archive's bytes (execve maps them from there),
// leaves out pages past the end of the file, hands out the same frames
// every time (the page cache), and returns fn's error.
func TestMappingPopulate(t *testing.T) {
	content := strings.Repeat("a", pageSize) + strings.Repeat("b", pageSize) + "tail"
	archive := append(regular("prog", content, 1, 1), trailer()...)
	frames := &mem.HeapFrames{}
	fs, err := New(archive, Options{Frames: frames})
	if err != nil {
		t.Fatal(err)
	}
	f, err := fs.Open(nil, fs.Root(), "/prog", linux.ORdonly, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	m, err := f.Map(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	var got []uint64
	if err := m.Populate(0, 10, func(first int64, fr []uint64) error {
		if first != 0 {
			t.Errorf("Populate(0, 10) starts at page %d", first)
		}
		got = append(got, fr...)
		return nil
	}); err != nil {
		t.Fatalf("Populate = %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("Populate gave %d pages, want the file's 3", len(got))
	}
	for i, want := range []string{content[:pageSize], content[pageSize : 2*pageSize], "tail"} {
		b := frames.Bytes(got[i])
		if string(b[:len(want)]) != want || strings.Trim(string(b[len(want):]), "\x00") != "" {
			t.Errorf("page %d holds %q..., want the file's bytes then zeros", i, b[:8])
		}
	}
	boom := errors.New("boom")
	var again []uint64
	err = m.Populate(1, 3, func(first int64, fr []uint64) error {
		if first != 1 {
			t.Errorf("Populate(1, 3) starts at page %d", first)
		}
		again = fr
		return boom
	})
	if err != boom || len(again) != 2 || again[0] != got[1] || again[1] != got[2] {
		t.Errorf("Populate(1, 3) = %v, frames %#x; want boom and the frames %#x again", err, again, got[1:])
	}
	if err := m.Populate(5, 9, func(int64, []uint64) error { return boom }); err != nil {
		t.Errorf("Populate past the end of the file = %v, want nil without calling fn", err)
	}
}

// TestMappingCached checks that Cached hands out only the pages the file
// holds already, in runs split at the missing ones and at 16 pages, none
// past the end of the file, and makes none.
func TestMappingCached(t *testing.T) {
	content := strings.Repeat("x", 40*pageSize+10)
	archive := append(regular("prog", content, 1, 1), trailer()...)
	frames := &mem.HeapFrames{}
	fs, err := New(archive, Options{Frames: frames})
	if err != nil {
		t.Fatal(err)
	}
	f, err := fs.Open(nil, fs.Root(), "/prog", linux.ORdonly, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	m, err := f.Map(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	runs := func(from, to int64) [][2]int64 {
		var out [][2]int64
		if err := m.Cached(from, to, func(first int64, fr []uint64) error {
			out = append(out, [2]int64{first, int64(len(fr))})
			return nil
		}); err != nil {
			t.Fatalf("Cached(%d, %d) = %v", from, to, err)
		}
		return out
	}
	if got := runs(0, 41); got != nil {
		t.Errorf("Cached of a file with no page in the cache gave %v", got)
	}
	for _, i := range []int64{2, 3, 4, 6} {
		if _, err := m.Page(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Populate(20, 50, func(int64, []uint64) error { return nil }); err != nil {
		t.Fatal(err)
	}
	want := [][2]int64{{2, 3}, {6, 1}, {20, 16}, {36, 5}}
	if got := runs(0, 60); !slices.Equal(got, want) {
		t.Errorf("Cached(0, 60) runs (first, length) %v, want %v", got, want)
	}
	if got := runs(3, 5); !slices.Equal(got, [][2]int64{{3, 2}}) {
		t.Errorf("Cached(3, 5) runs %v, want [[3 2]]", got)
	}
	if got := runs(7, 20); got != nil {
		t.Errorf("Cached(7, 20) made or gave pages: %v", got)
	}
}

// TestArchivePagesBeyondLimit checks that once the file systems are full
// (MemoryLimit), an archive file's pages can still be made present (to
// run or map the program), while new data is refused with ENOSPC.
func TestArchivePagesBeyondLimit(t *testing.T) {
	archive := append(regular("prog", strings.Repeat("p", 3*pageSize), 1, 1), trailer()...)
	fs, err := New(archive, Options{MemoryLimit: 4 * pageSize})
	if err != nil {
		t.Fatal(err)
	}
	fill, err := fs.Open(nil, fs.Root(), "/tmp/fill", linux.OCreat|linux.ORdwr, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fill.DecRef()
	n, _ := fill.Write(BytesBuf(make([]byte, 8*pageSize)))
	if n != 4*pageSize {
		t.Fatalf("wrote %d bytes into a %d-byte file system, want it full", n, 4*pageSize)
	}
	if _, err := fill.WriteAt(BytesBuf([]byte("x")), 8*pageSize); err != ENOSPC {
		t.Fatalf("writing to a full file system = %v, want ENOSPC", err)
	}
	f, err := fs.Open(nil, fs.Root(), "/prog", linux.ORdonly, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	m, err := f.Map(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	pages := 0
	if err := m.Populate(0, 3, func(_ int64, fr []uint64) error { pages = len(fr); return nil }); err != nil || pages != 3 {
		t.Errorf("Populate of the archive's program on a full file system = %v, %d pages; want nil, 3", err, pages)
	}
}
