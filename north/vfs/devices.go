package vfs

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// devices opens device files by number (Documentation/admin-guide/
// devices.txt): the memory devices of major 1, the terminals of major 5,
// and the misc devices of major 10 that Options.Devices adds.
type devices struct {
	console *console
	random  func([]byte)
	misc    map[uint32]func() FileImpl // by minor
}

// Misc devices: major 10; minors given out from 127 down, as Linux once
// gave dynamic misc minors.
const (
	miscMajor        = 10
	miscDynamicMinor = 127
)

// miscFile is an open file of a device from Options.Devices: its own
// operations, with the device node's attributes.
type miscFile struct {
	FileImpl
	loc Loc
}

func (m *miscFile) Stat(*File) Attr { return m.loc.Attr() }

func (d *devices) open(l Loc, rdev uint64, flags uint32) (FileImpl, error) {
	base := devFile{loc: l}
	switch major, minor := linux.DevMajor(rdev), linux.DevMinor(rdev); {
	case major == 1 && minor == 3:
		return &nullDev{base}, nil
	case major == 1 && minor == 5:
		return &zeroDev{devFile: base}, nil
	case major == 1 && minor == 7:
		return &zeroDev{devFile: base, full: true}, nil
	case major == 1 && (minor == 8 || minor == 9):
		return &randomDev{devFile: base, random: d.random}, nil
	case major == 5 && (minor == 0 || minor == 1):
		return &consoleFile{devFile: base, c: d.console}, nil
	case major == miscMajor && d.misc[minor] != nil:
		return &miscFile{FileImpl: d.misc[minor](), loc: l}, nil
	}
	return nil, ENXIO
}

// devFile is what device files share: a place for fstat, and no file
// position (lseek succeeds and stays at 0, as for Linux's memory devices).
type devFile struct {
	FileDefaults
	loc Loc
}

func (d *devFile) Stat(*File) Attr { return d.loc.Attr() }
func (d *devFile) Stream() bool    { return false }
func (d *devFile) Seek(*File, int64, int64, int) (int64, error) {
	return 0, nil
}

// nullDev is /dev/null.
type nullDev struct{ devFile }

func (*nullDev) Read(*File, Buf, int64) (int64, error)          { return 0, nil }
func (*nullDev) Write(_ *File, src Buf, _ int64) (int64, error) { return src.Len(), nil }

// zeroDev is /dev/zero, or /dev/full, whose writes fail with ENOSPC.
type zeroDev struct {
	devFile
	full bool
}

func (*zeroDev) Read(_ *File, dst Buf, _ int64) (int64, error) {
	return fill(dst, func(p []byte) { clear(p) })
}

func (z *zeroDev) Write(_ *File, src Buf, _ int64) (int64, error) {
	if z.full {
		return 0, ENOSPC
	}
	return src.Len(), nil
}

// randomDev is /dev/random and /dev/urandom: both never block, as Linux's
// do once the pool is initialized. Writes are accepted and ignored.
type randomDev struct {
	devFile
	random func([]byte)
}

func (r *randomDev) Read(_ *File, dst Buf, _ int64) (int64, error) {
	if r.random == nil {
		return 0, EIO
	}
	return fill(dst, r.random)
}

func (*randomDev) Write(_ *File, src Buf, _ int64) (int64, error) { return src.Len(), nil }

// The random device's ioctls (include/uapi/linux/random.h).
const (
	rndGetEntCnt   = 0x80045200 // RNDGETENTCNT: _IOR('R', 0, int)
	rndAddToEntCnt = 0x40045201 // RNDADDTOENTCNT: _IOW('R', 1, int)
	rndAddEntropy  = 0x40085203 // RNDADDENTROPY: _IOW('R', 3, int[2])
	rndZapEntCnt   = 0x5204     // RNDZAPENTCNT: _IO('R', 4)
	rndClearPool   = 0x5206     // RNDCLEARPOOL: _IO('R', 6)
	rndReseedCRNG  = 0x5207     // RNDRESEEDCRNG: _IO('R', 7)
	// poolBits is what RNDGETENTCNT reports of an initialized pool
	// (POOL_READY_BITS in drivers/char/random.c): the platform's source
	// seeds Cocoon's generator before the application starts.
	poolBits = 256
)

// Ioctl serves the random device's requests as drivers/char/random.c
// does for a caller with CAP_SYS_ADMIN and a pool that is always ready:
// crediting, clearing and reseeding have nothing left to change and only
// check their arguments; unknown requests give EINVAL.
func (r *randomDev) Ioctl(_ *File, m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	switch cmd {
	case rndGetEntCnt:
		if m.CopyOut(arg, []byte{poolBits & 0xff, poolBits >> 8, 0, 0}) != nil {
			return 0, EFAULT
		}
		return 0, nil
	case rndAddToEntCnt, rndAddEntropy:
		n, err := mem.ReadUint32(m, arg)
		if err != nil {
			return 0, EFAULT
		}
		if int32(n) < 0 {
			return 0, EINVAL
		}
		if cmd == rndAddEntropy {
			size, err := mem.ReadUint32(m, arg+4)
			if err != nil {
				return 0, EFAULT
			}
			if int32(size) < 0 {
				return 0, EINVAL
			}
			// The bytes would be mixed into the pool; Cocoon's comes from
			// the platform, so they only have to be readable.
			if size > 0 && m.CopyIn(arg+8, make([]byte, min(size, 1<<20))) != nil {
				return 0, EFAULT
			}
		}
		return 0, nil
	case rndZapEntCnt, rndClearPool, rndReseedCRNG:
		return 0, nil
	}
	return 0, EINVAL
}

// fill fills dst a chunk at a time with gen.
func fill(dst Buf, gen func([]byte)) (int64, error) {
	want := dst.Len()
	buf := make([]byte, min(want, ioChunk))
	var done int64
	for done < want {
		p := buf[:min(want-done, ioChunk)]
		gen(p)
		c, err := dst.DropFirst(done).CopyOut(p)
		done += int64(c)
		if err != nil {
			if done == 0 {
				return 0, EFAULT
			}
			break
		}
	}
	return done, nil
}
