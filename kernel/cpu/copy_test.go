package cpu

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestCopy: Copy copies what copy copies, for lengths
// around and across chunk boundaries and either side shorter.
func TestCopy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 3*CopyChunk+100)
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	lens := []int{0, 1, CopyChunk - 1, CopyChunk, CopyChunk + 1, 2 * CopyChunk, 2*CopyChunk + 7, 4096, len(src)}
	for _, ns := range lens {
		for _, nd := range lens {
			want := bytes.Repeat([]byte{0xee}, nd+16)
			got := bytes.Repeat([]byte{0xee}, nd+16)
			wn := copy(want[:nd], src[:ns])
			gn := Copy(got[:nd], src[:ns])
			if gn != wn || !bytes.Equal(got, want) {
				t.Fatalf("Copy(%d-byte dst, %d-byte src) = %d, want %d (bytes equal: %v)", nd, ns, gn, wn, bytes.Equal(got, want))
			}
		}
	}
}
