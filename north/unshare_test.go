package north

import (
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

const sysUnshareNr = 272

// TestUnshareNamespaces checks the namespace flags fail as in a Linux
// built without namespaces: EPERM without CAP_SYS_ADMIN (before the
// namespace is looked at), EINVAL with it, and EINVAL for a user
// namespace, which needs no capability; each reported as unsupported.
func TestUnshareNamespaces(t *testing.T) {
	p, task, log := newTest(t)
	for _, f := range []uint64{cloneNewns, cloneNewuts, cloneNewipc, cloneNewnet, cloneNewpid, cloneNewcgroup, cloneNewtime, cloneNewuser} {
		if got := sc(task, sysUnshareNr, f); got != -linux.EINVAL {
			t.Errorf("unshare(%#x) as root = %d, want EINVAL", f, got)
		}
	}
	for _, want := range []string{"unsupported unshare of new namespaces: EINVAL", "unsupported unshare of a user namespace: EINVAL"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log %q does not report %q", log.String(), want)
		}
	}
	p.mu.Lock()
	p.cred.setEffective(p.cred.effective() &^ (1 << capSysAdmin))
	p.mu.Unlock()
	if got := sc(task, sysUnshareNr, cloneNewns); got != -linux.EPERM {
		t.Errorf("unshare(CLONE_NEWNS) without CAP_SYS_ADMIN = %d, want EPERM", got)
	}
	if got := sc(task, sysUnshareNr, cloneNewuser); got != -linux.EINVAL {
		t.Errorf("unshare(CLONE_NEWUSER) without CAP_SYS_ADMIN = %d, want EINVAL", got)
	}
}

// TestUnshareThreads checks what unshare does by how many threads share
// the process: alone, every flag it knows is Linux's nothing to do; with a
// second thread, the thread group, handlers and address space cannot be
// unshared (EINVAL, as Linux) and a private descriptor table or working
// directory for one thread is refused as unsupported.
func TestUnshareThreads(t *testing.T) {
	p, task, log := newTest(t)
	for _, f := range []uint64{0, cloneFiles, cloneFS, cloneSysvsem, linux.CloneThread, linux.CloneSighand, linux.CloneVM,
		cloneFiles | cloneFS | cloneSysvsem | linux.CloneVM} {
		if got := sc(task, sysUnshareNr, f); got != 0 {
			t.Errorf("unshare(%#x) single-threaded = %d, want 0", f, got)
		}
	}
	for _, f := range []uint64{1, 0x1000, 0x4000, 1 << 32, linux.CloneSettls} {
		if got := sc(task, sysUnshareNr, f); got != -linux.EINVAL {
			t.Errorf("unshare(%#x) = %d, want EINVAL", f, got)
		}
	}
	p.mm.mu.Lock()
	p.mm.users++ // a vfork child's parent
	p.mm.mu.Unlock()
	if got := sc(task, sysUnshareNr, linux.CloneVM); got != -linux.EINVAL {
		t.Errorf("unshare(CLONE_VM) sharing the address space = %d, want EINVAL", got)
	}
	p.mm.mu.Lock()
	p.mm.users--
	p.mm.mu.Unlock()
	second := p.newTask(kernel.NewUserRegs())
	defer p.removeTask(second)
	for _, f := range []uint64{linux.CloneThread, linux.CloneSighand, linux.CloneVM, cloneFiles, cloneFS} {
		if got := sc(task, sysUnshareNr, f); got != -linux.EINVAL {
			t.Errorf("unshare(%#x) with two threads = %d, want EINVAL", f, got)
		}
	}
	if got := sc(task, sysUnshareNr, cloneSysvsem); got != 0 {
		t.Errorf("unshare(CLONE_SYSVSEM) with two threads = %d, want 0", got)
	}
	if want := "unsupported unshare of files or fs shared with other threads: EINVAL"; !strings.Contains(log.String(), want) {
		t.Errorf("log %q does not report %q", log.String(), want)
	}
}
