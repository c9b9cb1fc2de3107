// Command tblocks measures a Cocoon boot as QEMU's TCG spends it,
// independently of the machine's load: it boots an application under
// QEMU with -icount shift=0,sleep=off (guest time counts instructions, so
// the boot timeline is in instructions) and -d in_asm (every block QEMU
// translates is logged), and prints how many blocks were translated before
// the kernel's main and before the application's main, then in each phase
// of the boot timeline (cut where each phase's kernel.Mark call first
// returns), by the package (or, with -funcs, the function) of the kernel
// or the application their code belongs to. With -exec it also logs every
// block's execution (-d exec,nochain) and counts each phase's executed
// instructions by function.
//
//	go run ./tools/tblocks [-app ./images/hello] [-network=false] [-top 20] [-funcs] [-exec -args '-n 0']
//
// Under TCG a boot runs about ten million instructions but translates
// some fifteen thousand blocks at roughly 10 us each: the block count is
// what boot time follows (docs/KERNEL.md, "Boot time under TCG").
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cocoon-vm/cocoon/internal/tcglog"
	"github.com/cocoon-vm/cocoon/internal/timeline"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tblocks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	app := fs.String("app", "./images/hello", "Go main `PACKAGE` of the application (its main.main ends the count)")
	network := fs.Bool("network", false, "build the kernel with network (gVisor's netstack), as mkimage does for an application that makes sockets")
	top := fs.Int("top", 20, "print the `N` largest packages of each phase")
	keep := fs.String("keep", "", "keep the kernel, archive and in_asm log in `DIR`")
	funcs := fs.Bool("funcs", false, "count blocks by function instead of by package")
	execs := fs.Bool("exec", false, "also log every block's execution (-d exec,nochain) and count each phase's instructions by function (a large log: give the application arguments that end it soon)")
	device := fs.Bool("netdev", false, "give the machine a network device (QEMU's user network): the network kernel then starts its stack and asks DHCP before the application runs")
	words := fs.String("args", "", "more `WORDS` for the kernel command line (the application's arguments)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := measure(*app, *network, *device, *top, *keep, *funcs, *execs, *words, stdout); err != nil {
		fmt.Fprintln(stderr, "tblocks:", err)
		return 1
	}
	return 0
}

