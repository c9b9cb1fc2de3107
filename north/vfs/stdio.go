package vfs

import (
	"io"
	"strconv"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Stdio are byte streams to the launcher that replace the console as a
// process's first three descriptors: standard input, output and error
// each as one end of a pipe (S_IFIFO; no terminal requests, so isatty is
// false), as a container runtime gives a program run without a terminal.
// In may block; nil means immediate end of file. Out and Err receive
// every byte written, unchanged; nil discards them.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// stdioFiles returns the open files of s, as descriptors 0, 1 and 2.
func stdioFiles(s *Stdio) [3]*File {
	var files [3]*File
	for fd, c := range []*console{newConsole(s.In, nil), newConsole(nil, s.Out), newConsole(nil, s.Err)} {
		e := &stdioEnd{c: c, ino: pipeInos.Add(1), ctime: time.Now().UnixNano(), write: fd > 0}
		flags := uint32(linux.ORdonly)
		if e.write {
			flags = linux.OWronly
		}
		files[fd] = NewFile(e, flags, "pipe:["+strconv.FormatUint(e.ino, 10)+"]")
	}
	return files
}

// stdioEnd is one of the streams: the console's buffering and writing,
// a pipe's attributes and ioctls.
type stdioEnd struct {
	FileDefaults
	c     *console
	ino   uint64
	ctime int64
	write bool
}

func (e *stdioEnd) Read(_ *File, dst Buf, _ int64) (int64, error)  { return e.c.read(dst) }
func (e *stdioEnd) Write(_ *File, src Buf, _ int64) (int64, error) { return e.c.write(src) }
func (e *stdioEnd) Queue() *Queue                                  { return &e.c.q }

func (e *stdioEnd) Readiness(mask Events) Events {
	if e.write {
		return (EventOut | EventWrNorm) & mask
	}
	return e.c.readiness(mask) &^ (EventOut | EventWrNorm)
}

func (e *stdioEnd) Stat(*File) Attr {
	return Attr{
		Dev: pipeDev, Ino: e.ino, Mode: linux.SIfifo | 0o600, Nlink: 1,
		Atime: e.ctime, Mtime: e.ctime, Ctime: e.ctime,
	}
}

// Ioctl answers FIONREAD, as a pipe does; terminal requests fail with
// ENOTTY.
func (e *stdioEnd) Ioctl(_ *File, m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	if cmd != linux.FIONREAD {
		return 0, ENOTTY
	}
	return e.c.ioctl(m, cmd, arg)
}
