package pci

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fakeFn is one function's configuration space: plain bytes, except the
// BARs, which decode as hardware does (the bits below the size read as
// zero, the type bits are fixed; PCI 3.0, 6.2.5.1).
type fakeFn struct {
	space [256]byte
	size  [6]uint64 // 0: no BAR; a 64-bit BAR's size is in its low index
	is64  [6]bool
	io    [6]bool
	// decodeOffWrites counts BAR writes made with memory decoding off.
	barWrites, decodeOffWrites int
}

func (f *fakeFn) Read32(off uint8) uint32 { return binary.LittleEndian.Uint32(f.space[off&^3:]) }

func (f *fakeFn) Write32(off uint8, v uint32) {
	off &^= 3
	if off >= offBAR0 && off < offBAR0+24 {
		f.barWrites++
		if f.Read32(offCommand)&CommandMemory == 0 {
			f.decodeOffWrites++
		}
		i := int(off-offBAR0) / 4
		switch {
		case i > 0 && f.is64[i-1]: // upper half
			v &= uint32(^(f.size[i-1] - 1) >> 32)
		case f.io[i]:
			v = v&^3 | 1
		case f.size[i] == 0:
			v = 0
		default:
			v = v&uint32(^(f.size[i]-1))&^0xf | f.Read32(off)&0xf
		}
	}
	binary.LittleEndian.PutUint32(f.space[off:], v)
}

func newFn(vendor, device uint16) *fakeFn {
	f := &fakeFn{}
	binary.LittleEndian.PutUint32(f.space[0:], uint32(device)<<16|uint32(vendor))
	return f
}

// memBAR gives f memory BAR i of size at addr.
func (f *fakeFn) memBAR(i int, size, addr uint64, is64 bool) {
	f.size[i], f.is64[i] = size, is64
	typ := uint32(0)
	if is64 {
		typ = 4 | 8 // 64-bit, prefetchable
		binary.LittleEndian.PutUint32(f.space[offBAR0+4*i+4:], uint32(addr>>32))
	}
	binary.LittleEndian.PutUint32(f.space[offBAR0+4*i:], uint32(addr)|typ)
}

func (f *fakeFn) fn() Function {
	return Function{Config: f, HeaderType: f.space[0x0e] & 0x7f}
}

func TestScan(t *testing.T) {
	fns := map[[2]uint8]*fakeFn{
		{0, 0}:  newFn(0x8086, 0x29c0),
		{1, 0}:  newFn(0x1af4, 0x1000),
		{1, 1}:  newFn(0x1af4, 0x1041), // ignored: device 1 is single-function
		{31, 0}: newFn(0x8086, 0x2918),
		{31, 3}: newFn(0x8086, 0x2930),
	}
	fns[[2]uint8{31, 0}].space[0x0e] = 0x80 // multi-function
	binary.LittleEndian.PutUint32(fns[[2]uint8{1, 0}].space[offSubsystem:], 1<<16|0x1af4)
	empty := newFn(0xffff, 0xffff)
	got := Scan(func(bus, dev, fn uint8) Config {
		if f, ok := fns[[2]uint8{dev, fn}]; ok && bus == 0 {
			return f
		}
		return empty
	})
	var ids []string
	for _, f := range got {
		ids = append(ids, fmt.Sprintf("%d.%d", f.Dev, f.Fn))
	}
	if strings.Join(ids, " ") != "0.0 1.0 31.0 31.3" || got[1].Vendor != 0x1af4 || got[1].Device != 0x1000 || got[1].SubsystemID != 1 {
		t.Errorf("Scan found %q: %+v", ids, got)
	}
}

