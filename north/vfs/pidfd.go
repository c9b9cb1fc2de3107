package vfs

import "github.com/cocoon-vm/cocoon/kernel/linux"

// PidTarget is the process a pidfd refers to (north.Pidfd).
type PidTarget interface {
	// Ended is closed when the process has ended (all its threads gone).
	Ended() <-chan struct{}
	// Reaped reports whether the process has been waited for.
	Reaped() bool
	// OnEnd runs f once the process has ended (at once if it has); the
	// function it returns cancels that.
	OnEnd(f func()) (cancel func())
}

// pidFD is a pidfd (pidfd_open(2)): it names a process, reads and writes
// nothing (EINVAL), and polls readable once the process has ended, hung
// up too once it is reaped (pidfd_poll, kernel/pid.c and fs/pidfs.c).
type pidFD struct {
	FileDefaults
	target PidTarget
	q      Queue
	stop   func() // cancels the end notification
}

// NewPidFD returns a pidfd of target, opened O_RDWR as Linux opens them,
// and nonblocking if nonblock (PIDFD_NONBLOCK).
func NewPidFD(target PidTarget, nonblock bool) *File {
	p := &pidFD{target: target}
	flags := uint32(linux.ORdwr)
	if nonblock {
		flags |= linux.ONonblock
	}
	// Tell pollers when the process ends; the watch ends with the file.
	p.stop = target.OnEnd(func() { p.q.Notify(EventIn | EventRdNorm | EventHup) })
	return NewFile(p, flags, "anon_inode:[pidfd]")
}

// PidFDOf returns the process the pidfd f names, or nil if f is no pidfd.
func PidFDOf(f *File) PidTarget {
	if p, ok := f.impl.(*pidFD); ok {
		return p.target
	}
	return nil
}

func (p *pidFD) Readiness(mask Events) Events {
	var ev Events
	select {
	case <-p.target.Ended():
		ev = EventIn | EventRdNorm
		if p.target.Reaped() {
			ev |= EventHup
		}
	default:
	}
	return ev & mask
}

func (p *pidFD) Queue() *Queue { return &p.q }

func (p *pidFD) Stat(*File) Attr {
	return Attr{Dev: anonDev, Ino: anonIno, Mode: 0o600, Nlink: 1}
}

func (p *pidFD) Release(*File) { p.stop() }
