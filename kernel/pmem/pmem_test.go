package pmem

import "testing"

func TestAllocFreeReserve(t *testing.T) {
	a := new(Allocator)
	a.AddRAM(0x1000, 0x9f000)    // 159 frames
	a.AddRAM(0x100000, 0x100000) // 256 frames
	a.Reserve(0x100000, 0x1800)  // 2 frames (partial frame counts)
	if got, want := a.TotalFrames(), 159+254; got != want {
		t.Fatalf("TotalFrames() = %d, want %d", got, want)
	}
	if got, want := a.FreeFrames(), 159+254; got != want {
		t.Fatalf("FreeFrames() = %d, want %d", got, want)
	}
	seen := map[uint64]bool{}
	for {
		p, ok := a.Alloc()
		if !ok {
			break
		}
		if p == 0 || (p >= 0x100000 && p < 0x102000) || p >= 0x200000 || (p >= 0xa0000 && p < 0x100000) {
			t.Fatalf("Alloc() = %#x: not free RAM", p)
		}
		if seen[p] {
			t.Fatalf("Alloc() returned %#x twice", p)
		}
		seen[p] = true
	}
	if len(seen) != 159+254 || a.FreeFrames() != 0 {
		t.Fatalf("allocated %d frames, %d left; want %d, 0", len(seen), a.FreeFrames(), 159+254)
	}
	if !a.Free(0x5000) {
		t.Fatal("Free(0x5000) = false, want true")
	}
	if a.Free(0x5000) {
		t.Fatal("double Free(0x5000) = true, want false")
	}
	if a.Free(0x100000) {
		t.Fatal("Free(0x100000) of a reserved frame = true, want false")
	}
	if a.Free(0x5001) || a.Free(0xa0000) || a.Free(1<<40) {
		t.Fatal("Free of unaligned, non-RAM or out-of-range address = true, want false")
	}
	if p, ok := a.Alloc(); !ok || p != 0x5000 {
		t.Fatalf("Alloc() after Free = %#x, %v; want 0x5000, true", p, ok)
	}
}

func TestAddRAMIgnoresPartialFramesAndOverlap(t *testing.T) {
	a := new(Allocator)
	a.AddRAM(0x800, 0x2000) // covers frame 1 only fully
	a.AddRAM(0x1000, 0x1000)
	if a.TotalFrames() != 1 || a.FreeFrames() != 1 {
		t.Fatalf("frames = %d/%d, want 1/1", a.FreeFrames(), a.TotalFrames())
	}
}

func TestRefsAndReserve(t *testing.T) {
	a := new(Allocator)
	a.AddRAM(0x100000, 16*PageSize)
	a.SetReserve(4)
	var user []uint64
	for {
		p, ok := a.AllocUser()
		if !ok {
			break
		}
		user = append(user, p)
	}
	if len(user) != 12 || a.FreeFrames() != 4 {
		t.Fatalf("AllocUser gave %d frames leaving %d; want 12 leaving the reserve of 4", len(user), a.FreeFrames())
	}
	if _, ok := a.Alloc(); !ok {
		t.Fatal("Alloc failed with the reserve free")
	}
	p := user[0]
	if !a.Ref(p) || a.Refs(p) != 2 {
		t.Fatalf("Ref: refs = %d, want 2", a.Refs(p))
	}
	free := a.FreeFrames()
	if !a.Free(p) || a.FreeFrames() != free || a.Refs(p) != 1 {
		t.Fatalf("first Free of a frame with two references freed it (free %d -> %d, refs %d)", free, a.FreeFrames(), a.Refs(p))
	}
	if !a.Free(p) || a.FreeFrames() != free+1 || a.Refs(p) != 0 {
		t.Fatalf("last Free kept the frame (free %d -> %d)", free, a.FreeFrames())
	}
	if a.Ref(p) {
		t.Fatal("Ref of a free frame succeeded")
	}
	if a.Free(p) {
		t.Fatal("Free of a free frame succeeded")
	}
}

// TestRangesMatchFrameByFrame checks AddRAM and Reserve, which work a
// bitmap word at a time, against a frame-by-frame model, for ranges that
// start and end inside words, span several, and overlap.
func TestRangesMatchFrameByFrame(t *testing.T) {
	type op struct {
		reserve    bool
		base, size uint64
	}
	ops := []op{
		{false, 0x1000, 0x9f000},
		{false, 0x100000, 300 * PageSize},
		{true, 0x100000 + 63*PageSize, 2 * PageSize},
		{false, 0x100000 + 50*PageSize, 100 * PageSize}, // overlaps RAM added already
		{true, 0, 1 << 20},
		{true, 0x100000 + 128*PageSize, 64 * PageSize}, // exactly one word
		{false, 0x100000 + 128*PageSize, PageSize},     // reserved frames stay reserved once re-added
		{false, (MaxFrames - 3) * PageSize, 10 * PageSize},
		{true, 0x100800, 1}, // one partial frame
	}
	a := new(Allocator)
	known := map[uint64]bool{}
	for _, o := range ops {
		if o.reserve {
			a.Reserve(o.base, o.size)
			for f := o.base / PageSize; f < (o.base+o.size+PageSize-1)/PageSize && f < MaxFrames; f++ {
				delete(known, f)
			}
		} else {
			a.AddRAM(o.base, o.size)
			for f := (o.base + PageSize - 1) / PageSize; f < (o.base+o.size)/PageSize && f < MaxFrames; f++ {
				known[f] = true
			}
		}
		if a.TotalFrames() != len(known) || a.FreeFrames() != len(known) {
			t.Fatalf("after %+v: %d free of %d frames, want %d of %d", o, a.FreeFrames(), a.TotalFrames(), len(known), len(known))
		}
	}
	got := map[uint64]bool{}
	for {
		p, ok := a.Alloc()
		if !ok {
			break
		}
		if !known[p/PageSize] || got[p/PageSize] {
			t.Fatalf("Alloc() = %#x: not free RAM in the model, or twice", p)
		}
		got[p/PageSize] = true
	}
	if len(got) != len(known) {
		t.Fatalf("allocated %d frames, the model has %d", len(got), len(known))
	}
}
