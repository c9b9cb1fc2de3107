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

// TestCopyOverlap: overlapping slices end as copy leaves them, whichever
// way they overlap and by how much.
func TestCopyOverlap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	base := make([]byte, 4*CopyChunk+300)
	for i := range base {
		base[i] = byte(r.Uint32())
	}
	for _, n := range []int{1, CopyChunk - 1, CopyChunk, CopyChunk + 5, 3*CopyChunk + 17} {
		for _, shift := range []int{1, 7, 8, CopyChunk - 1, CopyChunk, CopyChunk + 1, 200} {
			if n+shift > len(base) {
				continue
			}
			for _, up := range []bool{true, false} {
				want, got := append([]byte(nil), base...), append([]byte(nil), base...)
				if up {
					copy(want[shift:shift+n], want[:n])
					Copy(got[shift:shift+n], got[:n])
				} else {
					copy(want[:n], want[shift:shift+n])
					Copy(got[:n], got[shift:shift+n])
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("Copy of %d bytes overlapping by a shift of %d (dst after src: %v) differs from copy", n, shift, up)
				}
			}
		}
	}
}
