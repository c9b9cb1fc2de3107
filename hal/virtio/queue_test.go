package virtio

import (
	"encoding/binary"
	"errors"
	"testing"
)

// fakeMem hands out Regions at made-up device addresses and finds them
// again, as a device would by address.
type fakeMem struct {
	next    uint64
	regions []Region
}

func (m *fakeMem) alloc(pages int) (Region, error) {
	if m.next == 0 {
		m.next = 0x100000
	}
	r := Region{Bytes: make([]byte, pages*PageSize)}
	for i := 0; i < pages; i++ {
		// Scatter the pages: a region need not be contiguous.
		r.Pages = append(r.Pages, m.next+uint64(i)*2*PageSize)
	}
	m.next += uint64(pages) * 2 * PageSize
	m.regions = append(m.regions, r)
	return r, nil
}

// at returns the n bytes at device address a (within one page).
func (m *fakeMem) at(a uint64, n int) []byte {
	for _, r := range m.regions {
		for i, p := range r.Pages {
			if a >= p && a+uint64(n) <= p+PageSize {
				off := i*PageSize + int(a-p)
				return r.Bytes[off : off+n]
			}
		}
	}
	panic("fake device: bad address")
}

func newTestQueue(t testing.TB, size uint16) (*Queue, *fakeMem) {
	m := &fakeMem{}
	ring, _ := m.alloc(3)
	data, _ := m.alloc(int(size))
	q, err := NewQueue(size, ring, data)
	if err != nil {
		t.Fatal(err)
	}
	return q, m
}

// deviceUse plays the device: it puts used entries (id, len) on q's
// used ring and advances the index by adv (normally len(entries)).
func deviceUse(q *Queue, start uint16, entries [][2]uint32, adv uint16) {
	for i, e := range entries {
		slot := q.used[4+8*int((start+uint16(i))%q.size):]
		binary.LittleEndian.PutUint32(slot, e[0])
		binary.LittleEndian.PutUint32(slot[4:], e[1])
	}
	idx := binary.LittleEndian.Uint16(q.used[2:]) + adv
	binary.LittleEndian.PutUint16(q.used[2:], idx)
}

