package vfs

import (
	"fmt"
	"sort"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// /proc/PID/fdinfo/N (fs/proc/fd.c seq_show): the file's offset, its
// status flags with O_CLOEXEC from the descriptor, its mount's ID and
// inode number, then what its kind adds (file_operations.show_fdinfo):
// an eventfd's count, a signalfd's mask, a timerfd's setting, an epoll
// instance's watches, a pidfd's process. glibc's pidfd_getpid reads the
// last; lsof, systemd and psutil read the rest.

// FDInfoer is a file kind that adds lines of its own to its fdinfo
// (file_operations.show_fdinfo): FDInfo appends them to b.
type FDInfoer interface {
	FDInfo(b []byte) []byte
}

// fdInfo is the text of /proc/PID/fdinfo/N for f, open as a descriptor
// whose close-on-exec flag is cloexec.
func fdInfo(f *File, cloexec bool) []byte {
	flags := f.Flags()
	if cloexec {
		flags |= linux.OCloexec
	}
	a := f.Stat()
	b := fmt.Appendf(nil, "pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", f.Offset(), flags, a.MountID, a.Ino)
	if x, ok := f.impl.(FDInfoer); ok {
		b = x.FDInfo(b)
	}
	return b
}

// FDInfo: fs/eventfd.c eventfd_show_fdinfo. The ID is the instance's
// number among the eventfds made since boot (Linux's eventfd_ida).
func (e *eventFD) FDInfo(b []byte) []byte {
	e.mu.Lock()
	count := e.count
	e.mu.Unlock()
	semaphore := 0
	if e.semaphore {
		semaphore = 1
	}
	return fmt.Appendf(b, "eventfd-count: %16x\neventfd-id: %d\neventfd-semaphore: %d\n", count, e.id, semaphore)
}

// FDInfo: fs/signalfd.c signalfd_show_fdinfo, the mask as
// render_sigset_t prints it.
func (s *signalFD) FDInfo(b []byte) []byte {
	return fmt.Appendf(b, "sigmask:\t%016x\n", s.mask.Load())
}

// FDInfo: fs/timerfd.c timerfd_show: the expirations not yet read, the
// flags of the last timerfd_settime, the time left and the interval.
func (tf *TimerFD) FDInfo(b []byte) []byte {
	value, interval := tf.Get()
	tf.mu.Lock()
	ticks, flags := tf.ticks, tf.settime
	tf.mu.Unlock()
	return fmt.Appendf(b, "clockid: %d\nticks: %d\nsettime flags: 0%o\nit_value: (%d, %d)\nit_interval: (%d, %d)\n",
		tf.clock, ticks, flags, value/1e9, value%1e9, interval/1e9, interval%1e9)
}

// FDInfo: fs/eventpoll.c ep_show_fdinfo: a line per watch, by
// descriptor (Linux's order is by the file's address, then the
// descriptor), with the events asked for and EPOLLERR|EPOLLHUP, which
// every watch has (do_epoll_ctl), the data, and the watched file's
// offset, inode and device.
func (ep *Epoll) FDInfo(b []byte) []byte {
	ep.mu.Lock()
	entries := make([]*epollEntry, 0, len(ep.interest))
	for _, e := range ep.interest {
		entries = append(entries, e)
	}
	type line struct {
		fd     int32
		events Events
		data   uint64
		f      *File
	}
	lines := make([]line, len(entries))
	for i, e := range entries {
		lines[i] = line{e.key.fd, e.events | epollAlways, e.data, e.key.f}
	}
	ep.mu.Unlock()
	sort.Slice(lines, func(i, j int) bool { return lines[i].fd < lines[j].fd })
	for _, l := range lines {
		a := l.f.Stat()
		b = fmt.Appendf(b, "tfd: %8d events: %8x data: %16x  pos:%d ino:%x sdev:%x\n",
			l.fd, uint32(l.events), l.data, l.f.Offset(), a.Ino, encodeDev(a.Dev))
	}
	return b
}

// FDInfo: fs/notify/fdinfo.c inotify_show_fdinfo: a line per watch,
// the newest first (the group's marks list), with the events and the
// IN_ONESHOT and IN_EXCL_UNLINK flags (inotify_mark_user_mask). Cocoon
// has no file handles (name_to_handle_at is ENOSYS), so no fhandle
// fields follow, as on a kernel without CONFIG_EXPORTFS.
func (in *inotify) FDInfo(b []byte) []byte {
	in.mu.Lock()
	ws := make([]*inotifyWatch, 0, len(in.byWd))
	for _, w := range in.byWd {
		ws = append(ws, w)
	}
	lines := make([]inotifyWatch, len(ws))
	for i, w := range ws {
		lines[i] = inotifyWatch{wd: w.wd, mask: w.mask, ino: w.ino, dev: w.dev, made: w.made}
	}
	in.mu.Unlock()
	sort.Slice(lines, func(i, j int) bool { return lines[i].made > lines[j].made })
	for _, w := range lines {
		b = fmt.Appendf(b, "inotify wd:%x ino:%x sdev:%x mask:%x ignored_mask:0 \n", w.wd, w.ino, encodeDev(w.dev), w.mask)
	}
	return b
}

// encodeDev is the kernel's internal dev_t of a device number, as
// ep_show_fdinfo prints s_dev: major << 20 | minor.
func encodeDev(dev uint64) uint64 {
	return uint64(linux.DevMajor(dev))<<20 | uint64(linux.DevMinor(dev))
}

// FDInfo: fs/pidfs.c pidfd_show_fdinfo: the process's ID, -1 once it is
// reaped (its pid has no task), and the same as its only namespace's.
func (p *pidFD) FDInfo(b []byte) []byte {
	pid := int32(-1)
	if t, ok := p.target.(interface{ Pid() int32 }); ok {
		pid = t.Pid()
	}
	return fmt.Appendf(b, "Pid:\t%d\nNSpid:\t%d\n", pid, pid)
}
