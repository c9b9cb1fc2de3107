package guestwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

func TestRequestRoundTrip(t *testing.T) {
	for _, r := range []*Request{
		{Message: []byte("sealed")},
		{Extended: true, CertPages: 4, Message: bytes.Repeat([]byte{7}, guestmsg.MaxMessageSize)},
		{Extended: true},
	} {
		var buf bytes.Buffer
		if err := WriteRequest(&buf, r); err != nil {
			t.Fatalf("WriteRequest(%+v) = %v", r, err)
		}
		got, err := ReadRequest(&buf)
		if err != nil {
			t.Fatalf("ReadRequest = %v", err)
		}
		if got.Extended != r.Extended || got.CertPages != r.CertPages || !bytes.Equal(got.Message, r.Message) {
			t.Errorf("ReadRequest = %+v, want %+v", got, r)
		}
	}
}

func TestResponseRoundTrip(t *testing.T) {
	r := &Response{
		Result:  guestmsg.Result{VMM: guestmsg.VMMInvalidLength, Firmware: 0x16, CertPages: 3},
		Message: []byte("sealed response"),
		Certs:   bytes.Repeat([]byte{1}, 2*guestmsg.CertPageSize),
	}
	var buf bytes.Buffer
	if err := WriteResponse(&buf, r); err != nil {
		t.Fatal(err)
	}
	got, err := ReadResponse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Result != r.Result || !bytes.Equal(got.Message, r.Message) || !bytes.Equal(got.Certs, r.Certs) {
		t.Errorf("ReadResponse = %+v, want %+v", got, r)
	}
}

func frame(body []byte) []byte {
	b := append(Magic[:0:0], Magic[:]...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

func TestMalformedRequests(t *testing.T) {
	long := make([]byte, requestHeader+guestmsg.MaxMessageSize+1)
	long[0] = KindRequest
	for name, b := range map[string][]byte{
		"bad magic":           append([]byte("XPSP"), frame([]byte{1, 0, 0, 0, 0, 0, 0, 0})[4:]...),
		"huge body":           append(Magic[:], 0xff, 0xff, 0xff, 0x7f),
		"short body":          frame([]byte{1, 0, 0}),
		"unknown kind":        frame([]byte{9, 0, 0, 0, 0, 0, 0, 0}),
		"pages, not ext":      frame([]byte{KindRequest, 0, 0, 0, 1, 0, 0, 0}),
		"too many pages":      frame([]byte{KindExtended, 0, 0, 0, MaxCertPages + 1, 0, 0, 0}),
		"reserved bytes":      frame([]byte{KindRequest, 1, 0, 0, 0, 0, 0, 0}),
		"message too long":    frame(long),
		"truncated body":      frame([]byte{KindRequest, 0, 0, 0, 0, 0, 0, 0})[:12],
		"truncated header":    Magic[:],
		"body shorter than n": append(frame([]byte{KindRequest, 0, 0, 0, 0, 0, 0, 0}), 0)[:10],
	} {
		if _, err := ReadRequest(bytes.NewReader(b)); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: ReadRequest = %v, want ErrFrame", name, err)
		}
	}
	if _, err := ReadRequest(bytes.NewReader(nil)); err != io.EOF {
		t.Errorf("ReadRequest(empty) = %v, want io.EOF", err)
	}
}

func TestMalformedResponses(t *testing.T) {
	hdr := func(m uint32) []byte {
		b := make([]byte, responseHeader)
		binary.LittleEndian.PutUint32(b[12:], m)
		return b
	}
	for name, b := range map[string][]byte{
		"short body":        frame(make([]byte, responseHeader-1)),
		"message past body": frame(hdr(5)),
		"message too long":  frame(append(hdr(guestmsg.MaxMessageSize+1), make([]byte, guestmsg.MaxMessageSize+1)...)),
		"empty stream":      nil,
	} {
		if _, err := ReadResponse(bytes.NewReader(b)); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: ReadResponse = %v, want ErrFrame", name, err)
		}
	}
}

// host answers one request on conn with rsp, after checking it.
func host(t *testing.T, conn net.Conn, check func(*Request), rsp *Response) {
	go func() {
		req, err := ReadRequest(conn)
		if err != nil {
			t.Errorf("host: %v", err)
			return
		}
		check(req)
		if err := WriteResponse(conn, rsp); err != nil {
			t.Errorf("host: %v", err)
		}
	}()
}

func TestTransport(t *testing.T) {
	guest, h := net.Pipe()
	defer guest.Close()
	defer h.Close()
	tr := &Transport{RW: guest}

	host(t, h, func(r *Request) {
		if !r.Extended || r.CertPages != 2 || string(r.Message) != "req" {
			t.Errorf("host got %+v", r)
		}
	}, &Response{Message: []byte("rsp"), Certs: []byte("certs")})
	resp := bytes.Repeat([]byte{0xee}, guestmsg.MaxMessageSize)
	certs := bytes.Repeat([]byte{0xee}, 2*guestmsg.CertPageSize)
	res, err := tr.Send([]byte("req"), resp, certs)
	if err != nil || res != (guestmsg.Result{}) {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	if string(resp[:4]) != "rsp\x00" || string(certs[:6]) != "certs\x00" || certs[len(certs)-1] != 0 {
		t.Errorf("buffers not replaced: %q %q", resp[:4], certs[:6])
	}

	host(t, h, func(r *Request) {
		if r.Extended || r.CertPages != 0 {
			t.Errorf("host got %+v", r)
		}
	}, &Response{Result: guestmsg.Result{Firmware: guestmsg.StatusInvalidParam}})
	if res, err := tr.Send([]byte("req"), resp, nil); err != nil || res.Firmware != guestmsg.StatusInvalidParam {
		t.Errorf("Send = %+v, %v; want the firmware status", res, err)
	}

	host(t, h, func(*Request) {}, &Response{Certs: make([]byte, 2*guestmsg.CertPageSize)})
	if _, err := tr.Send([]byte("req"), resp, make([]byte, guestmsg.CertPageSize)); !errors.Is(err, ErrFrame) {
		t.Errorf("Send with more certificate bytes than offered = %v, want ErrFrame", err)
	}

	host(t, h, func(*Request) {}, &Response{Result: guestmsg.Result{VMM: VMMProtocolError}})
	if _, err := tr.Send([]byte("req"), resp, nil); err == nil {
		t.Error("Send ignored a protocol error")
	}

	if _, err := tr.Send([]byte("req"), resp, make([]byte, 100)); err == nil {
		t.Error("Send accepted a partial certificate page")
	}
}

func FuzzReadRequest(f *testing.F) {
	var buf bytes.Buffer
	WriteRequest(&buf, &Request{Extended: true, CertPages: 3, Message: []byte("m")})
	f.Add(buf.Bytes())
	f.Add(frame([]byte{KindRequest, 0, 0, 0, 0, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadRequest(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteRequest(&out, r); err != nil {
			t.Fatalf("WriteRequest of a request ReadRequest accepted: %v", err)
		}
		if !bytes.Equal(out.Bytes(), b[:out.Len()]) {
			t.Fatalf("round trip changed the frame: %x, then %x", b, out.Bytes())
		}
	})
}
