// Command tblocks measures a Cocoon boot as QEMU's TCG spends it,
// independently of the machine's load: it boots an application under
// QEMU with -icount shift=0,sleep=off (guest time counts instructions, so
// the boot timeline is in instructions) and -d in_asm (every block QEMU
// translates is logged), and prints how many blocks were translated before
// the kernel's main and before the application's main, each phase by the
// kernel package (or the application) their code belongs to.
//
//	go run ./tools/tblocks [-app ./images/hello] [-network=false] [-top 20]
//
// Under TCG a boot runs about ten million instructions but translates
// some fifteen thousand blocks at roughly 10 us each: the block count is
// what boot time follows (docs/KERNEL.md, "Boot time under TCG").
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := measure(*app, *network, *top, *keep, stdout); err != nil {
		fmt.Fprintln(stderr, "tblocks:", err)
		return 1
	}
	return 0
}

func measure(app string, network bool, top int, keep string, w io.Writer) error {
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
	res, err := qemu.Run(ctx, qemu.Config{
		Profile: qemu.Microvm, Kernel: kernel, Initrd: initrd, Append: timeline.CmdlineWord, MemoryMiB: 256,
		Timeout: 10 * time.Minute, Extra: []string{"-icount", "shift=0,sleep=off", "-d", "in_asm", "-D", log},
	})
	if err != nil {
		return fmt.Errorf("booting %s: %v", app, err)
	}
	tl, err := timeline.Find(res.Console)
	if err != nil {
		return err
	}
	ksyms, err := symbols(kernel)
	if err != nil {
		return err
	}
	asyms, err := symbols(bin)
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
	blocks, err := Blocks(f)
	f.Close()
	if err != nil {
		return err
	}
	parts := Split(blocks, kmain, amain)
	variant := "without network"
	if network {
		variant = "with network"
	}
	fmt.Fprintf(w, "%s on the kernel %s, microvm, -icount shift=0,sleep=off (1 ns = 1 instruction):\n", app, variant)
	fmt.Fprintf(w, "  timeline (instructions): %s\n", instructions(tl))
	fmt.Fprintf(w, "  blocks translated: %d before the kernel's main, %d more before the application's (%d in all, %d to QEMU's exit)\n",
		len(parts[0]), len(parts[1]), len(parts[0])+len(parts[1]), len(blocks))
	for i, name := range []string{"first instruction to the kernel's main", "kernel's main to the application's main"} {
		fmt.Fprintf(w, "\n%s, by package (%d blocks):\n", name, len(parts[i]))
		counts := Tally(parts[i], func(a uint64) string {
			if f := ksyms.Func(a); f != "" {
				return Package(f)
			}
			if f := asyms.Func(a); f != "" {
				return "application: " + Package(f)
			}
			return "(no symbol: firmware, vDSO)"
		})
		for j, c := range counts {
			if j == top {
				break
			}
			fmt.Fprintf(w, "  %6d  %s\n", c.Blocks, c.Name)
		}
	}
	return nil
}

func symbols(path string) (Symbols, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := ReadSymbols(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return s, nil
}

// instructions prints a timeline's points in millions of instructions.
func instructions(tl timeline.Timeline) string {
	var b strings.Builder
	for _, p := range tl.Points {
		fmt.Fprintf(&b, " %s=%.2fM", p.Name, float64(p.At)/1e6)
	}
	return strings.TrimSpace(b.String())
}
