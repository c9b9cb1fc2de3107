package north

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// fakeMachine runs no code: a thread that enters user mode exits at once.
type fakeMachine struct{ *mem.FakeSpace }

func (fakeMachine) Run(r *kernel.UserRegs) kernel.ExitKind {
	r.Frame.RAX = linux.SysExit
	return kernel.ExitSyscall
}

const (
	scratch = 0x100000 // a mapped read-write page for arguments
	lo, hi  = 0x10000, 0x40000000
)

func newTest(t testing.TB) (*Process, *Task, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	m := fakeMachine{mem.NewFakeSpace(lo, hi)}
	if _, err := m.Map(scratch, 4*mem.PageSize, mem.Read|mem.Write, true); err != nil {
		t.Fatal(err)
	}
	n := byte(0)
	p := NewProcess(Config{Machine: m, Log: &log, Random: func(b []byte) {
		for i := range b {
			n++
			b[i] = n
		}
	}})
	task := p.newTask(kernel.NewUserRegs())
	return p, task, &log
}

func sc(task *Task, nr uint64, args ...uint64) int64 {
	var a [6]uint64
	copy(a[:], args)
	f := &task.regs.Frame
	f.RAX, f.RDI, f.RSI, f.RDX, f.R10, f.R8, f.R9 = nr, a[0], a[1], a[2], a[3], a[4], a[5]
	return task.syscall()
}

func TestMmapMunmapMprotect(t *testing.T) {
	p, task, _ := newTest(t)
	fs := p.m.(fakeMachine).FakeSpace
	anon := uint64(linux.MapPrivate | linux.MapAnonymous)
	a := sc(task, linux.SysMmap, 0, 3*mem.PageSize, 3, anon, ^uint64(0), 0)
	if a <= 0 || a%mem.PageSize != 0 {
		t.Fatalf("mmap = %#x", a)
	}
	if got := sc(task, linux.SysMmap, uint64(a), mem.PageSize, 1, anon|linux.MapFixed, ^uint64(0), 0); got != a {
		t.Fatalf("mmap MAP_FIXED = %#x, want %#x", got, a)
	}
	if prot, _ := fs.ProtAt(uint64(a)); prot != mem.Read {
		t.Errorf("prot after MAP_FIXED remap = %v", prot)
	}
	if got := sc(task, linux.SysMmap, uint64(a), mem.PageSize, 3, anon|linux.MapFixedNoreplace, ^uint64(0), 0); got != -linux.EEXIST {
		t.Errorf("MAP_FIXED_NOREPLACE over a mapping = %d, want EEXIST", got)
	}
	for _, c := range []struct {
		name string
		args []uint64
		want int64
	}{
		{"zero length", []uint64{0, 0, 3, anon, ^uint64(0), 0}, -linux.EINVAL},
		{"bad prot", []uint64{0, 4096, 8, anon, ^uint64(0), 0}, -linux.EINVAL},
		{"neither shared nor private", []uint64{0, 4096, 3, linux.MapAnonymous, ^uint64(0), 0}, -linux.EINVAL},
		{"misaligned fixed", []uint64{0x20001, 4096, 3, anon | linux.MapFixed, ^uint64(0), 0}, -linux.EINVAL},
		{"huge", []uint64{0, 1 << 60, 3, anon, ^uint64(0), 0}, -linux.ENOMEM},
		{"file without files", []uint64{0, 4096, 1, linux.MapPrivate, 3, 0}, -linux.EBADF},
	} {
		if got := sc(task, linux.SysMmap, c.args...); got != c.want {
			t.Errorf("mmap %s = %d, want %d", c.name, got, c.want)
		}
	}
	if got := sc(task, linux.SysMprotect, uint64(a)+mem.PageSize, mem.PageSize, 1); got != 0 {
		t.Errorf("mprotect = %d", got)
	}
	if err := p.m.CopyOut(uint64(a)+mem.PageSize, []byte{1}); err != mem.ErrFault {
		t.Errorf("write after mprotect(PROT_READ) = %v, want fault", err)
	}
	if got := sc(task, linux.SysMunmap, uint64(a), 3*mem.PageSize); got != 0 {
		t.Errorf("munmap = %d", got)
	}
	if _, ok := fs.ProtAt(uint64(a)); ok {
		t.Error("page still mapped after munmap")
	}
	if got := sc(task, linux.SysMunmap, uint64(a)+1, 10); got != -linux.EINVAL {
		t.Errorf("munmap misaligned = %d, want EINVAL", got)
	}
}

