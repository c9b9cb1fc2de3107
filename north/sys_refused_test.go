package north

import (
	"bytes"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// TestRefusals calls every refused system call: each fails with its
// refusal's error, whatever its arguments, and is reported once with its
// reason.
func TestRefusals(t *testing.T) {
	_, task, log := newTest(t)
	for _, r := range refusals {
		if got := linux.SyscallName(r.nr); got != r.name {
			t.Errorf("refusal %d is named %q; the table says %q", r.nr, r.name, got)
		}
		for range 2 {
			if got := sc(task, r.nr, 0, 0, 0, 0, 0, 0); got != r.errno {
				t.Errorf("%s = %d, want %d", r.name, got, r.errno)
			}
		}
		line := "unsupported " + r.name + " (" + r.reason + ")"
		if n := bytes.Count(log.Bytes(), []byte(line)); n != 1 {
			t.Errorf("%q reported %d times, want once", line, n)
		}
	}
}

// TestPkeys checks the protection-key calls of a CPU without keys:
// pkey_alloc finds none, pkey_mprotect with key -1 is mprotect.
func TestPkeys(t *testing.T) {
	p, task, _ := newTest(t)
	if got := sc(task, 330, 0, 0); got != -linux.ENOSPC {
		t.Errorf("pkey_alloc = %d, want ENOSPC", got)
	}
	if got := sc(task, 330, 1, 0); got != -linux.EINVAL {
		t.Errorf("pkey_alloc(flags 1) = %d, want EINVAL", got)
	}
	if got := sc(task, 330, 0, 4); got != -linux.EINVAL {
		t.Errorf("pkey_alloc(access 4) = %d, want EINVAL", got)
	}
	if got := sc(task, 331, 0); got != -linux.EINVAL {
		t.Errorf("pkey_free(0) = %d, want EINVAL", got)
	}
	anon := uint64(linux.MapPrivate | linux.MapAnonymous)
	a := sc(task, linux.SysMmap, 0, mem.PageSize, 3, anon, ^uint64(0), 0)
	if a <= 0 {
		t.Fatalf("mmap = %d", a)
	}
	if got := sc(task, 329, uint64(a), mem.PageSize, 1, 1); got != -linux.EINVAL {
		t.Errorf("pkey_mprotect(key 1) = %d, want EINVAL", got)
	}
	if got := sc(task, 329, uint64(a), mem.PageSize, 1, ^uint64(0)); got != 0 {
		t.Errorf("pkey_mprotect(key -1) = %d, want 0", got)
	}
	if prot, _ := p.m.(fakeMachine).FakeSpace.ProtAt(uint64(a)); prot != mem.Read {
		t.Errorf("prot after pkey_mprotect(PROT_READ, -1) = %v", prot)
	}
}

// TestPtraceRefused checks ptrace under Yama's ptrace_scope 3.
func TestPtraceRefused(t *testing.T) {
	_, task, _ := newTest(t)
	for _, c := range []struct {
		req, pid uint64
		want     int64
	}{
		{0, 0, -linux.EPERM},                     // PTRACE_TRACEME
		{16, uint64(task.tid), -linux.EPERM},     // PTRACE_ATTACH
		{0x4206, uint64(task.tid), -linux.EPERM}, // PTRACE_SEIZE
		{16, 99999, -linux.ESRCH},                // no such process
		{1, uint64(task.tid), -linux.ESRCH},      // PTRACE_PEEKTEXT: not a tracee
		{0x4200, uint64(task.tid), -linux.ESRCH}, // PTRACE_SETOPTIONS
	} {
		if got := sc(task, 101, c.req, c.pid); got != c.want {
			t.Errorf("ptrace(%#x, %d) = %d, want %d", c.req, c.pid, got, c.want)
		}
	}
}
