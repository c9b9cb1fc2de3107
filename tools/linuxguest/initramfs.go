package linuxguest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// The console device Linux opens as init's stdin, stdout and stderr,
// and the null device (Documentation/admin-guide/devices.txt: char 5:1
// is /dev/console, 1:3 /dev/null). The kernel does not mount devtmpfs on
// an initramfs by itself, so the nodes must be in the archive.
const (
	consoleMajor = 5
	consoleMinor = 1
	nullMajor    = 1
	nullMinor    = 3
)

// File is a further file for the initramfs: the host file Src at the
// guest path Dst ("/bin/busybox"), executable.
type File struct {
	Src, Dst string
}

// WriteInitramfs writes to w an uncompressed newc cpio archive that Linux
// can unpack as its initramfs: /init is init (the bytes of a static
// executable), /dev/console the console device, /dev/null the null
// device, and each of files (guest path to contents) an executable at
// its path, with its directories. The archive is the same for the same
// contents: no times, owners or host inode numbers.
//
// It is not compressed: the binary is a few MiB, and under TCG the guest
// unpacks gzip slower than QEMU loads the extra bytes.
func WriteInitramfs(w io.Writer, init []byte, files map[string][]byte) error {
	records := []cpio.Record{
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, consoleMajor, consoleMinor),
		cpio.CharDev("dev/null", 0o666, nullMajor, nullMinor),
		cpio.StaticRecord(init, cpio.Info{Name: "init", Mode: cpio.S_IFREG | 0o755}),
	}
	dirs := map[string]bool{"dev": true}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rel := strings.TrimPrefix(path.Clean("/"+name), "/")
		if rel == "" || rel == "init" || rel == "dev" || strings.HasPrefix(rel, "dev/") {
			return fmt.Errorf("initramfs: %q: not a path the archive can hold besides /init and /dev", name)
		}
		// Parents first: the unpacker makes each directory in its parent.
		var parents []string
		for d := path.Dir(rel); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			parents = append(parents, d)
		}
		for i := len(parents) - 1; i >= 0; i-- {
			records = append(records, cpio.Directory(parents[i], 0o755))
		}
		records = append(records, cpio.StaticRecord(files[name], cpio.Info{Name: rel, Mode: cpio.S_IFREG | 0o755}))
	}
	for i := range records {
		// Distinct inode numbers and one link each: Linux treats
		// records with the same inode and NLink >= 2 as hard links.
		records[i].Ino = uint64(i + 1)
		records[i].NLink = 1
		records[i] = cpio.MakeReproducible(records[i])
	}
	rw := cpio.Newc.Writer(w)
	if err := cpio.WriteRecords(rw, records); err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	if err := cpio.WriteTrailer(rw); err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	return nil
}

// BuildInitramfs writes to dst the initramfs of WriteInitramfs whose /init
// is the file binary, with files.
func BuildInitramfs(binary, dst string, files ...File) error {
	init, err := os.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("initramfs: read init: %w", err)
	}
	extra := map[string][]byte{}
	for _, x := range files {
		b, err := os.ReadFile(x.Src)
		if err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
		extra[x.Dst] = b
	}
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	bw := bufio.NewWriter(f)
	err = WriteInitramfs(bw, init, extra)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("initramfs: %w", cerr)
	}
	return err
}
