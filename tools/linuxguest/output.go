package linuxguest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The lines images/sysbench prints; see its package comment.
const (
	// linePrefix starts every line of sysbench.
	linePrefix = "sysbench: "
	// MainReached is the first line sysbench prints, the moment Run
	// times a boot to.
	MainReached = linePrefix + "main reached"
	// perCall follows a figure: "sysbench: <name> <ns> ns/call ...".
	perCall = "ns/call"
)

// Names of the sysbench figures.
const (
	nameGetpid        = "getpid"
	nameGetpidSyscall = "getpid_syscall"
	nameClockGettime  = "clock_gettime"
	nameLoopbackTCP   = "loopback_tcp_64k"
	nameForkExitWait  = "fork_exit_wait"
	nameForkExecWait  = "fork_exec_wait"
	nameShellPipeline = "shell_pipeline"
)

// Figures are the costs sysbench measured in the guest, in nanoseconds
// per call.
type Figures struct {
	// Getpid is a getpid(2) round trip through syscall.RawSyscall.
	Getpid float64
	// GetpidSyscall is getpid(2) through syscall.Syscall, which also
	// tells the Go scheduler about the call.
	GetpidSyscall float64
	// ClockGettime is time.Now: Linux's vDSO clock_gettime.
	ClockGettime float64
	// LoopbackTCP64K is a 64 KiB write arriving over TCP on 127.0.0.1;
	// 0 if the output had no such line (a sysbench from before it).
	LoopbackTCP64K float64
	// ForkExitWait is fork, the child's exit and the parent's wait4;
	// ForkExecWait the same with the child executing a static Go
	// program that exits at once. 0 if not measured.
	ForkExitWait, ForkExecWait float64
	// ShellPipeline is fork, exec of busybox sh -c with a pipeline of
	// three static programs, and wait4; 0 if not measured (no
	// /bin/busybox in the guest).
	ShellPipeline float64
}

// LoopbackMBps returns the loopback TCP throughput in MB/s, 0 if not
// measured.
func (f Figures) LoopbackMBps() float64 {
	if f.LoopbackTCP64K == 0 {
		return 0
	}
	return 65536 / f.LoopbackTCP64K * 1e3
}

// ParseFigures returns the figures in sysbench's console output. Lines
// may end in "\r\n" (a Linux tty) and be mixed with other output. It is
// an error if a figure is missing, repeated or not a positive number.
func ParseFigures(console string) (Figures, error) {
	var f Figures
	fields := map[string]*float64{
		nameGetpid:        &f.Getpid,
		nameGetpidSyscall: &f.GetpidSyscall,
		nameClockGettime:  &f.ClockGettime,
		nameLoopbackTCP:   &f.LoopbackTCP64K,
		nameForkExitWait:  &f.ForkExitWait,
		nameForkExecWait:  &f.ForkExecWait,
		nameShellPipeline: &f.ShellPipeline,
	}
	seen := map[string]bool{}
	for line := range strings.Lines(console) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), linePrefix)
		if !ok {
			continue
		}
		w := strings.Fields(rest)
		if len(w) < 3 || w[2] != perCall {
			continue
		}
		dst, ok := fields[w[0]]
		if !ok {
			continue
		}
		if seen[w[0]] {
			return Figures{}, fmt.Errorf("sysbench output: %s printed twice", w[0])
		}
		v, err := strconv.ParseFloat(w[1], 64)
		if err != nil || !(v > 0 && v < math.Inf(1)) {
			return Figures{}, fmt.Errorf("sysbench output: %s: %q is not a positive number of ns/call", w[0], w[1])
		}
		*dst, seen[w[0]] = v, true
	}
	for _, name := range []string{nameGetpid, nameGetpidSyscall, nameClockGettime} {
		if !seen[name] {
			return Figures{}, fmt.Errorf("sysbench output: no %q line", linePrefix+name+" <ns> "+perCall)
		}
	}
	return f, nil
}