// TestScanBridges: functions behind a PCI-to-PCI bridge are found on
// its secondary bus, with their bus number; a bridge that names a bus
// already scanned, or a secondary bus outside its own range, is not
// followed.
func TestScanBridges(t *testing.T) {
	bridge := func(sec, sub uint8) *fakeFn {
		f := newFn(0x1b36, 0x000c)
		f.space[0x0e] = 1 // type 1 header
		binary.LittleEndian.PutUint32(f.space[offBridgeBuses:], uint32(sub)<<16|uint32(sec)<<8)
		return f
	}
	fns := map[[3]uint8]*fakeFn{
		{0, 0, 0}: newFn(0x8086, 0x29c0),
		{0, 1, 0}: bridge(1, 2),
		{0, 2, 0}: bridge(1, 1), // names bus 1 again
		{0, 3, 0}: bridge(5, 4), // secondary beyond subordinate
		{1, 0, 0}: bridge(2, 2),
		{2, 0, 0}: newFn(0x1af4, 0x1041),
		{2, 1, 0}: bridge(0, 9), // back to bus 0
		{4, 0, 0}: newFn(0x1af4, 0x1041),
		{5, 0, 0}: newFn(0x1af4, 0x1041),
	}
	empty := newFn(0xffff, 0xffff)
	got := Scan(func(bus, dev, fn uint8) Config {
		if f, ok := fns[[3]uint8{bus, dev, fn}]; ok {
			return f
		}
		return empty
	})
	var ids []string
	for _, f := range got {
		ids = append(ids, fmt.Sprintf("%d:%d.%d", f.Bus, f.Dev, f.Fn))
	}
	if want := "0:0.0 0:1.0 0:2.0 0:3.0 1:0.0 2:0.0 2:1.0"; strings.Join(ids, " ") != want {
		t.Errorf("Scan found %q, want %q", strings.Join(ids, " "), want)
	}
}

func TestReadBAR(t *testing.T) {
	f := newFn(0x1af4, 0x1000)
	f.io[0] = true
	f.Write32(offBAR0, 0xc041)
	f.memBAR(1, 0x1000, 0xc0000000, false)
	f.memBAR(4, 0x4000, 0xe000000000, true)
	binary.LittleEndian.PutUint32(f.space[offCommand:], CommandMemory|CommandIO)
	fn := f.fn()
	if _, err := fn.ReadBAR(0); err == nil {
		t.Error("an I/O BAR read as memory")
	}
	b, err := fn.ReadBAR(1)
	if err != nil || b.Addr != 0xc0000000 || b.Size != 0x1000 || b.Is64 {
		t.Errorf("BAR 1: %+v, %v", b, err)
	}
	f.barWrites, f.decodeOffWrites = 0, 0
	b, err = fn.ReadBAR(4)
	if err != nil || b.Addr != 0xe000000000 || b.Size != 0x4000 || !b.Is64 || !b.Prefet {
		t.Errorf("BAR 4: %+v, %v", b, err)
	}
	if f.barWrites == 0 || f.barWrites != f.decodeOffWrites {
		t.Errorf("%d BAR writes, %d with memory decoding off", f.barWrites, f.decodeOffWrites)
	}
	if f.Read32(offCommand)&CommandMemory == 0 || f.Read32(offBAR0+16)&^0xf != 0 || f.Read32(offBAR0+20) != 0xe0 {
		t.Error("sizing did not restore the command register and the BAR")
	}
	if err := fn.SetBAR(&b, 0xc0004000); err != nil || b.Addr != 0xc0004000 {
		t.Fatalf("SetBAR: %v, %+v", err, b)
	}
	if got, _ := fn.ReadBAR(4); got.Addr != 0xc0004000 {
		t.Errorf("moved BAR reads %#x", got.Addr)
	}
	if err := fn.SetBAR(&b, 0xc0001000); err == nil {
		t.Error("a BAR was placed unaligned")
	}
	if _, err := fn.ReadBAR(6); err == nil {
		t.Error("BAR 6 read")
	}
}

// hostileBAR is a BAR whose sizing reads back what the host likes.
type hostileBAR struct {
	fakeFn
	readBack uint32
}

func (h *hostileBAR) Read32(off uint8) uint32 {
	if off == offBAR0 && h.fakeFn.Read32(off)&^0xf == 0xfffffff0 {
		return h.readBack
	}
	return h.fakeFn.Read32(off)
}