func TestBrk(t *testing.T) {
	p, task, _ := newTest(t)
	p.SetBrk(0x200123)
	start := sc(task, 12, 0)
	if start != 0x201000 {
		t.Fatalf("brk(0) = %#x, want 0x201000", start)
	}
	if got := sc(task, 12, uint64(start)+10000); got != start+10000 {
		t.Fatalf("brk(grow) = %#x", got)
	}
	if err := mem.WriteUint64(p.m, uint64(start)+9000, 7); err != nil {
		t.Fatalf("write into grown break: %v", err)
	}
	if got := sc(task, 12, 0x1000); got != start+10000 {
		t.Errorf("brk below start = %#x, want unchanged", got)
	}
	if got := sc(task, 12, uint64(start)); got != start {
		t.Errorf("brk(shrink) = %#x", got)
	}
	if err := mem.WriteUint64(p.m, uint64(start)+9000, 7); err != mem.ErrFault {
		t.Errorf("write above shrunk break = %v, want fault", err)
	}
}

func TestFutex(t *testing.T) {
	p, task, _ := newTest(t)
	addr := uint64(scratch + 64)
	mem.WriteUint32(p.m, addr, 5)
	if got := sc(task, linux.SysFutex, addr, linux.FutexWait|linux.FutexPrivateFlag, 6, 0); got != -linux.EAGAIN {
		t.Fatalf("WAIT with wrong value = %d, want EAGAIN", got)
	}
	if got := sc(task, linux.SysFutex, addr+1, linux.FutexWait, 5, 0); got != -linux.EINVAL {
		t.Fatalf("WAIT misaligned = %d, want EINVAL", got)
	}
	if got := sc(task, linux.SysFutex, 0x8, linux.FutexWait, 5, 0); got != -linux.EFAULT {
		t.Fatalf("WAIT on bad address = %d, want EFAULT", got)
	}
	// Relative timeout of 1 ns with nobody to wake: ETIMEDOUT.
	ts := uint64(scratch + 128)
	writeTimespec(p.m, ts, 1)
	if got := sc(task, linux.SysFutex, addr, linux.FutexWait, 5, ts); got != -linux.ETIMEDOUT {
		t.Fatalf("WAIT with timeout = %d, want ETIMEDOUT", got)
	}
	// Three waiters; WAKE 2 wakes two, then WAKE all the last.
	const n = 3
	var wg sync.WaitGroup
	results := make(chan int64, n)
	for i := 0; i < n; i++ {
		w := p.newTask(kernel.NewUserRegs())
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- sc(w, linux.SysFutex, addr, linux.FutexWait|linux.FutexPrivateFlag, 5, 0)
		}()
	}
	waitFor(t, func() bool { return p.futex.waiters(addr) == n })
	// A wake without FUTEX_PRIVATE_FLAG does not meet private waiters
	// on private memory (get_futex_key: FUT_OFF_MMSHARED).
	if got := sc(task, linux.SysFutex, addr, linux.FutexWake, 2); got != 0 {
		t.Fatalf("shared WAKE of private waiters = %d, want 0", got)
	}
	if got := sc(task, linux.SysFutex, addr, linux.FutexWake|linux.FutexPrivateFlag, 2); got != 2 {
		t.Fatalf("WAKE 2 = %d", got)
	}
	waitFor(t, func() bool { return p.futex.waiters(addr) == 1 })
	if got := sc(task, linux.SysFutex, addr, linux.FutexWake|linux.FutexPrivateFlag, 1<<31-1); got != 1 {
		t.Fatalf("WAKE all = %d, want 1", got)
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r != 0 {
			t.Errorf("woken waiter returned %d, want 0", r)
		}
	}
	// A signal interrupts a waiter.
	w := p.newTask(kernel.NewUserRegs())
	done := make(chan int64)
	go func() { done <- sc(w, linux.SysFutex, addr, linux.FutexWait, 5, 0) }()
	waitFor(t, func() bool { return p.futex.waiters(addr) == 1 })
	w.interrupt()
	if got := <-done; got != -linux.EINTR {
		t.Errorf("interrupted WAIT = %d, want EINTR", got)
	}
	// Bitsets: a WAKE_BITSET only wakes waiters whose bits intersect.
	go func() { done <- sc(w, linux.SysFutex, addr, linux.FutexWaitBitset, 5, 0, 0, 0x1) }()
	waitFor(t, func() bool { return p.futex.waiters(addr) == 1 })
	if got := sc(task, linux.SysFutex, addr, linux.FutexWakeBitset, 1, 0, 0, 0x2); got != 0 {
		t.Errorf("WAKE_BITSET with disjoint bits = %d, want 0", got)
	}
	if got := sc(task, linux.SysFutex, addr, linux.FutexWakeBitset, 1, 0, 0, 0x3); got != 1 {
		t.Errorf("WAKE_BITSET = %d, want 1", got)
	}
	<-done
}

