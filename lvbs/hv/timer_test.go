package hv

import (
	"encoding/binary"
	"testing"
)

func TestSTimerConfig(t *testing.T) {
	// TLFS timers.md: AutoEnable bit 3, ApicVector 11:4, DirectMode 12.
	c, err := DirectOneShot(0xEC)
	if err != nil || uint64(c) != 0x1EC8 || c.Vector() != 0xEC || c.ReservedBits() != 0 || c&STimerPeriodic != 0 {
		t.Errorf("DirectOneShot(0xEC) = %#x, %v", uint64(c), err)
	}
	if _, err := DirectOneShot(13); err == nil {
		t.Error("vector 13 accepted")
	}
	if STimerConfig(1<<13).ReservedBits() == 0 || STimerConfig(1<<20).ReservedBits() == 0 || STimerConfig(0xF<<16).SINT() != 15 {
		t.Error("reserved bits 15:13 and 63:20, SINTx 19:16")
	}
	if MSRTimeRefCount != 0x40000020 || MSRReferenceTSC != 0x40000021 || MSRSTimer0Config != 0x400000B0 || MSRSTimer0Count != 0x400000B1 {
		t.Error("timer MSR numbers differ from TLFS timers.md")
	}
}

func TestReferenceTSC(t *testing.T) {
	page := make([]byte, PageSize)
	load := func(off int) uint64 { return binary.LittleEndian.Uint64(page[off:]) }
	// A 2.5 GHz TSC: 100 ns units = TSC / 250, scale = 2^64 / 250.
	binary.LittleEndian.PutUint32(page[0:], 7)
	binary.LittleEndian.PutUint64(page[8:], 0x0106_24DD_2F1A_9FBE) // floor(2^64 / 250)
	binary.LittleEndian.PutUint64(page[16:], 1000)
	ref, ok := ReferenceTSC(load, func() uint64 { return 2_500_000_000 }, 4)
	// One second of TSC is 10^7 units (rounded down by the scale), plus
	// the offset.
	if !ok || ref != 10_000_000-1+1000 {
		t.Errorf("reference time %d, %v; want 10000999", ref, ok)
	}
	// Sequence 0: fall back to the MSR.
	binary.LittleEndian.PutUint32(page[0:], 0)
	if _, ok := ReferenceTSC(load, func() uint64 { return 1 }, 4); ok {
		t.Error("sequence 0 accepted")
	}
	// A hypervisor that changes the sequence on every read: bounded.
	seq := uint32(1)
	changing := func(off int) uint64 {
		if off == 0 {
			seq++
			return uint64(seq)
		}
		return load(off)
	}
	if _, ok := ReferenceTSC(changing, func() uint64 { return 1 }, 4); ok {
		t.Error("a page that never settles gave a time")
	}
}
