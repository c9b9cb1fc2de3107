package vsm_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// app serves the channel as the hosted application would through
// /dev/vtl0: read a request, write a reply.
func app(t *testing.T, ch *vsm.Channel, serve func(vsm.AppRequest) (int32, []byte)) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, vsm.AppHeaderSize+vsm.MaxAppData)
		for {
			n, err := ch.Read(buf)
			if err == nil && n == 0 {
				ch.Wait(10 * time.Millisecond)
				continue
			}
			if err != nil {
				t.Error(err)
				return
			}
			req, err := vsm.DecodeRequest(buf[:n])
			if err != nil {
				t.Error(err)
				return
			}
			if req.Func == 0xFFFF {
				ch.Write(vsm.EncodeReply(req.Seq, 0, nil))
				return
			}
			status, data := serve(req)
			if err := ch.Write(vsm.EncodeReply(req.Seq, status, data)); err != nil {
				t.Error(err)
			}
		}
	}()
	return done
}

func TestAppChannel(t *testing.T) {
	r := newRig(t, nil)
	ch := rigChannel(r)
	if _, errno := r.call(vtlcall.AppFirst+1, 0x30_0000, 5, 0x31_0000); errno != vtlcall.ENODEV {
		t.Errorf("no application attached: errno %d", errno)
	}
	ch.Open()
	done := app(t, ch, func(req vsm.AppRequest) (int32, []byte) {
		if req.Func == 2 {
			return -int32(vtlcall.EPERM), nil
		}
		return 0, []byte(fmt.Sprintf("fn %d saw %q", req.Func, req.Data))
	})
	copy(r.h.Mem(0x30_0000, 5), "hello")
	out, errno := r.call(vtlcall.AppFirst+1, 0x30_0000, 5, 0x31_0000)
	want := `fn 1 saw "hello"`
	if errno != 0 || out.A1 != uint64(len(want)) || string(r.h.Mem(0x31_0000, len(want))) != want {
		t.Errorf("errno %d, reply %d bytes %q", errno, out.A1, r.h.Mem(0x31_0000, len(want)))
	}
	if _, errno := r.call(vtlcall.AppFirst+2, 0x30_0000, 5, 0x31_0000); errno != vtlcall.EPERM {
		t.Errorf("application's own error: errno %d", errno)
	}
	// Untrusted buffers.
	for _, c := range []struct{ a1, a2, a3 uint64 }{
		{skStart, 16, 0x31_0000},           // request from the secure kernel
		{0x30_0000, 5, skStart},            // reply into the secure kernel
		{0x30_0000, 5, skStart - 0x100},    // reply buffer running into it
		{ram - 2, 5, 0x31_0000},            // request past RAM
		{0x30_0000, vsm.MaxAppData + 1, 0}, // request too long
		{^uint64(0) - 2, 5, 0x31_0000},     // wrapping
	} {
		if _, errno := r.call(vtlcall.AppFirst+1, c.a1, c.a2, c.a3); errno == 0 {
			t.Errorf("app call %+v accepted", c)
		}
	}
	// No confused deputy: VTL1 does not write a reply into a page VTL0
	// made read-only.
	r.call(vtlcall.FuncProtectPages, 0x32_0000, 1, vsm.AttrRead)
	if _, errno := r.call(vtlcall.AppFirst+1, 0x30_0000, 5, 0x32_0000); errno != vtlcall.EFAULT {
		t.Errorf("reply into a read-only page: errno %d", errno)
	}
	if bytes.Contains(r.h.Mem(0x32_0000, 64), []byte("fn 1")) {
		t.Error("reply written through VTL0's own protection")
	}
	r.call(vtlcall.AppFirst+0xFFFF, 0, 0, 0x31_0000)
	<-done
}

func TestAppChannelHostileApp(t *testing.T) {
	ch := &vsm.Channel{Timeout: 50 * time.Millisecond}
	ch.Open()
	// Nobody reads: the call times out instead of holding VTL0.
	if _, _, errno := ch.Call(1, nil); errno != vtlcall.ETIMEDOUT {
		t.Errorf("errno %d", errno)
	}
	// Replies that do not answer the request in flight are refused.
	for _, p := range [][]byte{
		nil,
		vsm.EncodeReply(99, 0, nil),
		vsm.EncodeReply(1, 0, nil)[:15],
	} {
		if err := ch.Write(p); err == nil {
			t.Errorf("reply % x accepted", p)
		}
	}
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := ch.Read(buf)
			if err != nil || n == 0 {
				ch.Wait(5 * time.Millisecond)
				continue
			}
			req, _ := vsm.DecodeRequest(buf[:n])
			bad := vsm.EncodeReply(req.Seq, 5, nil) // positive status
			if ch.Write(bad) == nil {
				t.Error("positive status accepted")
			}
			long := vsm.EncodeReply(req.Seq, 0, []byte("x"))
			long[12] = 9 // claims 9 bytes, carries 1
			if ch.Write(long) == nil {
				t.Error("inconsistent length accepted")
			}
			ch.Write(vsm.EncodeReply(req.Seq, 0, []byte("ok")))
			return
		}
	}()
	ch.Timeout = 10 * time.Second
	status, data, errno := ch.Call(7, []byte("q"))
	if errno != 0 || status != 0 || string(data) != "ok" {
		t.Errorf("status %d data %q errno %d", status, data, errno)
	}
}

func TestLogRingWraps(t *testing.T) {
	b := make([]byte, hv.PageSize)
	l, err := vsm.NewLogRing(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		l.Printf("record %03d", i)
	}
	got, err := vsm.ReadLog(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != hv.PageSize-64 || !strings.HasSuffix(string(got), "record 399\n") || strings.Contains(string(got), "record 000") {
		t.Errorf("%d bytes, tail %q", len(got), got[len(got)-20:])
	}
	b[8] = 0xFF
	b[9] = 0xFF
	if _, err := vsm.ReadLog(b); err == nil {
		t.Error("a data size beyond the pages accepted")
	}
	if _, err := vsm.ReadLog(make([]byte, 100)); err == nil {
		t.Error("a page without the magic accepted")
	}
}
