package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// pgoPeriodUS is the kernel's sampling period for -pgo, in microseconds
// of -icount time (instructions: shift=0 makes one a nanosecond).
const pgoPeriodUS = 20

// runPGO builds the kernel and images/nettest in dir, serves the HTTP load
// with the kernel's sampler on (cocoon.prof) under -icount shift=0, so
// that samples fall evenly per guest instruction rather than per TCG
// host time, and writes the console to dir/console.txt: the PROF lines
// tools/pgo turns, with dir/cocoon.elf, into north/cocoon/default.pgo
// (make pgo).
func runPGO(dir string, w io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg, _, err := cocoonHTTPGuest(context.Background(), dir)
	if err != nil {
		return err
	}
	cfg.Append += fmt.Sprintf(" cocoon.prof=%d", pgoPeriodUS)
	cfg.Extra = append(cfg.Extra, "-icount", "shift=0")
	f, console, err := serveHTTPConsole(cfg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "console.txt"), []byte(console), 0o644); err != nil {
		return err
	}
	n := strings.Count(console, "\nPROF ")
	if n == 0 {
		return fmt.Errorf("the kernel printed no PROF samples:\n%s", console[max(0, len(console)-2000):])
	}
	fmt.Fprintf(w, "pgo: %d requests on %d connections, %.0f/s under -icount; %d samples in %s\n",
		httpRequests, httpConcurrency, f.rps, n, filepath.Join(dir, "console.txt"))
	return nil
}
