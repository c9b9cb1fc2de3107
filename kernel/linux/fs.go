package linux

// File-system layouts the Linux personality (north) marshals. Goroutine
// context: the Marshal functions allocate.

import "encoding/binary"

// Limits of path names and links (include/uapi/linux/limits.h,
// include/linux/namei.h).
const (
	PathMax     = 4096 // bytes in a path, including the NUL
	NameMax     = 255  // bytes in one path component
	MaxSymlinks = 40   // symbolic links followed in one lookup
	PipeBuf     = 4096 // writes up to this size to a pipe are atomic
)

// open(2) flags (include/uapi/asm-generic/fcntl.h; x86-64 uses the generic
// values).
const (
	ORdonly    = 0x0
	OWronly    = 0x1
	ORdwr      = 0x2
	OAccmode   = 0x3
	OCreat     = 0x40
	OExcl      = 0x80
	ONoctty    = 0x100
	OTrunc     = 0x200
	OAppend    = 0x400
	ONonblock  = 0x800
	ODsync     = 0x1000
	OAsync     = 0x2000 // FASYNC
	ODirect    = 0x4000
	OLargefile = 0x8000
	ODirectory = 0x10000
	ONofollow  = 0x20000
	ONoatime   = 0x40000
	OCloexec   = 0x80000
	OSync      = 0x101000 // __O_SYNC | O_DSYNC
	OPath      = 0x200000
	OTmpfile   = 0x410000 // __O_TMPFILE | O_DIRECTORY
)

// File types and permission bits of st_mode (include/uapi/linux/stat.h).
const (
	SIfmt   = 0o170000
	SIfsock = 0o140000
	SIflnk  = 0o120000
	SIfreg  = 0o100000
	SIfblk  = 0o060000
	SIfdir  = 0o040000
	SIfchr  = 0o020000
	SIfifo  = 0o010000
	SIsuid  = 0o4000
	SIsgid  = 0o2000
	SIsvtx  = 0o1000
	SIrwxu  = 0o700
	SIrusr  = 0o400
	SIwusr  = 0o200
	SIxusr  = 0o100
)

// *at(2) flags and the special directory descriptor
// (include/uapi/linux/fcntl.h).
const (
	AtFdcwd           = -100
	AtSymlinkNofollow = 0x100
	AtEaccess         = 0x200
	AtRemovedir       = 0x200
	AtSymlinkFollow   = 0x400
	AtNoAutomount     = 0x800
	AtEmptyPath       = 0x1000
	AtStatxSyncType   = 0x6000
	AtStatxForceSync  = 0x2000
	AtStatxDontSync   = 0x4000
)

// access(2) modes (include/linux/fs.h: MAY_EXEC, MAY_WRITE, MAY_READ).
const (
	FOk = 0
	XOk = 1
	WOk = 2
	ROk = 4
)

// renameat2(2) flags (include/uapi/linux/fs.h).
const (
	RenameNoreplace = 1
	RenameExchange  = 2
	RenameWhiteout  = 4
)

// utimensat(2) special tv_nsec values (include/uapi/linux/stat.h).
const (
	UtimeNow  = 1<<30 - 1
	UtimeOmit = 1<<30 - 2
)

// posix_fadvise(2) advice (include/uapi/linux/fadvise.h; x86-64 values).
const (
	FadvNormal     = 0
	FadvRandom     = 1
	FadvSequential = 2
	FadvWillneed   = 3
	FadvDontneed   = 4
	FadvNoreuse    = 5
)

// lseek(2) whence values (include/uapi/linux/fs.h).
const (
	SeekSet  = 0
	SeekCur  = 1
	SeekEnd  = 2
	SeekData = 3
	SeekHole = 4
)

// fcntl(2) commands and flags (include/uapi/asm-generic/fcntl.h,
// include/uapi/linux/fcntl.h).
const (
	FDupfd        = 0
	FGetfd        = 1
	FSetfd        = 2
	FGetfl        = 3
	FSetfl        = 4
	FGetlk        = 5
	FSetlk        = 6
	FSetlkw       = 7
	FSetown       = 8
	FGetown       = 9
	FSetsig       = 10
	FGetsig       = 11
	FOfdGetlk     = 36
	FOfdSetlk     = 37
	FOfdSetlkw    = 38
	FSetlease     = 1024
	FGetlease     = 1025
	FNotify       = 1026
	FDupfdCloexec = 1030
	FSetpipeSz    = 1031
	FGetpipeSz    = 1032
	FAddSeals     = 1033
	FGetSeals     = 1034

	FdCloexec = 1

	FRdlck = 0
	FWrlck = 1
	FUnlck = 2
)