func measure(app string, network, device bool, top int, keep string, funcs, execs bool, words string, w io.Writer) error {
	dir := keep
	if dir == "" {
		d, err := os.MkdirTemp("", "tblocks")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ctx := context.Background()
	bin, err := appimage.BuildGo(ctx, app, "")
	if err != nil {
		return err
	}
	defer os.Remove(bin)
	var archive bytes.Buffer
	if err := appimage.Pack(&archive, bin, nil); err != nil {
		return err
	}
	initrd, kernel, log := filepath.Join(dir, "app.cpio"), filepath.Join(dir, "kernel.elf"), filepath.Join(dir, "in_asm.log")
	if err := os.WriteFile(initrd, archive.Bytes(), 0o644); err != nil {
		return err
	}
	if err := kbuild.Kernel(ctx, "./north/cocoon", kernel, kbuild.Options{PVHOnly: true, NoNetwork: !network}); err != nil {
		return err
	}
	items := "in_asm"
	if execs {
		items = "in_asm,exec,nochain"
	}
	cfg := qemu.Config{
		Profile: qemu.Microvm, Kernel: kernel, Initrd: initrd, Append: strings.TrimSpace(words + " " + timeline.CmdlineWord), MemoryMiB: 256,
		Timeout: 10 * time.Minute, Extra: []string{"-icount", "shift=0,sleep=off", "-d", items, "-D", log},
	}
	if device {
		cfg.Net = &qemu.Net{}
	}
	res, err := qemu.Run(ctx, cfg)
	var exit *qemu.ExitError
	if errors.As(err, &exit) {
		// The boot is measured to the application's main; its exit
		// status (images/sysbench fails on -n 0, to end soon) does not
		// matter.
		fmt.Fprintf(w, "(%s exited with status %d)\n", app, exit.Status)
	} else if err != nil {
		return fmt.Errorf("booting %s: %v", app, err)
	}
	tl, err := timeline.Find(res.Console)
	if err != nil {
		return err
	}
	ksyms, err := tcglog.ReadSymbolsFile(kernel)
	if err != nil {
		return err
	}
	asyms, err := tcglog.ReadSymbolsFile(bin)
	if err != nil {
		return err
	}
	kmain, ok1 := ksyms.Addr("main.main")
	amain, ok2 := asyms.Addr("main.main")
	if !ok1 || !ok2 {
		return fmt.Errorf("no main.main in the kernel's or the application's symbols")
	}
	f, err := os.Open(log)
	if err != nil {
		return err
	}
	blocks, err := tcglog.Blocks(f)
	f.Close()
	if err != nil {
		return err
	}
	parts := tcglog.Split(blocks, kmain, amain)
	variant := "without network"
	if network {
		variant = "with network"
	}
	fmt.Fprintf(w, "%s on the kernel %s, microvm, -icount shift=0,sleep=off (1 ns = 1 instruction):\n", app, variant)
	fmt.Fprintf(w, "  timeline (instructions): %s\n", instructions(tl))
	fmt.Fprintf(w, "  blocks translated: %d before the kernel's main, %d more before the application's (%d in all, %d to QEMU's exit)\n",
		len(parts[0]), len(parts[1]), len(parts[0])+len(parts[1]), len(blocks))
	name := tcglog.Package
	if funcs {
		name = func(f string) string { return f }
	}
	pkg := func(a uint64) string {
		if f := ksyms.Func(a); f != "" {
			return name(f)
		}
		if f := asyms.Func(a); f != "" {
			return "application: " + name(f)
		}
		return "(no symbol: firmware, vDSO)"
	}
	for i, name := range []string{"first instruction to the kernel's main", "kernel's main to the application's main"} {
		fmt.Fprintf(w, "\n%s (%d blocks):\n", name, len(parts[i]))
		writeTally(w, tcglog.Tally(parts[i], pkg), top)
	}
	stops, err := tcglog.MarkReturns(kernel, ksyms)
	if err != nil {
		return err
	}
	entry, err := tcglog.PhysEntry(kernel)
	if err != nil {
		return err
	}
	if err := writePhases(w, entry, stops, blocks, tl, pkg, top); err != nil {
		return err
	}
	if !execs {
		return nil
	}
	if f, err = os.Open(log); err != nil {
		return err
	}
	runs, err := tcglog.Runs(f)
	f.Close()
	if err != nil {
		return err
	}
	return writeExecs(w, entry, stops, runs, tl, func(a uint64) string {
		if f := ksyms.Func(a); f != "" {
			return f
		}
		if f := asyms.Func(a); f != "" {
			return "application: " + f
		}
		return "(no symbol: firmware, vDSO)"
	}, top)
}

// writeExecs prints each phase's executed instructions by function: the
// phases cut at the first execution of each kernel.Mark return.
func writeExecs(w io.Writer, entry uint64, stops []uint64, runs []tcglog.Run, tl timeline.Timeline, name func(uint64) string, top int) error {
	first := slices.IndexFunc(runs, func(r tcglog.Run) bool { return r.Addr == entry })
	if first < 0 {
		return fmt.Errorf("the kernel's entry %#x never ran", entry)
	}
	runs = runs[first:] // the firmware's are not the timeline's
	addrs := make([]uint64, len(runs))
	for i, r := range runs {
		addrs[i] = r.Addr
	}
	parts := tcglog.SplitFirst(addrs, stops)
	if len(parts) < len(tl.Points) {
		return fmt.Errorf("%d kernel.Mark returns executed for %d timeline points", len(parts)-1, len(tl.Points)-1)
	}
	fmt.Fprintf(w, "\ninstructions executed by phase (-d exec,nochain), by function:\n")
	at := 0
	for i := 1; i < len(tl.Points); i++ {
		m := map[string]int{}
		total := 0
		for _, r := range runs[at : at+len(parts[i-1])] {
			m[name(r.Addr)] += r.Insns
			total += r.Insns
		}
		at += len(parts[i-1])
		counts := make([]tcglog.Count, 0, len(m))
		for k, v := range m {
			counts = append(counts, tcglog.Count{Name: k, Blocks: v})
		}
		sort.Slice(counts, func(i, j int) bool {
			if counts[i].Blocks != counts[j].Blocks {
				return counts[i].Blocks > counts[j].Blocks
			}
			return counts[i].Name < counts[j].Name
		})
		p := tl.Points[i]
		fmt.Fprintf(w, "\n  %-8s %9d instructions (timeline: %d)\n", p.Name, total, p.At-tl.Points[i-1].At)
		writeTally(w, counts, top)
	}
	return nil
}

// writePhases prints the blocks of each phase of the timeline, by
// package: a phase's blocks are those translated from the first return
// of the kernel.Mark call that ends the phase before it up to that of
// its own (the printing of the timeline, at the application's first
// write, falls in the last phase).
func writePhases(w io.Writer, entry uint64, stops []uint64, blocks []uint64, tl timeline.Timeline, pkg func(uint64) string, top int) error {
	// The firmware runs before the kernel's entry: QEMU's start, as the
	// floor's empty guest has it, not a phase of the timeline.
	firmware, parts, err := tcglog.Phases(blocks, entry, stops, len(tl.Points))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d blocks of the firmware before the kernel's entry (%#x)\n", len(firmware), entry)
	fmt.Fprintf(w, "\nby phase (instructions from the timeline, blocks from the first return of each phase's kernel.Mark):\n")
	after := len(blocks) - len(firmware)
	for i := 1; i < len(tl.Points); i++ {
		p := tl.Points[i]
		fmt.Fprintf(w, "\n  %-8s %8.3f M %6d blocks  %s\n", p.Name, float64(p.At-tl.Points[i-1].At)/1e6, len(parts[i-1]), timeline.Descriptions[p.Name])
		writeTally(w, tcglog.Tally(parts[i-1], pkg), top)
		after -= len(parts[i-1])
	}
	fmt.Fprintf(w, "\n  after    %6d blocks to QEMU's exit\n", after)
	return nil
}

func writeTally(w io.Writer, counts []tcglog.Count, top int) {
	for j, c := range counts {
		if j == top {
			break
		}
		fmt.Fprintf(w, "  %6d  %s\n", c.Blocks, c.Name)
	}
}

// instructions prints a timeline's points in millions of instructions.
func instructions(tl timeline.Timeline) string {
	var b strings.Builder
	for _, p := range tl.Points {
		fmt.Fprintf(&b, " %s=%.2fM", p.Name, float64(p.At)/1e6)
	}
	return strings.TrimSpace(b.String())
}
