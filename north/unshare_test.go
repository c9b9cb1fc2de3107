package north

import (
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/fdtable"
	"github.com/cocoon-vm/cocoon/north/vfs"
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
// unshared (EINVAL, as Linux), while CLONE_FILES and CLONE_FS give the
// caller private copies of the descriptor table and working directory
// that the other thread no longer sees change.
func TestUnshareThreads(t *testing.T) {
	p, task, _ := newTest(t)
	fs, err := vfs.New(nil, vfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.SetFiles(fileTable{fdtable.New(fs, "/init")})
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
	// A second thread sharing the table and working directory, as
	// pthread_create's clone makes it.
	second := p.newTaskFiles(kernel.NewUserRegs(), task.files.(ProcessFiles).Clone(true, true, true))
	defer p.removeTask(second)
	for _, f := range []uint64{linux.CloneThread, linux.CloneSighand, linux.CloneVM} {
		if got := sc(task, sysUnshareNr, f); got != -linux.EINVAL {
			t.Errorf("unshare(%#x) with two threads = %d, want EINVAL", f, got)
		}
	}
	if got := sc(task, sysUnshareNr, cloneSysvsem); got != 0 {
		t.Errorf("unshare(CLONE_SYSVSEM) with two threads = %d, want 0", got)
	}
	const sysDup, sysFcntl, sysChdir, sysGetcwd, sysMkdir, fGetfd = 32, 72, 80, 79, 83, 1
	path := func(s string) uint64 {
		if err := p.m.CopyOut(scratch, append([]byte(s), 0)); err != nil {
			t.Fatal(err)
		}
		return uint64(scratch)
	}
	cwd := func(who *Task) string {
		buf := uint64(scratch + 256)
		n := sc(who, sysGetcwd, buf, 64)
		if n <= 0 {
			t.Fatalf("getcwd = %d", n)
		}
		b := make([]byte, n-1)
		p.m.CopyIn(buf, b)
		return string(b)
	}
	shared := sc(task, sysDup, 0)
	if got := sc(second, sysFcntl, uint64(shared), fGetfd); got != 0 {
		t.Fatalf("a descriptor dup'd before unshare: the other thread's fcntl = %d, want 0", got)
	}
	sc(task, sysMkdir, path("/a"), 0o755)
	if got := sc(task, sysUnshareNr, cloneFiles|cloneFS); got != 0 {
		t.Fatalf("unshare(CLONE_FILES|CLONE_FS) with two threads = %d, want 0", got)
	}
	mine := sc(task, sysDup, 0)
	if got := sc(second, sysFcntl, uint64(mine), fGetfd); got != -linux.EBADF {
		t.Errorf("a descriptor dup'd after unshare: the other thread's fcntl = %d, want EBADF", got)
	}
	if got := sc(second, sysFcntl, uint64(shared), fGetfd); got != 0 {
		t.Errorf("the copy dropped the other thread's descriptor: fcntl = %d", got)
	}
	if got := sc(task, sysChdir, path("/a")); got != 0 {
		t.Fatalf("chdir = %d", got)
	}
	if a, b := cwd(task), cwd(second); a != "/a" || b != "/" {
		t.Errorf("after unshare(CLONE_FS) and chdir: cwd %q and the other thread's %q, want /a and /", a, b)
	}
}

// TestUnshareTableOutOfMemory: a copy of a large descriptor table that
// would take the kernel's reserve fails with ENOMEM, as Linux's dup_fd
// fails when the memory cannot be had; with room it succeeds.
func TestUnshareTableOutOfMemory(t *testing.T) {
	p, task, _ := newTest(t)
	fs, err := vfs.New(nil, vfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files := fdtable.New(fs, "/init")
	p.SetFiles(fileTable{files})
	files.SetLimit(fdtable.MaxLimit)
	const sysDup2 = 33
	if r := sc(task, sysDup2, 0, 100000); r != 100000 {
		t.Fatalf("dup2(0, 100000) = %d", r)
	}
	second := p.newTaskFiles(kernel.NewUserRegs(), task.files.(ProcessFiles).Clone(true, true, true))
	defer p.removeTask(second)
	free := uint64(16 << 20)
	p.cfg.RAM, p.cfg.FreeRAM = 128<<20, func() uint64 { return free }
	if got := sc(task, sysUnshareNr, cloneFiles); got != -linux.ENOMEM {
		t.Errorf("unshare(CLONE_FILES) of a 1.6 MB table with 16 MiB free of 128 = %d, want ENOMEM", got)
	}
	if got := sc(task, sysUnshareNr, cloneFS); got != 0 {
		t.Errorf("unshare(CLONE_FS) = %d, want 0 (no table to copy)", got)
	}
	free = 64 << 20
	if got := sc(task, sysUnshareNr, cloneFiles); got != 0 {
		t.Errorf("unshare(CLONE_FILES) with 64 MiB free = %d, want 0", got)
	}
	if got := sc(task, sysUnshareNr, cloneFiles); got != 0 {
		t.Errorf("unshare(CLONE_FILES) of a table nobody shares = %d, want 0", got)
	}
}
