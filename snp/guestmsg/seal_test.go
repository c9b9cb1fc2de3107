package guestmsg

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// Known-answer vector from snp/measure/testdata/reference/VECTORS.md ("Guest message
// sealing"), published with TamaGo's SEV driver tests.
const (
	kaVMPCK  = "fe246add1ac33915ee4bf86e869b0ba572bd33f26e883404d7c70cca0b40b4b3"
	kaSealed = `
ee858c71f018162db682ecee7244a4cd 00000000000000000000000000000000
01000000000000000000000000000000 01016000050160000000000001000000
00000000000000000000000000000000 00000000000000000000000000000000
a1a156d62d7eb58a8677e5fbf38aad4c c3dc9322e16ed02e324e740580b76bf7
c671cb56fb030af6b345692677e7231e f2100d39ef12b866701dadcfa95aa766
920616db36aa883089e7ecabd1640b9a 772a788858e9bfd7f122088f163af2ad`
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func knownAnswer(t testing.TB) (*Key, []byte, []byte) {
	key, err := NewKey(unhex(t, kaVMPCK))
	if err != nil {
		t.Fatal(err)
	}
	req := ReportRequest{VMPL: 1, KeySel: KeyDefault}
	payload, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return key, payload, unhex(t, kaSealed)
}

func TestSealKnownAnswer(t *testing.T) {
	key, payload, want := knownAnswer(t)
	got, err := key.Seal(Header{SeqNo: 1, Type: MsgReportReq, Version: MsgVersion1, VMPCK: 1}, payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Seal =\n%x\nwant\n%x", got, want)
	}
}

func TestOpenKnownAnswer(t *testing.T) {
	key, payload, sealed := knownAnswer(t)
	h, got, err := key.Open(sealed)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{SeqNo: 1, Algo: AlgoAES256GCM, HdrVersion: 1, HdrSize: 0x60, Type: MsgReportReq,
		Version: 1, Size: 0x60, VMPCK: 1}
	copy(want.AuthTag[:], sealed[:16])
	if h != want {
		t.Errorf("Open header = %+v, want %+v", h, want)
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("Open payload = %x, want %x", got, payload)
	}
	r, err := UnmarshalReportRequest(got)
	if err != nil || r.VMPL != 1 || r.KeySel != KeyDefault || r.ReportData != [64]byte{} {
		t.Errorf("UnmarshalReportRequest = %+v, %v", r, err)
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	key, _, sealed := knownAnswer(t)
	for _, tc := range []struct {
		name string
		off  int
	}{
		{"tag", 0x00},
		{"seqno", 0x20},
		{"type (AAD)", 0x34},
		{"vmpck (AAD)", 0x3C},
		{"reserved (AAD)", 0x5F},
		{"ciphertext", 0x60},
		{"last ciphertext byte", 0xBF},
	} {
		m := bytes.Clone(sealed)
		m[tc.off] ^= 0x01
		if _, _, err := key.Open(m); !errors.Is(err, ErrAuth) {
			t.Errorf("Open with %s flipped = %v, want ErrAuth", tc.name, err)
		}
	}
	// Header fields Open checks before authenticating.
	for _, tc := range []struct {
		name string
		off  int
		v    byte
	}{
		{"algo", 0x30, 2},
		{"header version", 0x31, 2},
		{"header size", 0x32, 0x50},
		{"payload size", 0x37, 0x10}, // 0x1060 > MaxPayloadSize
	} {
		m := bytes.Clone(sealed)
		m[tc.off] = tc.v
		if _, _, err := key.Open(m); err == nil || errors.Is(err, ErrAuth) {
			t.Errorf("Open with bad %s = %v, want a header error", tc.name, err)
		}
	}
	if _, _, err := key.Open(sealed[:0x90]); err == nil {
		t.Error("Open of a truncated message succeeded")
	}
	other, _ := NewKey(make([]byte, 32))
	if _, _, err := other.Open(sealed); !errors.Is(err, ErrAuth) {
		t.Errorf("Open with the wrong key = %v", err)
	}
}

func TestNewKeyLength(t *testing.T) {
	if _, err := NewKey(make([]byte, 16)); err == nil {
		t.Error("NewKey accepted a 16-byte key")
	}
}

func TestSealRoundTripSizes(t *testing.T) {
	key, _, _ := knownAnswer(t)
	for _, n := range []int{0, 1, 0x60, MaxPayloadSize} {
		p := bytes.Repeat([]byte{0xAB}, n)
		m, err := key.Seal(Header{SeqNo: 7, Type: MsgKeyReq, Version: 1, VMPCK: 3}, p)
		if err != nil {
			t.Fatalf("Seal(%d bytes): %v", n, err)
		}
		if len(m) != HeaderSize+n {
			t.Errorf("Seal(%d bytes) = %d bytes", n, len(m))
		}
		h, got, err := key.Open(m)
		if err != nil || !bytes.Equal(got, p) || h.SeqNo != 7 || h.VMPCK != 3 {
			t.Errorf("Open(Seal(%d bytes)) = %+v, %d bytes, %v", n, h, len(got), err)
		}
	}
	if _, err := key.Seal(Header{}, make([]byte, MaxPayloadSize+1)); err == nil {
		t.Error("Seal of an oversized payload succeeded")
	}
}

func FuzzOpen(f *testing.F) {
	key, _, sealed := knownAnswer(f)
	f.Add(sealed)
	f.Add(sealed[:HeaderSize])
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, payload, err := key.Open(msg)
		if err != nil {
			return
		}
		if len(payload) != int(h.Size) {
			t.Fatalf("Open returned %d bytes for size %d", len(payload), h.Size)
		}
		again, err := key.Seal(h, payload)
		if err != nil || !bytes.Equal(again, msg[:HeaderSize+len(payload)]) && reservedZero(msg) {
			t.Fatalf("re-Seal differs from an authentic message: %v", err)
		}
	})
}

// reservedZero reports whether msg's unauthenticated-by-Marshal bytes are
// zero, so that re-sealing reproduces it exactly.
func reservedZero(msg []byte) bool {
	for _, r := range [][2]int{{0x10, 0x20}, {0x28, 0x30}, {0x38, 0x3C}, {0x3D, 0x60}} {
		for _, b := range msg[r[0]:r[1]] {
			if b != 0 {
				return false
			}
		}
	}
	return true
}
