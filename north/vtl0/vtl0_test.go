package vtl0

import (
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

func TestDevice(t *testing.T) {
	ch := &vsm.Channel{Timeout: time.Minute}
	d := New(ch)
	if _, _, errno := ch.Call(1, []byte("x")); errno != vtlcall.ENODEV {
		t.Fatalf("call with the device closed: errno %d", errno)
	}
	f := d.Open()
	buf := make([]byte, MaxMessage)
	if _, err := f.Read(nil, vfs.BytesBuf(buf), 0); err != vfs.EAGAIN {
		t.Errorf("read with nothing waiting: %v", err)
	}
	if f.Readiness(vfs.EventIn) != 0 {
		t.Error("POLLIN with nothing waiting")
	}
	arrived := make(chan struct{}, 1)
	sub := f.Queue().Subscribe(vfs.EventIn, func(vfs.Events) { arrived <- struct{}{} })
	defer f.Queue().Unsubscribe(sub)
	type result struct {
		status int32
		data   []byte
		errno  int
	}
	res := make(chan result)
	go func() {
		s, b, e := ch.Call(0x42, []byte("sign me"))
		res <- result{s, b, e}
	}()
	<-arrived
	if f.Readiness(vfs.EventIn) == 0 {
		t.Error("no POLLIN with a request waiting")
	}
	if _, err := f.Read(nil, vfs.BytesBuf(make([]byte, 100)), 0); err != vfs.EINVAL {
		t.Errorf("read into 100 bytes: %v", err)
	}
	n, err := f.Read(nil, vfs.BytesBuf(buf), 0)
	if err != nil {
		t.Fatal(err)
	}
	req, err := vsm.DecodeRequest(buf[:n])
	if err != nil || req.Func != 0x42 || string(req.Data) != "sign me" {
		t.Fatalf("request %+v %v", req, err)
	}
	if _, err := f.Write(nil, vfs.BytesBuf([]byte("garbage")), 0); err != vfs.EINVAL {
		t.Errorf("malformed reply: %v", err)
	}
	reply := vsm.EncodeReply(req.Seq, 0, []byte("signed"))
	if n, err := f.Write(nil, vfs.BytesBuf(reply), 0); err != nil || n != int64(len(reply)) {
		t.Fatalf("write %d %v", n, err)
	}
	r := <-res
	if r.errno != 0 || r.status != 0 || string(r.data) != "signed" {
		t.Errorf("VTL call got %+v", r)
	}
	f.Release(nil)
	if _, _, errno := ch.Call(1, nil); errno != vtlcall.ENODEV {
		t.Errorf("call after the last close: errno %d", errno)
	}
}
