package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cocoon-vm/cocoon/tools/appimage"
)

func init() {
	commands["pack"] = command{
		summary: "package a static linux/amd64 program and its files as an initrd (cpio with /init)",
		run:     runPack,
	}
}

// fileFlags collects repeated --file SRC[:DST] flags.
type fileFlags []appimage.File

func (f *fileFlags) String() string {
	var s []string
	for _, x := range *f {
		s = append(s, x.Src+":"+x.Dst)
	}
	return strings.Join(s, " ")
}

// Set parses SRC:DST, splitting at the last colon so a host path may
// contain colons; a lone SRC goes to /<base name of SRC>.
func (f *fileFlags) Set(v string) error {
	src, dst := v, ""
	if i := strings.LastIndex(v, ":"); i >= 0 {
		src, dst = v[:i], v[i+1:]
	}
	if src == "" {
		return errors.New("empty SRC")
	}
	if dst == "" {
		dst = "/" + filepath.Base(src)
	}
	if !strings.HasPrefix(dst, "/") {
		return fmt.Errorf("DST %q must be an absolute path in the application's file system", dst)
	}
	*f = append(*f, appimage.File{Src: src, Dst: dst})
	return nil
}

func runPack(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkimage pack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	elfPath := fs.String("elf", "", "use the already built static linux/amd64 executable `FILE` as /init instead of building PACKAGE")
	var files fileFlags
	fs.Var(&files, "file", "add the host file, directory (recursively) or symbolic link `SRC[:DST]` at DST in the archive (default /<base name of SRC>); repeatable")
	out := fs.String("o", "", "output `FILE` (default out/<name>.cpio, named after PACKAGE or the --elf file)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: mkimage pack [--elf FILE | PACKAGE] [--file SRC[:DST]]... [-o FILE]

Packages an application for Cocoon as an initrd: a cpio (newc) archive
holding the program as /init, the directories /dev, /etc, /proc and /tmp,
and the --file entries with their parent directories. PACKAGE is a Go main
package, built with the stock toolchain as a static executable
(GOOS=linux GOARCH=amd64 CGO_ENABLED=0); --elf takes a program built
elsewhere, which must be static and x86-64. The archive is reproducible:
the same inputs give the same bytes (the SEV-SNP launch measurement covers
them), so its SHA-256 is printed. Boot it with 'mkimage run --initrd FILE
KERNEL'.

Flags:`)
		fs.PrintDefaults()
	}
	// Flags may come before or after PACKAGE.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil
			}
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > 1 || (len(pos) == 1) == (*elfPath != "") {
		fmt.Fprintln(stderr, "mkimage pack: give either PACKAGE or --elf FILE")
		fs.Usage()
		return errUsage
	}

	init, name := *elfPath, ""
	if init != "" {
		name = strings.TrimSuffix(filepath.Base(init), filepath.Ext(init))
	} else {
		pkg := pos[0]
		name = filepath.Base(strings.TrimRight(pkg, "/"))
		if name == "." {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			name = filepath.Base(wd)
		}
		fmt.Fprintf(stderr, "mkimage: building %s\n", pkg)
		built, err := appimage.BuildGo(context.Background(), pkg, "")
		if err != nil {
			return err
		}
		defer os.Remove(built)
		init = built
	}
	if *out == "" {
		*out = filepath.Join("out", name+".cpio")
	}

	return packArchive(init, files, *out, stdout)
}

// packArchive checks init and writes the application archive to out,
// atomically, printing its size and SHA-256.
func packArchive(init string, files []appimage.File, out string, stdout io.Writer) error {
	if err := appimage.CheckStatic(init); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	// Write beside the output and rename, so a failure leaves no partial
	// archive behind.
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, h)}
	err = appimage.Pack(cw, init, files)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%d KiB, sha256 %x)\n", out, (cw.n+1023)>>10, h.Sum(nil))
	return nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
