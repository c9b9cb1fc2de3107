package fdtable

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// TestCloneShares: a task made with CLONE_FILES and CLONE_FS uses the
// same table and working directory as its creator; one made without uses
// copies; releasing a shared table leaves it open for the others, and the
// last task to release a table closes its descriptors.
func TestCloneShares(t *testing.T) {
	e := newEnv(t)
	shared := e.f.Clone(true, true, true)
	own := e.f.Clone(false, false, true)
	fd := e.open("/tmp/a", linux.OCreat|linux.ORdwr, 0o644)
	if shared.FD(fd) == nil {
		t.Error("a descriptor opened by the creator is missing from the sharing task's table")
	}
	if own.FD(fd) != nil {
		t.Error("a descriptor opened after the clone is in the copied table")
	}
	shared.Chdir(e.m, e.str("/tmp"))
	if e.f.Cwd() != shared.Cwd() || own.Cwd() == shared.Cwd() {
		t.Error("chdir reached the copy, or not the sharing task")
	}
	shared.Umask(0o077)
	if got := own.Umask(0o022); got != 0o022 {
		t.Errorf("the copy's umask = %#o, want 022 (the sharing task's change stays shared)", got)
	}
	if got := e.f.Umask(0o022); got != 0o077 {
		t.Errorf("the creator's umask = %#o, want the sharing task's 077", got)
	}
	if own.Pid() != e.f.Pid() {
		t.Error("a thread is not in its creator's process")
	}
	own.SetTid(7)
	buf := e.alloc(64)
	if n := own.Readlink(e.m, e.str("/proc/thread-self"), buf, 64); n != 8 || string(e.get(buf, 8)) != "1/task/7" {
		t.Errorf("readlink /proc/thread-self = %d %q, want 1/task/7", n, e.get(buf, max(int(n), 0)))
	}
	shared.Release()
	if e.f.FD(fd) == nil {
		t.Error("a task releasing a shared table closed its descriptors")
	}
	table := own.Table()
	if len(table.FDs()) == 0 {
		t.Fatal("the copy has no descriptors")
	}
	own.Release()
	if n := len(table.FDs()); n != 0 {
		t.Errorf("the last task released the table: %d descriptors left open", n)
	}
}

// TestUnshareAndExec: Unshare copies only a table or context another
// task uses, and Exec closes close-on-exec descriptors in a private copy
// of a shared table, never in the other task's.
func TestUnshareAndExec(t *testing.T) {
	e := newEnv(t)
	before := e.f.Table()
	e.f.Unshare(true, true)
	if e.f.Table() != before {
		t.Error("Unshare copied a table nobody else uses")
	}
	other := e.f.Clone(true, true, false)
	fd := e.open("/tmp/x", linux.OCreat|linux.ORdwr|linux.OCloexec, 0o644)
	exe, _, err := other.OpenExec(linux.AtFdcwd, "/init", 0)
	if err != nil {
		t.Fatal(err)
	}
	other.Exec(exe)
	if other.FD(fd) != nil {
		t.Error("Exec left a close-on-exec descriptor open")
	}
	if e.f.FD(fd) == nil {
		t.Error("Exec in a task sharing the table closed the other task's descriptor")
	}
	e.f.Unshare(false, true)
	e.f.Chdir(e.m, e.str("/tmp"))
	if other.Cwd() == e.f.Cwd() {
		t.Error("chdir after Unshare(fs) reached the other task")
	}
	other.Release()
}

// TestCloseRangeUnshare: close_range's CLOSE_RANGE_UNSHARE gives the
// caller a private copy first, with room only for the descriptors it
// keeps (fs/file.c dup_fd); without it the shared table is closed for
// everyone.
func TestCloseRangeUnshare(t *testing.T) {
	e := newEnv(t)
	e.f.Dup2(0, 300)
	other := e.f.Clone(true, false, true)
	if r := other.CloseRange(100, ^uint32(0), closeRangeUnshare); r != 0 {
		t.Fatalf("close_range = %d", r)
	}
	if other.FD(300) != nil || e.f.FD(300) == nil {
		t.Error("CLOSE_RANGE_UNSHARE: the caller kept descriptor 300, or the other task lost it")
	}
	if got := other.Table().Size(); got != 64 {
		t.Errorf("the private copy's room = %d, want 64", got)
	}
	if got := e.f.Table().Size(); got != 512 {
		t.Errorf("the other task's room = %d, want 512", got)
	}
	if r := other.CloseRange(0, 0, closeRangeCloexec); r != 0 {
		t.Fatalf("close_range CLOEXEC = %d", r)
	}
	if on, _ := other.Table().Cloexec(0); !on {
		t.Error("CLOSE_RANGE_CLOEXEC left descriptor 0 without close-on-exec")
	}
	third := e.f.Clone(true, false, true)
	if r := third.CloseRange(300, 300, 0); r != 0 || e.f.FD(300) != nil {
		t.Errorf("close_range without UNSHARE = %d, the sharer's descriptor 300 open %v", r, e.f.FD(300) != nil)
	}
	for _, c := range []struct{ first, last, flags uint32 }{{5, 4, 0}, {0, 1, 1}, {0, 1, 8}} {
		if r := e.f.CloseRange(c.first, c.last, c.flags); r != neg(linux.EINVAL) {
			t.Errorf("close_range(%d, %d, %#x) = %d, want EINVAL", c.first, c.last, c.flags, r)
		}
	}
	other.Release()
	third.Release()
}
