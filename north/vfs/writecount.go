package vfs

import (
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// A regular file's writers and executors exclude each other, as Linux's
// inode i_writecount does (include/linux/fs.h get_write_access,
// deny_write_access): an open for writing, a truncate(2) or an O_TRUNC
// open of a program some process runs fails with ETXTBSY (fs/open.c
// do_dentry_open, fs/namei.c handle_truncate), and so does execve(2) of a
// file open for writing (fs/exec.c do_open_execat). A process holds its
// program until its address space ends (kernel/fork.c dup_mm_exe_file,
// set_mm_exe_file; the 6.11 change that dropped this was reverted).

// writeCounts is, per file, its writers (positive) or the address spaces
// running it (negative); a file with neither has no entry.
var writeCounts struct {
	mu sync.Mutex
	n  map[node]int
}

// getWrite counts a writer of the file n, or fails with ETXTBSY while a
// process runs it (get_write_access).
func getWrite(n node) error {
	writeCounts.mu.Lock()
	defer writeCounts.mu.Unlock()
	if writeCounts.n[n] < 0 {
		return ETXTBSY
	}
	if writeCounts.n == nil {
		writeCounts.n = make(map[node]int)
	}
	writeCounts.n[n]++
	return nil
}

// denyWrite counts an executor of the file n, or fails with ETXTBSY while
// it is open for writing (deny_write_access).
func denyWrite(n node) error {
	writeCounts.mu.Lock()
	defer writeCounts.mu.Unlock()
	if writeCounts.n[n] > 0 {
		return ETXTBSY
	}
	if writeCounts.n == nil {
		writeCounts.n = make(map[node]int)
	}
	writeCounts.n[n]--
	return nil
}

// putWrite ends a getWrite (d = -1) or a denyWrite (d = 1).
func putWrite(n node, d int) {
	writeCounts.mu.Lock()
	defer writeCounts.mu.Unlock()
	if c := writeCounts.n[n] + d; c != 0 {
		writeCounts.n[n] = c
	} else {
		delete(writeCounts.n, n)
	}
}

// countsWrites reports a file whose writers are counted: a regular file
// (do_dentry_open takes write access for any file but a special one, and
// only regular files are executed or truncated).
func countsWrites(n node) bool { return n.fileType() == linux.SIfreg }

// holdAccess takes, for an open of the file n, an executor's hold (exec)
// or a writer's (write), and returns what releaseAccess gives back: 1 for
// an executor, -1 for a writer, 0 for neither or a file whose writers
// are not counted.
func holdAccess(n node, exec, write bool) (int8, error) {
	switch {
	case !countsWrites(n):
		return 0, nil
	case exec:
		if err := denyWrite(n); err != nil {
			return 0, err
		}
		return 1, nil
	case write:
		if err := getWrite(n); err != nil {
			return 0, err
		}
		return -1, nil
	}
	return 0, nil
}

// releaseAccess ends what holdAccess returned.
func releaseAccess(n node, held int8) {
	if held != 0 {
		putWrite(n, int(held))
	}
}