// Directory entry types of struct linux_dirent64 d_type (include/linux/fs.h:
// the file type bits of st_mode shifted right by 12).
const (
	DtUnknown = 0
	DtFifo    = 1
	DtChr     = 2
	DtDir     = 4
	DtBlk     = 6
	DtReg     = 8
	DtLnk     = 10
	DtSock    = 12
)

// statx(2) mask bits (include/uapi/linux/stat.h).
const (
	StatxType        = 0x1
	StatxMode        = 0x2
	StatxNlink       = 0x4
	StatxUID         = 0x8
	StatxGID         = 0x10
	StatxAtime       = 0x20
	StatxMtime       = 0x40
	StatxCtime       = 0x80
	StatxIno         = 0x100
	StatxSize        = 0x200
	StatxBlocks      = 0x400
	StatxBasicStats  = 0x7ff
	StatxBtime       = 0x800
	StatxMntID       = 0x1000
	StatxReserved    = 0x80000000
	StatxAttrMntRoot = 0x2000 // stx_attributes: the root of a mount
)

// eventfd2(2) flags (include/uapi/linux/eventfd.h).
const (
	EfdSemaphore = 1
	EfdCloexec   = OCloexec
	EfdNonblock  = ONonblock
)

// epoll events and flags beyond those in linux.go
// (include/uapi/linux/eventpoll.h). The low bits equal the poll(2) ones.
const (
	EpollPri       = 0x2
	EpollOut       = 0x4
	EpollErr       = 0x8
	EpollHup       = 0x10
	EpollRdnorm    = 0x40
	EpollRdband    = 0x80
	EpollWrnorm    = 0x100
	EpollWrband    = 0x200
	EpollMsg       = 0x400
	EpollRdhup     = 0x2000
	EpollExclusive = 1 << 28
	EpollWakeup    = 1 << 29
	EpollOneshot   = 1 << 30
	EpollEt        = 1 << 31
	EpollCloexec   = OCloexec
)

// PollNval is the poll(2) revents bit for a descriptor that is not open
// (include/uapi/asm-generic/poll.h). The other poll(2) bits equal the
// Epoll ones above (POLLIN == EPOLLIN, ...).
const PollNval = 0x20

// Terminal and generic file ioctls (include/uapi/asm-generic/ioctls.h).
const (
	TCGETS     = 0x5401
	TCSETS     = 0x5402
	TCSETSW    = 0x5403
	TCSETSF    = 0x5404
	TCSBRK     = 0x5409
	TCXONC     = 0x540a
	TCFLSH     = 0x540b
	TIOCSCTTY  = 0x540e
	TIOCGPGRP  = 0x540f
	TIOCSPGRP  = 0x5410
	TIOCGWINSZ = 0x5413
	TIOCSWINSZ = 0x5414
	FIONREAD   = 0x541b
	FIONBIO    = 0x5421
	TIOCGPTN   = 0x80045430
	FIONCLEX   = 0x5450
	FIOCLEX    = 0x5451
	FIOASYNC   = 0x5452
)

// Stat is struct stat as x86-64 Linux lays it out for fstat(2) and
// newfstatat(2) (arch/x86/include/uapi/asm/stat.h): 144 bytes.
type Stat struct {
	Dev       uint64 // 0
	Ino       uint64 // 8
	Nlink     uint64 // 16
	Mode      uint32 // 24
	UID       uint32 // 28
	GID       uint32 // 32, then 4 bytes of padding
	Rdev      uint64 // 40
	Size      int64  // 48
	Blksize   int64  // 56
	Blocks    int64  // 64
	Atime     int64  // 72
	AtimeNsec int64  // 80
	Mtime     int64  // 88
	MtimeNsec int64  // 96
	Ctime     int64  // 104
	CtimeNsec int64  // 112, then 3 unused longs
}

// SizeofStat is the size of struct stat on x86-64.
const SizeofStat = 144

// Marshal returns s in its Linux layout.
func (s *Stat) Marshal() []byte {
	b := make([]byte, SizeofStat)
	le := binary.LittleEndian
	le.PutUint64(b[0:], s.Dev)
	le.PutUint64(b[8:], s.Ino)
	le.PutUint64(b[16:], s.Nlink)
	le.PutUint32(b[24:], s.Mode)
	le.PutUint32(b[28:], s.UID)
	le.PutUint32(b[32:], s.GID)
	le.PutUint64(b[40:], s.Rdev)
	le.PutUint64(b[48:], uint64(s.Size))
	le.PutUint64(b[56:], uint64(s.Blksize))
	le.PutUint64(b[64:], uint64(s.Blocks))
	le.PutUint64(b[72:], uint64(s.Atime))
	le.PutUint64(b[80:], uint64(s.AtimeNsec))
	le.PutUint64(b[88:], uint64(s.Mtime))
	le.PutUint64(b[96:], uint64(s.MtimeNsec))
	le.PutUint64(b[104:], uint64(s.Ctime))
	le.PutUint64(b[112:], uint64(s.CtimeNsec))
	return b
}

