// Command mmapgo checks file mappings from Go (syscall.Mmap and the raw
// calls): coherence with pread/pwrite, two mappings, private copies,
// munmap/close/reopen, truncation and mremap. Its output must be the same
// natively and inside Cocoon (north/mmap_vm_test.go). Usage: mmapgo DIR
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"unsafe"
)

const pg = 4096

func main() {
	dir := "/tmp"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := run(filepath.Join(dir, "mmapgo.dat")); err != nil {
		fmt.Println("mmapgo:", err)
		os.Exit(1)
	}
	fmt.Println("mmapgo: done")
}

func check(what string, ok bool) {
	if ok {
		fmt.Printf("%s: ok\n", what)
	} else {
		fmt.Printf("%s: FAIL\n", what)
	}
}

func run(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	if err := f.Truncate(4 * pg); err != nil {
		return err
	}
	fd := int(f.Fd())
	m, err := syscall.Mmap(fd, 0, 4*pg, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap: %v", err)
	}
	f.WriteAt([]byte("written"), 10)
	check("WriteAt seen through the mapping", string(m[10:17]) == "written")
	copy(m[pg+5:], "stored")
	b := make([]byte, 6)
	f.ReadAt(b, pg+5)
	check("store seen by ReadAt", string(b) == "stored")

	m2, err := syscall.Mmap(fd, 2*pg, 2*pg, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("second mmap: %v", err)
	}
	copy(m2[100:], "via m2")
	check("two mappings agree", string(m[2*pg+100:2*pg+106]) == "via m2")

	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			m[3*pg+i] = byte('a' + i)
		}(i)
	}
	wg.Wait()
	b = make([]byte, 8)
	f.ReadAt(b, 3*pg)
	check("goroutines' stores seen by ReadAt", string(b) == "abcdefgh")

	p, err := syscall.Mmap(fd, 0, 4*pg, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		return fmt.Errorf("private mmap: %v", err)
	}
	copy(p[10:], "PRIVATE")
	check("private copy kept apart", string(m[10:17]) == "written" && string(p[10:17]) == "PRIVATE")
	f.WriteAt([]byte("later"), pg+20)
	check("private mapping follows the file where not written", string(p[pg+20:pg+25]) == "later")

	_, _, e := syscall.Syscall(syscall.SYS_MSYNC, uintptr(unsafe.Pointer(&m[0])), 4*pg, syscall.MS_SYNC)
	check("msync MS_SYNC", e == 0)
	_, _, e = syscall.Syscall(syscall.SYS_MSYNC, uintptr(unsafe.Pointer(&m[0])), pg, syscall.MS_SYNC|syscall.MS_ASYNC)
	check("msync MS_SYNC|MS_ASYNC is EINVAL", e == syscall.EINVAL)

	syscall.Munmap(m2)
	syscall.Munmap(m)
	f.Close()
	data, err := os.ReadFile(path)
	check("data kept after munmap and close", err == nil && bytes.Contains(data, []byte("via m2")) && bytes.Contains(data, []byte("stored")))

	f, err = os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fd = int(f.Fd())
	m, err = syscall.Mmap(fd, 0, 4*pg, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap after reopen: %v", err)
	}
	check("reopened mapping sees old stores", string(m[pg+5:pg+11]) == "stored")

	// mremap: moving and growing the mapping onto a reserved range keeps
	// the bytes and the sharing.
	r, err := syscall.Mmap(-1, 0, 64*pg, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return fmt.Errorf("reserving: %v", err)
	}
	const mayMove, fixed = 1, 2 // MREMAP_MAYMOVE, MREMAP_FIXED
	_, _, e = syscall.Syscall6(syscall.SYS_MREMAP, uintptr(unsafe.Pointer(&m[0])), 4*pg, 8*pg,
		mayMove|fixed, uintptr(unsafe.Pointer(&r[0])), 0)
	check("mremap grow to a fixed place", e == 0)
	if e == 0 {
		check("mremap kept the bytes", string(r[pg+5:pg+11]) == "stored")
		f.WriteAt([]byte("after"), 50)
		check("moved mapping still shared", string(r[50:55]) == "after")
		f.Truncate(2 * pg)
		check("truncated tail of the moved mapping reads zero after regrowth", f.Truncate(4*pg) == nil && r[3*pg] == 0)
	}
	return nil
}
