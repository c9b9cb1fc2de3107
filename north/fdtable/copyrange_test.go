//go:build linux

package fdtable

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// A copySide opens the files of copyCase and copies between them, on
// the host kernel or on Files.
type copySide interface {
	// open opens name ("src", "dst", "dir", "pipe-r", "pipe-w") with
	// flags and returns a descriptor.
	open(t *testing.T, name string, flags uint32) uintptr
	// copy calls copy_file_range with the offsets (nil for none) and
	// returns its result and the offsets after.
	copy(in uintptr, offIn *int64, out uintptr, offOut *int64, count uint64, flags uint32) int64
	// seek sets fd's offset.
	seek(fd uintptr, off int64)
	// state returns the start of dst, its size, and the offsets of in
	// and out.
	state(t *testing.T, in, out uintptr) (string, int64, int64, int64)
}

type hostCopy struct{ dir string }

func (h hostCopy) open(t *testing.T, name string, flags uint32) uintptr {
	if name == "pipe-r" || name == "pipe-w" {
		var p [2]int
		if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Close(p[0]); syscall.Close(p[1]) })
		syscall.Write(p[1], []byte("piped"))
		if name == "pipe-w" {
			return uintptr(p[1])
		}
		return uintptr(p[0])
	}
	fd, err := syscall.Open(filepath.Join(h.dir, name), int(flags|linux.OCloexec), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return uintptr(fd)
}

func (h hostCopy) copy(in uintptr, offIn *int64, out uintptr, offOut *int64, count uint64, flags uint32) int64 {
	r, _, e := syscall.Syscall6(sysCopyFileRange, in, uintptr(unsafe.Pointer(offIn)), out,
		uintptr(unsafe.Pointer(offOut)), uintptr(count), uintptr(flags))
	if e != 0 {
		return -int64(e)
	}
	return int64(r)
}

func (h hostCopy) seek(fd uintptr, off int64) { syscall.Seek(int(fd), off, linux.SeekSet) }

