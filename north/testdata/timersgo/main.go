// Command timersgo is the Go side of the timers differential test
// (north/timers_vm_test.go): run natively and inside Cocoon, it must print
// the same lines. It prints outcomes, never timings.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	if err := run(); err != nil {
		fmt.Println("timersgo: FAIL:", err)
		os.Exit(1)
	}
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func errOf(e syscall.Errno) string {
	if e == 0 {
		return "ok"
	}
	return e.Error()
}

// now reads a clock with the clock_gettime system call (not the vDSO).
func now(clock int) (int64, syscall.Errno) {
	var ts syscall.Timespec
	_, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, uintptr(clock), uintptr(unsafe.Pointer(&ts)), 0) // unsafe: the kernel fills ts
	return ts.Nano(), e
}

const (
	clockMonotonic   = 1
	clockProcessCPU  = 2
	clockThreadCPU   = 3
	sigevSignal      = 0
	timerfdNonblock  = syscall.O_NONBLOCK
	itimerReal       = 0
	sysTimerCreate   = 222
	sysTimerSettime  = 223
	sysTimerDelete   = 226
	sysTimerfdCreate = 283
	sysTimerfdSet    = 286
)

// itimerspec is struct itimerspec: interval, then value.
type itimerspec struct{ interval, value syscall.Timespec }

