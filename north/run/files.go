package run

import (
	"bytes"
	"errors"
	"io"
	"path"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north"
	"github.com/u-root/u-root/pkg/cpio"
)

// consoleFiles is the interim file layer: the initrd's files for loading,
// and the console on descriptors 0-2.
type consoleFiles struct {
	files map[string][]byte
	out   io.Writer
}

func newFiles(archive []byte, o Options) (*consoleFiles, error) {
	f := &consoleFiles{files: map[string][]byte{}, out: o.Stdout}
	rr := cpio.Newc.Reader(bytes.NewReader(archive))
	for {
		rec, err := rr.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if rec.Info.Name == "TRAILER!!!" {
			break
		}
		var data []byte
		if rec.ReaderAt != nil {
			data, err = io.ReadAll(io.NewSectionReader(rec.ReaderAt, 0, int64(rec.FileSize)))
		}
		if err != nil {
			return nil, err
		}
		f.files[path.Clean("/"+rec.Info.Name)] = data
	}
	return f, nil
}

func (f *consoleFiles) ReadFile(name string) ([]byte, error) {
	d, ok := f.files[name]
	if !ok {
		return nil, errors.New("no such file")
	}
	return d, nil
}

func (f *consoleFiles) Syscall(t north.FileContext, nr uint64, a [6]uint64) (int64, bool) {
	switch nr {
	case linux.SysWrite:
		if a[0] != 1 && a[0] != 2 {
			return -linux.EBADF, true
		}
		buf := make([]byte, a[2])
		if err := t.Memory().CopyIn(a[1], buf); err != nil {
			return -linux.EFAULT, true
		}
		f.out.Write(buf)
		return int64(len(buf)), true
	case linux.SysRead:
		return 0, true
	case linux.SysFcntl:
		if a[0] > 2 {
			return -linux.EBADF, true
		}
		return 0, true
	case linux.SysOpenat:
		return -linux.ENOENT, true
	case linux.SysClose:
		return -linux.EBADF, true
	}
	return 0, false
}

func (f *consoleFiles) Pread(fd int32, buf []byte, off uint64) int64 { return -linux.EBADF }
