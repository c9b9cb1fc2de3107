// Package vtl0 is /dev/vtl0: the hosted application's end of the LVBS
// application channel (hal.AppChannel). Under LVBS, VTL calls from the
// VTL0 kernel with function IDs 0x20000-0x2ffff are requests for the
// application running in Cocoon's VTL1; the application reads one request
// per read(2) and answers it with one write(2), so an ordinary Go program
// serves VTL0 the way a trusted application would (docs/LVBS.md,
// "Application channel", gives the byte formats).
//
// read(2) blocks until a request arrives (or fails with EAGAIN under
// O_NONBLOCK) and needs a buffer of at least 4112 bytes, the largest
// request (EINVAL otherwise, nothing consumed). write(2) of a malformed
// reply, or of one that answers no request, fails with EINVAL. poll and
// epoll report POLLIN while a request waits. The device is not seekable.
package vtl0

import (
	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Name is the device's name under /dev.
const Name = "vtl0"

// MaxMessage is the largest request or reply: a 16-byte header and a page
// of data.
const MaxMessage = 16 + 4096

// Device is /dev/vtl0 for one channel.
type Device struct {
	ch hal.AppChannel
	q  vfs.Queue
}

// New returns the device serving ch.
func New(ch hal.AppChannel) *Device {
	d := &Device{ch: ch}
	ch.OnRequest(func() { d.q.Notify(vfs.EventIn | vfs.EventRdNorm) })
	return d
}

// Open returns the FileImpl of one open of the device, for
// vfs.Options.Devices.
func (d *Device) Open() vfs.FileImpl {
	d.ch.Open()
	return &file{d: d}
}

type file struct {
	vfs.FileDefaults
	d *Device
}

// Stat is never called: vfs reports the device node's attributes.
func (*file) Stat(*vfs.File) vfs.Attr { return vfs.Attr{} }

// Stream implements vfs.FileImpl: no file positions.
func (*file) Stream() bool { return true }

// Read implements vfs.FileImpl.
func (f *file) Read(_ *vfs.File, dst vfs.Buf, _ int64) (int64, error) {
	if dst.Len() < MaxMessage {
		return 0, vfs.EINVAL
	}
	var p [MaxMessage]byte
	n, err := f.d.ch.Read(p[:])
	if err != nil {
		return 0, vfs.EINVAL
	}
	if n == 0 {
		return 0, vfs.EAGAIN
	}
	c, err := dst.CopyOut(p[:n])
	return int64(c), err
}

// Write implements vfs.FileImpl.
func (f *file) Write(_ *vfs.File, src vfs.Buf, _ int64) (int64, error) {
	n := src.Len()
	if n > MaxMessage {
		return 0, vfs.EINVAL
	}
	p := make([]byte, n)
	if _, err := src.CopyIn(p); err != nil {
		return 0, err
	}
	if err := f.d.ch.Write(p); err != nil {
		return 0, vfs.EINVAL
	}
	return n, nil
}

// Readiness implements vfs.FileImpl.
func (f *file) Readiness(mask vfs.Events) vfs.Events {
	ev := vfs.EventOut | vfs.EventWrNorm
	if f.d.ch.Waiting() {
		ev |= vfs.EventIn | vfs.EventRdNorm
	}
	return ev & mask
}

// Queue implements vfs.FileImpl.
func (f *file) Queue() *vfs.Queue { return &f.d.q }

// Ioctl implements vfs.FileImpl: the device has none.
func (*file) Ioctl(*vfs.File, mem.Memory, uint32, uint64) (int64, error) {
	return 0, vfs.ENOTTY
}

// Release implements vfs.FileImpl.
func (f *file) Release(*vfs.File) { f.d.ch.Close() }
