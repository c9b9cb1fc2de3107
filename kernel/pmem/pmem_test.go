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