func (h hostCopy) state(t *testing.T, in, out uintptr) (string, int64, int64, int64) {
	f, err := os.Open(filepath.Join(h.dir, "dst"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 32)
	n, _ := f.Read(b)
	st, _ := f.Stat()
	offIn, _ := syscall.Seek(int(in), 0, linux.SeekCur)
	offOut, _ := syscall.Seek(int(out), 0, linux.SeekCur)
	return string(b[:n]), st.Size(), offIn, offOut
}

type oursCopy struct{ e *env }

func (o oursCopy) open(t *testing.T, name string, flags uint32) uintptr {
	if name == "pipe-r" || name == "pipe-w" {
		r, w := o.e.pipe(0)
		o.e.write(w, "piped")
		if name == "pipe-w" {
			return uintptr(w)
		}
		return uintptr(r)
	}
	return uintptr(o.e.open("/tmp/c/"+name, flags, 0))
}

func (o oursCopy) copy(in uintptr, offIn *int64, out uintptr, offOut *int64, count uint64, flags uint32) int64 {
	var ai, ao uint64
	for _, p := range []struct {
		off  *int64
		addr *uint64
	}{{offIn, &ai}, {offOut, &ao}} {
		if p.off != nil {
			*p.addr = o.e.alloc(8)
			binary.LittleEndian.PutUint64(o.e.m.Data[*p.addr-memBase:], uint64(*p.off))
		}
	}
	r := o.e.f.CopyFileRange(o.e.m, int32(in), ai, int32(out), ao, count, flags)
	if offIn != nil {
		*offIn = int64(o.e.u64(ai))
	}
	if offOut != nil {
		*offOut = int64(o.e.u64(ao))
	}
	return r
}

func (o oursCopy) seek(fd uintptr, off int64) { o.e.f.Lseek(int32(fd), off, linux.SeekSet) }

func (o oursCopy) state(t *testing.T, in, out uintptr) (string, int64, int64, int64) {
	fd := o.e.open("/tmp/c/dst", linux.ORdonly, 0)
	defer o.e.f.Close(fd)
	b, _ := o.e.read(fd, 32)
	st, _ := o.e.stat("/tmp/c/dst", 0)
	return b, st.Size, o.e.f.Lseek(int32(in), 0, linux.SeekCur), o.e.f.Lseek(int32(out), 0, linux.SeekCur)
}

// copyCase is one copy_file_range call: the files and their open flags;
// the offsets to point to (-1 for none: the files' offsets, moved to
// seekIn and seekOut first); the count and flags.
type copyCase struct {
	in, out           string
	inFlags, outFlags uint32
	offIn, offOut     int64
	seekIn, seekOut   int64
	count             uint64
	flags             uint32
}

type copyResult struct {
	r               int64
	dst             string // its first bytes
	size            int64
	offIn, offOut   int64 // the pointed-to offsets after the call
	seekIn, seekOut int64 // the file offsets after the call
}

func runCopy(t *testing.T, s copySide, c copyCase) copyResult {
	in := s.open(t, c.in, c.inFlags)
	out := in
	if c.out != "same" {
		out = s.open(t, c.out, c.outFlags)
	}
	if c.seekIn > 0 {
		s.seek(in, c.seekIn)
	}
	if c.seekOut > 0 {
		s.seek(out, c.seekOut)
	}
	var offIn, offOut *int64
	if c.offIn >= 0 || c.offIn < -1 {
		offIn = &c.offIn
	}
	if c.offOut >= 0 || c.offOut < -1 {
		offOut = &c.offOut
	}
	res := copyResult{r: s.copy(in, offIn, out, offOut, c.count, c.flags), offIn: c.offIn, offOut: c.offOut}
	if res.r >= 0 {
		res.dst, res.size, res.seekIn, res.seekOut = s.state(t, in, out)
	}
	return res
}

func TestCopyFileRangeAgainstLinux(t *testing.T) {
	const (
		rd, wr, rdwr = linux.ORdonly, linux.OWronly, linux.ORdwr
		app          = linux.OAppend
		none         = -1
	)
	cases := []copyCase{
		{in: "src", out: "dst", inFlags: rd, outFlags: wr, offIn: none, offOut: none, count: 5},
		{in: "src", out: "dst", inFlags: rd, outFlags: wr, offIn: 6, offOut: 2, count: 100},
		{in: "src", out: "dst", inFlags: rd, outFlags: wr, offIn: none, offOut: 20, seekIn: 3, count: 4},
		{in: "src", out: "dst", inFlags: rd, outFlags: rdwr, offIn: 11, offOut: 0, count: 4},
		{in: "src", out: "dst", inFlags: rd, outFlags: wr, offIn: 100, offOut: 0, count: 4},
		{in: "src", out: "dst", inFlags: rd, outFlags: wr, offIn: 0, offOut: 0, count: 0},
		{in: "src", out: "dst", inFlags: rd, outFlags: wr, offIn: none, offOut: none, count: 5, flags: 1},
		{in: "src", out: "dst", inFlags: wr, outFlags: wr, offIn: none, offOut: none, count: 5},
		{in: "src", out: "dst", inFlags: rd, outFlags: rd, offIn: none, offOut: none, count: 5},
		{in: "src", out: "dst", inFlags: rd, outFlags: wr | app, offIn: none, offOut: none, count: 5},
		{in: "src", out: "dst", inFlags: rd, outFlags: linux.OPath, offIn: none, offOut: none, count: 5},
		{in: "src", out: "dst", inFlags: rd, outFlags: wr, offIn: -5, offOut: none, count: 5},
		{in: "src", out: "dst", inFlags: rd, outFlags: wr, offIn: -5, offOut: none, count: 0},
		{in: "src", out: "dst", inFlags: rd, outFlags: wr, offIn: 0, offOut: 1<<62 + 1<<61, count: 1 << 62},
		{in: "src", out: "dst", inFlags: rd, outFlags: wr, offIn: 0, offOut: 0, count: 1<<64 - 1},
		{in: "src", out: "same", inFlags: rdwr, offIn: 0, offOut: 4, count: 5},
		{in: "src", out: "same", inFlags: rdwr, offIn: 0, offOut: 5, count: 5},
		{in: "src", out: "same", inFlags: rdwr, offIn: 6, offOut: 0, count: 100},
		{in: "dir", out: "dst", inFlags: rd | linux.ODirectory, outFlags: wr, offIn: none, offOut: none, count: 5},
		{in: "src", out: "dir", inFlags: rd, outFlags: rd | linux.ODirectory, offIn: none, offOut: none, count: 5},
		{in: "pipe-r", out: "dst", outFlags: wr, offIn: none, offOut: none, count: 5},
		{in: "src", out: "pipe-w", inFlags: rd, offIn: none, offOut: none, count: 5},
		{in: "src", out: "null", inFlags: rd, outFlags: wr, offIn: none, offOut: none, count: 5},
	}
	base := tmpfsDir(t)
	for i, c := range cases {
		dir := filepath.Join(base, string(rune('a'+i)))
		os.MkdirAll(filepath.Join(dir, "dir"), 0o755)
		os.WriteFile(filepath.Join(dir, "src"), []byte("hello world"), 0o644)
		os.WriteFile(filepath.Join(dir, "dst"), []byte("xy"), 0o644)
		os.Symlink("/dev/null", filepath.Join(dir, "null"))
		want := runCopy(t, hostCopy{dir}, c)

		e := newEnv(t)
		e.f.Mkdir(e.m, e.str("/tmp/c"), 0o755)
		e.f.Mkdir(e.m, e.str("/tmp/c/dir"), 0o755)
		for name, text := range map[string]string{"src": "hello world", "dst": "xy"} {
			fd := e.open("/tmp/c/"+name, linux.OCreat|linux.OWronly, 0o644)
			e.write(fd, text)
			e.f.Close(fd)
		}
		e.f.Symlink(e.m, e.str("/dev/null"), e.str("/tmp/c/null"))
		if got := runCopy(t, oursCopy{e}, c); got != want {
			t.Errorf("copy_file_range %+v:\ngot       %+v\nLinux has %+v", c, got, want)
		}
	}
}
