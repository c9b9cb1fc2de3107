package north

import (
	"reflect"
	"testing"
)

// TestSealSpans: seal keeps the sealed ranges sorted, merging the ones
// that overlap or touch; sealedIn finds any overlap.
func TestSealSpans(t *testing.T) {
	var s mmState
	s.seal(0x5000, 0x6000)
	s.seal(0x1000, 0x2000)
	s.seal(0x9000, 0xa000)
	s.seal(0x2000, 0x3000) // touches the first
	s.seal(0x5800, 0x9800) // overlaps two
	want := []span{{0x1000, 0x3000}, {0x5000, 0xa000}}
	if !reflect.DeepEqual(s.sealed, want) {
		t.Fatalf("sealed = %x, want %x", s.sealed, want)
	}
	for _, c := range []struct {
		start, end uint64
		want       bool
	}{
		{0, 0x1000, false}, {0, 0x1001, true}, {0x3000, 0x5000, false}, {0x4fff, 0x5000, false},
		{0x9fff, 0xb000, true}, {0xa000, 0xb000, false},
	} {
		if got := s.sealedIn(c.start, c.end); got != c.want {
			t.Errorf("sealedIn(%#x, %#x) = %v, want %v", c.start, c.end, got, c.want)
		}
	}
}

// TestWithoutSpans: a fork's child keeps the sealed ranges less the
// MADV_DONTFORK ones it does not get.
func TestWithoutSpans(t *testing.T) {
	a := []span{{0x1000, 0x5000}, {0x8000, 0x9000}}
	b := []span{{0x0, 0x2000}, {0x3000, 0x4000}, {0x8000, 0x9000}}
	want := []span{{0x2000, 0x3000}, {0x4000, 0x5000}}
	if got := withoutSpans(a, b); !reflect.DeepEqual(got, want) {
		t.Errorf("withoutSpans = %x, want %x", got, want)
	}
	if got := withoutSpans(a, nil); !reflect.DeepEqual(got, a) {
		t.Errorf("withoutSpans(a, nil) = %x", got)
	}
}
