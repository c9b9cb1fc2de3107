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
//
// getpid is a raw getpid(2) (syscall.RawSyscall, no scheduler hand-off),
// getpid_syscall the same call through syscall.Syscall, which also tells
// the Go scheduler it is entering and leaving a system call, and
// clock_gettime is time.Now, which Linux serves from the vDSO without
// entering the kernel.
//
// Usage: sysbench [-n calls]. As PID 1 (Linux's init) it powers the
// machine off instead of returning, since Linux panics when init exits.
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"
)

// tcsbrk is the TCSBRK ioctl; with a non-zero argument it is tcdrain(3):
// it returns once the terminal has sent all queued output
// (ioctl_tty(2), "TCSBRK").
const tcsbrk = 0x5409

func main() {
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
	return nil
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
