package virtio

import (
	"fmt"
	"sync"
)

// virtio console (VIRTIO 1.2, 5.3 "Console Device"), driven with no
// feature but VIRTIO_F_VERSION_1: no VIRTIO_CONSOLE_F_MULTIPORT, so the
// device has port 0 only, on receiveq0 and transmitq0 (5.3.2), and QEMU
// counts that port open once the driver is ready (a guest without
// MULTIPORT cannot say so itself). Cocoon uses its receive side only:
// QEMU's virtconsole, the only port 0 it has, drops what the guest sends
// when the host's side is full (hw/char/virtio-console.c flush_buf), so
// output goes elsewhere; input is paced by the buffers the guest lends.
const (
	DeviceConsole  = 3
	consoleRxQueue = 0
	// consoleBufSize is one buffer: a page, so that one turn of the
	// host's I/O loop moves up to a page (QEMU offers at most 4096
	// bytes at a time, virtio_serial_guest_ready).
	consoleBufSize = PageSize
)

// Console is the receive side of port 0 of a virtio console: a byte
// stream from the host. It is safe for concurrent use.
type Console struct {
	t Transport

	mu      sync.Mutex
	rx      *Queue
	used    []Used
	pending []Used // received buffers not yet read, in order
	pendOff int    // bytes of pending[0] already read
}

// NewConsole initializes the console device on t with a receive queue of
// up to size buffers of one page each, in memory from alloc, and posts
// every buffer.
func NewConsole(t Transport, alloc Alloc, size uint16) (*Console, error) {
	if id := t.DeviceID(); id != DeviceConsole {
		return nil, fmt.Errorf("virtio-console: device id %d, not a console", id)
	}
	if _, err := Negotiate(t, FeatureVersion1); err != nil {
		return nil, err
	}
	max := t.QueueMax(consoleRxQueue)
	if max == 0 {
		return nil, fail(t, fmt.Errorf("virtio-console: queue %d is missing", consoleRxQueue))
	}
	qs := min(size, max)
	for qs&(qs-1) != 0 { // the largest power of two that fits
		qs &= qs - 1
	}
	ring, err := alloc(3)
	if err != nil {
		return nil, fail(t, err)
	}
	data, err := alloc(int(qs) * consoleBufSize / PageSize)
	if err != nil {
		return nil, fail(t, err)
	}
	q, err := NewQueue(qs, ring, data)
	if err != nil {
		return nil, fail(t, err)
	}
	d, dr, dv := q.Addresses()
	t.EnableQueue(consoleRxQueue, qs, d, dr, dv)
	c := &Console{t: t, rx: q}
	for i := 0; i < int(qs); i++ {
		if _, err := c.rx.Post(Buffer{Off: i * consoleBufSize, Len: consoleBufSize, Write: true}); err != nil {
			return nil, fail(t, err)
		}
	}
	Start(t)
	t.Notify(consoleRxQueue)
	return c, nil
}

// Read copies into p what the host has sent, in order, and lends the
// emptied buffers back; 0 if nothing has arrived. It never waits.
func (c *Console) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if len(c.pending) == 0 {
		c.t.AckInterrupt()
		c.used, err = c.rx.Reclaim(c.used[:0])
		c.pending = append(c.pending, c.used...)
		c.pendOff = 0
	}
	n, reposted := 0, false
	for len(c.pending) > 0 && n < len(p) {
		u := c.pending[0]
		k := copy(p[n:], c.rx.Bytes(u)[c.pendOff:])
		n += k
		c.pendOff += k
		if c.pendOff < u.Len {
			break
		}
		c.pending, c.pendOff = c.pending[1:], 0
		if _, perr := c.rx.Post(Buffer{Off: u.Buf.Off, Len: consoleBufSize, Write: true}); perr != nil && err == nil {
			err = perr
		}
		reposted = true
	}
	if reposted && c.rx.NeedsKick() {
		c.t.Notify(consoleRxQueue)
	}
	if n > 0 {
		return n, nil
	}
	return 0, err
}
