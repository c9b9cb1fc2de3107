package linux

import "testing"

// TestSyscallNamesComplete: every x86-64 system call number Linux
// assigns (0-336, then 424-470 after the gap syscall_64.tbl reserves) has
// its name, so traces and the unimplemented-call report never print a
// bare number.
func TestSyscallNamesComplete(t *testing.T) {
	for nr := uint64(0); nr <= 470; nr++ {
		if nr > 336 && nr < 424 {
			if SyscallName(nr) != "" {
				t.Errorf("number %d is in the reserved gap but named %q", nr, SyscallName(nr))
			}
			continue
		}
		if SyscallName(nr) == "" {
			t.Errorf("system call %d has no name", nr)
		}
	}
	for nr, name := range map[uint64]string{
		0: "read", 23: "select", 56: "clone", 134: "uselib", 186: "gettid", 222: "timer_create",
		270: "pselect6", 283: "timerfd_create", 334: "rseq", 437: "openat2", 452: "fchmodat2",
	} {
		if got := SyscallName(nr); got != name {
			t.Errorf("SyscallName(%d) = %q, want %q", nr, got, name)
		}
	}
}