func TestFutexRequeueAndWakeOp(t *testing.T) {
	p, task, _ := newTest(t)
	a1, a2 := uint64(scratch+256), uint64(scratch+260)
	mem.WriteUint32(p.m, a1, 1)
	done := make(chan int64, 2)
	for i := 0; i < 2; i++ {
		w := p.newTask(kernel.NewUserRegs())
		go func() { done <- sc(w, linux.SysFutex, a1, linux.FutexWait, 1, 0) }()
	}
	waitFor(t, func() bool { return p.futex.waiters(a1) == 2 })
	if got := sc(task, linux.SysFutex, a1, futexCmpRequeue, 1, 5, a2, 2); got != -linux.EAGAIN {
		t.Fatalf("CMP_REQUEUE with stale value = %d, want EAGAIN", got)
	}
	if got := sc(task, linux.SysFutex, a1, futexCmpRequeue, 1, 5, a2, 1); got != 2 {
		t.Fatalf("CMP_REQUEUE = %d, want 2 (one woken, one moved)", got)
	}
	if p.futex.waiters(a2) != 1 {
		t.Fatalf("waiters on target = %d, want 1", p.futex.waiters(a2))
	}
	// WAKE_OP: *a2 += 1 (old 0 == 0 passes), wake 1 on a1 and 1 on a2.
	op := uint32(1<<28 | 0<<24 | 1<<12 | 0)
	if got := sc(task, linux.SysFutex, a1, futexWakeOp, 1, 1, a2, uint64(op)); got != 1 {
		t.Fatalf("WAKE_OP = %d, want 1", got)
	}
	if v, _ := mem.ReadUint32(p.m, a2); v != 1 {
		t.Errorf("WAKE_OP left *a2 = %d, want 1", v)
	}
	<-done
	<-done
}

