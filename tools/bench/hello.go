package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cocoon-vm/cocoon/internal/timeline"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

// helloMarker is images/hello's first line: its main's first write.
const helloMarker = "hello from"

// runHello boots images/hello with the kernel 'mkimage build' gives an
// application that makes no sockets: the one without network
// (kbuild.Options.NoNetwork), which does not link gVisor's netstack or run
// its package initialisers. sysbench's rows (runApp) need the network
// for their loopback transfer, so their kernel has it.
func runHello(runs int, profile qemu.Profile, w io.Writer) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "cocoon-bench-hello")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := appimage.BuildGo(ctx, "./images/hello", "")
	if err != nil {
		return err
	}
	defer os.Remove(bin)
	cpio := filepath.Join(dir, "app.cpio")
	f, err := os.Create(cpio)
	if err != nil {
		return err
	}
	err = appimage.Pack(f, bin, nil)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	kernel := filepath.Join(dir, "cocoon-nonet.elf")
	if err := kbuild.Kernel(ctx, "./north/cocoon", kernel, kbuild.Options{NoNetwork: true}); err != nil {
		return err
	}
	var toMain []time.Duration
	var tls []timeline.Timeline
	for i := 0; i < runs; i++ {
		mw := &markWriter{marker: []byte(helloMarker)}
		mw.start = time.Now()
		res, err := qemu.Run(ctx, qemu.Config{Profile: profile, Kernel: kernel, Initrd: cpio, Append: timeline.CmdlineWord, MemoryMiB: 256, Console: mw})
		if err != nil {
			return fmt.Errorf("hello under Cocoon: %v", err)
		}
		tl, err := timeline.Find(res.Console)
		if err != nil {
			return fmt.Errorf("hello under Cocoon: %v", err)
		}
		toMain, tls = append(toMain, mw.at), append(tls, tl)
	}
	st, err := os.Stat(kernel)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nBoot timeline, images/hello under Cocoon built without network (as mkimage builds an application without sockets; kernel %d KiB), QEMU %s, TCG, 256 MiB, medians of %d runs:\n",
		st.Size()>>10, profile, runs)
	floor := writeTimeline(w, toMain, tls)
	fmt.Fprintf(w, "  %-44s %.2f (goal <= 3)\n", "ratio application main / floor", float64(median(toMain))/float64(floor))
	if km, ok := medianAt(tls, "kmain"); ok {
		fmt.Fprintf(w, "  %-44s %.2f (goal <= 2)\n", "ratio kernel main / floor", float64(floor+km)/float64(floor))
	}
	return nil
}
