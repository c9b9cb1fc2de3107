package north

import (
	"syscall"
	"testing"

	"github.com/cocoon-vm/cocoon/north/mem"
)

// TestProcMemAccess: a mem file reads and writes the address space at an
// address, forcing a write into a read-only page, moving what it can
// before an unmapped page and failing with EIO at one; once no process
// uses the address space it moves nothing.
func TestProcMemAccess(t *testing.T) {
	p, _, _ := newTest(t)
	const ro = 0x200000
	if _, err := p.m.Map(ro, mem.PageSize, mem.Read|mem.Write, true); err != nil {
		t.Fatal(err)
	}
	if err := p.m.CopyOut(ro+mem.PageSize-4, []byte("text")); err != nil {
		t.Fatal(err)
	}
	if err := p.m.Protect(ro, mem.PageSize, mem.Read); err != nil {
		t.Fatal(err)
	}
	f, err := p.OpenMem(0, p.pid, 1000, 1000, 0)
	if err != nil {
		t.Fatalf("OpenMem of its own process: %v", err)
	}
	if n, err := f.Access([]byte("TE"), ro+mem.PageSize-4, true); n != 2 || err != nil {
		t.Errorf("forced write into a read-only page = %d, %v; want 2, nil", n, err)
	}
	b := make([]byte, 16)
	if n, err := f.Access(b, ro+mem.PageSize-4, false); n != 4 || err != nil || string(b[:4]) != "TExt" {
		t.Errorf("read across the mapping's end = %d, %v, %q; want 4, nil, \"TExt\"", n, err, b[:n])
	}
	if n, err := f.Access(b, ro+mem.PageSize, false); n != 0 || err != syscall.EIO {
		t.Errorf("read of an unmapped page = %d, %v; want 0, EIO", n, err)
	}
	if n, err := f.Access(b, 1<<63, false); n != 0 || err != syscall.EIO {
		t.Errorf("read of a kernel address = %d, %v; want 0, EIO", n, err)
	}
	dropSpace(p.m) // as the process's exit does
	if n, err := f.Access(b, ro, false); n != 0 || err != nil {
		t.Errorf("read after the address space went = %d, %v; want 0, nil", n, err)
	}
}

// TestProcMemOpen: another process may open the mem file only with the
// same IDs as all of the target's while it is dumpable, or with
// CAP_SYS_PTRACE (kernel/ptrace.c __ptrace_may_access).
func TestProcMemOpen(t *testing.T) {
	p, _, _ := newTest(t)
	p.mu.Lock()
	c := &p.cred
	c.ruid, c.euid, c.suid, c.fsuid = 1000, 1000, 1000, 1000
	c.rgid, c.egid, c.sgid, c.fsgid = 100, 100, 100, 100
	p.mu.Unlock()
	other := p.pid + 1
	for _, c := range []struct {
		name       string
		uid, gid   uint32
		caps       uint64
		undumpable bool
		want       error
	}{
		{"same IDs", 1000, 100, 0, false, nil},
		{"another user", 1001, 100, 0, false, syscall.EACCES},
		{"another group", 1000, 101, 0, false, syscall.EACCES},
		{"not dumpable", 1000, 100, 0, true, syscall.EACCES},
		{"CAP_SYS_PTRACE", 0, 0, 1 << capSysPtrace, true, nil},
	} {
		p.undumpable.Store(c.undumpable)
		if _, err := p.OpenMem(0, other, c.uid, c.gid, c.caps); err != c.want {
			t.Errorf("%s: OpenMem = %v; want %v", c.name, err, c.want)
		}
	}
	if _, err := p.OpenMem(0, p.pid, 1, 1, 0); err != nil {
		t.Errorf("its own process, not dumpable: OpenMem = %v; want nil", err)
	}
}
