package boot

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel"
)

func TestWindowIn(t *testing.T) {
	for _, base := range []uint64{
		0x1000000,                           // 2 MiB-aligned
		0x1200000 - sharedSize,              // ends exactly at a boundary
		0x1200000 - sharedSize + pageSize,   // crosses by one page
		0x1200000 - pageSize,                // crosses by all but one page
		0x1200000 - 2*sharedSize + pageSize, // window fits, allocation crosses
		0xbffc0000,
	} {
		w := windowIn(base)
		if w < base || w+sharedSize > base+2*sharedSize {
			t.Errorf("windowIn(%#x) = %#x: outside the allocation", base, w)
		}
		if w%pageSize != 0 || w/largePage != (w+sharedSize-1)/largePage {
			t.Errorf("windowIn(%#x) = %#x: crosses a 2 MiB boundary or unaligned", base, w)
		}
	}
}

func TestSplitShared(t *testing.T) {
	const (
		cbit   = 1 << 51
		region = 0x3e00000
		lo     = region + 5*pageSize
		hi     = lo + sharedSize
	)
	var pt [512]uint64
	for i := range pt {
		pt[i] = 0xdead // stale
	}
	splitShared(&pt, region, cbit, lo, hi)
	for i, e := range pt {
		pa := uint64(region + i*pageSize)
		shared := pa >= lo && pa < hi
		if got := e &^ cbit &^ 0xfff; got != pa {
			t.Errorf("entry %d maps %#x, want %#x", i, got, pa)
		}
		if e&0xfff != ptePresentWrite {
			t.Errorf("entry %d flags %#x, want present|write (4 KiB page: no PS bit)", i, e&0xfff)
		}
		if (e&cbit == 0) != shared {
			t.Errorf("entry %d (%#x): C-bit %v, shared %v", i, pa, e&cbit != 0, shared)
		}
	}
}

func TestForUnaccepted(t *testing.T) {
	mm := memoryMap(
		[3]uint64{memConventional, 0, 0x100},
		[3]uint64{memUnaccepted, 0x100000, 0x100},
		[3]uint64{memLoaderData, 0x200000, 0x10},
		[3]uint64{memUnaccepted, 0x40000000, 0},        // empty
		[3]uint64{memUnaccepted, 0xbff00000, 0x200},    // crosses the limit
		[3]uint64{memUnaccepted, 0x100000000, 0x40000}, // above it
	)
	var got [][2]uint64
	all := forUnaccepted(mm, 48, privateEnd, func(base, size uint64) bool {
		got = append(got, [2]uint64{base, size})
		return true
	})
	want := [][2]uint64{{0x100000, 0x100000}, {0xbff00000, 0x100000}}
	if !all || len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("forUnaccepted = %v, %#x; want true, %#x", all, got, want)
	}
	n := 0
	if forUnaccepted(mm, 48, privateEnd, func(uint64, uint64) bool { n++; return false }) || n != 1 {
		t.Errorf("forUnaccepted did not stop at the first false (%d calls)", n)
	}
	// What it finds is not RAM before it is accepted.
	var info kernel.BootInfo
	convertMemoryMap(mm, 48, &info)
	for _, r := range info.Mem[:info.NMem] {
		if r.Type == kernel.MemRAM && r.Base < 0x200000 && r.Base+r.Size > 0x100000 {
			t.Errorf("unaccepted memory counted as RAM: %+v", r)
		}
	}
}

func TestClipRAM(t *testing.T) {
	var info kernel.BootInfo
	info.Mem[0] = kernel.MemRegion{Base: 0x100000, Size: 0x7ff00000, Type: e820RAM}   // below: kept
	info.Mem[1] = kernel.MemRegion{Base: 0x80000000, Size: 0x60000000, Type: e820RAM} // crosses 3 GiB
	info.Mem[2] = kernel.MemRegion{Base: 0xc0000000, Size: 0x10000000, Type: e820RAM} // above
	info.Mem[3] = kernel.MemRegion{Base: 0xfec00000, Size: 0x1000, Type: e820Reserved}
	info.NMem = 4
	clipRAM(&info, privateEnd)
	want := []kernel.MemRegion{
		{Base: 0x100000, Size: 0x7ff00000, Type: e820RAM},
		{Base: 0x80000000, Size: 0x40000000, Type: e820RAM},
		{Base: 0xc0000000, Size: 0x10000000, Type: e820Reserved},
		{Base: 0xfec00000, Size: 0x1000, Type: e820Reserved},
	}
	for i, w := range want {
		if info.Mem[i] != w {
			t.Errorf("region %d = %+v, want %+v", i, info.Mem[i], w)
		}
	}
	for _, r := range info.Mem[:info.NMem] {
		if r.Type == e820RAM && r.Base+r.Size > privateEnd {
			t.Errorf("RAM above 3 GiB left: %+v", r)
		}
	}
}