func TestQueueRoundTrip(t *testing.T) {
	q, m := newTestQueue(t, 8)
	var ids []uint16
	for i := 0; i < 3; i++ {
		id, err := q.Post(Buffer{Off: i * PageSize, Len: 100, Write: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// What the device sees: the avail index and the descriptors'
	// addresses and lengths.
	if got := binary.LittleEndian.Uint16(q.avail[2:]); got != 3 {
		t.Fatalf("avail idx %d", got)
	}
	d := q.desc[int(ids[1])*descSize:]
	addr, ln, fl := binary.LittleEndian.Uint64(d), binary.LittleEndian.Uint32(d[8:]), binary.LittleEndian.Uint16(d[12:])
	if ln != 100 || fl != descFWrite {
		t.Errorf("descriptor len %d flags %d", ln, fl)
	}
	copy(m.at(addr, 5), "hello")
	deviceUse(q, 0, [][2]uint32{{uint32(ids[1]), 5}, {uint32(ids[0]), 0}}, 2)
	used, err := q.Reclaim(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(used) != 2 || used[0].ID != ids[1] || string(q.Bytes(used[0])) != "hello" {
		t.Fatalf("used %+v", used)
	}
	if q.Free() != 8-1 {
		t.Errorf("free %d, want 7", q.Free())
	}
	// Nothing new: nothing returned.
	if used, err := q.Reclaim(nil); err != nil || len(used) != 0 {
		t.Errorf("second reclaim %v %v", used, err)
	}
}

// TestQueueHostileDevice feeds the queue used entries no honest device
// writes: each stops the queue with ErrDevice, without a panic, without
// returning the bad entry, and the queue takes no more buffers.
func TestQueueHostileDevice(t *testing.T) {
	for _, c := range []struct {
		name    string
		entries func(ids []uint16) [][2]uint32
		adv     uint16
		good    int // entries returned before the bad one
	}{
		{"id out of range", func(ids []uint16) [][2]uint32 { return [][2]uint32{{9999, 1}} }, 1, 0},
		{"id just past the end", func(ids []uint16) [][2]uint32 { return [][2]uint32{{8, 1}} }, 1, 0},
		{"length beyond the buffer", func(ids []uint16) [][2]uint32 { return [][2]uint32{{uint32(ids[0]), 101}} }, 1, 0},
		{"huge length", func(ids []uint16) [][2]uint32 { return [][2]uint32{{uint32(ids[0]), 0xffffffff}} }, 1, 0},
		{"returned twice", func(ids []uint16) [][2]uint32 {
			return [][2]uint32{{uint32(ids[0]), 1}, {uint32(ids[0]), 1}}
		}, 2, 1},
		{"never lent", func(ids []uint16) [][2]uint32 { return [][2]uint32{{uint32(ids[0]), 1}, {7, 1}} }, 2, 1},
		{"runaway index", func(ids []uint16) [][2]uint32 { return nil }, 5, 0},
		{"index wrapped backwards", func(ids []uint16) [][2]uint32 { return nil }, 0xffff, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, _ := newTestQueue(t, 8)
			var ids []uint16
			for i := 0; i < 3; i++ {
				id, err := q.Post(Buffer{Off: i * PageSize, Len: 100, Write: true})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			deviceUse(q, 0, c.entries(ids), c.adv)
			used, err := q.Reclaim(nil)
			if !errors.Is(err, ErrDevice) {
				t.Fatalf("Reclaim error %v, want ErrDevice", err)
			}
			if len(used) != c.good {
				t.Errorf("%d entries returned, want the %d good ones", len(used), c.good)
			}
			for _, u := range used {
				if u.Len > u.Buf.Len {
					t.Errorf("returned length %d beyond its buffer", u.Len)
				}
			}
			if _, err := q.Post(Buffer{Off: 4 * PageSize, Len: 10}); !errors.Is(err, ErrDevice) {
				t.Errorf("Post after the device broke: %v", err)
			}
			if _, err := q.Reclaim(nil); !errors.Is(err, ErrDevice) {
				t.Errorf("Reclaim after the device broke: %v", err)
			}
		})
	}
}

func TestQueueRefusesBadBuffers(t *testing.T) {
	q, _ := newTestQueue(t, 4)
	for _, b := range []Buffer{
		{Off: 0, Len: 0},
		{Off: -1, Len: 4},
		{Off: PageSize - 2, Len: 4}, // crosses a page
		{Off: 4 * PageSize, Len: 1}, // past the region
	} {
		if _, err := q.Post(b); err == nil {
			t.Errorf("Post(%+v) succeeded", b)
		}
	}
	for i := 0; i < 4; i++ {
		if _, err := q.Post(Buffer{Off: i * 10, Len: 10}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Post(Buffer{Off: 100, Len: 10}); err == nil {
		t.Error("a fifth buffer in a queue of 4")
	}
	if _, err := NewQueue(6, Region{}, Region{}); err == nil {
		t.Error("queue size 6 accepted")
	}
}

// FuzzReclaim lets the fuzzer write the used ring: whatever it writes,
// Reclaim returns only buffers that were lent, each once, with lengths
// within them, or stops the queue.
func FuzzReclaim(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 20, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		q, _ := newTestQueue(t, 8)
		lent := map[uint16]bool{}
		for i := 0; i < 5; i++ {
			id, err := q.Post(Buffer{Off: i * PageSize, Len: 64, Write: i%2 == 0})
			if err != nil {
				t.Fatal(err)
			}
			lent[id] = true
		}
		if len(in) < 2 {
			return
		}
		adv := binary.LittleEndian.Uint16(in)
		copy(q.used[4:], in[2:])
		binary.LittleEndian.PutUint16(q.used[2:], adv)
		used, err := q.Reclaim(nil)
		for _, u := range used {
			if !lent[u.ID] {
				t.Fatalf("returned %d, not lent or returned twice", u.ID)
			}
			lent[u.ID] = false
			if u.Len > u.Buf.Len || u.Len < 0 {
				t.Fatalf("length %d for a %d-byte buffer", u.Len, u.Buf.Len)
			}
		}
		if err != nil && !errors.Is(err, ErrDevice) {
			t.Fatalf("error %v is not ErrDevice", err)
		}
		if err != nil {
			if _, perr := q.Post(Buffer{Off: 6 * PageSize, Len: 1}); perr == nil {
				t.Fatal("a broken queue took a buffer")
			}
		}
	})
}