func TestSignalsBookkeeping(t *testing.T) {
	p, task, _ := newTest(t)
	act := uint64(scratch)
	var b [32]byte
	putU64(b[0:], 0x401000)
	putU64(b[8:], linux.SaSiginfo|linux.SaRestorer|linux.SaOnstack)
	putU64(b[16:], 0x402000)
	putU64(b[24:], ^uint64(0))
	p.m.CopyOut(act, b[:])
	if got := sc(task, linux.SysRtSigaction, linux.SigSegv, act, 0, 8); got != 0 {
		t.Fatalf("rt_sigaction = %d", got)
	}
	if got := sc(task, linux.SysRtSigaction, linux.SigKill, act, 0, 8); got != -linux.EINVAL {
		t.Errorf("rt_sigaction(SIGKILL) = %d, want EINVAL", got)
	}
	if got := sc(task, linux.SysRtSigaction, 65, 0, 0, 8); got != -linux.EINVAL {
		t.Errorf("rt_sigaction(65) = %d, want EINVAL", got)
	}
	if got := sc(task, linux.SysRtSigaction, 11, act, 0, 4); got != -linux.EINVAL {
		t.Errorf("rt_sigaction with bad sigsetsize = %d, want EINVAL", got)
	}
	old := uint64(scratch + 64)
	sc(task, linux.SysRtSigaction, linux.SigSegv, 0, old, 8)
	if h, _ := mem.ReadUint64(p.m, old); h != 0x401000 {
		t.Errorf("old handler = %#x", h)
	}
	if m, _ := mem.ReadUint64(p.m, old+24); m&unblockable != 0 {
		t.Error("SIGKILL/SIGSTOP kept in sa_mask")
	}
	mem.WriteUint64(p.m, scratch+128, ^uint64(0))
	if got := sc(task, linux.SysRtSigprocmask, 0, scratch+128, scratch+136, 8); got != 0 {
		t.Fatal(got)
	}
	if task.sigMask&unblockable != 0 || task.sigMask&bit(linux.SigUsr1) == 0 {
		t.Errorf("mask = %#x", task.sigMask)
	}
	if got := sc(task, linux.SysRtSigprocmask, 7, scratch+128, 0, 8); got != -linux.EINVAL {
		t.Errorf("rt_sigprocmask(bad how) = %d", got)
	}
	// sigaltstack: too small, then a real one, then read back.
	var ss [24]byte
	putU64(ss[0:], 0x300000)
	putU64(ss[16:], 1000)
	p.m.CopyOut(scratch+200, ss[:])
	if got := sc(task, linux.SysSigaltstack, scratch+200, 0); got != -linux.ENOMEM {
		t.Errorf("small sigaltstack = %d, want ENOMEM", got)
	}
	putU64(ss[16:], 65536)
	p.m.CopyOut(scratch+200, ss[:])
	if got := sc(task, linux.SysSigaltstack, scratch+200, scratch+300); got != 0 {
		t.Fatalf("sigaltstack = %d", got)
	}
	if f, _ := mem.ReadUint64(p.m, scratch+308); f != linux.SSDisable {
		t.Errorf("old ss_flags = %d, want SS_DISABLE", f)
	}
	if got := sc(task, linux.SysTgkill, 1, 99, 10); got != -linux.ESRCH {
		t.Errorf("tgkill(unknown tid) = %d, want ESRCH", got)
	}
	if got := sc(task, linux.SysTgkill, 1, uint64(task.tid), 99); got != -linux.EINVAL {
		t.Errorf("tgkill(bad signal) = %d, want EINVAL", got)
	}
}

func TestFatalDefaultSignalKillsProcess(t *testing.T) {
	p, task, log := newTest(t)
	task.fault0(14, 0x4, 0xdead)
	select {
	case <-p.Done():
	default:
		t.Fatal("process alive after an unhandled SIGSEGV")
	}
	if p.exitStatus != 128+linux.SigSegv {
		t.Errorf("exit status %d, want 139", p.exitStatus)
	}
	if !bytes.Contains(log.Bytes(), []byte("killed by SIGSEGV")) {
		t.Errorf("log %q lacks the report", log.String())
	}
}

