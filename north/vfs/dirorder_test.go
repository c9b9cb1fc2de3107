package vfs

import (
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/u-root/u-root/pkg/cpio"
)

// TestDirOrder: a memory directory lists newest first, as tmpfs does on
// Linux since 6.14 and before 6.6 (a new dentry goes to the head of its
// parent's d_children; 6.6 to 6.13 list by offset, oldest first) and the
// initramfs does: names made since boot by when they were made
// (a rename or link makes the new name anew), then the archive's in
// reverse archive order. Natively, on tmpfs: touch b a d c; mkdir z;
// touch y; rm a; touch a; mv b e; ls -f lists ". .. e a y z c d".
func TestDirOrder(t *testing.T) {
	fs, err := New(makeArchive(t, cpio.Directory("d", 0o755), cpio.StaticFile("d/p", "", 0o644),
		cpio.StaticFile("d/o", "", 0o644), cpio.StaticFile("d/q", "", 0o644)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"b", "a", "d", "c"} {
		f, err := fs.Open(nil, fs.Root(), "/d/"+n, linux.OCreat|linux.OWronly, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.DecRef()
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fs.Mkdir(nil, fs.Root(), "/d/z", 0o755))
	must(fs.Symlink(nil, "a", fs.Root(), "/d/y"))
	must(fs.Unlink(nil, fs.Root(), "/d/a", false))
	f, err := fs.Open(nil, fs.Root(), "/d/a", linux.OCreat|linux.OWronly, 0o644)
	must(err)
	f.DecRef()
	must(fs.Rename(nil, fs.Root(), "/d/b", fs.Root(), "/d/e", 0))
	must(fs.Link(nil, fs.Root(), "/d/o", fs.Root(), "/d/h", false))
	must(fs.Unlink(nil, fs.Root(), "/d/p", false))

	f, err = fs.Open(nil, fs.Root(), "/d", linux.ORdonly|linux.ODirectory, 0)
	must(err)
	defer f.DecRef()
	var names []string
	f.Getdents(func(d Dirent) bool {
		names = append(names, d.Name)
		return true
	})
	if got, want := strings.Join(names, " "), ". .. h e a y z c d q o"; got != want {
		t.Errorf("/d lists %q, want %q", got, want)
	}
}
