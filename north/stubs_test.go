package north

import (
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// succeedsOnGarbage are the system calls that succeed whatever their
// arguments, each with the reason that is right on Linux too. Every
// other handler must fail when given a bad descriptor (-1), bad addresses
// and out-of-range values: a handler that returns success for those is a
// stub that does nothing (the rule in north.go). Adding a call here needs
// a reason Linux would agree with.
var succeedsOnGarbage = map[string]string{
	"getpid": "no arguments", "gettid": "no arguments", "getppid": "no arguments",
	"getuid": "no arguments", "geteuid": "no arguments", "getgid": "no arguments",
	"getegid": "no arguments", "getpgrp": "no arguments", "sched_yield": "no arguments",
	"munlockall":      "no arguments",
	"sync":            "no arguments",
	"personality":     "0xffffffff (the low 32 bits of -1) only asks for the persona (kernel/exec_domain.c)",
	"setfsuid":        "returns the old fsuid; -1 changes nothing (kernel/sys.c __sys_setfsuid)",
	"setfsgid":        "returns the old fsgid; -1 changes nothing (kernel/sys.c __sys_setfsgid)",
	"setreuid":        "-1 keeps each ID",
	"setregid":        "-1 keeps each ID",
	"setresuid":       "-1 keeps each ID",
	"setresgid":       "-1 keeps each ID",
	"set_tid_address": "the address is used only when the thread exits",
	"alarm":           "any number of seconds is a valid alarm",
	"brk":             "an impossible break leaves the break where it is and returns it",
}

// TestNoSilentStubs calls every handler in the table with garbage
// arguments and requires an error from all but succeedsOnGarbage.
func TestNoSilentStubs(t *testing.T) {
	skip := map[uint64]bool{
		linux.SysExit: true, linux.SysExitGroup: true, linux.SysRtSigreturn: true, // end the thread or process
		34: true, // pause: waits for a signal, whatever its arguments
	}
	for nr, h := range syscalls {
		if h == nil || skip[uint64(nr)] {
			continue
		}
		name := linux.SyscallName(uint64(nr))
		_, task, _ := newTest(t)
		done := make(chan int64, 1)
		go func() { done <- sc(task, uint64(nr), ^uint64(0), 8, 8, 8, 8, 8) }()
		var r int64
		select {
		case r = <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s with garbage arguments blocks", name)
			continue
		}
		_, allowed := succeedsOnGarbage[name]
		if r >= 0 && !allowed {
			t.Errorf("%s(-1, 8, 8, ...) = %d: succeeds with garbage arguments (a stub?)", name, r)
		}
	}
}
