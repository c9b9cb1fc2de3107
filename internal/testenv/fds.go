package testenv

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// NoInheritedFDs marks close-on-exec every descriptor above stderr that
// the test process inherited, so a program a test runs natively starts as
// an application in Cocoon does: with descriptors 0, 1 and 2 only. A shell
// or CI runner may leave descriptors open in the processes it starts, and
// a native run of a program that checks how a closed descriptor is
// refused would then differ from Linux for reasons of the host, not of
// Cocoon. Close-on-exec does not undo everything: the table's room
// (max_fds) a high inherited descriptor grew survives execve, and
// select(2) ignores descriptors past it, so such a program must also set
// up its table itself (testdata/timers). Call it from TestMain, before any
// test starts a program.
func NoInheritedFDs() error {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("listing open descriptors: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("listing open descriptors: %w", err)
	}
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd <= 2 {
			continue
		}
		// F_GETFD fails with EBADF for the listing's own descriptor, closed by now.
		flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if e != 0 {
			continue
		}
		if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, flags|syscall.FD_CLOEXEC); e != 0 {
			return fmt.Errorf("marking descriptor %d close-on-exec: %v", fd, e)
		}
	}
	return nil
}