func run() error {
	fmt.Println("timersgo: start")

	// Go's own timers.
	tk := time.NewTicker(5 * time.Millisecond)
	for i := 0; i < 5; i++ {
		<-tk.C
	}
	tk.Stop()
	fired := make(chan bool, 1)
	time.AfterFunc(10*time.Millisecond, func() { fired <- true })
	fmt.Println("ticker 5 ticks, AfterFunc:", yes(<-fired))
	t := time.NewTimer(time.Hour)
	fmt.Println("Stop before expiry:", yes(t.Stop()))

	// setitimer(ITIMER_REAL) and SIGALRM through os/signal.
	alrm := make(chan os.Signal, 16)
	signal.Notify(alrm, syscall.SIGALRM)
	it := [4]int64{0, 10000, 0, 10000}                                                                // it_interval, it_value (timevals)
	_, _, e := syscall.RawSyscall(syscall.SYS_SETITIMER, itimerReal, uintptr(unsafe.Pointer(&it)), 0) // unsafe: a struct itimerval
	fmt.Println("setitimer:", errOf(e))
	for i := 0; i < 3; i++ {
		select {
		case <-alrm:
		case <-time.After(20 * time.Second):
			return fmt.Errorf("no SIGALRM")
		}
	}
	off := [4]int64{}
	syscall.RawSyscall(syscall.SYS_SETITIMER, itimerReal, uintptr(unsafe.Pointer(&off)), 0) // unsafe: a struct itimerval
	signal.Stop(alrm)
	fmt.Println("3 SIGALRM: yes")

	// A POSIX timer signalling SIGUSR1.
	usr1 := make(chan os.Signal, 16)
	signal.Notify(usr1, syscall.SIGUSR1)
	var sev [64]byte // struct sigevent: sigev_value, sigev_signo, sigev_notify
	binary.LittleEndian.PutUint32(sev[8:], uint32(syscall.SIGUSR1))
	binary.LittleEndian.PutUint32(sev[12:], sigevSignal)
	var id int32
	_, _, e = syscall.RawSyscall(sysTimerCreate, clockMonotonic, uintptr(unsafe.Pointer(&sev)), uintptr(unsafe.Pointer(&id))) // unsafe: sigevent in, timer id out
	fmt.Println("timer_create:", errOf(e))
	spec := itimerspec{value: syscall.NsecToTimespec(int64(20 * time.Millisecond))}
	_, _, e = syscall.RawSyscall6(sysTimerSettime, uintptr(id), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0) // unsafe: a struct itimerspec
	fmt.Println("timer_settime:", errOf(e))
	select {
	case <-usr1:
		fmt.Println("timer signal: yes")
	case <-time.After(20 * time.Second):
		fmt.Println("timer signal: no")
	}
	_, _, e = syscall.RawSyscall(sysTimerDelete, uintptr(id), 0, 0)
	fmt.Println("timer_delete:", errOf(e))
	signal.Stop(usr1)

	// timerfd in an epoll set.
	fd, _, e := syscall.RawSyscall(sysTimerfdCreate, clockMonotonic, timerfdNonblock|syscall.O_CLOEXEC, 0)
	fmt.Println("timerfd_create:", errOf(e))
	var buf [8]byte
	_, err := syscall.Read(int(fd), buf[:])
	fmt.Println("read before expiry:", err)
	spec = itimerspec{interval: syscall.NsecToTimespec(int64(5 * time.Millisecond)), value: syscall.NsecToTimespec(int64(5 * time.Millisecond))}
	_, _, e = syscall.RawSyscall6(sysTimerfdSet, fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0) // unsafe: a struct itimerspec
	fmt.Println("timerfd_settime:", errOf(e))
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, int(fd), &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}); err != nil {
		return err
	}
	evs := make([]syscall.EpollEvent, 4)
	n, err := syscall.EpollWait(ep, evs, 20000)
	fmt.Println("epoll_wait:", n, err, "fd matches:", yes(n == 1 && evs[0].Fd == int32(fd)))
	k, err := syscall.Read(int(fd), buf[:])
	fmt.Println("read:", k, err, "expirations >= 1:", yes(binary.LittleEndian.Uint64(buf[:]) >= 1))
	syscall.Close(ep)
	syscall.Close(int(fd))

	// select on a pipe.
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return err
	}
	var rd syscall.FdSet
	rd.Bits[p[0]/64] |= 1 << (p[0] % 64)
	tv := syscall.Timeval{Usec: 20000}
	n, err = syscall.Select(p[0]+1, &rd, nil, nil, &tv)
	fmt.Println("select empty pipe:", n, err, "timeout written back:", tv.Sec, tv.Usec, "set cleared:", yes(rd.Bits[p[0]/64] == 0))
	syscall.Write(p[1], []byte("x"))
	rd.Bits[p[0]/64] |= 1 << (p[0] % 64)
	tv = syscall.Timeval{Sec: 5}
	n, err = syscall.Select(p[0]+1, &rd, nil, nil, &tv)
	fmt.Println("select readable:", n, err, "set:", yes(rd.Bits[p[0]/64]&(1<<(p[0]%64)) != 0))
	// Linux ignores a descriptor past the room of the process's table
	// (max_fds): open one past 64 first, so the table has room for 128
	// whatever this program inherited, and closed descriptor 104 is EBADF.
	if err := syscall.Dup2(0, 104); err != nil {
		return err
	}
	syscall.Close(104)
	rd.Bits[1] = 1 << 40 // fd 104, not open
	_, err = syscall.Select(105, &rd, nil, nil, &tv)
	fmt.Println("select closed fd:", err)

	// CPU-time clocks on a locked thread.
	runtime.LockOSThread()
	// Nested reads (wall, process, thread; the reverse after): each
	// interval contains the next even when the host preempts the vCPU
	// between two reads, time a VM counts as CPU time.
	w0, _ := now(clockMonotonic)
	p0, e1 := now(clockProcessCPU)
	t0, e2 := now(clockThreadCPU)
	for end := w0 + int64(20*time.Second); ; {
		t1, _ := now(clockThreadCPU)
		if w, _ := now(clockMonotonic); t1-t0 >= int64(30*time.Millisecond) || w > end {
			break
		}
	}
	t1, _ := now(clockThreadCPU)
	p1, _ := now(clockProcessCPU)
	w1, _ := now(clockMonotonic)
	runtime.UnlockOSThread()
	fmt.Println("cpu clocks:", errOf(e1), errOf(e2), "30 ms burnt:", yes(t1-t0 >= int64(30*time.Millisecond)),
		"process >= thread:", yes(p1-p0 >= t1-t0-int64(time.Millisecond)), "thread <= wall:", yes(t1-t0 <= w1-w0+int64(time.Millisecond)))
	_, e = now(10)
	fmt.Println("clock_gettime(10):", errOf(e))
	var ru syscall.Rusage
	err = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Println("getrusage:", err, "cpu > 10 ms:", yes(ru.Utime.Nano()+ru.Stime.Nano() > int64(10*time.Millisecond)))
	var tms syscall.Tms
	ticks, err := syscall.Times(&tms)
	fmt.Println("times:", err, "ticks > 0:", yes(ticks > 0), "cpu ticks > 0:", yes(tms.Utime+tms.Stime > 0))

	fmt.Println("timersgo: done")
	return nil
}