func TestMisc(t *testing.T) {
	p, task, log := newTest(t)
	if got := sc(task, linux.SysUname, scratch); got != 0 {
		t.Fatal(got)
	}
	b := make([]byte, 6)
	p.m.CopyIn(scratch, b)
	if string(b[:5]) != "Linux" {
		t.Errorf("sysname = %q", b)
	}
	if got := sc(task, linux.SysGetrandom, scratch, 100, 0); got != 100 {
		t.Errorf("getrandom = %d", got)
	}
	if got := sc(task, linux.SysGetrandom, scratch, 100, 0x80); got != -linux.EINVAL {
		t.Errorf("getrandom(bad flags) = %d", got)
	}
	if got := sc(task, linux.SysClockGettime, 1, scratch); got != 0 {
		t.Errorf("clock_gettime = %d", got)
	}
	if got := sc(task, linux.SysClockGettime, 1, 0x8); got != -linux.EFAULT {
		t.Errorf("clock_gettime(bad ptr) = %d", got)
	}
	if got := sc(task, linux.SysPrlimit64, 0, linux.RlimitNofile, 0, scratch); got != 0 {
		t.Errorf("prlimit64 = %d", got)
	}
	if v, _ := mem.ReadUint64(p.m, scratch); v != 1024 {
		t.Errorf("RLIMIT_NOFILE soft = %d", v)
	}
	if got := sc(task, 999); got != -linux.ENOSYS {
		t.Errorf("syscall 999 = %d", got)
	}
	sc(task, 999)
	if p.Unimplemented()["syscall_999"] != 2 {
		t.Errorf("unimplemented counts = %v", p.Unimplemented())
	}
	if bytes.Count(log.Bytes(), []byte("unimplemented system call 999")) != 1 {
		t.Errorf("log = %q, want one report", log.String())
	}
}

// TestUnimplementedNumbersBounded: the in-guest fuzzer calls random
// 64-bit system call numbers. Each new one used to add an entry to the
// kernel's table and a console line, without limit: a heap an application
// could grow until the kernel ran out of memory, and most of a fuzzing
// run's time spent printing. Past maxUnknownNumbers different numbers the
// calls are counted together, every call is still ENOSYS and counted.
func TestUnimplementedNumbersBounded(t *testing.T) {
	p, task, log := newTest(t)
	const calls = 5 * maxUnknownNumbers
	for i := range uint64(calls) {
		nr := 0x1000_0000 + i*0x10001
		if got := sc(task, nr); got != -linux.ENOSYS {
			t.Fatalf("syscall %#x = %d, want ENOSYS", nr, got)
		}
	}
	sc(task, 0x1000_0000) // counted with its first call
	counts := p.Unimplemented()
	if len(counts) != maxUnknownNumbers+1 {
		t.Errorf("%d numbers counted one by one, want %d and %s", len(counts)-1, maxUnknownNumbers, otherUnknown)
	}
	if counts["syscall_268435456"] != 2 {
		t.Errorf("syscall 0x10000000 counted %d times, want 2", counts["syscall_268435456"])
	}
	var sum int64
	for _, n := range counts {
		sum += n
	}
	if sum != calls+1 || counts[otherUnknown] != calls-maxUnknownNumbers {
		t.Errorf("%d calls counted, %d as %s; want %d and %d", sum, counts[otherUnknown], otherUnknown, calls+1, calls-maxUnknownNumbers)
	}
	if lines := bytes.Count(log.Bytes(), []byte("\n")); lines != maxUnknownNumbers+1 {
		t.Errorf("%d log lines, want %d (one a number, one for the rest)", lines, maxUnknownNumbers+1)
	}
}

// TestSyscallNumberLow32Bits: Linux takes the system call number from
// EAX and ignores RAX's upper half (entry_64.S sign-extends EAX to the int
// do_syscall_64 takes): 0x1_0000_0027 is getpid; a number with bit 31 set
// is negative there, ENOSYS. The in-guest fuzzer's random 64-bit numbers
// were all ENOSYS in Cocoon.
func TestSyscallNumberLow32Bits(t *testing.T) {
	p, task, _ := newTest(t)
	if got := sc(task, 0x1_0000_0000|linux.SysGetpid); got != int64(p.pid) {
		t.Errorf("syscall 0x1_0000_0027 = %d, want getpid's %d", got, p.pid)
	}
	if got := sc(task, 0xffff_ffff_0000_0000|linux.SysGetpid); got != int64(p.pid) {
		t.Errorf("syscall 0xffff_ffff_0000_0027 = %d, want getpid's %d", got, p.pid)
	}
	if got := sc(task, 0x8000_0000|linux.SysGetpid); got != -linux.ENOSYS {
		t.Errorf("syscall 0x8000_0027 = %d, want ENOSYS", got)
	}
}

