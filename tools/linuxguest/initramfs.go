package linuxguest

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/u-root/u-root/pkg/cpio"
)

// The console device Linux opens as init's stdin, stdout and stderr
// (Documentation/admin-guide/devices.txt: char 5:1 is /dev/console).
// The kernel does not mount devtmpfs on an initramfs by itself, so the
// node must be in the archive.
const (
	consoleMajor = 5
	consoleMinor = 1
)

// WriteInitramfs writes to w an uncompressed newc cpio archive that Linux
// can unpack as its initramfs: /init is init (the bytes of a static
// executable) and /dev/console is the console device. The archive is the
// same for the same init: no times, owners or host inode numbers.
//
// It is not compressed: the binary is a few MiB, and under TCG the guest
// unpacks gzip slower than QEMU loads the extra bytes.
func WriteInitramfs(w io.Writer, init []byte) error {
	records := []cpio.Record{
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, consoleMajor, consoleMinor),
		cpio.StaticRecord(init, cpio.Info{Name: "init", Mode: cpio.S_IFREG | 0o755}),
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
// is the file binary.
func BuildInitramfs(binary, dst string) error {
	init, err := os.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("initramfs: read init: %w", err)
	}
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	bw := bufio.NewWriter(f)
	err = WriteInitramfs(bw, init)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("initramfs: %w", cerr)
	}
	return err
}
