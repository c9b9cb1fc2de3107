package kernel

import "testing"

// TestPageCache checks when a cached translation may stand in for
// sysSpacePage: only at the generation it was made, only for the access
// it was made for (a write translation serves reads, not the reverse),
// and a later translation of the same page replaces it.
func TestPageCache(t *testing.T) {
	var c pageCache
	const a, b = 0x10000, 0x20000
	for _, va := range []uint64{0, a} { // page 0: a bad pointer's page
		if _, ok := c.lookup(0, va, false); ok {
			t.Fatalf("an empty cache translates %#x", va)
		}
	}
	c.add(7, a, 0x1000, false)
	if p, ok := c.lookup(7, a, false); !ok || p != 0x1000 {
		t.Fatalf("read lookup = %#x, %v; want 0x1000, true", p, ok)
	}
	if _, ok := c.lookup(7, a, true); ok {
		t.Fatal("a read translation served a write")
	}
	if _, ok := c.lookup(8, a, false); ok {
		t.Fatal("a translation outlived its generation")
	}
	// A write translation (the zero frame replaced by a private copy).
	c.add(7, a, 0x2000, true)
	for _, w := range []bool{false, true} {
		if p, ok := c.lookup(7, a, w); !ok || p != 0x2000 {
			t.Fatalf("after the write translation, lookup(write=%v) = %#x, %v; want 0x2000, true", w, p, ok)
		}
	}
	// A read translation of the same frame keeps it writable; of
	// another frame it does not.
	c.add(7, a, 0x2000, false)
	if _, ok := c.lookup(7, a, true); !ok {
		t.Fatal("a read translation of the same frame dropped the write one")
	}
	c.add(7, a, 0x3000, false)
	if _, ok := c.lookup(7, a, true); ok {
		t.Fatal("a read translation of another frame kept the page writable")
	}
	c.drop(a)
	if _, ok := c.lookup(7, a, false); ok {
		t.Fatal("a dropped page is still translated")
	}
	if _, ok := c.lookup(7, 0, false); ok {
		t.Fatal("page 0 is translated by a dropped entry")
	}
	// A new generation starts afresh: older entries are gone even if
	// the generation came back (it only grows, but the cache must not
	// mix entries of two generations).
	c.add(7, b, 0x4000, false)
	c.add(9, a, 0x5000, false)
	if _, ok := c.lookup(9, b, false); ok {
		t.Fatal("an entry of generation 7 served generation 9")
	}
	// More pages than entries: the oldest go, the newest stay.
	for i := range uint64(len(c.e) + 3) {
		c.add(9, 0x100000+i<<12, uintptr(0x100000+i<<12), false)
	}
	if _, ok := c.lookup(9, 0x100000, false); ok {
		t.Fatal("the oldest page survived a full round of newer ones")
	}
	last := uint64(0x100000 + (len(c.e)+2)<<12)
	if p, ok := c.lookup(9, last, false); !ok || p != uintptr(last) {
		t.Fatalf("the newest page: %#x, %v", p, ok)
	}
}
