// Package north is Cocoon's Linux personality: it runs one unmodified,
// statically linked linux/amd64 program at CPL3 and serves every system
// call it makes, in plain Go. This is the North interface.
//
// Model (gVisor's task model): each application thread is a goroutine of
// the kernel that loops "run the thread in user mode until it traps; handle
// the trap". So the kernel's own Go scheduler schedules application
// threads, a blocking system call blocks just that goroutine, and the code
// here is ordinary Go, testable on the host: it reaches the machine only
// through the Machine interface (user mode) and mem.AddressSpace (memory).
//
// Memory is demand-paged: mmap records a mapping and the kernel allocates
// a page on the first touch (kernel/userpt.go).
//
// The rule for every handler: right, or a clear error. A system call does
// what Linux does, or fails the way Linux fails for a case it does not
// support; it never returns success without doing the work. A call Linux
// has that is missing from the table gives ENOSYS and is reported; a use
// of an implemented call that Cocoon refuses (an operation, a flag, a
// prctl option) goes through Process.unsupported, which gives Linux's
// error for it and puts it in the same end-of-run report, so the refusal
// is seen without a trace. TestNoSilentStubs calls every handler with
// garbage arguments: only those listed with a reason there may succeed.
package north

import (
	"errors"
	"syscall"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Machine runs application threads in user mode: the kernel's Space, or a
// fake in tests.
type Machine interface {
	mem.AddressSpace
	// Run runs the thread with registers r until it traps.
	Run(r *kernel.UserRegs) kernel.ExitKind
}

// errno converts an error from the memory or file layers to the negated
// Linux errno a system call returns.
func errno(err error) int64 {
	// The common case, an errno not wrapped, without errors.As: its
	// reflection is a few hundred instructions and, at its first use in
	// a boot, about a hundred blocks for QEMU's TCG to translate.
	switch e := err.(type) {
	case nil:
		return 0
	case syscall.Errno:
		return -int64(e)
	case interface{ LinuxErrno() uint32 }: // vfs.Errno
		return -int64(e.LinuxErrno())
	}
	var e syscall.Errno
	var le interface{ LinuxErrno() uint32 }
	switch {
	case errors.As(err, &e):
		return -int64(e)
	case errors.As(err, &le):
		return -int64(le.LinuxErrno())
	case errors.Is(err, mem.ErrFault):
		return -linux.EFAULT
	case errors.Is(err, mem.ErrNoMemory):
		return -linux.ENOMEM
	case errors.Is(err, mem.ErrInvalid):
		return -linux.EINVAL
	case errors.Is(err, mem.ErrNameTooLong):
		return -linux.ENAMETOOLONG
	}
	return -linux.EINVAL
}
