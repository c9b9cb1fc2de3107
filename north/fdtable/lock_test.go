package fdtable

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// flockArg is a struct flock at a fresh address.
func (e *env) flockArg(typ int16, start, length int64) uint64 {
	b := make([]byte, linux.SizeofFlock)
	binary.LittleEndian.PutUint16(b, uint16(typ))
	binary.LittleEndian.PutUint64(b[8:], uint64(start))
	binary.LittleEndian.PutUint64(b[16:], uint64(length))
	return e.put(b)
}

func TestFlockConflictsBetweenOpenFiles(t *testing.T) {
	e := newEnv(t)
	const sh, ex, nb, un = 1, 2, 4, 8
	a := e.open("/tmp/l", linux.OCreat|linux.ORdwr, 0o644)
	b := e.open("/tmp/l", linux.ORdwr, 0)
	if r := e.f.Flock(nil, a, ex); r != 0 {
		t.Fatalf("flock(a, LOCK_EX) = %d", r)
	}
	if r := e.f.Flock(nil, b, ex|nb); r != neg(linux.EAGAIN) {
		t.Errorf("flock(b, LOCK_EX|LOCK_NB) while a holds it = %d, want EWOULDBLOCK", r)
	}
	if r := e.f.Flock(nil, b, sh|nb); r != neg(linux.EAGAIN) {
		t.Errorf("flock(b, LOCK_SH|LOCK_NB) while a holds LOCK_EX = %d, want EWOULDBLOCK", r)
	}
	dup := int32(e.f.Dup(a))
	if r := e.f.Flock(nil, dup, ex|nb); r != 0 {
		t.Errorf("flock through a dup of the holder = %d, want 0 (same open file)", r)
	}
	// A blocked LOCK_EX goes through once the holder's last descriptor closes.
	done := make(chan int64)
	go func() { done <- e.f.Flock(nil, b, ex) }()
	e.f.Close(a)
	select {
	case r := <-done:
		t.Fatalf("flock(b) returned %d while a dup still holds the lock", r)
	case <-time.After(20 * time.Millisecond):
	}
	e.f.Close(dup)
	if r := <-done; r != 0 {
		t.Errorf("flock(b, LOCK_EX) after the holder closed = %d", r)
	}
	c := e.open("/tmp/l", linux.ORdonly, 0)
	if r := e.f.Flock(nil, c, sh|nb); r != neg(linux.EAGAIN) {
		t.Errorf("LOCK_SH against b's LOCK_EX = %d", r)
	}
	e.f.Flock(nil, b, un)
	if r := e.f.Flock(nil, c, sh|nb); r != 0 {
		t.Errorf("LOCK_SH after LOCK_UN = %d", r)
	}
	intr := make(chan struct{})
	close(intr)
	if r := e.f.Flock(intr, b, ex); r != neg(linux.EINTR) {
		t.Errorf("interrupted wait = %d, want EINTR", r)
	}
}

