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
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/internal/tcglog"
	"github.com/cocoon-vm/cocoon/internal/timeline"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/efiimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
	"github.com/cocoon-vm/cocoon/tools/linuxguest"
)

func main() {
	runs := flag.Int("runs", 7, "boots per figure (medians are printed)")
	profile := flag.String("profile", "microvm", "QEMU machine profile")
	linux := flag.Bool("linux", true, "compare against a Linux guest (Debian's cloud kernel, fetched once)")
	ovmf := flag.Bool("ovmf", true, "also boot through OVMF (UEFI firmware; seconds per boot under TCG)")
	httpLoad := flag.Bool("http", true, "also serve HTTP from inside Cocoon to a load generator on the host")
	netOnly := flag.Bool("net", false, "only the network rows (loopback TCP, HTTP), Cocoon and the Linux guest alternating for -runs rounds")
	loopback := flag.Bool("loopback", true, "with -net, also the in-guest loopback TCP row (without it, HTTP only)")
	flag.IntVar(&httpConcurrency, "conns", httpConcurrency, "HTTP load: connections, each sending its next request when the last is answered (1: the guest's own time per request, no queueing)")
	pgoDir := flag.String("pgo", "", "only serve the HTTP load (-requests, -conns) with the kernel's sampler on, building and writing in this directory (make pgo)")
	flag.IntVar(&httpRequests, "requests", httpRequests, "HTTP load: requests")
	flag.Parse()
	if httpConcurrency < 1 || httpConcurrency > httpRequests {
		fmt.Fprintf(os.Stderr, "bench: -conns %d: want 1 to %d\n", httpConcurrency, httpRequests)
		os.Exit(2)
	}
	if *pgoDir != "" {
		if err := runPGO(*pgoDir, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench: -pgo:", err)
			os.Exit(1)
		}
		return
	}
	if *netOnly {
		if err := runNet(*runs, *loopback, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*runs, qemu.Profile(*profile), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := runApp(*runs, qemu.Profile(*profile), *linux, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := runHello(*runs, qemu.Profile(*profile), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if *httpLoad {
		dir, err := os.MkdirTemp("", "cocoon-bench-http")
		if err == nil {
			err = runHTTP(dir, *linux, os.Stdout)
			os.RemoveAll(dir)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: HTTP:", err)
			os.Exit(1)
		}
	}
	if *ovmf {
		if err := runOVMF(*runs, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
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

// runApp boots images/sysbench as a Cocoon application and, for
// comparison, as /init of a minimal Linux guest in the same QEMU.
func runApp(runs int, profile qemu.Profile, withLinux bool, w io.Writer) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "cocoon-bench-app")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, cpio, kernel, err := buildSysbench(ctx, dir)
	if err != nil {
		return err
	}
	var toMain []time.Duration
	var tls []timeline.Timeline
	var getpid, getpidSys, clock, loop, forkExit, forkExec, pipeline []float64
	for i := 0; i < runs; i++ {
		mw := &markWriter{marker: []byte(linuxguest.MainReached)}
		mw.start = time.Now()
		// sysbench's loops (200000 calls each, a 16 MiB loopback
		// transfer, 20 forks) take tens of seconds on a loaded 2-core
		// machine under TCG: more than qemu.DefaultTimeout.
		res, err := qemu.Run(ctx, qemu.Config{Profile: profile, Kernel: kernel, Initrd: cpio, Append: timeline.CmdlineWord, MemoryMiB: 256, Console: mw, Timeout: 10 * time.Minute})
		if err != nil {
			return fmt.Errorf("sysbench under Cocoon: %v", err)
		}
		fig, err := linuxguest.ParseFigures(res.Console)
		if err != nil {
			return fmt.Errorf("sysbench under Cocoon: %v", err)
		}
		tl, err := timeline.Find(res.Console)
		if err != nil {
			return fmt.Errorf("sysbench under Cocoon: %v", err)
		}
		toMain, tls = append(toMain, mw.at), append(tls, tl)
		getpid, getpidSys, clock = append(getpid, fig.Getpid), append(getpidSys, fig.GetpidSyscall), append(clock, fig.ClockGettime)
		loop = append(loop, fig.LoopbackMBps())
		forkExit, forkExec = append(forkExit, fig.ForkExitWait), append(forkExec, fig.ForkExecWait)
		pipeline = append(pipeline, fig.ShellPipeline)
	}
	var lx linuxguest.Boot
	var lxErr error
	if withLinux {
		var files []linuxguest.File
		if bb, err := hostBusybox(); err == nil {
			files = append(files, linuxguest.File{Src: bb, Dst: busyboxPath})
		}
		r, err := linuxguest.Run(ctx, linuxguest.Options{Binary: bin, Files: files, Profile: profile, Runs: runs, MemoryMiB: 256})
		if err != nil {
			lxErr, withLinux = err, false
		} else {
			lx = r.Median()
		}
	}
	fmt.Fprintf(w, "\nBoot timeline, images/sysbench under Cocoon, QEMU %s, TCG, 256 MiB, medians of %d runs:\n", profile, runs)
	floor := writeTimeline(w, toMain, tls)
	fmt.Fprintf(w, "  %-44s %.2f (goal <= 3)\n", "ratio application main / floor", float64(median(toMain))/float64(floor))
	if km, ok := medianAt(tls, "kmain"); ok {
		fmt.Fprintf(w, "  %-44s %.2f (goal <= 2)\n", "ratio kernel main / floor", float64(floor+km)/float64(floor))
	}
	if withLinux {
		fmt.Fprintf(w, "  %-44s %.1f (goal >= 20)\n", "ratio Linux guest / Cocoon (application main)", float64(lx.ToMain)/float64(median(toMain)))
	}
	if err := writeInstructions(ctx, w, profile, kernel, cpio); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nApplication images/sysbench (static Go), QEMU %s, TCG, medians of %d runs:\n", profile, runs)
	fmt.Fprintf(w, "  %-44s %12s %12s\n", "", "Cocoon", "Linux guest")
	if lxErr != nil {
		fmt.Fprintf(w, "  (Linux guest unavailable: %v)\n", lxErr)
	}
	row := func(name, cocoon, linux string) {
		if !withLinux {
			linux = "-"
		}
		fmt.Fprintf(w, "  %-44s %12s %12s\n", name, cocoon, linux)
	}
	row("QEMU start to application main", ms(median(toMain)), ms(lx.ToMain))
	row("getpid round trip (RawSyscall)", fmt.Sprintf("%.0f ns", medianF(getpid)), fmt.Sprintf("%.0f ns", lx.Figures.Getpid))
	row("getpid round trip (syscall.Syscall)", fmt.Sprintf("%.0f ns", medianF(getpidSys)), fmt.Sprintf("%.0f ns", lx.Figures.GetpidSyscall))
	row("clock_gettime (time.Now, vDSO)", fmt.Sprintf("%.0f ns", medianF(clock)), fmt.Sprintf("%.0f ns", lx.Figures.ClockGettime))
	row("loopback TCP, 16 MiB in 64 KiB writes", fmt.Sprintf("%.1f MB/s", medianF(loop)), fmt.Sprintf("%.1f MB/s", lx.Figures.LoopbackMBps()))
	us := func(ns float64) string { return fmt.Sprintf("%.0f µs", ns/1e3) }
	row("fork + exit + wait4", us(medianF(forkExit)), us(lx.Figures.ForkExitWait))
	row("fork + exec (static Go, exits) + wait4", us(medianF(forkExec)), us(lx.Figures.ForkExecWait))
	if p := medianF(pipeline); p > 0 {
		row("sh -c 'a | b | c' + wait4 (busybox, 4 execs)", us(p), us(lx.Figures.ShellPipeline))
	} else if _, err := hostBusybox(); err != nil {
		fmt.Fprintf(w, "  (no shell pipeline row: %v)\n", err)
	}
	return nil
}

// writeInstructions boots images/sysbench once more under -icount
// shift=0,sleep=off, where guest time counts executed instructions (one
// nanosecond each), with -d in_asm logging every block QEMU translates,
// and prints the timeline's steps as instruction counts and blocks
// translated: figures the host's load does not move, for comparing trees
// on a busy machine (translation is where TCG's time goes:
// docs/KERNEL.md, "Boot time under TCG"; tools/tblocks says by whose
// code).
func writeInstructions(ctx context.Context, w io.Writer, profile qemu.Profile, kernel, cpio string) error {
	log := filepath.Join(filepath.Dir(cpio), "in_asm.log")
	defer os.Remove(log)
	res, err := qemu.Run(ctx, qemu.Config{Profile: profile, Kernel: kernel, Initrd: cpio, Append: "-n 1 " + timeline.CmdlineWord, MemoryMiB: 256,
		Extra: []string{"-icount", "shift=0,sleep=off", "-d", "in_asm", "-D", log}, Timeout: 10 * time.Minute})
	if err != nil {
		return fmt.Errorf("sysbench under -icount: %v", err)
	}
	tl, err := timeline.Find(res.Console)
	if err != nil {
		return fmt.Errorf("sysbench under -icount: %v", err)
	}
	firmware, phases, blocksErr := phaseBlocks(kernel, log, len(tl.Points))
	fmt.Fprintf(w, "\nGuest instructions and blocks translated per phase, one boot under -icount shift=0,sleep=off -d in_asm (load-independent):\n")
	if blocksErr == nil {
		fmt.Fprintf(w, "  %-10s %-44s %8s %7d blocks\n", "firmware", "before the first instruction (in the floor)", "", len(firmware))
	}
	var prev time.Duration
	total := 0
	for i, p := range tl.Points[1:] {
		fmt.Fprintf(w, "  %-10s %-44s %8.2f M", p.Name, timeline.Descriptions[p.Name], float64(p.At-prev)/1e6)
		if blocksErr == nil {
			fmt.Fprintf(w, " %7d blocks", len(phases[i]))
			total += len(phases[i])
		}
		fmt.Fprintln(w)
		prev = p.At
	}
	fmt.Fprintf(w, "  %-10s %-44s %8.2f M", "total", "to the application's main", float64(prev)/1e6)
	if blocksErr == nil {
		fmt.Fprintf(w, " %7d blocks\n", total)
	} else {
		fmt.Fprintf(w, "\n  (no blocks per phase: %v)\n", blocksErr)
	}
	return nil
}

// phaseBlocks reads the in_asm log of a boot of kernel and returns the
// firmware's blocks and each phase's after the entry (tcglog.Phases).
func phaseBlocks(kernel, log string, points int) ([]uint64, [][]uint64, error) {
	f, err := os.Open(log)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	blocks, err := tcglog.Blocks(f)
	if err != nil {
		return nil, nil, err
	}
	ksyms, err := tcglog.ReadSymbolsFile(kernel)
	if err != nil {
		return nil, nil, err
	}
	stops, err := tcglog.MarkReturns(kernel, ksyms)
	if err != nil {
		return nil, nil, err
	}
	entry, err := tcglog.PhysEntry(kernel)
	if err != nil {
		return nil, nil, err
	}
	return tcglog.Phases(blocks, entry, stops, points)
}

// busyboxPath is where images/sysbench runs busybox from for its shell
// pipeline, in both guests.
const busyboxPath = "/bin/busybox"

// hostBusybox returns the static busybox of Debian's busybox-static
// package, or one on PATH that is static.
func hostBusybox() (string, error) {
	if out, err := exec.Command("dpkg", "-L", "busybox-static").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasSuffix(l, "/bin/busybox") {
				return l, nil
			}
		}
	}
	p, err := exec.LookPath("busybox")
	if err != nil {
		return "", fmt.Errorf("busybox not found: apt-get install busybox-static")
	}
	if err := appimage.CheckStatic(p); err != nil {
		return "", fmt.Errorf("%s is not static (%v): apt-get install busybox-static", p, err)
	}
	return p, nil
}

// writeTimeline prints the boot timeline's medians per phase, with the
// floor first: QEMU's own start cost, host time to the application's
// main marker minus the guest's time from its first instruction to that
// main (its first write), per run. It returns the floor's median.
func writeTimeline(w io.Writer, toMain []time.Duration, tls []timeline.Timeline) time.Duration {
	var floors []time.Duration
	for i, tl := range tls {
		if at, ok := tl.At("appmain"); ok {
			floors = append(floors, toMain[i]-at)
		}
	}
	if len(floors) == 0 {
		fmt.Fprintln(w, "  (no run reached the application's main on the timeline)")
		return median(toMain)
	}
	floor := median(floors)
	fmt.Fprintf(w, "  %-10s %-44s %10s %10s\n", "phase", "", "at", "step")
	fmt.Fprintf(w, "  %-10s %-44s %10s %10s\n", "floor", "QEMU start to the first instruction (host)", timeline.MS(floor), timeline.MS(floor))
	var prev time.Duration
	for _, p := range tls[0].Points {
		at, _ := medianAt(tls, p.Name)
		fmt.Fprintf(w, "  %-10s %-44s %10s %10s\n", p.Name, timeline.Descriptions[p.Name], timeline.MS(floor+at), timeline.MS(at-prev))
		prev = at
	}
	fmt.Fprintf(w, "  %-10s %-44s %10s\n", "host", "QEMU start to the application's marker", timeline.MS(median(toMain)))
	return floor
}

// medianAt is the median time of the named phase over the timelines that
// have it.
func medianAt(tls []timeline.Timeline, name string) (time.Duration, bool) {
	var v []time.Duration
	for _, tl := range tls {
		if at, ok := tl.At(name); ok {
			v = append(v, at)
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	return median(v), true
}

func medianF(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// runOVMF times an application booted through OVMF (cocoon.efi with the
// application as -initrd) against a UEFI application that powers off at
// its first instruction: the firmware's own floor.
func runOVMF(runs int, w io.Writer) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "cocoon-bench-ovmf")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	_, cpio, kernel, err := buildSysbench(ctx, dir)
	if err != nil {
		return err
	}
	elfBytes, err := os.ReadFile(kernel)
	if err != nil {
		return err
	}
	efi, err := efiimage.Build(elfBytes, efiimage.Options{})
	if err != nil {
		return err
	}
	efiPath := filepath.Join(dir, "cocoon.efi")
	floorPath := filepath.Join(dir, "floor.efi")
	if err := os.WriteFile(efiPath, efi, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(floorPath, qemu.FloorEFIImage(), 0o644); err != nil {
		return err
	}
	var toMain, floor []time.Duration
	var tls []timeline.Timeline
	for i := 0; i < runs; i++ {
		mw := &markWriter{marker: []byte(linuxguest.MainReached)}
		mw.start = time.Now()
		res, err := qemu.Run(ctx, qemu.Config{Profile: qemu.OVMF, Kernel: efiPath, Initrd: cpio, Append: "-n 1000 " + timeline.CmdlineWord, MemoryMiB: 256, Console: mw})
		if err != nil {
			return fmt.Errorf("sysbench under OVMF: %v", err)
		}
		tl, err := timeline.Find(res.Console)
		if err != nil {
			return fmt.Errorf("sysbench under OVMF: %v", err)
		}
		m := mw.at
		tls = append(tls, tl)
		_, t, err := boot(qemu.Config{Profile: qemu.OVMF, Kernel: floorPath, MemoryMiB: 256}, "")
		if err != nil {
			return fmt.Errorf("floor EFI application: %v", err)
		}
		toMain, floor = append(toMain, m), append(floor, t)
	}
	fmt.Fprintf(w, "\nBoot through OVMF (UEFI), TCG, 256 MiB, medians of %d runs:\n", runs)
	fmt.Fprintf(w, "  %-44s %s\n", "QEMU start to application main (-kernel .efi)", ms(median(toMain)))
	fmt.Fprintf(w, "  %-44s %s\n", "floor: EFI application powers off at once", ms(median(floor)))
	fmt.Fprintf(w, "Boot timeline through OVMF (the floor includes the firmware):\n")
	fl := writeTimeline(w, toMain, tls)
	fmt.Fprintf(w, "  %-44s %.2f\n", "ratio application main / floor", float64(median(toMain))/float64(fl))
	return nil
}

// buildSysbench builds images/sysbench (a static binary, kept in dir),
// its application archive (with the host's static busybox at
// /bin/busybox, for the shell pipeline, when there is one) and the
// cocoon kernel, all in dir.
func buildSysbench(ctx context.Context, dir string) (bin, cpio, kernel string, err error) {
	built, err := appimage.BuildGo(ctx, "./images/sysbench", "")
	if err != nil {
		return "", "", "", err
	}
	bin = filepath.Join(dir, "sysbench")
	if err := os.Rename(built, bin); err != nil {
		return "", "", "", err
	}
	cpio = filepath.Join(dir, "app.cpio")
	f, err := os.Create(cpio)
	if err != nil {
		return "", "", "", err
	}
	var files []appimage.File
	if bb, err := hostBusybox(); err == nil {
		files = append(files, appimage.File{Src: bb, Dst: busyboxPath})
	}
	err = appimage.Pack(f, bin, files)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", "", err
	}
	kernel = filepath.Join(dir, "cocoon.elf")
	if err := kbuild.Kernel(ctx, "./north/cocoon", kernel, kbuild.Options{}); err != nil {
		return "", "", "", err
	}
	return bin, cpio, kernel, nil
}