// StatxTimestamp is struct statx_timestamp (include/uapi/linux/stat.h):
// 16 bytes.
type StatxTimestamp struct {
	Sec  int64  // 0
	Nsec uint32 // 8, then 4 reserved bytes
}

// Statx is struct statx (include/uapi/linux/stat.h): 256 bytes, of which
// the fields below are the first 160; the rest is zero.
type Statx struct {
	Mask           uint32         // 0
	Blksize        uint32         // 4
	Attributes     uint64         // 8
	Nlink          uint32         // 16
	UID            uint32         // 20
	GID            uint32         // 24
	Mode           uint16         // 28, then 2 bytes of padding
	Ino            uint64         // 32
	Size           uint64         // 40
	Blocks         uint64         // 48
	AttributesMask uint64         // 56
	Atime          StatxTimestamp // 64
	Btime          StatxTimestamp // 80
	Ctime          StatxTimestamp // 96
	Mtime          StatxTimestamp // 112
	RdevMajor      uint32         // 128
	RdevMinor      uint32         // 132
	DevMajor       uint32         // 136
	DevMinor       uint32         // 140
	MntID          uint64         // 144
	DioMemAlign    uint32         // 152
	DioOffsetAlign uint32         // 156
}

// SizeofStatx is the size of struct statx.
const SizeofStatx = 256

// Marshal returns s in its Linux layout.
func (s *Statx) Marshal() []byte {
	b := make([]byte, SizeofStatx)
	le := binary.LittleEndian
	le.PutUint32(b[0:], s.Mask)
	le.PutUint32(b[4:], s.Blksize)
	le.PutUint64(b[8:], s.Attributes)
	le.PutUint32(b[16:], s.Nlink)
	le.PutUint32(b[20:], s.UID)
	le.PutUint32(b[24:], s.GID)
	le.PutUint16(b[28:], s.Mode)
	le.PutUint64(b[32:], s.Ino)
	le.PutUint64(b[40:], s.Size)
	le.PutUint64(b[48:], s.Blocks)
	le.PutUint64(b[56:], s.AttributesMask)
	for i, t := range []StatxTimestamp{s.Atime, s.Btime, s.Ctime, s.Mtime} {
		le.PutUint64(b[64+16*i:], uint64(t.Sec))
		le.PutUint32(b[72+16*i:], t.Nsec)
	}
	le.PutUint32(b[128:], s.RdevMajor)
	le.PutUint32(b[132:], s.RdevMinor)
	le.PutUint32(b[136:], s.DevMajor)
	le.PutUint32(b[140:], s.DevMinor)
	le.PutUint64(b[144:], s.MntID)
	le.PutUint32(b[152:], s.DioMemAlign)
	le.PutUint32(b[156:], s.DioOffsetAlign)
	return b
}

// Major and minor device numbers as the kernel encodes them in a dev_t
// for user space (include/linux/kdev_t.h, new_encode_dev; glibc's
// gnu_dev_makedev agrees).
func Mkdev(major, minor uint32) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 | uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}

// DevMajor returns the major number of a dev_t.
func DevMajor(dev uint64) uint32 { return uint32((dev>>8)&0xfff | (dev>>32)&^0xfff) }

// DevMinor returns the minor number of a dev_t.
func DevMinor(dev uint64) uint32 { return uint32(dev&0xff | (dev>>12)&^0xff) }

// Dirent64 is the fixed part of struct linux_dirent64 (getdents64(2),
// include/linux/dirent.h): d_ino u64 at 0, d_off s64 at 8, d_reclen u16 at
// 16, d_type u8 at 18, then the NUL-terminated name, the record padded to
// 8 bytes.
const Dirent64Header = 19

// Dirent64Len is the record length of an entry named name.
func Dirent64Len(name string) int { return (Dirent64Header + len(name) + 1 + 7) &^ 7 }

// AppendDirent64 appends one linux_dirent64 record.
func AppendDirent64(b []byte, ino uint64, off int64, typ uint8, name string) []byte {
	n := Dirent64Len(name)
	b = binary.LittleEndian.AppendUint64(b, ino)
	b = binary.LittleEndian.AppendUint64(b, uint64(off))
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	b = append(b, typ)
	b = append(b, name...)
	for i := Dirent64Header + len(name); i < n; i++ {
		b = append(b, 0)
	}
	return b
}

