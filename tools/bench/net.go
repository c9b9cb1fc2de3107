package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/linuxguest"
)

// runNet prints only the network rows, Cocoon and the Linux guest
// interleaved boot by boot (-net): the in-guest loopback TCP transfer of
// images/sysbench (its other loops shortened) and the HTTP load
// through --publish, runs rounds of each. On a loaded machine, where
// wall-clock figures swing with the load, alternating the two guests
// exposes them to the same load; each round's pair is printed as well
// as the medians.
// Without loopback only the HTTP rows are measured.
func runNet(runs int, loopback bool, w io.Writer) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "cocoon-bench-net")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, cpio, kernel, err := buildSysbench(ctx, dir)
	if err != nil {
		return err
	}
	httpCocoon, app, err := cocoonHTTPGuest(ctx, dir)
	if err != nil {
		return err
	}
	httpLinux, err := linuxHTTPGuest(ctx, dir, app)
	if err != nil {
		return err
	}
	// sysbench's other loops shortened, though not so far that the
	// Linux guest's clock (jiffies until its TSC is trusted) cannot
	// time them.
	const calls = "20000"
	var loC, loL, rpsC, rpsL, medC, medL []float64
	fmt.Fprintf(w, "Network rows only, QEMU microvm, TCG, Cocoon and the Linux guest alternating, %d rounds, HTTP over %d connections:\n", runs, httpConcurrency)
	fmt.Fprintf(w, "  %-6s %24s %24s %28s %28s\n", "round", "loopback Cocoon MB/s", "loopback Linux MB/s", "HTTP Cocoon req/s, median", "HTTP Linux req/s, median")
	for i := range runs {
		var fig, l linuxguest.Figures
		if loopback {
			if fig, l, err = loopbackRound(ctx, kernel, cpio, bin, calls); err != nil {
				return err
			}
		}
		hc, err := serveHTTP(httpCocoon)
		if err != nil {
			return fmt.Errorf("HTTP, Cocoon: %v", err)
		}
		hl, err := serveHTTP(httpLinux)
		if err != nil {
			return fmt.Errorf("HTTP, Linux guest: %v", err)
		}
		loC, loL = append(loC, fig.LoopbackMBps()), append(loL, l.LoopbackMBps())
		rpsC, rpsL = append(rpsC, hc.rps), append(rpsL, hl.rps)
		medC, medL = append(medC, float64(hc.median)), append(medL, float64(hl.median))
		fmt.Fprintf(w, "  %-6d %24.1f %24.1f %20.0f %7s %20.0f %7s\n", i+1, fig.LoopbackMBps(), l.LoopbackMBps(),
			hc.rps, ms(hc.median), hl.rps, ms(hl.median))
		fmt.Fprintf(w, "  %-6s %54s %28s %28s\n", "", "latency mean; p10/p50/p90/p99/max ms:", hc.dist(), hl.dist())
	}
	fmt.Fprintf(w, "  %-6s %24.1f %24.1f %20.0f %7s %20.0f %7s\n", "median", medianF(loC), medianF(loL),
		medianF(rpsC), ms(time.Duration(medianF(medC))), medianF(rpsL), ms(time.Duration(medianF(medL))))
	return nil
}

// loopbackRound boots sysbench (bin, with calls iterations of its other
// loops) in Cocoon and in the Linux guest and returns their figures.
func loopbackRound(ctx context.Context, kernel, cpio, bin, calls string) (linuxguest.Figures, linuxguest.Figures, error) {
	res, err := qemu.Run(ctx, qemu.Config{Profile: qemu.Microvm, Kernel: kernel, Initrd: cpio, Append: "-n " + calls, MemoryMiB: 256, Timeout: 10 * time.Minute})
	if err != nil {
		return linuxguest.Figures{}, linuxguest.Figures{}, fmt.Errorf("sysbench under Cocoon: %v", err)
	}
	fig, err := linuxguest.ParseFigures(res.Console)
	if err != nil {
		return linuxguest.Figures{}, linuxguest.Figures{}, fmt.Errorf("sysbench under Cocoon: %v", err)
	}
	// The Linux guest's clock ticks in jiffies until it trusts its
	// TSC, and now and then a shortened loop of sysbench's measures
	// as 0 ns, which linuxguest refuses: boot it again.
	var lx linuxguest.Result
	for try := 1; ; try++ {
		lx, err = linuxguest.Run(ctx, linuxguest.Options{Binary: bin, Args: []string{"-n", calls}, Profile: qemu.Microvm, MemoryMiB: 256, Timeout: 10 * time.Minute})
		if err == nil {
			break
		}
		if try == 3 {
			return linuxguest.Figures{}, linuxguest.Figures{}, err
		}
	}
	return fig, lx.Median().Figures, nil
}
