// Command bench prints Cocoon's performance figures: boot times under QEMU
// against an empty guest (the floor) and the kernel image size. It is what
// `make bench` runs; tests never assert on these numbers.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

func main() {
	runs := flag.Int("runs", 7, "boots per figure (medians are printed)")
	profile := flag.String("profile", "microvm", "QEMU machine profile")
	flag.Parse()
	if err := run(*runs, qemu.Profile(*profile), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// markWriter records when a marker first appears in a stream.
type markWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker []byte
	start  time.Time
	at     time.Duration
}

func (m *markWriter) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf.Write(p)
	if m.at == 0 && bytes.Contains(m.buf.Bytes(), m.marker) {
		m.at = time.Since(m.start)
	}
	return len(p), nil
}

// boot runs one guest and returns the time to the marker (0 if none) and
// to QEMU's exit, both from just before QEMU is started.
func boot(cfg qemu.Config, marker string) (toMarker, total time.Duration, err error) {
	mw := &markWriter{marker: []byte(marker)}
	cfg.Console = mw
	mw.start = time.Now()
	_, err = qemu.Run(context.Background(), cfg)
	total = time.Since(mw.start)
	return mw.at, total, err
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

func run(runs int, profile qemu.Profile, w io.Writer) error {
	dir, err := os.MkdirTemp("", "cocoon-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	kernel := filepath.Join(dir, "selftest.elf")
	if err := kbuild.Kernel(context.Background(), "./images/selftest", kernel, kbuild.Options{}); err != nil {
		return err
	}
	floor := filepath.Join(dir, "floor.elf")
	if err := os.WriteFile(floor, qemu.FloorImage(), 0o644); err != nil {
		return err
	}

	var toMain, toOff, floorOff []time.Duration
	for i := 0; i < runs; i++ {
		m, t, err := boot(qemu.Config{Profile: profile, Kernel: kernel, Append: "exit 0", MemoryMiB: 256}, "selftest: main reached")
		if err != nil {
			return fmt.Errorf("selftest boot: %v", err)
		}
		if m == 0 {
			return fmt.Errorf("selftest never reached main")
		}
		toMain, toOff = append(toMain, m), append(toOff, t)
		_, f, err := boot(qemu.Config{Profile: profile, Kernel: floor, MemoryMiB: 256}, "")
		if err != nil {
			return fmt.Errorf("floor boot: %v", err)
		}
		floorOff = append(floorOff, f)
	}
	st, err := os.Stat(kernel)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Boot under QEMU %s, TCG, 256 MiB, medians of %d runs (wall time from starting QEMU):\n", profile, runs)
	fmt.Fprintf(w, "  %-44s %s\n", "kernel main reached (images/selftest)", ms(median(toMain)))
	fmt.Fprintf(w, "  %-44s %s\n", "kernel powered off (exit 0 from main)", ms(median(toOff)))
	fmt.Fprintf(w, "  %-44s %s\n", "floor: empty guest powers off at once", ms(median(floorOff)))
	fmt.Fprintf(w, "  %-44s %.2f\n", "ratio main reached / floor", float64(median(toMain))/float64(median(floorOff)))
	fmt.Fprintf(w, "  %-44s %.2f\n", "ratio powered off / floor", float64(median(toOff))/float64(median(floorOff)))
	fmt.Fprintf(w, "  %-44s %d KiB\n", "kernel image size", st.Size()>>10)
	return nil
}
