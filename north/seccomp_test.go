package north

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/socket/cbpf"
)

// installFilter writes prog and its struct sock_fprog to the scratch
// page and calls seccomp(SECCOMP_SET_MODE_FILTER, flags).
func installFilter(t *testing.T, task *Task, flags uint64, prog []cbpf.Insn) int64 {
	t.Helper()
	code := cbpf.Encode(prog)
	var hdr [16]byte
	binary.LittleEndian.PutUint16(hdr[:], uint16(len(prog)))
	binary.LittleEndian.PutUint64(hdr[8:], scratch+16)
	if err := task.p.m.CopyOut(scratch, hdr[:]); err != nil {
		t.Fatal(err)
	}
	if err := task.p.m.CopyOut(scratch+16, code); err != nil {
		t.Fatal(err)
	}
	return sc(task, 317, seccompSetModeFilter, flags, scratch)
}

// only returns ret for system call nr and allows the rest.
func only(nr uint64, ret uint32) []cbpf.Insn {
	return []cbpf.Insn{
		{Code: 0x20, K: 0},                        // ld [nr]
		{Code: 0x15, Jt: 0, Jf: 1, K: uint32(nr)}, // jeq nr
		{Code: 0x06, K: ret},
		{Code: 0x06, K: seccompRetAllow},
	}
}

// TestSeccompFilter installs filters and checks the actions at entry,
// the refusals of bad programs and the filter count.
func TestSeccompFilter(t *testing.T) {
	_, task, _ := newTest(t)
	if r := installFilter(t, task, 0, only(linux.SysGetpid, seccompRetErrno|1)); r != 0 {
		t.Fatalf("install = %d", r)
	}
	if r := sc(task, linux.SysGetpid); r != -linux.EPERM {
		t.Errorf("getpid = %d, want EPERM", r)
	}
	if r := sc(task, linux.SysGettid); r <= 0 {
		t.Errorf("gettid = %d, want allowed", r)
	}
	// An equal action of a newer filter wins; a lower one wins whatever
	// the order.
	installFilter(t, task, 0, only(linux.SysGetpid, seccompRetErrno|2))
	installFilter(t, task, 0, only(linux.SysGetpid, seccompRetLog))
	if r := sc(task, linux.SysGetpid); r != -2 {
		t.Errorf("getpid = %d, want -2", r)
	}
	installFilter(t, task, 0, only(linux.SysGetpid, seccompRetErrno|9999))
	if r := sc(task, linux.SysGetpid); r != -maxErrno {
		t.Errorf("getpid = %d, want -MAX_ERRNO", r)
	}
	if n := seccompFilterCount(task.seccomp.Load()); n != 4 {
		t.Errorf("filters = %d, want 4", n)
	}
	for _, bad := range [][]cbpf.Insn{
		{{Code: 0x20, K: 2}, {Code: 0x06}},          // unaligned
		{{Code: 0x20, K: 64}, {Code: 0x06}},         // past seccomp_data
		{{Code: 0x28, K: 0}, {Code: 0x06}},          // half-word
		{{Code: 0x94, K: 3}, {Code: 0x06}},          // BPF_MOD
		{{Code: 0x15, Jt: 3}, {Code: 0x06}},         // jump out of range
		{{Code: 0x20, K: 0xfffff000}, {Code: 0x06}}, // ancillary
	} {
		if r := installFilter(t, task, 0, bad); r != -linux.EINVAL {
			t.Errorf("install %v = %d, want EINVAL", bad, r)
		}
	}
	if r := installFilter(t, task, seccompFlagNewListener, only(0, seccompRetAllow)); r != -linux.EINVAL {
		t.Errorf("NEW_LISTENER = %d, want EINVAL", r)
	}
	if r := sc(task, linux.SysPrctl, 21); r != seccompModeFilter {
		t.Errorf("PR_GET_SECCOMP = %d, want 2", r)
	}
	if r := sc(task, linux.SysPrctl, 22, seccompModeStrict); r != -linux.EINVAL {
		t.Errorf("strict after filter = %d, want EINVAL", r)
	}
}

// TestSeccompStrict checks that strict mode allows write and ends the
// thread at any other call.
func TestSeccompStrict(t *testing.T) {
	p, task, _ := newTest(t)
	if r := sc(task, 317, seccompSetModeStrict, 0, 0); r != 0 {
		t.Fatalf("strict = %d", r)
	}
	if r := sc(task, linux.SysWrite, 99, 0, 0); r == noReturn || task.exited {
		t.Errorf("write in strict mode = %d, exited %v; want it run", r, task.exited)
	}
	if r := sc(task, linux.SysGetpid); r != noReturn || !task.exited {
		t.Errorf("getpid in strict mode = %d, exited %v; want the thread killed", r, task.exited)
	}
	<-p.Done()
	if p.waitStatus != linux.SigKill {
		t.Errorf("wait status %#x, want SIGKILL", p.waitStatus)
	}
}

// TestEBPFLen checks the converted lengths measured on Linux 6.18.
func TestEBPFLen(t *testing.T) {
	for _, c := range []struct {
		p    []cbpf.Insn
		want int
	}{
		{[]cbpf.Insn{{Code: 0x06}}, 5},
		{[]cbpf.Insn{{Code: 0x16}}, 4},
		{[]cbpf.Insn{{Code: 0x15, K: 0x80000000}, {Code: 0x16}}, 6},
		{[]cbpf.Insn{{Code: 0x15, Jt: 1, Jf: 1}, {Code: 0x16}, {Code: 0x16}}, 7},
		{[]cbpf.Insn{{Code: 0x15, Jt: 0, Jf: 1}, {Code: 0x16}, {Code: 0x16}}, 6},
		{[]cbpf.Insn{{Code: 0x45, Jt: 0, Jf: 1}, {Code: 0x16}, {Code: 0x16}}, 7},
		{[]cbpf.Insn{{Code: 0x3c}, {Code: 0x16}}, 9},
	} {
		if got := ebpfLen(c.p); got != c.want {
			t.Errorf("ebpfLen(%v) = %d, want %d", c.p, got, c.want)
		}
	}
}