func TestRecordLocks(t *testing.T) {
	e := newEnv(t)
	a := e.open("/tmp/r", linux.OCreat|linux.ORdwr, 0o644)
	b := e.open("/tmp/r", linux.ORdwr, 0)
	if r := e.f.Fcntl(e.m, a, linux.FOfdSetlk, e.flockArg(linux.FWrlck, 0, 10)); r != 0 {
		t.Fatalf("F_OFD_SETLK a [0,10) = %d", r)
	}
	if r := e.f.Fcntl(e.m, b, linux.FOfdSetlk, e.flockArg(linux.FWrlck, 5, 10)); r != neg(linux.EAGAIN) {
		t.Errorf("F_OFD_SETLK b [5,15) over a's = %d, want EAGAIN", r)
	}
	if r := e.f.Fcntl(e.m, b, linux.FOfdSetlk, e.flockArg(linux.FWrlck, 10, 5)); r != 0 {
		t.Errorf("F_OFD_SETLK b [10,15), next to a's = %d", r)
	}
	q := e.flockArg(linux.FRdlck, 8, 1)
	if r := e.f.Fcntl(e.m, b, linux.FOfdGetlk, q); r != 0 {
		t.Fatalf("F_OFD_GETLK = %d", r)
	}
	got := e.get(q, linux.SizeofFlock)
	if typ, start, n, pid := binary.LittleEndian.Uint16(got), int64(binary.LittleEndian.Uint64(got[8:])), int64(binary.LittleEndian.Uint64(got[16:])), int32(binary.LittleEndian.Uint32(got[24:])); typ != linux.FWrlck || start != 0 || n != 10 || pid != -1 {
		t.Errorf("F_OFD_GETLK found type %d [%d, +%d) pid %d, want a's write lock [0, +10) pid -1", typ, start, n, pid)
	}
	// The process's POSIX lock conflicts with OFD locks but not with its
	// own locks through other descriptors.
	if r := e.f.Fcntl(e.m, a, linux.FSetlk, e.flockArg(linux.FWrlck, 40, 10)); r != 0 {
		t.Fatalf("F_SETLK [40,50) = %d", r)
	}
	if r := e.f.Fcntl(e.m, b, linux.FSetlk, e.flockArg(linux.FWrlck, 45, 0)); r != 0 {
		t.Errorf("F_SETLK [45,EOF) by the same process through b = %d, want 0", r)
	}
	q = e.flockArg(linux.FWrlck, 100, 1)
	e.f.Fcntl(e.m, b, linux.FOfdGetlk, q)
	if got = e.get(q, linux.SizeofFlock); binary.LittleEndian.Uint16(got) != linux.FWrlck || int32(binary.LittleEndian.Uint32(got[24:])) != 1 {
		t.Errorf("F_OFD_GETLK past 45 does not see the process's lock (pid 1): %v", got[:28])
	}
	// Closing any descriptor of the file drops the process's POSIX locks.
	c := e.open("/tmp/r", linux.ORdonly, 0)
	e.f.Close(c)
	q = e.flockArg(linux.FWrlck, 100, 1)
	e.f.Fcntl(e.m, b, linux.FOfdGetlk, q)
	if typ := binary.LittleEndian.Uint16(e.get(q, 2)); typ != linux.FUnlck {
		t.Errorf("after closing a descriptor the POSIX lock is still there (type %d)", typ)
	}
	// F_OFD_SETLKW waits for the holder's unlock.
	done := make(chan int64)
	go func() { done <- e.f.Fcntl(e.m, b, linux.FOfdSetlkw, e.flockArg(linux.FRdlck, 0, 1)) }()
	select {
	case r := <-done:
		t.Fatalf("F_OFD_SETLKW returned %d while a holds [0,10)", r)
	case <-time.After(20 * time.Millisecond):
	}
	e.f.Fcntl(e.m, a, linux.FOfdSetlk, e.flockArg(linux.FUnlck, 0, 0))
	if r := <-done; r != 0 {
		t.Errorf("F_OFD_SETLKW after the unlock = %d", r)
	}
	// Errors.
	pidArg := make([]byte, linux.SizeofFlock)
	binary.LittleEndian.PutUint16(pidArg, linux.FRdlck)
	binary.LittleEndian.PutUint32(pidArg[24:], 5)
	if r := e.f.Fcntl(e.m, a, linux.FOfdSetlk, e.put(pidArg)); r != neg(linux.EINVAL) {
		t.Errorf("F_OFD_SETLK with l_pid 5 = %d, want EINVAL", r)
	}
	if r := e.f.Fcntl(e.m, a, linux.FSetlk, e.flockArg(linux.FRdlck, -5, 1)); r != neg(linux.EINVAL) {
		t.Errorf("F_SETLK at -5 = %d, want EINVAL", r)
	}
	ro := e.open("/tmp/r", linux.ORdonly, 0)
	if r := e.f.Fcntl(e.m, ro, linux.FSetlk, e.flockArg(linux.FWrlck, 0, 1)); r != neg(linux.EBADF) {
		t.Errorf("write lock through a read-only descriptor = %d, want EBADF", r)
	}
	if r := e.f.Fcntl(e.m, a, linux.FGetlk, e.flockArg(linux.FUnlck, 0, 1)); r != neg(linux.EINVAL) {
		t.Errorf("F_GETLK with F_UNLCK = %d, want EINVAL", r)
	}
}

// TestRecordLocksGoWithTheDescriptor: a process's POSIX locks go however
// its descriptor of the file closes: at exit, at an exec that closes it,
// or under dup2 (fs/open.c filp_close). A lock left behind would block
// every other process for ever.
func TestRecordLocksGoWithTheDescriptor(t *testing.T) {
	e := newEnv(t)
	mine := e.open("/tmp/r", linux.OCreat|linux.ORdwr, 0o644)
	for _, end := range []string{"exit", "exec", "dup2"} {
		child := e.f.Fork()
		fd := child.Openat(e.m, nil, linux.AtFdcwd, e.str("/tmp/r"), linux.ORdwr|linux.OCloexec, 0)
		if fd < 0 {
			t.Fatalf("%s: open = %d", end, fd)
		}
		if r := child.Fcntl(e.m, int32(fd), linux.FSetlk, e.flockArg(linux.FWrlck, 0, 0)); r != 0 {
			t.Fatalf("%s: the child's F_SETLK = %d", end, r)
		}
		if r := e.f.Fcntl(e.m, mine, linux.FSetlk, e.flockArg(linux.FRdlck, 0, 1)); r != neg(linux.EAGAIN) {
			t.Fatalf("%s: the parent's F_SETLK over the child's lock = %d, want EAGAIN", end, r)
		}
		switch end {
		case "exit":
			child.Release()
		case "exec":
			exe, _, err := child.OpenExec(linux.AtFdcwd, "/init", 0)
			if err != nil {
				t.Fatal(err)
			}
			child.Exec(exe)
		case "dup2":
			if r := child.Dup2(0, int32(fd)); r != fd {
				t.Fatalf("dup2 = %d", r)
			}
		}
		if r := e.f.Fcntl(e.m, mine, linux.FSetlk, e.flockArg(linux.FRdlck, 0, 1)); r != 0 {
			t.Errorf("after the child's %s its lock is still there: the parent's F_SETLK = %d", end, r)
		}
		e.f.Fcntl(e.m, mine, linux.FSetlk, e.flockArg(linux.FUnlck, 0, 0))
		if end != "exit" {
			child.Release()
		}
	}
}
