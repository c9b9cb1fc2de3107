// Command sysbench measures the cost of a system call round trip and of
// reading the clock, from inside a guest. The same static binary runs as
// /init of a minimal Linux guest (the baseline, see tools/linuxguest) and
// as a Cocoon application, so the two print comparable figures.
//
// Its output is a contract with tools/linuxguest, which parses it:
//
//	sysbench: main reached
//	sysbench: getpid <ns> ns/call (<n> calls)
//	sysbench: getpid_syscall <ns> ns/call (<n> calls)
//	sysbench: clock_gettime <ns> ns/call (<n> calls)
//	sysbench: loopback_tcp_64k <ns> ns/call (<n> calls)
//	sysbench: fork_exit_wait <ns> ns/call (<n> calls)
//	sysbench: fork_exec_wait <ns> ns/call (<n> calls)
//	sysbench: shell_pipeline <ns> ns/call (<n> calls)
//
// getpid is a raw getpid(2) (syscall.RawSyscall, no scheduler hand-off),
// getpid_syscall the same call through syscall.Syscall, which also tells
// the Go scheduler it is entering and leaving a system call, and
// clock_gettime is time.Now, which Linux serves from the vDSO without
// entering the kernel. loopback_tcp_64k moves 64 KiB over a TCP
// connection to itself on 127.0.0.1 (one write, reads until all came);
// as /init of Linux it first brings the loopback interface up.
// fork_exit_wait is fork(2) of this process whose child exits at once,
// and wait4 for it; fork_exec_wait the same with the child executing
// /init (this program) with the single argument "exit", which makes it
// exit at the start of main: a static Go program's start-up and exit.
// shell_pipeline, measured only where /bin/busybox exists, is fork(2) of
// a child that executes busybox's sh with a pipeline of three commands,
// each busybox again by its path (so each is a fork and an exec of a
// static program), and wait4 for the shell.
//
// Usage: sysbench [-n calls]. As PID 1 (Linux's init) it powers the
// machine off instead of returning, since Linux panics when init exits.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// tcsbrk is the TCSBRK ioctl; with a non-zero argument it is tcdrain(3):
// it returns once the terminal has sent all queued output
// (ioctl_tty(2), "TCSBRK").
const tcsbrk = 0x5409

func main() {
	if len(os.Args) == 2 && os.Args[1] == "exit" {
		os.Exit(0) // fork_exec_wait's child
	}
	os.Stdout.WriteString("sysbench: main reached\n")
	status := 0
	if err := run(os.Args[1:]); err != nil {
		fmt.Println("sysbench: FAIL:", err)
		status = 1
	}
	if os.Getpid() == 1 {
		powerOff()
	}
	os.Exit(status)
}

func run(args []string) error {
	fs := flag.NewFlagSet("sysbench", flag.ContinueOnError)
	fs.SetOutput(os.Stdout)
	n := fs.Int("n", 200000, "calls per measurement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n <= 0 {
		return fmt.Errorf("-n %d: want a positive number of calls", *n)
	}

	report("getpid", *n, measure(*n, rawGetpid))
	report("getpid_syscall", *n, measure(*n, getpid))
	report("clock_gettime", *n, measure(*n, now))
	chunks := 256
	d, err := loopbackTCP(chunks)
	if err != nil {
		return fmt.Errorf("loopback TCP: %v", err)
	}
	report("loopback_tcp_64k", chunks, d)
	const forks = 20
	if d, err = measureErr(forks, forkExitWait); err != nil {
		return fmt.Errorf("fork+exit+wait: %v", err)
	}
	report("fork_exit_wait", forks, d)
	if d, err = measureErr(forks, forkExecWait); err != nil {
		return fmt.Errorf("fork+exec+wait: %v", err)
	}
	report("fork_exec_wait", forks, d)
	if _, err := os.Stat(busyboxPath); err == nil {
		const pipelines = 10
		if d, err = measureErr(pipelines, shellPipeline); err != nil {
			return fmt.Errorf("shell pipeline: %v", err)
		}
		report("shell_pipeline", pipelines, d)
	}
	return nil
}

// busyboxPath is where shell_pipeline's busybox must be.
const busyboxPath = "/bin/busybox"

