// Package pci reads PCI configuration space: the functions on bus 0
// and the buses behind its bridges,
// their memory BARs (sized, and placed by the kernel when the firmware
// left them where the platform's host interface does not allow), and
// their capability lists (PCI Local Bus Specification 3.0, 6.1-6.7).
//
// Every value it reads comes from the host: a BAR of impossible size, a
// capability pointer into the header or a capability list that loops is
// refused or cut, never followed.
package pci

import (
	"errors"
	"fmt"
)

// Config is one function's 256-byte configuration space, reached with
// 32-bit accesses at 4-byte aligned offsets (configuration mechanism #1
// reads no more; PCI 3.0, 3.2.2.3.2).
type Config interface {
	Read32(off uint8) uint32
	Write32(off uint8, v uint32)
}

// Configuration header offsets (PCI 3.0, 6.1, figure 6-1 and 6-2).
const (
	offVendorDevice = 0x00
	offCommand      = 0x04 // command (low 16 bits), status (high)
	offHeader       = 0x0c // header type in bits 16-23
	offBAR0         = 0x10
	offSubsystem    = 0x2c // subsystem vendor (low), subsystem id (high)
	offCapPtr       = 0x34
	// Type 1 (bridge) header: memory base/limit and prefetchable
	// base/limit (PCI-to-PCI Bridge Architecture 1.2, 3.2).
	offBridgeBuses   = 0x18 // primary, secondary, subordinate bus numbers
	offBridgeMem     = 0x20
	offBridgePrefMem = 0x24
	offBridgePrefHi  = 0x28

	statusCapList = 1 << 4 // status: the capability list exists (6.2.3)

	// Command register bits (6.2.2).
	CommandIO     = 1 << 0
	CommandMemory = 1 << 1
	CommandMaster = 1 << 2
)

// Function is one function found on a bus.
type Function struct {
	Bus, Dev, Fn   uint8
	Vendor, Device uint16
	SubsystemID    uint16
	HeaderType     uint8 // without the multi-function bit
	Config         Config
}

// Bus gives the configuration space of device dev, function fn on bus
// bus.
type Bus func(bus, dev, fn uint8) Config

// maxBuses bounds the buses Scan visits (bus numbers are 8 bits).
const maxBuses = 256

// Scan lists the functions present (vendor id not 0xffff, PCI 3.0
// 6.2.1), at most 32 devices of 8 functions a bus, on bus 0 and on the
// secondary bus of every PCI-to-PCI bridge it finds (type 1 header;
// PCI-to-PCI Bridge Architecture 1.2, 3.2.5.3), each bus once: a bridge
// that names a bus already scanned, bus 0, or one outside its own
// range, is not followed.
func Scan(cfg Bus) []Function {
	var out []Function
	var seen [maxBuses]bool
	queue := []uint8{0}
	seen[0] = true
	for len(queue) > 0 {
		bus := queue[0]
		queue = queue[1:]
		for dev := uint8(0); dev < 32; dev++ {
			for fn := uint8(0); fn < 8; fn++ {
				c := cfg(bus, dev, fn)
				id := c.Read32(offVendorDevice)
				if uint16(id) == 0xffff || uint16(id) == 0 {
					if fn == 0 {
						break
					}
					continue
				}
				h := uint8(c.Read32(offHeader) >> 16)
				f := Function{Bus: bus, Dev: dev, Fn: fn, Vendor: uint16(id), Device: uint16(id >> 16),
					SubsystemID: uint16(c.Read32(offSubsystem) >> 16), HeaderType: h & 0x7f, Config: c}
				out = append(out, f)
				if f.HeaderType == 1 {
					b := c.Read32(offBridgeBuses)
					sec, sub := uint8(b>>8), uint8(b>>16)
					if sec > bus && sec <= sub && !seen[sec] {
						seen[sec] = true
						queue = append(queue, sec)
					}
				}
				if fn == 0 && h&0x80 == 0 {
					break // single-function device
				}
			}
		}
	}
	return out
}

// SetCommand sets and clears bits of f's command register; the status
// half is written as zeros, which leaves its write-one-to-clear bits.
func (f Function) SetCommand(set, clear uint16) {
	cmd := uint16(f.Config.Read32(offCommand))
	f.Config.Write32(offCommand, uint32(cmd&^clear|set))
}

