package vfs

import "github.com/cocoon-vm/cocoon/kernel/linux"

// Statfs is struct statfs (include/uapi/asm-generic/statfs.h, the 64-bit
// layout): what statfs(2) reports of the file system holding a file.
type Statfs struct {
	Type, Bsize, Blocks, Bfree, Bavail, Files, Ffree uint64
	Fsid                                             [2]uint32
	Namelen, Frsize, Flags                           uint64
}

// File system magic numbers (include/uapi/linux/magic.h) and mount flags
// statfs reports (ST_* in include/linux/statfs.h).
const (
	tmpfsMagic  = 0x01021994
	procfsMagic = 0x9fa0
	stRdonly    = 0x1
	stNosuid    = 0x2
	stNodev     = 0x4
	stNoexec    = 0x8
	stValid     = 0x20
	// tmpfsInodes is the inode count a size-limited tmpfs offers when
	// nothing bounds it otherwise.
	tmpfsInodes = 1 << 20
)

// Statfs describes the file system at l. Cocoon's writable file systems
// (the root's upper layer, /tmp, /dev) are tmpfs; /proc is proc, /sys
// sysfs. Blocks
// count the memory the file systems may use together (the tmpfs limit)
// and what is left of it.
func (l Loc) Statfs() Statfs {
	s := Statfs{Bsize: 4096, Frsize: 4096, Namelen: 255, Flags: stValid}
	s.Fsid = [2]uint32{uint32(l.mnt.dev), uint32(l.mnt.dev >> 32)}
	if l.mnt.readOnly {
		s.Flags |= stRdonly
	}
	switch r := l.mnt.root.(type) {
	case procNode:
		s.Type = procfsMagic
		s.Flags |= stNosuid | stNodev | stNoexec
	case sysNode:
		s.Type = sysfsMagic
		s.Flags |= stNosuid | stNodev | stNoexec
	case nsNode:
		s.Type = nsfsMagic
	case *memNode:
		s.Type = tmpfsMagic
		fsys := r.fsys
		used := uint64(max(fsys.used.Load(), 0))
		limit := uint64(fsys.limit)
		if limit == 0 || limit < used {
			limit = used
		}
		s.Blocks, s.Bfree = limit/4096, (limit-used)/4096
		s.Bavail = s.Bfree
		s.Files = tmpfsInodes
		s.Ffree = tmpfsInodes - min(fsys.nextIno.Load(), tmpfsInodes)
	}
	return s
}

// Bytes encodes s as struct statfs (120 bytes: f_type, f_bsize, f_blocks,
// f_bfree, f_bavail, f_files, f_ffree, f_fsid, f_namelen, f_frsize,
// f_flags, f_spare[4]).
func (s Statfs) Bytes() []byte {
	b := make([]byte, 120)
	for i, v := range []uint64{s.Type, s.Bsize, s.Blocks, s.Bfree, s.Bavail, s.Files, s.Ffree} {
		putLE64(b[8*i:], v)
	}
	putLE64(b[56:], uint64(s.Fsid[0])|uint64(s.Fsid[1])<<32)
	putLE64(b[64:], s.Namelen)
	putLE64(b[72:], s.Frsize)
	putLE64(b[80:], s.Flags)
	return b
}

func putLE64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

// Magic numbers of the internal file systems of files with no place in
// the tree (include/uapi/linux/magic.h).
const (
	pipefsMagic      = 0x50495045
	sockfsMagic      = 0x534f434b
	anonInodefsMagic = 0x09041934
)

// FileStatfs describes the file system of an open file: its place's, or
// for a pipe, socket or anonymous file Linux's internal pipefs, sockfs
// or anon_inodefs.
func FileStatfs(f *File) Statfs {
	if l := f.Loc(); !l.IsZero() {
		return l.Statfs()
	}
	s := Statfs{Bsize: 4096, Frsize: 4096, Namelen: 255, Flags: stValid, Type: anonInodefsMagic}
	a := f.Stat()
	switch a.Type() {
	case linux.SIfifo:
		s.Type = pipefsMagic
	case linux.SIfsock:
		s.Type = sockfsMagic
	}
	return s
}
