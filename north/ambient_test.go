package north

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// TestAmbientCapabilities follows what Go's os/exec does for
// SysProcAttr.AmbientCaps (syscall's TestAmbientCaps) and Linux's rules
// for the ambient set (security/commoncap.c): raised only when permitted
// and inheritable, cleared when root becomes another user, pruned by
// capset, and after execve by a non-root user the only capabilities left,
// permitted and effective.
func TestAmbientCapabilities(t *testing.T) {
	p, task, _ := newTest(t)
	const (
		sysCapset, sysSetresuid     = 126, 117
		prCapAmbient, prSetKeepcaps = 47, 8
		capSysTime, capSyslog       = 25, 34
		nobody                      = 65534
	)
	amb := func(op, n uint64, rest ...uint64) int64 {
		a := append([]uint64{prCapAmbient, op, n}, rest...)
		return sc(task, linux.SysPrctl, a...)
	}
	// capset sets eff, perm and inh (version 3: two 32-bit halves each).
	capset := func(eff, perm, inh uint64) int64 {
		mem.WriteUint32(p.m, scratch, 0x20080522)
		mem.WriteUint32(p.m, scratch+4, 0)
		for i, v := range []uint64{eff, perm, inh, eff >> 32, perm >> 32, inh >> 32} {
			mem.WriteUint32(p.m, scratch+8+uint64(4*i), uint32(v))
		}
		return sc(task, sysCapset, scratch, scratch+8)
	}
	both := uint64(1)<<capSysTime | 1<<capSyslog

	if got := amb(capAmbientIsSet, capSysTime); got != 0 {
		t.Errorf("IS_SET at start = %d, want 0", got)
	}
	if got := amb(capAmbientRaise, capSysTime); got != -linux.EPERM {
		t.Errorf("RAISE of a capability not inheritable = %d, want EPERM", got)
	}
	for _, bad := range [][]uint64{{capAmbientRaise, 41}, {capAmbientIsSet, 64}, {capAmbientRaise, capSysTime, 1}, {9, capSysTime}, {capAmbientClearAll, 1}} {
		if got := amb(bad[0], bad[1], bad[2:]...); got != -linux.EINVAL {
			t.Errorf("prctl(PR_CAP_AMBIENT, %v) = %d, want EINVAL", bad, got)
		}
	}
	if got := capset(capAll, capAll, both); got != 0 {
		t.Fatalf("capset = %d", got)
	}
	for _, n := range []uint64{capSysTime, capSyslog} {
		if got := amb(capAmbientRaise, n); got != 0 {
			t.Errorf("RAISE %d = %d", n, got)
		}
		if got := amb(capAmbientIsSet, n); got != 1 {
			t.Errorf("IS_SET %d after RAISE = %d, want 1", n, got)
		}
	}

	// Root becoming nobody clears the ambient set even with keepcaps;
	// keepcaps keeps the permitted set, so it can be raised again.
	sc(task, linux.SysPrctl, prSetKeepcaps, 1)
	if got := sc(task, sysSetresuid, nobody, nobody, nobody); got != 0 {
		t.Fatalf("setresuid = %d", got)
	}
	if p.cred.ambient != 0 {
		t.Errorf("ambient after leaving root = %#x, want 0", p.cred.ambient)
	}
	for _, n := range []uint64{capSysTime, capSyslog} {
		if got := amb(capAmbientRaise, n); got != 0 {
			t.Errorf("RAISE %d as nobody with keepcaps = %d", n, got)
		}
	}

	// execve by nobody: the ambient set becomes permitted and effective.
	p.cred.exec()
	if c := p.cred; c.ambient != both || c.permitted() != both || c.effective() != both {
		t.Errorf("after execve: ambient %#x permitted %#x effective %#x, want all %#x", c.ambient, c.permitted(), c.effective(), both)
	}

	// capset taking CAP_SYSLOG out of the inheritable set takes it out
	// of the ambient set; LOWER and CLEAR_ALL empty it.
	if got := capset(both, both, 1<<capSysTime); got != 0 {
		t.Fatalf("capset = %d", got)
	}
	if got := amb(capAmbientIsSet, capSyslog); got != 0 {
		t.Errorf("IS_SET CAP_SYSLOG after capset dropped it from inheritable = %d, want 0", got)
	}
	if got := amb(capAmbientLower, capSysTime); got != 0 || p.cred.ambient != 0 {
		t.Errorf("LOWER = %d, ambient %#x", got, p.cred.ambient)
	}
	amb(capAmbientRaise, capSysTime)
	if got := amb(capAmbientClearAll, 0); got != 0 || p.cred.ambient != 0 {
		t.Errorf("CLEAR_ALL = %d, ambient %#x", got, p.cred.ambient)
	}
	p.cred.exec()
	if c := p.cred; c.permitted() != 0 || c.effective() != 0 {
		t.Errorf("execve by nobody without ambient capabilities: permitted %#x effective %#x, want none", c.permitted(), c.effective())
	}
}