// BAR is a memory BAR of a type 0 function (PCI 3.0, 6.2.5.1).
type BAR struct {
	Index  int
	Addr   uint64 // as assigned (by firmware or Place)
	Size   uint64 // a power of two, at least 16
	Is64   bool
	Prefet bool
}

// MaxBARSize is the largest memory BAR Cocoon maps: a device asking for
// more is refused.
const MaxBARSize = 16 << 20

// ReadBAR decodes and sizes memory BAR i of f. Sizing writes all ones
// with memory decoding off, as 6.2.5.1 "Address Maps" describes, and
// restores the BAR and the command register.
func (f Function) ReadBAR(i int) (BAR, error) {
	if f.HeaderType != 0 || i < 0 || i > 5 {
		return BAR{}, fmt.Errorf("pci %02x.%d: no BAR %d", f.Dev, f.Fn, i)
	}
	off := uint8(offBAR0 + 4*i)
	lo := f.Config.Read32(off)
	if lo&1 != 0 {
		return BAR{}, fmt.Errorf("pci %02x.%d: BAR %d is an I/O BAR", f.Dev, f.Fn, i)
	}
	b := BAR{Index: i, Prefet: lo&8 != 0}
	switch (lo >> 1) & 3 {
	case 0: // 32-bit
	case 2:
		if i == 5 {
			return BAR{}, fmt.Errorf("pci %02x.%d: 64-bit BAR 5 has no upper half", f.Dev, f.Fn)
		}
		b.Is64 = true
	default:
		return BAR{}, fmt.Errorf("pci %02x.%d: BAR %d has reserved type %d", f.Dev, f.Fn, i, (lo>>1)&3)
	}
	var hi uint32
	if b.Is64 {
		hi = f.Config.Read32(off + 4)
	}
	cmd := uint16(f.Config.Read32(offCommand))
	f.Config.Write32(offCommand, uint32(cmd&^CommandMemory))
	f.Config.Write32(off, 0xffffffff)
	mask := uint64(f.Config.Read32(off) &^ 0xf)
	if b.Is64 {
		f.Config.Write32(off+4, 0xffffffff)
		mask |= uint64(f.Config.Read32(off+4)) << 32
		f.Config.Write32(off+4, hi)
	} else {
		mask |= 0xffffffff << 32
	}
	f.Config.Write32(off, lo)
	f.Config.Write32(offCommand, uint32(cmd))
	if uint32(mask) == 0 && !b.Is64 {
		return BAR{}, fmt.Errorf("pci %02x.%d: BAR %d is not implemented (no address bit is writable)", f.Dev, f.Fn, i)
	}
	size := ^mask + 1
	// The writable bits must be contiguous from the top: the size is a
	// power of two (6.2.5.1).
	if mask == 0 || size&(size-1) != 0 || size < 16 {
		return BAR{}, fmt.Errorf("pci %02x.%d: BAR %d reads back %#x after sizing: not a power-of-two size", f.Dev, f.Fn, i, mask)
	}
	if size > MaxBARSize {
		return BAR{}, fmt.Errorf("pci %02x.%d: BAR %d is %d bytes, more than the %d Cocoon maps", f.Dev, f.Fn, i, size, MaxBARSize)
	}
	b.Size = size
	b.Addr = uint64(hi)<<32 | uint64(lo&^0xf)
	return b, nil
}

// SetBAR moves b to addr (aligned to its size), with memory decoding
// off while the halves change.
func (f Function) SetBAR(b *BAR, addr uint64) error {
	if addr%b.Size != 0 || (!b.Is64 && addr+b.Size > 1<<32) {
		return fmt.Errorf("pci %02x.%d: BAR %d cannot be placed at %#x", f.Dev, f.Fn, b.Index, addr)
	}
	off := uint8(offBAR0 + 4*b.Index)
	cmd := uint16(f.Config.Read32(offCommand))
	f.Config.Write32(offCommand, uint32(cmd&^CommandMemory))
	lo := f.Config.Read32(off) & 0xf
	f.Config.Write32(off, uint32(addr)|lo)
	if b.Is64 {
		f.Config.Write32(off+4, uint32(addr>>32))
	}
	f.Config.Write32(offCommand, uint32(cmd))
	got, err := f.ReadBAR(b.Index)
	if err != nil {
		return err
	}
	if got.Addr != addr {
		return fmt.Errorf("pci %02x.%d: BAR %d reads %#x after being placed at %#x", f.Dev, f.Fn, b.Index, got.Addr, addr)
	}
	b.Addr = addr
	return nil
}

