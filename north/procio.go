package north

import (
	"fmt"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// I/O accounting as Linux's (include/linux/task_io_accounting.h, shown by
// /proc/PID/io, fs/proc/base.c do_io_accounting): the bytes the read and
// write calls moved and how many of them ran, per thread and for the
// process (its threads, live and gone, and the children it reaped, as
// kernel/exit.c wait_task_zombie adds them).

// ioAcct counts a task's or a process's read and write calls.
type ioAcct struct {
	rchar, wchar, syscr, syscw atomic.Int64
}

// add adds o's counts to a.
func (a *ioAcct) add(o *ioAcct) {
	a.rchar.Add(o.rchar.Load())
	a.wchar.Add(o.wchar.Load())
	a.syscr.Add(o.syscr.Load())
	a.syscw.Add(o.syscw.Load())
}

// ioReads and ioWrites say whether system call nr counts as a read or a
// write (fs/read_write.c: read, pread64, readv, preadv, preadv2 through
// vfs_read and vfs_readv; the writes likewise; sendfile and
// copy_file_range count as both).
func ioCall(nr uint64) (reads, writes bool) {
	switch nr {
	case 0, 17, 19, 295, 327:
		return true, false
	case 1, 18, 20, 296, 328:
		return false, true
	case 40, 326:
		return true, true
	}
	return false, false
}

// accountIO counts system call nr's result r. Linux counts a call once
// it reached the file (after the descriptor, the access mode and the
// buffer were checked: EBADF, EINVAL, EFAULT, ESPIPE come before), and
// the bytes it moved.
func (t *Task) accountIO(nr uint64, r int64) {
	reads, writes := ioCall(nr)
	if !reads && !writes {
		return
	}
	switch -r {
	case linux.EBADF, linux.EINVAL, linux.EFAULT, linux.ESPIPE:
		return
	}
	n := max(r, 0)
	for _, a := range [...]*ioAcct{&t.io, &t.p.io} {
		if reads {
			a.syscr.Add(1)
			a.rchar.Add(n)
		}
		if writes {
			a.syscw.Add(1)
			a.wchar.Add(n)
		}
	}
}

// ioText is /proc/PID/io, or /proc/PID/task/TID/io for thread t.
// read_bytes and write_bytes count storage I/O, which there is none of:
// files live in memory (0, as Linux shows for tmpfs); so is
// cancelled_write_bytes.
func (p *Process) ioText(t *Task) string {
	a := &p.io
	if t != nil {
		a = &t.io
	}
	return fmt.Sprintf("rchar: %d\nwchar: %d\nsyscr: %d\nsyscw: %d\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n",
		a.rchar.Load(), a.wchar.Load(), a.syscr.Load(), a.syscw.Load())
}
