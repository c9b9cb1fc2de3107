package kernel

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestCopyChunked: copyChunked copies what copy copies, for lengths
// around and across chunk boundaries and either side shorter.
func TestCopyChunked(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 3*copyChunk+100)
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	lens := []int{0, 1, copyChunk - 1, copyChunk, copyChunk + 1, 2 * copyChunk, 2*copyChunk + 7, 4096, len(src)}
	for _, ns := range lens {
		for _, nd := range lens {
			want := bytes.Repeat([]byte{0xee}, nd+16)
			got := bytes.Repeat([]byte{0xee}, nd+16)
			wn := copy(want[:nd], src[:ns])
			gn := copyChunked(got[:nd], src[:ns])
			if gn != wn || !bytes.Equal(got, want) {
				t.Fatalf("copyChunked(%d-byte dst, %d-byte src) = %d, want %d (bytes equal: %v)", nd, ns, gn, wn, bytes.Equal(got, want))
			}
		}
	}
}
