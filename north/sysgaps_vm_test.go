package north_test

import (
	"strings"
	"testing"
)

// TestVMSchedDifferentialC runs testdata/sysgaps/sched.c (nice values
// per thread and process group, the sched_* calls, getcpu, membarrier
// and its registrations across fork and execve, personality and uname,
// sync, syncfs, readahead, the old getdents, preadv2 and pwritev2 with
// their flags) natively and inside Cocoon: the outputs must be identical.
func TestVMSchedDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/sched.c"), "sched: done")
}

// TestVMInotifyDifferentialC runs testdata/sysgaps/inotify.c (the events
// of creating, writing, reading, closing, truncating, changing the
// attributes of, linking, renaming and removing files and directories as
// a directory's and the file's own watches see them; IN_ONESHOT,
// IN_MASK_ADD, IN_EXCL_UNLINK, queue overflow; the calls' errors, poll,
// epoll and a blocking read) natively and inside Cocoon: the outputs
// must be identical.
func TestVMInotifyDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/inotify.c"), "inotify: done")
}

// TestVMProcessVMDifferentialC runs testdata/sysgaps/pvm.c
// (process_vm_readv and process_vm_writev between a parent and its child:
// scatter-gather, partial transfers at an inaccessible page, read-only
// pages, errors, another user's EPERM; kcmp of files, address spaces,
// descriptor tables) natively and inside Cocoon: the outputs must be
// identical.
func TestVMProcessVMDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/pvm.c"), "pvm: done")
}

// TestVMSignalfdDifferentialC runs testdata/sysgaps/signalfd.c (signals
// from kill, sigqueue, tgkill, a child's exit and a POSIX timer read
// through a signalfd; mask changes, poll and epoll readiness, a blocking
// read woken by another process, the errors) natively and inside Cocoon:
// the outputs must be identical.
func TestVMSignalfdDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/signalfd.c"), "signalfd: done")
}

// TestVMTeeDifferentialC runs testdata/sysgaps/tee.c (tee between pipes,
// vmsplice into and out of pipes, their waits, SIGPIPE and errors)
// natively and inside Cocoon: the outputs must be identical.
func TestVMTeeDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/tee.c"), "tee: done")
}

// TestVMThreadsDifferentialC runs testdata/sysgaps/threads.c (the state
// of a thread blocked in write(2); the process's state is its main
// thread's; /proc/PID/fd, its entries, cwd and exe after the main thread
// exited while another lives) natively and inside Cocoon: the outputs
// must be identical.
func TestVMThreadsDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/threads.c"), "threads: done")
}

// TestVMSemDifferentialC runs testdata/sysgaps/sem.c (System V
// semaphores: semget, semctl's commands, semop and semtimedop with their
// waits, SEM_UNDO, permissions, removal) natively and inside Cocoon: the
// outputs must be identical.
func TestVMSemDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/sem.c"), "sem: done")
}

// TestVMMincoreDifferentialC runs testdata/sysgaps/mincore.c (resident
// pages of anonymous, shared and file mappings; unaligned, unmapped and
// out-of-range errors) natively and inside Cocoon: the outputs must be
// identical.
func TestVMMincoreDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/mincore.c"), "mincore: done")
}

// TestVMMsgDifferentialC runs testdata/sysgaps/msg.c (System V message
// queues: msgget, msgsnd and msgrcv by type with their waits, MSG_COPY,
// MSG_NOERROR, msgctl's commands, permissions, removal) natively and
// inside Cocoon: the outputs must be identical.
func TestVMMsgDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/msg.c"), "msg: done")
}

// TestVMIoprioDifferentialC runs testdata/sysgaps/ioprio.c (ioprio_get
// and ioprio_set by thread, process group and user; the priority nice
// values and policies imply; inheritance across fork, threads and
// CLONE_IO; kcmp KCMP_IO; errors) natively and inside Cocoon: the
// outputs must be identical.
func TestVMIoprioDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/ioprio.c"), "ioprio: done")
}

// TestVMGetfdDifferentialC runs testdata/sysgaps/getfd.c (pidfd_getfd of
// one's own and a child's descriptors; errors, a process gone, another
// user's EPERM) natively and inside Cocoon: the outputs must be identical.
func TestVMGetfdDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/getfd.c"), "getfd: done")
}

// TestVMXattratDifferentialC runs testdata/sysgaps/xattrat.c
// (setxattrat, getxattrat, listxattrat, removexattrat: paths relative to
// a directory descriptor, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, struct
// xattr_args and its size, errors) natively and inside Cocoon: the
// outputs must be identical.
func TestVMXattratDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/xattrat.c"), "xattrat: done")
}

// TestVMProcessMadviseDifferentialC runs testdata/sysgaps/pmadvise.c
// (process_madvise on the caller's and a child's memory, PIDFD_SELF,
// errors; process_mrelease of a live, dead and reaped process) natively
// and inside Cocoon: the outputs must be identical.
func TestVMProcessMadviseDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/pmadvise.c"), "pmadvise: done")
}

// TestVMMsyncDifferentialC runs testdata/sysgaps/msync.c (msync's flags,
// alignment, holes, MS_INVALIDATE of locked memory, a shared file
// mapping) natively and inside Cocoon: the outputs must be identical.
func TestVMMsyncDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/msync.c"), "msync: done")
}

// TestVMMsealDifferentialC runs testdata/sysgaps/mseal.c (mseal's
// errors; munmap, mprotect, pkey_mprotect, mmap MAP_FIXED, mremap and
// discarding madvise refused on sealed memory; a fork's copy sealed)
// natively and inside Cocoon: the outputs must be identical.
func TestVMMsealDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/mseal.c"), "mseal: done")
}

// TestVMSetnsDifferentialC runs testdata/sysgaps/setns.c (setns with a
// pidfd of the caller's process or a child's: each namespace's checks,
// a mount namespace's move to its root, a second thread's EINVAL and
// EUSERS, another user's EPERM, errors) natively and inside Cocoon: the
// outputs must be identical.
func TestVMSetnsDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/setns.c"), "setns: done")
}

// TestVMSysvHoard runs testdata/sysgaps/hoard.c inside Cocoon: System V
// semaphore sets (with SEM_UNDO arrays) or queued messages made until
// the kernel's memory runs short end in ENOMEM for the program or in the
// out-of-memory kill, as on Linux, never in a kernel fault.
func TestVMSysvHoard(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildC(t, "testdata/sysgaps/hoard.c"))
	for mode, want := range map[string]string{
		"sem": "semaphore sets: ENOMEM after some 1\nhoard: done\n",
		"msg": "messages: ENOMEM after some 1\nhoard: done\n",
	} {
		t.Run(mode, func(t *testing.T) {
			console, err := runApp(t, app, mode+" /tmp")
			if status(err) == 137 && strings.Contains(console, "cocoon: out of memory: killed process") {
				return
			}
			if err != nil {
				t.Fatalf("hoard %s: %v", mode, err)
			}
			if got := appOutput(console); got != want {
				t.Errorf("hoard %s printed\n%s\nwant\n%s", mode, got, want)
			}
		})
	}
}
