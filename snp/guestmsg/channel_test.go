package guestmsg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// scripted is a Transport whose answers come from a function.
type scripted struct {
	maxCert int
	answer  func(req, resp, certs []byte) (Result, error)
	sent    [][]byte
}

func (s *scripted) MaxCertPages() int { return s.maxCert }

func (s *scripted) Send(req, resp, certs []byte) (Result, error) {
	s.sent = append(s.sent, bytes.Clone(req))
	return s.answer(req, resp, certs)
}

// echoPSP answers like a PSP holding key.
func echoPSP(t testing.TB, key *Key, status FirmwareStatus) func(req, resp, certs []byte) (Result, error) {
	return func(req, resp, certs []byte) (Result, error) {
		h, _, err := key.Open(req)
		if err != nil {
			t.Fatalf("PSP cannot open the request: %v", err)
		}
		rsp := (&KeyResponse{Status: status}).Marshal()
		m, err := key.Seal(Header{SeqNo: h.SeqNo + 1, Type: h.Type.Response(), Version: h.Version, VMPCK: h.VMPCK}, rsp)
		if err != nil {
			t.Fatal(err)
		}
		copy(resp, m)
		return Result{}, nil
	}
}

func TestChannelSequenceNumbers(t *testing.T) {
	vmpck := bytes.Repeat([]byte{9}, 32)
	key, _ := NewKey(vmpck)
	tr := &scripted{answer: echoPSP(t, key, StatusSuccess)}
	ch, err := NewChannel(tr, vmpck, 2, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := ch.DeriveKey(&KeyRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range tr.sent {
		h, _ := UnmarshalHeader(m)
		if h.SeqNo != uint64(101+2*i) || h.VMPCK != 2 || h.Type != MsgKeyReq {
			t.Errorf("request %d: %+v", i, h)
		}
	}
	if ch.SeqNo() != 106 {
		t.Errorf("SeqNo = %d, want 106", ch.SeqNo())
	}
	if _, err := NewChannel(tr, vmpck, 4, 0); err == nil {
		t.Error("NewChannel accepted VMPCK index 4")
	}
	if _, err := ch.Exchange(Request{Type: MsgKeyRsp}); err == nil {
		t.Error("Exchange accepted a response type")
	}
}

func TestChannelExhausted(t *testing.T) {
	vmpck := bytes.Repeat([]byte{9}, 32)
	key, _ := NewKey(vmpck)
	tr := &scripted{answer: echoPSP(t, key, StatusSuccess)}
	ch, _ := NewChannel(tr, vmpck, 0, 1<<64-3)
	if _, err := ch.DeriveKey(&KeyRequest{}); err != nil {
		t.Fatalf("last usable exchange: %v", err)
	}
	var de *DisabledError
	if _, err := ch.DeriveKey(&KeyRequest{}); !errors.As(err, &de) || len(tr.sent) != 1 {
		t.Errorf("exchange past the last sequence number = %v after %d sends", err, len(tr.sent))
	}
}

func TestChannelResendsIdenticalBytes(t *testing.T) {
	vmpck := bytes.Repeat([]byte{9}, 32)
	key, _ := NewKey(vmpck)
	psp := echoPSP(t, key, StatusSuccess)
	calls := 0
	tr := &scripted{maxCert: 8, answer: func(req, resp, certs []byte) (Result, error) {
		switch calls++; calls {
		case 1:
			return Result{VMM: VMMBusy}, nil
		case 2:
			return Result{VMM: VMMInvalidLength, CertPages: 8}, nil
		case 3:
			if len(certs) != 8*CertPageSize {
				t.Errorf("retry offered %d bytes of certificates", len(certs))
			}
			return Result{VMM: VMMInvalidLength, CertPages: 9}, nil
		case 4:
			if certs != nil {
				t.Error("fallback request still extended")
			}
		}
		return psp(req, resp, certs)
	}}
	ch, _ := NewChannel(tr, vmpck, 0, 0)
	_, err := ch.Exchange(Request{Type: MsgKeyReq, Version: 1, Payload: make([]byte, KeyRequestSize), Certs: true})
	if !errors.Is(err, ErrCertificates) {
		t.Errorf("Exchange = %v, want ErrCertificates", err)
	}
	for i, m := range tr.sent {
		if !bytes.Equal(m, tr.sent[0]) {
			t.Errorf("send %d differs from the first: a sequence number was re-sealed", i)
		}
	}
	if len(tr.sent) != 4 || ch.SeqNo() != 2 || ch.Err() != nil {
		t.Errorf("%d sends, SeqNo %d, Err %v", len(tr.sent), ch.SeqNo(), ch.Err())
	}
}

// FuzzChannelResponse feeds arbitrary host answers to a Channel: it must
// never accept a response it did not get from the key's holder, and must
// never advance the sequence number without one.
func FuzzChannelResponse(f *testing.F) {
	vmpck := bytes.Repeat([]byte{9}, 32)
	key, _ := NewKey(vmpck)
	good, _ := key.Seal(Header{SeqNo: 2, Type: MsgKeyRsp, Version: 1}, (&KeyResponse{}).Marshal())
	f.Add(good, uint64(0), uint64(0))
	f.Add(good, uint64(1)<<32, uint64(3))
	f.Add(good[:HeaderSize], uint64(2)<<32, uint64(0))
	f.Fuzz(func(t *testing.T, resp []byte, info2, pages uint64) {
		calls := 0
		tr := &scripted{maxCert: 4, answer: func(req, out, certs []byte) (Result, error) {
			calls++
			copy(out, resp)
			return Result{VMM: VMMError(info2 >> 32), Firmware: FirmwareStatus(info2), CertPages: pages}, nil
		}}
		ch, _ := NewChannel(tr, vmpck, 0, 0)
		_, err := ch.Exchange(Request{Type: MsgKeyReq, Version: 1, Payload: make([]byte, KeyRequestSize), Certs: pages&1 == 1})
		authentic := info2 == 0 && len(resp) >= len(good) && sameAuthenticated(resp, good)
		switch {
		case err == nil && !authentic:
			t.Fatalf("accepted a forged answer")
		case err == nil && ch.SeqNo() != 2, err != nil && ch.SeqNo() != 0 && !errors.Is(err, ErrCertificates):
			t.Fatalf("SeqNo %d after %v", ch.SeqNo(), err)
		case calls > MaxBusyRetries+4:
			t.Fatalf("%d sends for one request", calls)
		}
		for _, m := range tr.sent {
			if binary.LittleEndian.Uint64(m[0x20:]) != 1 || !bytes.Equal(m, tr.sent[0]) {
				t.Fatal("request re-sealed")
			}
		}
	})
}

// sameAuthenticated compares the parts of two sealed messages that the
// tag, IV and AAD cover: AUTHTAG[0:16], MSG_SEQNO, header bytes 0x30..0x5F
// and the ciphertext. The rest of the header is reserved and unauthenticated.
func sameAuthenticated(a, b []byte) bool {
	for _, r := range [][2]int{{0, TagSize}, {offSeqNo, offSeqNo + 8}, {AADOffset, len(b)}} {
		if !bytes.Equal(a[r[0]:r[1]], b[r[0]:r[1]]) {
			return false
		}
	}
	return true
}
