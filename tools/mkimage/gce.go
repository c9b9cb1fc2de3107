package main

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"time"
)

// gceDiskSize is the size of the disk a --format gce image holds: Compute
// Engine imports raw disks whose size is a whole number of GiB.
const gceDiskSize = 1 << 30

// gceDiskName is the one file Compute Engine reads from an image tarball.
const gceDiskName = "disk.raw"

// writeGCE writes NAME.tar.gz, the tarball Compute Engine imports as an
// image ('gcloud compute images create --source-uri'): the raw GPT disk
// rawPath (NAME.img's layout, padded to gceDiskSize) as disk.raw, in a
// GNU-format tar (what Google's instructions make with tar --format=oldgnu)
// compressed with gzip. Its header carries no time, owner or mode that
// differs between builds, so the same disk gives the same tarball.
func writeGCE(name, rawPath string, stdout io.Writer) error {
	raw, err := os.Open(rawPath)
	if err != nil {
		return err
	}
	defer raw.Close()
	st, err := raw.Stat()
	if err != nil {
		return err
	}
	if st.Size()%(1<<30) != 0 {
		return fmt.Errorf("%s: %d bytes, not a whole number of GiB as Compute Engine needs", rawPath, st.Size())
	}
	out := name + ".tar.gz"
	f, err := os.Create(out + ".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(out + ".tmp")
	zw, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     gceDiskName,
		Size:     st.Size(),
		Mode:     0o644,
		ModTime:  time.Unix(0, 0),
		Format:   tar.FormatGNU,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.Copy(tw, raw); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		return err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%d KiB: %s, a %d GiB raw GPT disk, for 'gcloud compute images create')\n", out, fi.Size()>>10, gceDiskName, st.Size()>>30)
	return nil
}