// pipelineArgv is shell_pipeline's execve: busybox's sh running three
// commands joined by pipes, output discarded; pipefail makes any
// command's failure the shell's status.
var pipelineArgv = func() []*byte {
	var out []*byte
	for _, a := range []string{busyboxPath, "sh", "-c",
		"set -o pipefail; " + busyboxPath + " echo hello | " + busyboxPath + " cat | " + busyboxPath + " wc -c >/dev/null"} {
		p, _ := syscall.BytePtrFromString(a)
		out = append(out, p)
	}
	return append(out, nil)
}()

// shellPipeline forks a child that executes the shell pipeline, and
// waits for it.
func shellPipeline() error {
	pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e != 0 {
		return e
	}
	if pid == 0 {
		// unsafe: execve takes the path and the argv array by address.
		syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(pipelineArgv[0])), uintptr(unsafe.Pointer(&pipelineArgv[0])), 0)
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
	}
	return reap(int(pid), 0)
}

// measureErr is measure for a call that can fail.
func measureErr(n int, f func() error) (time.Duration, error) {
	var err error
	d := measure(n, func() {
		if e := f(); e != nil && err == nil {
			err = e
		}
	})
	return d, err
}

// execArgs are fork_exec_wait's path and argv, made before any fork: the
// child may only make raw system calls.
var execPath, execArgv = func() (*byte, []*byte) {
	path, _ := syscall.BytePtrFromString("/init")
	arg, _ := syscall.BytePtrFromString("exit")
	return path, []*byte{path, arg, nil}
}()

// forkExitWait forks a child that exits at once and waits for it. The
// child makes no call but exit_group: only the calling thread exists in
// it, and the Go runtime must not run there.
func forkExitWait() error {
	pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e != 0 {
		return e
	}
	if pid == 0 {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	return reap(int(pid), 0)
}

// forkExecWait forks a child that executes /init exit, and waits for it.
func forkExecWait() error {
	pid, _, e := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if e != 0 {
		return e
	}
	if pid == 0 {
		// unsafe: execve takes the path and the argv array by address.
		syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(execPath)), uintptr(unsafe.Pointer(&execArgv[0])), 0)
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
	}
	return reap(int(pid), 0)
}

// reap waits for child pid and checks it exited with status want.
func reap(pid, want int) error {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		break
	}
	if !ws.Exited() || ws.ExitStatus() != want {
		return fmt.Errorf("child %d ended with wait status %#x, want exit %d", pid, uint32(ws), want)
	}
	return nil
}

// loopbackTCP returns the time n 64 KiB writes take to arrive over a TCP
// connection on 127.0.0.1.
func loopbackTCP(n int) (time.Duration, error) {
	loopbackUp()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.CopyN(io.Discard, c, int64(n)<<16)
		done <- err
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, 64<<10)
	start := time.Now()
	for range n {
		if _, err := c.Write(buf); err != nil {
			return 0, err
		}
	}
	if err := <-done; err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// loopbackUp sets IFF_UP on "lo" (SIOCGIFFLAGS, SIOCSIFFLAGS on struct
// ifreq: name[16], flags int16; netdevice(7)): Linux boots with it down
// and only init scripts raise it. Elsewhere (Cocoon's loopback is always
// up) the ioctls fail and nothing changes.
func loopbackUp() {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return
	}
	defer syscall.Close(fd)
	var ifr [40]byte
	copy(ifr[:], "lo")
	// unsafe: the ioctls take the address of the struct ifreq.
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return
	}
	ifr[16] |= syscall.IFF_UP
	syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr[0])))
}

// measure returns the time n calls of f take, after n/10 untimed calls
// to warm caches (and, under QEMU's TCG, to translate the loop).
func measure(n int, f func()) time.Duration {
	for range n / 10 {
		f()
	}
	start := time.Now()
	for range n {
		f()
	}
	return time.Since(start)
}

func rawGetpid() { syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0) }

func getpid() { syscall.Syscall(syscall.SYS_GETPID, 0, 0, 0) }

func now() {
	//lint:ignore SA4017 the call is what is timed; Go does not elide it.
	time.Now()
}

func report(name string, n int, d time.Duration) {
	fmt.Printf("sysbench: %s %.1f ns/call (%d calls)\n", name, float64(d.Nanoseconds())/float64(n), n)
}

// powerOff drains the console and powers the machine off. Under QEMU's
// -no-reboot, QEMU then exits. Where reboot(2) is not offered (a Cocoon
// application may be PID 1 too), it returns and the caller exits.
func powerOff() {
	syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(os.Stdout.Fd()), tcsbrk, 1)
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
}
