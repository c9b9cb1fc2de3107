package kernel

// Starting the sampling profiler and printing its samples (prof.go).
// Goroutine context.

import (
	"bufio"
	"io"
	"strconv"
)

// StartProfile starts sampling the kernel every period nanoseconds (at
// least 10 µs: armTimer's shortest interval).
func StartProfile(period int64) {
	profPeriod = max(period, 10_000)
}

// WriteProfile stops the profiler and writes its samples to w, one line
// each: "PROF" and the interrupted PC and return addresses in hexadecimal,
// the format tools/pgo reads. It returns the number of samples written.
func WriteProfile(w io.Writer) (int, error) {
	profPeriod = 0 // a timer interrupt still pending records nothing
	n := min(profN, profSamples)
	bw := bufio.NewWriter(w)
	var line []byte
	for k := range n {
		e := &profBuf[(profN-n+k)%profSamples]
		line = append(line[:0], "PROF"...)
		for _, a := range e {
			if a == 0 {
				break
			}
			line = append(line, ' ')
			line = strconv.AppendUint(line, a, 16)
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return int(k), err
		}
	}
	return int(n), bw.Flush()
}