// FuzzDispatch feeds arbitrary system calls to the personality: each must
// return a result or an errno, never panic.
func FuzzDispatch(f *testing.F) {
	f.Add(uint16(9), uint64(0), uint64(4096), uint64(3), uint64(0x22), uint64(0), uint64(0))
	f.Add(uint16(202), uint64(scratch), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Add(uint16(13), uint64(11), uint64(scratch), uint64(0), uint64(8), uint64(0), uint64(0))
	f.Add(uint16(56), uint64(0x3d0f00), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Add(uint16(34), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0))                      // pause: blocks until SIGKILL
	f.Add(uint16(202), uint64(scratch), uint64(linux.FutexWait), uint64(0), uint64(0), uint64(0), uint64(0)) // futex wait, no timeout
	f.Fuzz(func(t *testing.T, nr uint16, a0, a1, a2, a3, a4, a5 uint64) {
		p, task, _ := newTest(t)
		// A call that blocks (pause, a sleep, a wait for a futex or a
		// descriptor) gets SIGKILL, as from another process, and must then
		// end: no call may block so that a fatal signal cannot end it.
		// The test's process is init, which ignores a SIGKILL sent to it,
		// so the kill is what killBy does to any other process.
		done := make(chan int64, 1)
		go func() { done <- sc(task, uint64(nr), a0, a1, a2, a3, a4, a5) }()
		var r int64
		select {
		case r = <-done:
		case <-time.After(20 * time.Millisecond):
			p.exitKilled(linux.SigKill)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("syscall %d(%#x, %#x, %#x, %#x, %#x, %#x) blocked and SIGKILL did not end it", nr, a0, a1, a2, a3, a4, a5)
			}
			return
		}
		if r < -4095 && r != noReturn {
			t.Fatalf("syscall %d returned %d", nr, r)
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 1e7 && !cond(); i++ {
		runtimeGosched()
	}
	if !cond() {
		t.Fatal("condition never became true")
	}
}

func TestSARestartRewindsInterruptedCall(t *testing.T) {
	p, task, _ := newTest(t)
	const stackTop = 0x3000000
	p.m.Map(stackTop-0x10000, 0x10000, mem.Read|mem.Write, true)
	r := task.regs
	r.Frame.RSP = stackTop - 0x100
	r.Frame.RIP = 0x401002 // just after a SYSCALL at 0x401000
	// A read (nr 0) was interrupted; a SIGUSR1 handler with SA_RESTART runs.
	task.lastNr, task.lastResult = 0, -linux.EINTR
	r.Frame.RAX = uint64(task.lastResult)
	p.sig.act[linux.SigUsr1] = sigAction{handler: 0x405000, flags: linux.SaRestorer | linux.SaRestart, restorer: 0x406000}
	p.send(task, sigInfo{signo: linux.SigUsr1})
	task.deliverSignals()
	if r.Frame.RIP != 0x405000 {
		t.Fatalf("handler not entered: rip %#x", r.Frame.RIP)
	}
	r.Frame.RSP += 8
	sc(task, linux.SysRtSigreturn)
	if r.Frame.RIP != 0x401000 || r.Frame.RAX != 0 {
		t.Errorf("after the handler rip=%#x rax=%d, want the SYSCALL again (0x401000, 0)", r.Frame.RIP, r.Frame.RAX)
	}
	// nanosleep is never restarted.
	r.Frame.RIP, r.Frame.RSP = 0x401002, stackTop-0x100
	task.lastNr, task.lastResult = linux.SysNanosleep, -linux.EINTR
	p.send(task, sigInfo{signo: linux.SigUsr1})
	task.deliverSignals()
	r.Frame.RSP += 8
	sc(task, linux.SysRtSigreturn)
	if r.Frame.RIP != 0x401002 {
		t.Errorf("nanosleep restarted: rip %#x", r.Frame.RIP)
	}
}

func TestCredentials(t *testing.T) {
	p, task, _ := newTest(t)
	if got := sc(task, 102); got != 0 {
		t.Fatalf("getuid = %d, want 0 (root)", got)
	}
	if got := sc(task, 115, 0, 0); got != 0 {
		t.Errorf("getgroups(0) = %d, want 0 groups", got)
	}
	if got := sc(task, 119, 7, ^uint64(0), 9); got != 0 {
		t.Fatalf("setresgid = %d", got)
	}
	sc(task, 120, scratch, scratch+4, scratch+8)
	r, _ := mem.ReadUint32(p.m, scratch)
	e, _ := mem.ReadUint32(p.m, scratch+4)
	s, _ := mem.ReadUint32(p.m, scratch+8)
	if r != 7 || e != 0 || s != 9 {
		t.Errorf("getresgid = %d %d %d, want 7 0 9", r, e, s)
	}
	mem.WriteUint32(p.m, scratch+16, 5)
	mem.WriteUint32(p.m, scratch+20, 6)
	if got := sc(task, 116, 2, scratch+16); got != 0 {
		t.Fatalf("setgroups = %d", got)
	}
	if got := sc(task, 115, 1, scratch+32); got != -linux.EINVAL {
		t.Errorf("getgroups with a short buffer = %d, want EINVAL", got)
	}
	if got := sc(task, 115, 2, scratch+32); got != 2 {
		t.Errorf("getgroups = %d, want 2", got)
	}
	// capget with an unknown version reports version 3 and EINVAL.
	mem.WriteUint32(p.m, scratch+64, 1)
	if got := sc(task, 125, scratch+64, scratch+72); got != -linux.EINVAL {
		t.Errorf("capget(bad version) = %d, want EINVAL", got)
	}
	if v, _ := mem.ReadUint32(p.m, scratch+64); v != capVersion3 {
		t.Errorf("capget wrote version %#x, want %#x", v, capVersion3)
	}
	if got := sc(task, 125, scratch+64, scratch+72); got != 0 {
		t.Errorf("capget = %d", got)
	}
	if eff, _ := mem.ReadUint32(p.m, scratch+72); eff != 0xffffffff {
		t.Errorf("effective capabilities %#x, want all", eff)
	}
	if got := sc(task, linux.SysPrctl, 8, 1); got != 0 || sc(task, linux.SysPrctl, 7) != 1 {
		t.Errorf("PR_SET_KEEPCAPS/PR_GET_KEEPCAPS = %d/%d", got, sc(task, linux.SysPrctl, 7))
	}
	// Root becoming user 1000 keeps its permitted capabilities
	// (PR_SET_KEEPCAPS) but not its effective ones, and without
	// CAP_SETUID can no longer go back.
	if got := sc(task, 105, 1000); got != 0 || sc(task, 102) != 1000 || sc(task, 107) != 1000 {
		t.Errorf("setuid(1000) = %d; getuid %d geteuid %d", got, sc(task, 102), sc(task, 107))
	}
	sc(task, 125, scratch+64, scratch+72)
	eff, _ := mem.ReadUint32(p.m, scratch+72)
	perm, _ := mem.ReadUint32(p.m, scratch+76)
	if eff != 0 || perm != 0xffffffff {
		t.Errorf("after setuid(1000) with keepcaps: effective %#x permitted %#x, want 0 and all", eff, perm)
	}
	if got := sc(task, 105, 0); got != -linux.EPERM {
		t.Errorf("setuid(0) unprivileged = %d, want EPERM", got)
	}
	if got := sc(task, 116, 0, 0); got != -linux.EPERM {
		t.Errorf("setgroups unprivileged = %d, want EPERM", got)
	}
	if got := sc(task, 121, 0); got != 1 {
		t.Errorf("getpgid(0) = %d, want 1", got)
	}
}