// Range is [Lo, Hi], inclusive.
type Range struct{ Lo, Hi uint64 }

func (r Range) overlaps(s Range) bool { return r.Lo <= s.Hi && s.Lo <= r.Hi }

// Used returns the memory ranges the functions decode: their memory
// BARs and, for bridges, the windows they forward. A BAR that cannot be
// read is skipped (its function is not one Cocoon drives).
func Used(fns []Function) []Range {
	var out []Range
	for _, f := range fns {
		switch f.HeaderType {
		case 0:
			for i := 0; i < 6; i++ {
				b, err := f.ReadBAR(i)
				if err != nil {
					continue
				}
				if b.Addr != 0 {
					out = append(out, Range{b.Addr, b.Addr + b.Size - 1})
				}
				if b.Is64 {
					i++
				}
			}
		case 1:
			// Memory base/limit in 1 MiB units (bits 4-15 of each half).
			m := f.Config.Read32(offBridgeMem)
			if lo, hi := uint64(m&0xfff0)<<16, uint64(m>>16&0xfff0)<<16|0xfffff; lo <= hi {
				out = append(out, Range{lo, hi})
			}
			p := f.Config.Read32(offBridgePrefMem)
			if lo, hi := uint64(p&0xfff0)<<16, uint64(p>>16&0xfff0)<<16|0xfffff; lo <= hi {
				if p&0xf == 1 { // 64-bit: upper 32 bits of base and limit
					lo |= uint64(f.Config.Read32(offBridgePrefHi)) << 32
					hi |= uint64(f.Config.Read32(offBridgePrefHi+4)) << 32
				}
				out = append(out, Range{lo, hi})
			}
		}
	}
	return out
}

// Place returns the lowest address in window, aligned to size, where a
// BAR of size overlaps none of used.
func Place(window Range, size uint64, used []Range) (uint64, error) {
	if size == 0 || size&(size-1) != 0 {
		return 0, fmt.Errorf("pci: BAR size %#x is not a power of two", size)
	}
	a := (window.Lo + size - 1) &^ (size - 1)
	for a >= window.Lo && a+size-1 <= window.Hi {
		r := Range{a, a + size - 1}
		clash := false
		for _, u := range used {
			if r.overlaps(u) {
				// Past the end of the clash, aligned.
				a = (u.Hi + size) &^ (size - 1)
				clash = true
				break
			}
		}
		if !clash {
			return a, nil
		}
	}
	return 0, fmt.Errorf("pci: no free %#x bytes in %#x-%#x", size, window.Lo, window.Hi)
}

// Cap is one entry of a capability list (6.7): its ID and offset.
type Cap struct {
	ID  uint8
	Off uint8
}

// ErrCapLoop is a capability list that points back into itself.
var ErrCapLoop = errors.New("pci: the capability list loops")

// Caps walks f's capability list. Pointers must lie past the 64-byte
// header, 4-byte aligned (6.7: the bottom two bits are reserved and
// masked); a list longer than the space could hold loops.
func (f Function) Caps() ([]Cap, error) {
	if f.Config.Read32(offCommand)>>16&statusCapList == 0 {
		return nil, nil
	}
	var out []Cap
	p := uint8(f.Config.Read32(offCapPtr)) &^ 3
	for p != 0 {
		if p < 0x40 {
			return out, fmt.Errorf("pci %02x.%d: capability pointer %#x points into the header", f.Dev, f.Fn, p)
		}
		if len(out) == (256-0x40)/4 {
			return out, ErrCapLoop
		}
		w := f.Config.Read32(p)
		out = append(out, Cap{ID: uint8(w), Off: p})
		p = uint8(w>>8) &^ 3
	}
	return out, nil
}