// EpollEvent is struct epoll_event, which is packed on x86-64
// (include/uapi/linux/eventpoll.h, EPOLL_PACKED): events u32 at 0, data
// u64 at 4; 12 bytes.
type EpollEvent struct {
	Events uint32
	Data   uint64
}

// SizeofEpollEvent is the size of the packed struct epoll_event.
const SizeofEpollEvent = 12

// Marshal returns e in its Linux layout.
func (e EpollEvent) Marshal() []byte {
	b := make([]byte, SizeofEpollEvent)
	e.MarshalTo(b)
	return b
}

// MarshalTo encodes e into b, which must hold SizeofEpollEvent bytes.
func (e EpollEvent) MarshalTo(b []byte) {
	binary.LittleEndian.PutUint32(b, e.Events)
	binary.LittleEndian.PutUint64(b[4:], e.Data)
}

// UnmarshalEpollEvent decodes a struct epoll_event from b, which must hold
// SizeofEpollEvent bytes.
func UnmarshalEpollEvent(b []byte) EpollEvent {
	return EpollEvent{Events: binary.LittleEndian.Uint32(b), Data: binary.LittleEndian.Uint64(b[4:])}
}

// SizeofPollFd is the size of struct pollfd (include/uapi/asm-generic/
// poll.h): fd s32 at 0, events s16 at 4, revents s16 at 6.
const SizeofPollFd = 8

// SizeofFlock is the size of struct flock on x86-64
// (include/uapi/asm-generic/fcntl.h): l_type s16 at 0, l_whence s16 at 2,
// l_start s64 at 8, l_len s64 at 16, l_pid s32 at 24, padded to 32.
const SizeofFlock = 32

// Termios is struct termios as TCGETS and TCSETS pass it
// (include/uapi/asm-generic/termbits.h): four u32 flag words, c_line, then
// NCCS (19) control characters; 36 bytes.
type Termios struct {
	Iflag, Oflag, Cflag, Lflag uint32
	Line                       uint8
	CC                         [19]uint8
}

// SizeofTermios is the size of struct termios.
const SizeofTermios = 36

// Marshal returns t in its Linux layout.
func (t *Termios) Marshal() []byte {
	b := make([]byte, SizeofTermios)
	binary.LittleEndian.PutUint32(b[0:], t.Iflag)
	binary.LittleEndian.PutUint32(b[4:], t.Oflag)
	binary.LittleEndian.PutUint32(b[8:], t.Cflag)
	binary.LittleEndian.PutUint32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:], t.CC[:])
	return b
}

// UnmarshalTermios decodes a struct termios from b, which must hold
// SizeofTermios bytes.
func UnmarshalTermios(b []byte) Termios {
	t := Termios{
		Iflag: binary.LittleEndian.Uint32(b[0:]),
		Oflag: binary.LittleEndian.Uint32(b[4:]),
		Cflag: binary.LittleEndian.Uint32(b[8:]),
		Lflag: binary.LittleEndian.Uint32(b[12:]),
		Line:  b[16],
	}
	copy(t.CC[:], b[17:SizeofTermios])
	return t
}

// DefaultTermios is the termios a Linux tty starts with
// (drivers/tty/tty_io.c tty_std_termios; include/linux/tty.h INIT_C_CC):
// ICRNL|IXON; OPOST|ONLCR; B38400|CS8|CREAD|HUPCL;
// ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN.
var DefaultTermios = Termios{
	Iflag: 0o2400,
	Oflag: 0o5,
	Cflag: 0o2277,
	Lflag: 0o105073,
	CC:    [19]uint8{3, 0o34, 0o177, 0o25, 4, 0, 1, 0, 0o21, 0o23, 0o32, 0, 0o22, 0o17, 0o27, 0o26, 0},
}

// Termios flag bits the console's line discipline looks at
// (include/uapi/asm-generic/termbits.h).
const (
	Icanon = 0o2 // c_lflag: canonical mode, reads return a line at a time
)

// c_cc indices of the flow-control characters, tcflow(3) actions
// (TCXONC's argument) and tcflush(3) queues (TCFLSH's argument)
// (include/uapi/asm-generic/termbits.h).
const (
	VSTART = 8
	VSTOP  = 9

	TCOOFF = 0 // suspend output
	TCOON  = 1 // restart output
	TCIOFF = 2 // send the STOP character
	TCION  = 3 // send the START character

	TCIFLUSH  = 0
	TCOFLUSH  = 1
	TCIOFLUSH = 2
)

// SizeofWinsize is the size of struct winsize (include/uapi/asm-generic/
// termios.h): ws_row, ws_col, ws_xpixel, ws_ypixel, u16 each.
const SizeofWinsize = 8
