package vfs

import (
	"bytes"
	"testing"
)

// TestReclaimPipeRingsKeepsAPage checks the pipe shrinker: an emptied
// pipe gives back its ring but one page (Linux's tmp_page), so that a
// small write to it later takes no new memory; a pipe holding data
// keeps its ring whole.
func TestReclaimPipeRingsKeepsAPage(t *testing.T) {
	empty, full := newPipe(pipeCred{uid: 4242}), newPipe(pipeCred{uid: 4242})
	defer func() {
		empty.mu.Lock()
		empty.free()
		empty.mu.Unlock()
		full.mu.Lock()
		full.free()
		full.mu.Unlock()
	}()
	for _, p := range []*pipe{empty, full} {
		p.readers, p.writers = 1, 1
	}
	data := bytes.Repeat([]byte("x"), PipeSize)
	for _, p := range []*pipe{empty, full} {
		if n, err := p.write(BytesBuf(data)); n != PipeSize || err != nil {
			t.Fatalf("write = %d, %v", n, err)
		}
	}
	out := make([]byte, PipeSize)
	if n, err := empty.read(BytesBuf(out)); n != PipeSize || err != nil {
		t.Fatalf("read = %d, %v", n, err)
	}
	if n, err := full.read(BytesBuf(out[:10])); n != 10 || err != nil {
		t.Fatalf("read = %d, %v", n, err)
	}

	freed := ReclaimPipeRings()
	if want := int64(PipeSize - pageSize); freed < want {
		t.Errorf("ReclaimPipeRings freed %d bytes, want at least %d", freed, want)
	}
	if len(empty.ring) != pageSize {
		t.Errorf("emptied pipe's ring is %d bytes after reclaim, want one page (%d)", len(empty.ring), pageSize)
	}
	if len(full.ring) != PipeSize {
		t.Errorf("pipe holding data has a %d-byte ring after reclaim, want %d", len(full.ring), PipeSize)
	}

	// A write of up to a page lands in the page that stayed.
	ring := &empty.ring[0]
	msg := []byte("after reclaim")
	if n, err := empty.write(BytesBuf(msg)); n != int64(len(msg)) || err != nil {
		t.Fatalf("write after reclaim = %d, %v", n, err)
	}
	if &empty.ring[0] != ring {
		t.Errorf("a small write after reclaim made a new ring")
	}
	got := make([]byte, 64)
	n, err := empty.read(BytesBuf(got))
	if err != nil || string(got[:n]) != string(msg) {
		t.Errorf("read after reclaim = %q, %v; want %q", got[:n], err, msg)
	}
	// A large write grows the ring again.
	if n, err := empty.write(BytesBuf(data)); n != PipeSize || err != nil {
		t.Errorf("large write after reclaim = %d, %v", n, err)
	}
}
