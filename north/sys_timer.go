package north

import (
	"encoding/binary"
	"math"
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/clock"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Timers and waiting for signals: CPU-time accounting, setitimer and
// alarm, POSIX timers, pause and rt_sigsuspend.

// timerCalls are the system calls this file serves (registerAll).
var timerCalls = [...]call{
	{37, sysAlarm},            // alarm
	{38, sysSetitimer},        // setitimer
	{36, sysGetitimer},        // getitimer
	{34, sysPause},            // pause
	{130, sysRtSigsuspend},    // rt_sigsuspend
	{222, sysTimerCreate},     // timer_create
	{223, sysTimerSettime},    // timer_settime
	{224, sysTimerGettime},    // timer_gettime
	{225, sysTimerGetoverrun}, // timer_getoverrun
	{226, sysTimerDelete},     // timer_delete
}

func init() { registerAll(timerCalls[:]) }

// CPU-time accounting. A thread's user time is the time it spends in
// user mode; its system time is the time its system calls take, from
// leaving user mode to entering it again, except the calls that wait
// (waits): their time is spent asleep. The trap layer stamps every entry
// to and exit from user mode with the TSC (UserRegs.EnterTSC, ExitTSC),
// so a system call reads no clock of its own: its time is charged when
// the thread next returns from user mode (chargeRun), or before signal
// delivery (chargeSystem).

// waits reports whether system call nr may wait for something other than
// the CPU: its time is not system time, and it counts as a voluntary
// context switch.
func waits(nr uint64) bool {
	return nr < 64*uint64(len(waitCalls)) && waitCalls[nr/64]&(1<<(nr%64)) != 0
}

// waitCalls is waits' set of system call numbers, a bit per number: one
// load on every system call, where a switch took a dozen compares.
var waitCalls = func() (set [512 / 64]uint64) {
	for _, nr := range []uint64{
		0, 19, 17, 295, 327, // read, readv, pread64, preadv, preadv2: pipes, the console
		7, 23, 232, 270, 271, 281, 441, // poll, select, epoll_wait, pselect6, ppoll, epoll_pwait, epoll_pwait2
		34, 130, 128, // pause, rt_sigsuspend, rt_sigtimedwait
		35, 230, 202, 219, // nanosleep, clock_nanosleep, futex, restart_syscall
		43, 288, 42, 45, 47, 299, // accept, accept4, connect, recvfrom, recvmsg, recvmmsg
		61, 247, 72, 73, // wait4, waitid, fcntl (F_SETLKW), flock
		65, 220, 69, 70, // semop, semtimedop, msgsnd, msgrcv (System V IPC, as futex)
	} {
		set[nr/64] |= 1 << (nr % 64)
	}
	return set
}()

// sleeps reports whether a thread in system call nr counts as sleeping
// for /proc/loadavg's running threads, /proc/stat's procs_running and
// the state of /proc/PID/stat: the calls of waits, and those that wait
// only when a pipe or socket has no room yet (the writes and sends,
// splice, tee, vmsplice) or for a child (vfork). These are not in waits: most of them do not wait, and a
// write to a file or a socket with room is system time, with no context
// switch. The opens stay out, though a FIFO's waits for its other end:
// /proc/self/stat's text is made when it is opened, by a thread that
// must show as running.
func sleeps(nr uint64) bool {
	return waits(nr) || nr < 64*uint64(len(sleepCalls)) && sleepCalls[nr/64]&(1<<(nr%64)) != 0
}

// sleepCalls is the rest of sleeps' set, a bit per number.
var sleepCalls = func() (set [512 / 64]uint64) {
	for _, nr := range []uint64{
		1, 18, 20, 296, 328, // write, pwrite64, writev, pwritev, pwritev2
		44, 46, 307, 40, // sendto, sendmsg, sendmmsg, sendfile
		275, 276, 278, // splice, tee, vmsplice
		58, // vfork (clone with CLONE_VFORK is not told apart: a fork copying runs)
	} {
		set[nr/64] |= 1 << (nr % 64)
	}
	return set
}()

// chargeRun charges the time of the last Run as user time and the time
// of the system call before it, from its exit to this entry, as system
// time.
func (t *Task) chargeRun() {
	r := t.regs
	user := kernel.TSCNanos(r.ExitTSC - r.EnterTSC)
	t.utime.Add(user)
	t.p.utime.Add(user)
	t.p.w.utime.Add(user)
	if t.sysFrom != 0 {
		sys := kernel.TSCNanos(r.EnterTSC - t.sysFrom)
		t.sysFrom = 0
		t.stime.Add(sys)
		t.p.stime.Add(sys)
		t.p.w.stime.Add(sys)
	}
	t.p.runCPUTimers()
}

// chargeSystem charges the time of the last system call until TSC now as
// system time, if it is still to be charged.
func (t *Task) chargeSystem(now uint64) {
	if t.sysFrom != 0 {
		t.charge(0, kernel.TSCNanos(now-t.sysFrom))
		t.sysFrom = 0
	}
}

// charge adds user and sys nanoseconds to the thread's and the process's
// CPU time and runs the CPU-time timers that are due.
func (t *Task) charge(user, sys int64) {
	if user != 0 {
		t.utime.Add(user)
		t.p.utime.Add(user)
		t.p.w.utime.Add(user)
	}
	if sys != 0 {
		t.stime.Add(sys)
		t.p.stime.Add(sys)
		t.p.w.stime.Add(sys)
	}
	t.p.runCPUTimers()
}

// cpuTimer is a timer on a CPU-time clock; accounting drives it.
type cpuTimer struct {
	clock cpuClock
	timer *clock.Timer
}

// cpuTimers are the process's timers on CPU-time clocks.
type cpuTimers struct {
	n  atomic.Int64 // len(l), read without mu on every trap
	mu sync.Mutex
	l  []*cpuTimer
}

func (p *Process) addCPUTimer(c *cpuTimer) {
	p.cpu.mu.Lock()
	p.cpu.l = append(p.cpu.l, c)
	p.cpu.n.Store(int64(len(p.cpu.l)))
	p.cpu.mu.Unlock()
}

func (p *Process) removeCPUTimer(c *cpuTimer) {
	p.cpu.mu.Lock()
	for i, x := range p.cpu.l {
		if x == c {
			p.cpu.l = append(p.cpu.l[:i], p.cpu.l[i+1:]...)
			break
		}
	}
	p.cpu.n.Store(int64(len(p.cpu.l)))
	p.cpu.mu.Unlock()
}

// runCPUTimers fires the CPU-time timers whose clock reached their
// expiry; with none, it costs one atomic load (inlined on every trap).
func (p *Process) runCPUTimers() {
	if p.cpu.n.Load() != 0 {
		p.fireCPUTimers()
	}
}

func (p *Process) fireCPUTimers() {
	p.cpu.mu.Lock()
	l := append([]*cpuTimer(nil), p.cpu.l...)
	p.cpu.mu.Unlock()
	for _, c := range l {
		c.timer.Advance(c.clock.now(p))
	}
}

// Interval timers (setitimer(2)): ITIMER_REAL on CLOCK_MONOTONIC sends
// SIGALRM, ITIMER_VIRTUAL on user time SIGVTALRM, ITIMER_PROF on user and
// system time SIGPROF, each to the process with si_code SI_KERNEL
// (kernel/time/itimer.c).
const (
	itimerReal    = 0
	itimerVirtual = 1
	itimerProf    = 2
)

// itimer returns the process's interval timer which, making it on first use.
func (p *Process) itimer(which int) (*clock.Timer, func() int64) {
	p.itMu.Lock()
	defer p.itMu.Unlock()
	sig := [3]int{linux.SigAlrm, linux.SigVtalrm, linux.SigProf}[which]
	fire := func(uint64) { p.send(nil, sigInfo{signo: sig, code: linux.SiKernel}) }
	if which == itimerReal {
		if p.itimers[which] == nil {
			p.itimers[which] = clock.NewTimer(clock.Monotonic, false, fire)
		}
		return p.itimers[which], clock.Mono
	}
	c := cpuClock{which: cpuclockVirt}
	if which == itimerProf {
		c.which = cpuclockProf
	}
	if p.itimers[which] == nil {
		p.itimers[which] = clock.NewTimer(0, true, fire)
		p.addCPUTimer(&cpuTimer{clock: c, timer: p.itimers[which]})
	}
	return p.itimers[which], func() int64 { return c.now(p) }
}

// readTimeval reads a struct timeval as nanoseconds: EINVAL unless
// 0 <= tv_usec < 1000000 and tv_sec >= 0 (timeval_valid).
func readTimeval(m mem.Memory, addr uint64) (int64, int64) {
	var b [16]byte
	if err := m.CopyIn(addr, b[:]); err != nil {
		return 0, -linux.EFAULT
	}
	sec, usec := int64(getU64(b[0:])), int64(getU64(b[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, -linux.EINVAL
	}
	if sec > maxTimeSec {
		sec = maxTimeSec
	}
	return sec*1e9 + usec*1e3, 0
}

// itimerLeft is what getitimer reports as left: at least 1 µs while the
// timer is armed (itimer_get_remtime).
func itimerLeft(v int64) int64 {
	if v > 0 && v < 1e3 {
		return 1e3
	}
	return v
}

// writeItimerval writes struct itimerval (it_interval, then it_value).
func writeItimerval(m mem.Memory, addr uint64, value, interval int64) error {
	if err := writeTimeval(m, addr, interval); err != nil {
		return err
	}
	return writeTimeval(m, addr+16, itimerLeft(value))
}

func sysGetitimer(t *Task, a *[6]uint64) int64 {
	which := a[0]
	if which > itimerProf {
		return -linux.EINVAL
	}
	tm, now := t.p.itimer(int(which))
	v, i := tm.Get(now())
	return errno(writeItimerval(t.p.m, a[1], v, i))
}

func sysSetitimer(t *Task, a *[6]uint64) int64 {
	which, newp, oldp := a[0], a[1], a[2]
	if which > itimerProf {
		return -linux.EINVAL
	}
	var value, interval int64
	if newp != 0 { // NULL disarms, a misfeature Linux keeps
		var e int64
		if interval, e = readTimeval(t.p.m, newp); e != 0 {
			return e
		}
		if value, e = readTimeval(t.p.m, newp+16); e != 0 {
			return e
		}
	}
	tm, now := t.p.itimer(int(which))
	ov, oi := tm.Set(now(), value, interval, false)
	if oldp != 0 {
		return errno(writeItimerval(t.p.m, oldp, ov, oi))
	}
	return 0
}

// sysAlarm arms ITIMER_REAL for a[0] seconds and returns the seconds the
// previous alarm had left, rounded as alarm_setitimer does: up from half
// a second, and never 0 for a pending alarm.
func sysAlarm(t *Task, a *[6]uint64) int64 {
	sec := int64(uint32(a[0]))
	tm, now := t.p.itimer(itimerReal)
	old, _ := tm.Set(now(), sec*1e9, 0, false)
	old = itimerLeft(old)
	s, us := old/1e9, old%1e9/1e3
	if (s == 0 && us > 0) || us >= 500000 {
		s++
	}
	return s
}

// sysPause waits for a signal that runs a handler or ends the process.
func sysPause(t *Task, a *[6]uint64) int64 { return t.waitSignal() }

// sysRtSigsuspend waits as pause does with the signal mask replaced; the
// old mask comes back when the handler returns (it is the mask its frame
// saves).
func sysRtSigsuspend(t *Task, a *[6]uint64) int64 {
	if a[1] != linux.SigSetSize {
		return -linux.EINVAL
	}
	m, err := mem.ReadUint64(t.p.m, a[0])
	if err != nil {
		return -linux.EFAULT
	}
	t.saveMask()
	t.sigMask = m &^ unblockable
	t.blocked.Store(t.sigMask)
	return t.waitSignal()
}

// saveMask keeps the thread's signal mask to be restored after the
// signal delivery that follows the current system call.
func (t *Task) saveMask() {
	t.savedMask, t.maskSaved = t.sigMask, true
}

// restoreMask puts back a mask saveMask kept, if it is still there.
func (t *Task) restoreMask() {
	if t.maskSaved {
		t.sigMask, t.maskSaved = t.savedMask, false
	}
}

// withSigmask runs call with the thread's signal mask replaced by the set
// at addr (sigsetsize bytes, which must be 8) unless addr is 0, as
// pselect6, ppoll and epoll_pwait do (set_user_sigmask in
// kernel/signal.c). A signal the new mask lets through and that is
// already pending ends the call at once with EINTR. After EINTR the old
// mask comes back when the handler returns; otherwise now.
func (t *Task) withSigmask(addr, size uint64, call func() int64) int64 {
	if addr == 0 {
		return call()
	}
	if size != linux.SigSetSize {
		return -linux.EINVAL
	}
	m, err := mem.ReadUint64(t.p.m, addr)
	if err != nil {
		return -linux.EFAULT
	}
	t.saveMask()
	t.sigMask = m &^ unblockable
	t.blocked.Store(t.sigMask)
	r := int64(-linux.EINTR)
	if !t.deliverable() {
		r = call()
	}
	if r != -linux.EINTR {
		t.restoreMask()
	}
	return r
}

// deliverable reports whether a signal is pending that the thread does
// not block and does not ignore: one that interrupts pause.
func (t *Task) deliverable() bool {
	s := &t.p.sig
	s.mu.Lock()
	defer s.mu.Unlock()
	ready := (t.pending | s.pending) &^ t.sigMask
	for sig := 1; ready != 0; sig++ {
		if ready&bit(sig) == 0 {
			continue
		}
		ready &^= bit(sig)
		h := s.act[sig].handler
		if h != sigIgn && !(h == sigDfl && ignoredByDefault(sig)) {
			return true
		}
	}
	return false
}

// waitSignal blocks until a signal is deliverable (or the process ends)
// and returns EINTR; deliverSignals then handles it.
func (t *Task) waitSignal() int64 {
	for !t.interrupted() {
		<-t.wake // woken stays set: deliverSignals clears it
	}
	return -linux.EINTR
}

// POSIX timers (timer_create(2)), with struct sigevent's notify values
// (include/uapi/asm-generic/siginfo.h).
const (
	sigevSignal   = 0
	sigevNone     = 1
	sigevThread   = 2 // the C library's; the kernel treats it as SIGEV_SIGNAL
	sigevThreadID = 4
	maxTimers     = 1 << 16
	timerAbstime  = 1
)

type posixTimer struct {
	id     int32
	p      *Process
	clock  int32
	cpu    *cpuTimer // set for a timer on a CPU-time clock
	cpuClk cpuClock
	timer  *clock.Timer
	notify int32
	signo  int
	target *Task // SIGEV_THREAD_ID
	value  uint64

	mu          sync.Mutex
	pending     bool  // its signal is queued and not yet delivered
	overrun     int64 // expirations while it was
	overrunLast int64 // what the last delivery reported
	deleted     bool
	// charge is the creator's count of queued signals: a timer holds a
	// place under RLIMIT_SIGPENDING while it exists, as Linux's
	// preallocated sigqueue does (alloc_posix_timer).
	charge *atomic.Int64
}

// now reads the timer's clock.
func (pt *posixTimer) now() int64 {
	if pt.cpu != nil {
		return pt.cpuClk.now(pt.p)
	}
	ns, _ := clock.Now(pt.clock)
	return ns
}

// fire queues the timer's signal for n expirations; while one is queued,
// further expirations count as overruns, and the timer holds until the
// signal is delivered (delivered catches up), as Linux re-arms a
// periodic POSIX timer only then (posixtimer_rearm).
func (pt *posixTimer) fire(n uint64) bool {
	if pt.notify == sigevNone {
		return false
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.deleted {
		return false
	}
	if pt.pending {
		pt.overrun += int64(n)
		return true
	}
	info := sigInfo{signo: pt.signo, code: linux.SiTimer, timer: pt, value: pt.value, timerID: pt.id}
	if pt.p.queue(pt.target, info) {
		pt.pending = true
		pt.overrun += int64(n) - 1
		return true
	}
	pt.overrun += int64(n)
	return false
}

// delivered is called as the timer's signal is taken for delivery; it
// returns the overrun count to report (si_overrun) and false if the timer
// was deleted, whose signal then is dropped.
func (pt *posixTimer) delivered() (int32, bool) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	pt.pending = false
	pt.overrun += int64(pt.timer.Catch())
	pt.overrunLast = min(pt.overrun, math.MaxInt32) // DELAYTIMER_MAX
	pt.overrun = 0
	return int32(pt.overrunLast), !pt.deleted
}

// timerClockOK checks a clock for timer_create (posix_clocks in
// kernel/time/posix-timers.c): EINVAL for no clock, EOPNOTSUPP for a
// clock without timers (MONOTONIC_RAW, the coarse clocks, and the alarm
// clocks, which need an RTC).
func (t *Task) timerClockOK(id int32) (cpuClock, bool, int64) {
	c, cpu, e := t.cpuClockOf(id)
	if cpu {
		return c, true, e
	}
	switch id {
	case clock.Realtime, clock.Monotonic, clock.Boottime, clock.TAI:
		return c, false, 0
	case clock.MonotonicRaw, clock.RealtimeCoarse, clock.MonotonicCoarse, clock.RealtimeAlarm, clock.BoottimeAlarm:
		return c, false, -linux.EOPNOTSUPP
	}
	return c, false, -linux.EINVAL
}

func sysTimerCreate(t *Task, a *[6]uint64) int64 {
	id, sevp, idp := int32(a[0]), a[1], a[2]
	p := t.p
	c, cpu, e := t.timerClockOK(id)
	if e != 0 {
		return e
	}
	pt := &posixTimer{p: p, clock: id, cpuClk: c, notify: sigevSignal, signo: linux.SigAlrm}
	if sevp != 0 {
		var b [64]byte // struct sigevent
		if err := p.m.CopyIn(sevp, b[:]); err != nil {
			return -linux.EFAULT
		}
		pt.value = getU64(b[0:])
		pt.signo = int(int32(binary.LittleEndian.Uint32(b[8:])))
		pt.notify = int32(binary.LittleEndian.Uint32(b[12:]))
		tid := int32(binary.LittleEndian.Uint32(b[16:]))
		switch pt.notify {
		case sigevSignal | sigevThreadID:
			if pt.target = p.task(tid); pt.target == nil {
				return -linux.EINVAL
			}
			fallthrough
		case sigevSignal, sigevThread:
			if !validSig(uint64(pt.signo)) || pt.signo <= 0 {
				return -linux.EINVAL
			}
		case sigevNone:
		default:
			return -linux.EINVAL
		}
	}
	if mem.KernelShort() {
		return -linux.EAGAIN // timer_create(2): kernel allocation failed
	}
	p.mu.Lock()
	uid := p.cred.ruid
	p.mu.Unlock()
	ctr, _ := p.w.sigq.LoadOrStore(uid, new(atomic.Int64))
	pt.charge = ctr.(*atomic.Int64)
	if uint64(pt.charge.Add(1)) > p.rlimit(rlimitSigpending) {
		pt.charge.Add(-1)
		return -linux.EAGAIN // sigqueue_alloc: past RLIMIT_SIGPENDING
	}
	p.itMu.Lock()
	if len(p.timers) >= maxTimers {
		p.itMu.Unlock()
		pt.charge.Add(-1)
		return -linux.EAGAIN
	}
	if p.timers == nil {
		p.timers = map[int32]*posixTimer{}
	}
	for p.timers[p.nextTimer] != nil {
		p.nextTimer = (p.nextTimer + 1) & math.MaxInt32
	}
	pt.id = p.nextTimer
	p.nextTimer = (p.nextTimer + 1) & math.MaxInt32
	p.timers[pt.id] = pt
	p.itMu.Unlock()
	if sevp == 0 {
		pt.value = uint64(pt.id)
	}
	pt.timer = clock.NewHoldingTimer(id, cpu, pt.fire)
	if cpu {
		pt.cpu = &cpuTimer{clock: c, timer: pt.timer}
		p.addCPUTimer(pt.cpu)
	}
	if err := mem.WriteUint32(p.m, idp, uint32(pt.id)); err != nil {
		p.deleteTimer(pt)
		return -linux.EFAULT
	}
	return 0
}

// exitTimers deletes the process's POSIX timers, at exit and at execve
// (kernel/time/posix-timers.c exit_itimers, from do_exit and
// begin_new_exec); at exit it also stops its interval timers, whose
// signals have no one left to go to.
func (p *Process) exitTimers(exit bool) {
	p.itMu.Lock()
	all := make([]*posixTimer, 0, len(p.timers))
	for _, pt := range p.timers {
		all = append(all, pt)
	}
	its := p.itimers
	p.itMu.Unlock()
	for _, pt := range all {
		p.deleteTimer(pt)
	}
	if exit {
		for _, it := range its {
			if it != nil {
				it.Stop()
			}
		}
	}
}

func (p *Process) posixTimer(id uint64) *posixTimer {
	p.itMu.Lock()
	defer p.itMu.Unlock()
	if id > math.MaxInt32 {
		return nil
	}
	return p.timers[int32(id)]
}

func (p *Process) deleteTimer(pt *posixTimer) {
	p.itMu.Lock()
	if p.timers[pt.id] != pt {
		p.itMu.Unlock()
		return // deleted already
	}
	delete(p.timers, pt.id)
	p.itMu.Unlock()
	pt.charge.Add(-1)
	pt.mu.Lock()
	pt.deleted = true
	pt.mu.Unlock()
	pt.timer.Stop()
	if pt.cpu != nil {
		p.removeCPUTimer(pt.cpu)
	}
}

// readItimerspec reads struct itimerspec (it_interval, then it_value).
func readItimerspec(m mem.Memory, addr uint64) (value, interval, e int64) {
	if interval, e = readTimespec(m, addr); e != 0 {
		return 0, 0, e
	}
	value, e = readTimespec(m, addr+16)
	return value, interval, e
}

func writeItimerspec(m mem.Memory, addr uint64, value, interval int64) error {
	if err := writeTimespec(m, addr, interval); err != nil {
		return err
	}
	return writeTimespec(m, addr+16, value)
}

func sysTimerSettime(t *Task, a *[6]uint64) int64 {
	flags, newp, oldp := a[1], a[2], a[3]
	pt := t.p.posixTimer(a[0])
	if newp == 0 {
		return -linux.EINVAL
	}
	value, interval, e := readItimerspec(t.p.m, newp)
	if e != 0 {
		return e
	}
	if pt == nil {
		return -linux.EINVAL
	}
	pt.mu.Lock()
	pt.overrunLast = 0
	pt.mu.Unlock()
	ov, oi := pt.timer.Set(pt.now(), value, interval, flags&timerAbstime != 0)
	if oldp != 0 {
		return errno(writeItimerspec(t.p.m, oldp, ov, oi))
	}
	return 0
}

func sysTimerGettime(t *Task, a *[6]uint64) int64 {
	pt := t.p.posixTimer(a[0])
	if pt == nil {
		return -linux.EINVAL
	}
	v, i := pt.timer.Get(pt.now())
	return errno(writeItimerspec(t.p.m, a[1], v, i))
}

func sysTimerGetoverrun(t *Task, a *[6]uint64) int64 {
	pt := t.p.posixTimer(a[0])
	if pt == nil {
		return -linux.EINVAL
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return pt.overrunLast
}

func sysTimerDelete(t *Task, a *[6]uint64) int64 {
	pt := t.p.posixTimer(a[0])
	if pt == nil {
		return -linux.EINVAL
	}
	t.p.deleteTimer(pt)
	return 0
}

// maskedWaitCalls are the waits with a signal mask argument. The file
// layer serves the calls; these apply the mask around them.
var maskedWaitCalls = [...]call{
	{270, sysPselect6},    // pselect6
	{271, sysPpoll},       // ppoll
	{281, sysEpollPwait},  // epoll_pwait
	{441, sysEpollPwait2}, // epoll_pwait2
}

func init() { registerAll(maskedWaitCalls[:]) }

// sysPselect6's sixth argument points to { const sigset_t *ss; size_t
// ss_len; } (fs/select.c, get_sigset_argpack).
func sysPselect6(t *Task, a *[6]uint64) int64 {
	var mask, size uint64
	if a[5] != 0 {
		var b [16]byte
		if err := t.p.m.CopyIn(a[5], b[:]); err != nil {
			return -linux.EFAULT
		}
		mask, size = getU64(b[0:]), getU64(b[8:])
	}
	return t.withSigmask(mask, size, func() int64 { return t.p.unhandled(t, 270, a) })
}

func sysPpoll(t *Task, a *[6]uint64) int64 {
	return t.withSigmask(a[3], a[4], func() int64 { return t.p.unhandled(t, 271, a) })
}

func sysEpollPwait(t *Task, a *[6]uint64) int64 {
	return t.withSigmask(a[4], a[5], func() int64 { return t.p.unhandled(t, 281, a) })
}

func sysEpollPwait2(t *Task, a *[6]uint64) int64 {
	return t.withSigmask(a[4], a[5], func() int64 { return t.p.unhandled(t, 441, a) })
}