func (h *hostileBAR) Write32(off uint8, v uint32) {
	if off == offBAR0 {
		binary.LittleEndian.PutUint32(h.space[off:], v)
		return
	}
	h.fakeFn.Write32(off, v)
}

func TestReadBARHostile(t *testing.T) {
	for _, c := range []struct {
		name     string
		readBack uint32
		want     string
	}{
		{"holes in the mask", 0xff0f0000, "not a power-of-two"},
		{"no writable bit", 0, "not implemented"},
		{"too big", 0xf0000000, "more than"},
		{"reserved type", 0xfffff002, "reserved type"},
	} {
		h := &hostileBAR{readBack: c.readBack}
		binary.LittleEndian.PutUint32(h.space[offBAR0:], c.readBack&0xf)
		_, err := Function{Config: h}.ReadBAR(0)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestUsedAndPlace(t *testing.T) {
	a := newFn(0x1af4, 0x1000)
	a.memBAR(1, 0x1000, 0xc0000000, false)
	a.memBAR(4, 0x4000, 0xe000000000, true)
	bridge := newFn(0x8086, 0x1234)
	bridge.space[0x0e] = 1
	// Memory window 0xc0100000-0xc01fffff; prefetchable 0xd0000000-0xd00fffff.
	binary.LittleEndian.PutUint32(bridge.space[offBridgeMem:], 0xc010c010)
	binary.LittleEndian.PutUint32(bridge.space[offBridgePrefMem:], 0xd000d000)
	used := Used([]Function{a.fn(), bridge.fn()})
	want := []Range{{0xc0000000, 0xc0000fff}, {0xe000000000, 0xe000003fff}, {0xc0100000, 0xc01fffff}, {0xd0000000, 0xd00fffff}}
	if len(used) != len(want) {
		t.Fatalf("Used = %x", used)
	}
	for i := range want {
		if used[i] != want[i] {
			t.Errorf("Used[%d] = %x, want %x", i, used[i], want[i])
		}
	}
	w := Range{0xc0000000, 0xfebfffff}
	if at, err := Place(w, 0x4000, used); err != nil || at != 0xc0004000 {
		t.Errorf("Place 16 KiB = %#x, %v", at, err)
	}
	if at, err := Place(w, 0x100000, used); err != nil || at != 0xc0200000 {
		t.Errorf("Place 1 MiB = %#x, %v", at, err)
	}
	if _, err := Place(Range{0xc0000000, 0xc0001fff}, 0x2000, used); err == nil {
		t.Error("Place found room in a full window")
	}
	if _, err := Place(w, 0x3000, nil); err == nil {
		t.Error("Place took a size that is not a power of two")
	}
}

func TestCaps(t *testing.T) {
	f := newFn(0x1af4, 0x1000)
	binary.LittleEndian.PutUint32(f.space[offCommand:], statusCapList<<16)
	f.space[offCapPtr] = 0x40
	f.space[0x40], f.space[0x41] = 0x09, 0x50
	f.space[0x50], f.space[0x51] = 0x11, 0x00
	caps, err := f.fn().Caps()
	if err != nil || len(caps) != 2 || caps[0] != (Cap{9, 0x40}) || caps[1] != (Cap{0x11, 0x50}) {
		t.Errorf("Caps = %+v, %v", caps, err)
	}
	f.space[0x51] = 0x40 // back to the first
	if _, err := f.fn().Caps(); !errors.Is(err, ErrCapLoop) {
		t.Errorf("a looping list: %v", err)
	}
	f.space[0x51] = 0x10 // into the header
	if _, err := f.fn().Caps(); err == nil || !strings.Contains(err.Error(), "into the header") {
		t.Errorf("a pointer into the header: %v", err)
	}
	binary.LittleEndian.PutUint32(f.space[offCommand:], 0)
	if caps, err := f.fn().Caps(); caps != nil || err != nil {
		t.Errorf("no capability list: %v, %v", caps, err)
	}
}
