package virtio

import (
	"encoding/binary"
	"testing"
)

// poolMem makes a pool of pages at gpa and has the fake memory know it,
// so that a fake device reads the rings and buffers given from it.
func poolMem(mem *fakeMem, pages int, gpa uint64) *Pool {
	b := make([]byte, pages*PageSize)
	r := Region{Bytes: b}
	for i := 0; i < pages; i++ {
		r.Pages = append(r.Pages, gpa+uint64(i)*PageSize)
	}
	mem.regions = append(mem.regions, r)
	p, err := NewPool(b, gpa)
	if err != nil {
		panic(err)
	}
	return p
}

// TestNetSharedPoolOnly is the SEV-SNP rule: the driver gives the device
// no address outside the shared pool (ring addresses, every descriptor
// ever posted), the frames cross it only as copies, and the pool's size
// bounds the queues.
func TestNetSharedPoolOnly(t *testing.T) {
	for _, transport := range []string{"mmio", "pci"} {
		mem := &fakeMem{}
		pool := poolMem(mem, 128, 0x7f000000)
		var dev *fakeNetDevice
		var tr Transport
		if transport == "mmio" {
			dev = newFakeNet(mem)
			tr, _ = NewMMIO(dev)
		} else {
			d := newFakePCINet(t, mem)
			p, err := NewPCI(d.function(), d.bar)
			if err != nil {
				t.Fatal(err)
			}
			dev, tr = d.net, p
		}
		size := NetQueueSizeFor(128, 256)
		if size != 64 {
			t.Fatalf("128 pages hold queues of %d", size)
		}
		n, err := NewNet(tr, pool.Alloc, size)
		if err != nil {
			t.Fatal(err)
		}
		inPool := func(what string, a uint64, l int) {
			if !pool.Contains(a, l) {
				t.Errorf("%s: %s [%#x, +%d) is outside the shared pool", transport, what, a, l)
			}
		}
		check := func() {
			for qi, q := range dev.queues {
				d, a, u := QueueLayout(uint16(q.num))
				inPool("descriptor table", q.desc, d)
				inPool("driver area", q.drv, a)
				inPool("device area", q.dev, u)
				for i := 0; i < int(q.num); i++ {
					e := mem.at(q.desc+uint64(16*i), 16)
					if l := binary.LittleEndian.Uint32(e[8:]); l != 0 {
						inPool("descriptor "+string(rune('0'+qi)), binary.LittleEndian.Uint64(e), int(l))
					}
				}
			}
		}
		check()
		frame := make([]byte, 1514)
		copy(frame, "private? no: a frame for the wire")
		for i := 0; i < 200; i++ {
			if err := n.Send(frame); err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 && dev.deliver(frame[:100]) {
				var got []byte
				if _, err := n.Receive(func(f []byte) { got = f }); err != nil {
					t.Fatal(err)
				}
				// The host scribbles over the shared pool's buffers
				// afterwards: the kernel's frame is its own copy.
				clear(n.rx.data.Bytes)
				if string(got) != string(frame[:100]) {
					t.Fatalf("%s: a received frame changed with shared memory", transport)
				}
			}
		}
		check()
		if len(dev.sent) != 200 {
			t.Errorf("%s: %d frames sent", transport, len(dev.sent))
		}
		// What is left of the pool cannot hold a second device's queues.
		if _, err := NewNet(tr, pool.Alloc, 64); err == nil {
			t.Errorf("%s: a device was set up in an exhausted pool", transport)
		}
	}
}

func TestPool(t *testing.T) {
	if _, err := NewPool(make([]byte, PageSize), 0x1001); err == nil {
		t.Error("an unaligned pool was made")
	}
	if _, err := NewPool(make([]byte, 100), 0x1000); err == nil {
		t.Error("a pool of a part page was made")
	}
	b := make([]byte, 4*PageSize)
	for i := range b {
		b[i] = 0xa5
	}
	p, _ := NewPool(b, 0x10000)
	r, err := p.Alloc(3)
	if err != nil || len(r.Bytes) != 3*PageSize || r.Pages[2] != 0x12000 || r.Bytes[0] != 0 || r.Bytes[3*PageSize-1] != 0 {
		t.Errorf("Alloc(3) = %v pages %x, %v", len(r.Bytes), r.Pages, err)
	}
	if _, err := p.Alloc(2); err == nil {
		t.Error("Alloc past the end")
	}
	if _, err := p.Alloc(0); err == nil {
		t.Error("Alloc(0)")
	}
	if !p.Contains(0x13ff0, 16) || p.Contains(0x13ff0, 17) || p.Contains(0xfff0, 16) || p.Contains(^uint64(0), 2) {
		t.Error("Contains")
	}
	for _, c := range []struct {
		pages int
		max   uint16
		want  uint16
	}{{262, 256, 256}, {261, 256, 128}, {128, 256, 64}, {8, 256, 2}, {7, 256, 0}, {1000, 100, 64}} {
		if got := NetQueueSizeFor(c.pages, c.max); got != c.want {
			t.Errorf("NetQueueSizeFor(%d, %d) = %d, want %d", c.pages, c.max, got, c.want)
		}
	}
}
