package fdtable

import (
	"bytes"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// TestStdioStreams checks descriptors 0-2 over vfs.Options.Stdio: exact
// bytes each way, end of file when the input ends, pipes to fstat and no
// terminal, and the console left alone.
func TestStdioStreams(t *testing.T) {
	in := []byte("line\r\n\x00\xff\x1bbinary\n")
	var out, errOut bytes.Buffer
	e := newEnvWith(t, testFiles, vfs.Options{Stdio: &vfs.Stdio{In: bytes.NewReader(in), Out: &out, Err: &errOut}})

	e.write(1, "out\n\r\xff")
	e.write(2, "err\n")
	if out.String() != "out\n\r\xff" || errOut.String() != "err\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	if e.out.String() != "" {
		t.Errorf("the console got %q", e.out.String())
	}

	var got []byte
	buf := e.alloc(64)
	for i := 0; i < 1000; i++ {
		n := e.f.Read(e.m, nil, 0, buf, 64)
		if n == 0 {
			break
		}
		if n > 0 {
			got = append(got, e.get(buf, int(n))...)
		}
	}
	if !bytes.Equal(got, in) {
		t.Errorf("stdin gave %q, want %q", got, in)
	}
	if n := e.f.Read(e.m, nil, 0, buf, 64); n != 0 {
		t.Errorf("read after end of input = %d, want 0", n)
	}

	st := e.alloc(linux.SizeofStat)
	for fd := int32(0); fd < 3; fd++ {
		if r := e.f.Fstat(e.m, fd, st); r != 0 {
			t.Fatalf("fstat(%d) = %d", fd, r)
		}
		if mode := e.u32(st + 24); mode&linux.SIfmt != linux.SIfifo {
			t.Errorf("fd %d: mode %#o, want a FIFO", fd, mode)
		}
		if r := e.f.Ioctl(e.m, fd, linux.TCGETS, e.alloc(linux.SizeofTermios)); r != -int64(linux.ENOTTY) {
			t.Errorf("fd %d: TCGETS = %d, want -ENOTTY", fd, r)
		}
	}
	if n := e.f.Write(e.m, nil, 0, e.put([]byte("x")), 1); n != -int64(linux.EBADF) {
		t.Errorf("write(0) = %d, want -EBADF", n)
	}
}
