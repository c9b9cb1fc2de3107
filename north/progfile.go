package north

import (
	"errors"
	"io"

	"github.com/cocoon-vm/cocoon/north/mem"
)

// Program files: execve maps a program's segments from the file's page
// cache as private file mappings, as Linux's load_elf_binary does
// (fs/binfmt_elf.c elf_map: vm_mmap(MAP_PRIVATE|MAP_FIXED)). Every
// process running a program then executes the same physical frames until
// it writes one (the write copies the page, mm.go), so the frames stay
// what the file holds, nothing is copied at exec, and under QEMU's TCG,
// which keeps its translations per physical page, an exec reuses the
// translations of the program's earlier runs.

// Executable is a program file execve opened (ProcessFiles.OpenExec).
type Executable interface {
	// ReadAt reads the file's bytes at off (io.ReaderAt).
	io.ReaderAt
	// Size is the file's size in bytes.
	Size() int64
	// Map returns a new mapping of the file's pages whose pages leaving
	// the file are reported to inv, or ErrNotMappable for a file without
	// pages to map.
	Map(inv func(from, to int64)) (mem.Pager, error)
	// Close releases the file (its mappings keep what they map).
	Close()
	// Dup returns the file again, for Close to release once more: an
	// address space holds its program's file, which denies it writers
	// (kernel/fork.c set_mm_exe_file, dup_mm_exe_file).
	Dup() Executable
	// Readable reports whether the process that opened it may read it;
	// a process that runs a program it may not read is not dumpable
	// (fs/exec.c would_dump).
	Readable() bool
}

// ErrNotMappable is returned for a program file whose pages cannot be
// mapped, or an address space that cannot map them: its loader copies
// the bytes instead.
var ErrNotMappable = errors.New("the file's pages cannot be mapped")

// ProgramFile is the file Config.Load loads a program from, and the file
// ranges its segments became (MapPrivate), which the process's address
// space takes over when the load succeeds.
type ProgramFile struct {
	Executable
	mm *mmState
}

// NewProgramFile returns the program file e, with no ranges mapped yet.
func NewProgramFile(e Executable) *ProgramFile {
	return &ProgramFile{Executable: e, mm: &mmState{users: 1}}
}

// MapPrivate maps [addr, addr+length) of m, page aligned, to the file's
// bytes from off with prot, copy-on-write (mmap MAP_PRIVATE|MAP_FIXED):
// the pages are the file's own page-cache frames until written. If
// zeroFrom falls inside the range, off a page boundary, the rest of its
// page reads zeros, in a private copy (binfmt_elf.c padzero: the tail of
// a segment's last file page is its bss; the file's page stays as it
// is). ErrNotMappable, with nothing mapped, if the pages cannot be
// mapped.
func (f *ProgramFile) MapPrivate(m Machine, addr, length uint64, prot mem.Prot, off, zeroFrom uint64) error {
	ps, ok := m.(pagedSpace)
	if !ok {
		return ErrNotMappable
	}
	if addr%mem.PageSize != 0 || length == 0 || length%mem.PageSize != 0 || off%mem.PageSize != 0 || addr+length < addr {
		return mem.ErrInvalid
	}
	mm := f.mm
	v := &fileVMA{pgoff: int64(off / mem.PageSize)}
	pg, err := f.Map(invalidatorIn(m, mm, v))
	if err != nil {
		return err
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.forget(m, addr, addr+length)
	if _, err := ps.MapFilled(addr, length, prot, true, mapKey(pg, v.pgoff, prot&mem.Write != 0)); err != nil {
		pg.Unmap()
		return err
	}
	v.start, v.end, v.pager = addr, addr+length, pg
	mm.add(v)
	// Every page is made present in the page cache and mapped now: a
	// program never waits for (or runs out of memory on) a page of its
	// own file after exec, and the next run of the same program maps the
	// same frames again.
	if pp, ok := pg.(populator); ok {
		err := pp.Populate(v.pgoff, v.pgoff+int64(length/mem.PageSize), func(first int64, frames []uint64) error {
			return ps.FillRange(addr+uint64(first-v.pgoff)*mem.PageSize, frames, true)
		})
		if err != nil {
			return err
		}
	}
	if zeroFrom <= addr || zeroFrom >= addr+length || zeroFrom%mem.PageSize == 0 {
		return nil
	}
	page := zeroFrom &^ (mem.PageSize - 1)
	frame, err := pg.Page(v.pgoff + int64((page-addr)/mem.PageSize))
	if err != nil {
		return err
	}
	frames := pg.Frames()
	defer frames.Free(frame)
	cp, err := frames.Alloc()
	if err != nil {
		return err
	}
	defer frames.Free(cp)
	b := frames.Bytes(cp)
	*b = *frames.Bytes(frame)
	clear(b[zeroFrom%mem.PageSize:])
	return ps.Fill(page, cp, false)
}

// populator is a Pager that makes a range of its file's pages present
// at once (vfs.Mapping.Populate).
type populator interface {
	Populate(from, to int64, fn func(first int64, frames []uint64) error) error
}

// release ends the ranges mapped so far: the load failed and their
// address space goes.
func (f *ProgramFile) release() {
	for _, v := range f.mm.vmas {
		v.pager.Unmap()
	}
	f.mm.vmas = nil
}

// SetProgramFile gives the first process the file ranges its program was
// loaded with (NewProcess's Machine, loaded through f).
func (p *Process) SetProgramFile(f *ProgramFile) {
	p.mm = f.mm
	p.mm.exe = f.Dup()
	p.setCopyHooks()
}
