package north

import (
	"sync"
	"sync/atomic"
	"time"
)

// The load average, as Linux keeps it (kernel/sched/loadavg.c): every
// LOAD_FREQ the count of runnable threads is folded into three
// exponentially decaying averages, fixed point with FSHIFT fraction bits
// (include/linux/sched/loadavg.h).
const (
	fshift   = 11
	fixed1   = 1 << fshift
	loadFreq = 5 * time.Second // LOAD_FREQ, 5*HZ+1 ticks: a tick less here
	siShift  = 16              // SI_LOAD_SHIFT, sysinfo's loads (include/uapi/linux/sysinfo.h)
)

// loadExp are EXP_1, EXP_5 and EXP_15: 1/exp(5s/1min), 1/exp(5s/5min)
// and 1/exp(5s/15min) in fixed point.
var loadExp = [3]uint64{1884, 2014, 2037}

// loadAvg is the world's averages (avenrun).
type loadAvg struct {
	mu  sync.Mutex
	avg [3]uint64
	// parked: the sampler found no thread in application code and waits on kick
	// instead of a timer, so that a guest whose threads are all blocked
	// for ever is seen as deadlocked (the Go runtime's detector, which any
	// pending timer defeats: kernel/fatal.go). A thread leaving a system
	// call wakes it (wake).
	parked atomic.Bool
	kick   chan struct{}
}

// calcLoad is kernel/sched/loadavg.c calc_load: load decayed by exp
// toward active (fixed point), rounded up while rising.
func calcLoad(load, exp, active uint64) uint64 {
	n := load*exp + active*(fixed1-exp)
	if active >= load {
		n += fixed1 - 1
	}
	return n / fixed1
}

// fold folds a sample of n runnable threads into the averages.
func (l *loadAvg) fold(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range loadExp {
		l.avg[i] = calcLoad(l.avg[i], e, uint64(n)*fixed1)
	}
}

func (l *loadAvg) get() [3]uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.avg
}

// StartLoadAverage samples the runnable threads of the guest every
// LOAD_FREQ for the load average (/proc/loadavg, sysinfo's loads), for as
// long as the kernel runs. While no thread runs application code (every
// one is in a system call, most of them waiting) it parks; the ticks
// missed meanwhile are folded in as samples of 0 when a thread leaves its
// call and wakes it (a thread busy inside a long call counted as idle
// then, where Linux would count it as running).
func (p *Process) StartLoadAverage() {
	w := p.w
	l := &w.load
	l.kick = make(chan struct{}, 1)
	go func() {
		next := time.Now().Add(loadFreq)
		for {
			time.Sleep(time.Until(next))
			l.fold(w.runnable(nil))
			next = next.Add(loadFreq)
			if w.inUser() {
				continue
			}
			l.parked.Store(true)
			// A thread that left its call between the look and parking
			// finds parked false and sends nothing: look again.
			if w.inUser() && l.parked.CompareAndSwap(true, false) {
				continue
			}
			<-l.kick
			for !time.Now().Before(next) {
				if l.get() == [3]uint64{} {
					next = next.Add(time.Since(next).Truncate(loadFreq) + loadFreq)
					break
				}
				l.fold(0)
				next = next.Add(loadFreq)
			}
		}
	}()
}

// wake restarts a parked sampler: a thread is back from a system call.
func (l *loadAvg) wake() {
	if l.parked.Load() && l.parked.CompareAndSwap(true, false) {
		l.kick <- struct{}{}
	}
}

// inUser reports whether a thread of the guest runs application code:
// one not in a system call, not stopped and not exited.
func (w *world) inUser() bool {
	w.mu.Lock()
	procs := make([]*Process, 0, len(w.procs))
	for _, p := range w.procs {
		if !p.zombie {
			procs = append(procs, p)
		}
	}
	w.mu.Unlock()
	for _, p := range procs {
		if p.filesGone.Load() || p.stop.stopped.Load() {
			continue
		}
		p.mu.Lock()
		for _, t := range p.tasks {
			if t.inCall.Load() == 0 {
				p.mu.Unlock()
				return true
			}
		}
		p.mu.Unlock()
	}
	return false
}

// runnable counts the guest's threads that are running or could run
// (nr_running): neither waiting in a blocking call nor stopped, nor
// exited. The thread self counts as running whatever call it is in (the
// caller reading /proc/loadavg, as on Linux).
func (w *world) runnable(self *Task) int {
	w.mu.Lock()
	procs := make([]*Process, 0, len(w.procs))
	for _, p := range w.procs {
		if !p.zombie {
			procs = append(procs, p)
		}
	}
	w.mu.Unlock()
	n := 0
	for _, p := range procs {
		if p.filesGone.Load() || p.stop.stopped.Load() {
			continue
		}
		p.mu.Lock()
		for _, t := range p.tasks {
			nr := t.inCall.Load()
			if t == self || nr == 0 || !sleeps(uint64(nr-1)) {
				n++
			}
		}
		p.mu.Unlock()
	}
	return n
}

// LoadAverage is what /proc/loadavg shows (fs/proc/loadavg.c): the
// averages in fixed point (FSHIFT fraction bits), the threads running
// (thread tid counting as one) and all of them, and the last process or
// thread ID given out.
func (p *Process) LoadAverage(tid int32) (avg [3]uint64, running, threads int, last int32) {
	w := p.w
	w.mu.Lock()
	self, last := w.taskByID(tid), w.lastID
	w.mu.Unlock()
	running, threads = w.runnable(self), int(w.threads())
	return w.load.get(), running, threads, last
}

// Activity is what the guest's threads did since boot, for /proc/stat:
// their CPU time in the application and in system calls (nanoseconds),
// the processes and threads created, and the threads running (thread
// tid counting as one).
func (p *Process) Activity(tid int32) (user, sys, forks int64, running int) {
	w := p.w
	w.mu.Lock()
	self := w.taskByID(tid)
	w.mu.Unlock()
	return w.utime.Load(), w.stime.Load(), w.forks.Load(), w.runnable(self)
}
