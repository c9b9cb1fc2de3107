// Package mem is how Cocoon's Linux personality reaches the application's
// memory: every pointer a system call receives is a user virtual address,
// read and written only through Memory, which checks it against the
// address space and reports EFAULT for a bad one.
//
// The kernel implements Memory over the application's page tables
// (north/task); Fake implements it over a byte slice for host tests.
package mem

import (
	"encoding/binary"
	"errors"
)

// ErrFault is returned for an address the application may not access
// (Linux EFAULT).
var ErrFault = errors.New("bad address")

// Memory is an application's address space as system calls see it.
// Implementations are safe for use by one task at a time.
type Memory interface {
	// CopyIn reads len(dst) bytes at addr.
	CopyIn(addr uint64, dst []byte) error
	// CopyOut writes src at addr.
	CopyOut(addr uint64, src []byte) error
}

// ReadUint64 reads a little-endian 64-bit word.
func ReadUint64(m Memory, addr uint64) (uint64, error) {
	var b [8]byte
	if err := m.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// ReadUint32 reads a little-endian 32-bit word.
func ReadUint32(m Memory, addr uint64) (uint32, error) {
	var b [4]byte
	if err := m.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// WriteUint64 writes a little-endian 64-bit word.
func WriteUint64(m Memory, addr uint64, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return m.CopyOut(addr, b[:])
}

// WriteUint32 writes a little-endian 32-bit word.
func WriteUint32(m Memory, addr uint64, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return m.CopyOut(addr, b[:])
}

// ErrNameTooLong is returned by ReadString for a string without a NUL
// within max bytes (Linux ENAMETOOLONG).
var ErrNameTooLong = errors.New("file name too long")

// ReadString reads a NUL-terminated string of at most max bytes.
func ReadString(m Memory, addr uint64, max int) (string, error) {
	var out []byte
	var chunk [256]byte
	for len(out) < max {
		n := len(chunk)
		// Do not cross into the next page with one read: the string may
		// end just before an unmapped page.
		if room := int(4096 - (addr+uint64(len(out)))%4096); room < n {
			n = room
		}
		if err := m.CopyIn(addr+uint64(len(out)), chunk[:n]); err != nil {
			return "", err
		}
		for i := 0; i < n; i++ {
			if chunk[i] == 0 {
				return string(append(out, chunk[:i]...)), nil
			}
		}
		out = append(out, chunk[:n]...)
	}
	return "", ErrNameTooLong
}

// Fake is Memory over a byte slice mapped at Base, for host tests.
type Fake struct {
	Base uint64
	Data []byte
}

// NewFake returns a zeroed Fake of size bytes at base.
func NewFake(base uint64, size int) *Fake { return &Fake{Base: base, Data: make([]byte, size)} }

func (f *Fake) span(addr uint64, n int) ([]byte, error) {
	if addr < f.Base || addr-f.Base > uint64(len(f.Data)) || uint64(n) > uint64(len(f.Data))-(addr-f.Base) {
		return nil, ErrFault
	}
	off := addr - f.Base
	return f.Data[off : off+uint64(n)], nil
}

func (f *Fake) CopyIn(addr uint64, dst []byte) error {
	b, err := f.span(addr, len(dst))
	if err != nil {
		return err
	}
	copy(dst, b)
	return nil
}

func (f *Fake) CopyOut(addr uint64, src []byte) error {
	b, err := f.span(addr, len(src))
	if err != nil {
		return err
	}
	copy(b, src)
	return nil
}
