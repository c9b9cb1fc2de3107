package vfs

import "github.com/cocoon-vm/cocoon/kernel/linux"

// Attr is what stat(2) and statx(2) report about a file.
type Attr struct {
	Dev       uint64 // dev_t of the file system
	Ino       uint64
	Mode      uint32 // S_IF* type and permission bits
	Nlink     uint32
	UID, GID  uint32
	Rdev      uint64 // dev_t of a device file
	Size      int64
	Blocks    int64 // 512-byte blocks allocated
	Atime     int64 // nanoseconds since the epoch
	Mtime     int64
	Ctime     int64
	MountID   uint64
	MountRoot bool // the root of a mount
}

// blockSize is the st_blksize every file reports: the page size, as tmpfs
// does.
const blockSize = 4096

// Type returns the S_IF* bits of a.Mode.
func (a *Attr) Type() uint32 { return a.Mode & linux.SIfmt }

// IsDir reports a directory.
func (a *Attr) IsDir() bool { return a.Type() == linux.SIfdir }

// DirentType returns the d_type of a's file type.
func (a *Attr) DirentType() uint8 { return uint8(a.Mode >> 12 & 0xf) }

func splitNanos(t int64) (sec, nsec int64) {
	sec, nsec = t/1e9, t%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	return sec, nsec
}

// Stat returns a as struct stat.
func (a *Attr) Stat() linux.Stat {
	s := linux.Stat{
		Dev: a.Dev, Ino: a.Ino, Nlink: uint64(a.Nlink), Mode: a.Mode,
		UID: a.UID, GID: a.GID, Rdev: a.Rdev, Size: a.Size,
		Blksize: blockSize, Blocks: a.Blocks,
	}
	s.Atime, s.AtimeNsec = splitNanos(a.Atime)
	s.Mtime, s.MtimeNsec = splitNanos(a.Mtime)
	s.Ctime, s.CtimeNsec = splitNanos(a.Ctime)
	return s
}

// Statx returns a as struct statx. Every basic field is filled whatever
// the caller asked for, as statx(2) allows; the mount ID is added when
// asked for.
func (a *Attr) Statx(want uint32) linux.Statx {
	s := linux.Statx{
		Mask:           linux.StatxBasicStats,
		Blksize:        blockSize,
		Nlink:          a.Nlink,
		UID:            a.UID,
		GID:            a.GID,
		Mode:           uint16(a.Mode),
		Ino:            a.Ino,
		Size:           uint64(a.Size),
		Blocks:         uint64(a.Blocks),
		AttributesMask: linux.StatxAttrMntRoot,
		RdevMajor:      linux.DevMajor(a.Rdev),
		RdevMinor:      linux.DevMinor(a.Rdev),
		DevMajor:       linux.DevMajor(a.Dev),
		DevMinor:       linux.DevMinor(a.Dev),
	}
	if a.MountRoot {
		s.Attributes |= linux.StatxAttrMntRoot
	}
	if want&linux.StatxMntID != 0 {
		s.Mask |= linux.StatxMntID
		s.MntID = a.MountID
	}
	for _, t := range []struct {
		ns  int64
		dst *linux.StatxTimestamp
	}{{a.Atime, &s.Atime}, {a.Mtime, &s.Mtime}, {a.Ctime, &s.Ctime}} {
		sec, nsec := splitNanos(t.ns)
		*t.dst = linux.StatxTimestamp{Sec: sec, Nsec: uint32(nsec)}
	}
	return s
}
