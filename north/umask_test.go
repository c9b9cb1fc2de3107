package north

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/fdtable"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// TestUmaskReachesFiles checks umask(2) is served by the file layer, which
// keeps the mask and applies it when files are created, and not by a
// constant answer shadowing it in the system call table.
func TestUmaskReachesFiles(t *testing.T) {
	p, task, _ := newTest(t)
	fs, err := vfs.New(nil, vfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.SetFiles(fileTable{fdtable.New(fs, "/init")})
	const sysUmask = 95
	for _, step := range []struct{ set, wantOld int64 }{{0o077, 0o022}, {0o7777, 0o077}, {0o022, 0o777}} {
		if got := sc(task, sysUmask, uint64(step.set)); got != step.wantOld {
			t.Errorf("umask(%#o) = %#o, want the previous mask %#o", step.set, got, step.wantOld)
		}
	}
}

// fileTable adapts the descriptor table to Files, as north/run does.
type fileTable struct{ f *fdtable.Files }

func (f fileTable) Syscall(t FileContext, nr uint64, a [6]uint64) (int64, bool) {
	return f.f.Syscall(t.Memory(), t.Interrupted(), nr, a)
}

func (f fileTable) Pread(fd int32, buf []byte, off uint64) int64 { return f.f.Pread(fd, buf, off) }

func (f fileTable) Map(fd int32, inv func(from, to int64)) (mem.Pager, uint32, int64) {
	return f.f.Map(fd, inv)
}

func (f fileTable) MapsAnonymous(fd int32) bool { return f.f.MapsAnonymous(fd) }

func (f fileTable) MapAnon(size int64, inv func(from, to int64)) (mem.Pager, error) {
	return f.f.MapAnon(size, inv)
}

func (f fileTable) Clone(shareFiles, shareFS, thread bool) Files {
	return fileTable{f.f.Clone(shareFiles, shareFS, thread)}
}

func (f fileTable) Unshare(files, fs bool)             { f.f.Unshare(files, fs) }
func (f fileTable) Exec(exe Executable, argv []string) {} // not reached: OpenExec refuses
func (f fileTable) Release()                           { f.f.Release() }
func (f fileTable) TableBytes() int64                  { return f.f.TableBytes() }
func (f fileTable) TableShared() bool                  { return f.f.TableShared() }
func (f fileTable) CloseOnExec(fd int32) bool          { return false }

func (f fileTable) OpenExec(dirfd int32, path string, flags uint32) (Executable, string, int64) {
	return nil, "", -linux.ENOSYS
}
