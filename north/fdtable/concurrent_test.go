package fdtable

import (
	"fmt"
	"sync"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// TestConcurrentFiles has threads of one process create, write, read,
// rename, list and remove files at once, in their own directories and in
// a shared one, as a test for the race detector and for deadlocks. In the
// shared directory, names come and go under each thread's feet: only
// errors that races explain are allowed.
func TestConcurrentFiles(t *testing.T) {
	e := newEnv(t)
	e.f.Mkdir(e.m, e.str("/tmp/shared"), 0o755)
	const threads, rounds = 8, 40
	var wg sync.WaitGroup
	errs := make(chan string, threads*rounds)
	for g := 0; g < threads; g++ {
		own := fmt.Sprintf("/tmp/g%d", g)
		e.f.Mkdir(e.m, e.str(own), 0o755)
		buf := e.alloc(4096)
		dents := e.alloc(4096)
		paths := map[string]uint64{}
		for _, p := range []string{own + "/f", own + "/g", own, "/tmp/shared/x", "/tmp/shared/y", "/tmp/shared", "/etc/hosts"} {
			paths[p] = e.str(p)
		}
		// mem.ReadString reads up to 256 bytes at a time: keep the next
		// thread's buffers, which change under it, out of reach.
		e.alloc(512)
		wg.Add(1)
		go func() {
			defer wg.Done()
			check := func(what string, r int64, allowed ...int) {
				if r >= 0 {
					return
				}
				for _, a := range allowed {
					if r == neg(a) {
						return
					}
				}
				errs <- fmt.Sprintf("%s %s = %d", own, what, r)
			}
			for i := 0; i < rounds; i++ {
				fd := e.f.Openat(e.m, nil, linux.AtFdcwd, paths[own+"/f"], linux.OCreat|linux.ORdwr|linux.OTrunc, 0o644)
				check("create", fd)
				check("write", e.f.Write(e.m, nil, int32(fd), buf, 1000))
				check("pread", e.f.Pread64(e.m, int32(fd), buf, 4096, 0))
				check("rename own", e.f.Rename(e.m, paths[own+"/f"], paths[own+"/g"]))
				check("close", e.f.Close(int32(fd)))
				d := e.f.Openat(e.m, nil, linux.AtFdcwd, paths[own], linux.ORdonly|linux.ODirectory, 0)
				check("open dir", d)
				check("getdents", e.f.Getdents64(e.m, int32(d), dents, 4096))
				e.f.Close(int32(d))
				check("unlink own", e.f.Unlink(e.m, paths[own+"/g"]))
				// The shared directory: others may get there first.
				sfd := e.f.Openat(e.m, nil, linux.AtFdcwd, paths["/tmp/shared/x"], linux.OCreat|linux.OWronly, 0o644)
				check("create shared", sfd, linux.ENOENT)
				if sfd >= 0 {
					e.f.Write(e.m, nil, int32(sfd), buf, 10)
					e.f.Close(int32(sfd))
				}
				check("rename shared", e.f.Rename(e.m, paths["/tmp/shared/x"], paths["/tmp/shared/y"]), linux.ENOENT)
				check("unlink shared", e.f.Unlink(e.m, paths["/tmp/shared/y"]), linux.ENOENT)
				sd := e.f.Openat(e.m, nil, linux.AtFdcwd, paths["/tmp/shared"], linux.ORdonly|linux.ODirectory, 0)
				check("getdents shared", e.f.Getdents64(e.m, int32(sd), dents, 4096))
				e.f.Close(int32(sd))
				// Copy-up of one archive file by everyone at once.
				afd := e.f.Openat(e.m, nil, linux.AtFdcwd, paths["/etc/hosts"], linux.ORdwr, 0)
				check("open archive file", afd)
				check("write archive file", e.f.Pwrite64(e.m, int32(afd), buf, 3, int64(i)))
				e.f.Close(int32(afd))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
