package virtio

import (
	"fmt"
	"sync"
)

// virtio console (VIRTIO 1.2, 5.3 "Console Device"), driven with no
// feature but VIRTIO_F_VERSION_1: no VIRTIO_CONSOLE_F_MULTIPORT, so the
// device has port 0 only, on receiveq0 and transmitq0 (5.3.2), and QEMU
// counts that port open once the driver is ready (a guest without
// MULTIPORT cannot say so itself).
const (
	DeviceConsole  = 3
	consoleRxQueue = 0
	consoleTxQueue = 1
	// consoleBufSize is one buffer: a page, so that one turn of the
	// host's I/O loop moves up to a queue's worth of pages.
	consoleBufSize = PageSize
)

// Console is port 0 of a virtio console: a byte stream each way. Read
// and Write may run concurrently (one lock per queue).
type Console struct {
	t Transport

	rxMu    sync.Mutex
	rx      *Queue
	rxUsed  []Used
	pending []Used // received buffers not yet read, in order
	pendOff int    // bytes of pending[0] already read

	txMu   sync.Mutex
	tx     *Queue
	txUsed []Used
}

// NewConsole initializes the console device on t with queues of up to
// size entries of one page each, in memory from alloc, and posts every
// receive buffer.
func NewConsole(t Transport, alloc Alloc, size uint16) (*Console, error) {
	if id := t.DeviceID(); id != DeviceConsole {
		return nil, fmt.Errorf("virtio-console: device id %d, not a console", id)
	}
	if _, err := Negotiate(t, FeatureVersion1); err != nil {
		return nil, err
	}
	c := &Console{t: t}
	for _, qi := range []uint16{consoleRxQueue, consoleTxQueue} {
		max := t.QueueMax(qi)
		if max == 0 {
			return nil, fail(t, fmt.Errorf("virtio-console: queue %d is missing", qi))
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
		t.EnableQueue(qi, qs, d, dr, dv)
		if qi == consoleRxQueue {
			c.rx = q
		} else {
			c.tx = q
		}
	}
	for i := 0; i < int(c.rx.Size()); i++ {
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
	c.rxMu.Lock()
	defer c.rxMu.Unlock()
	var err error
	if len(c.pending) == 0 {
		c.t.AckInterrupt()
		c.rxUsed, err = c.rx.Reclaim(c.rxUsed[:0])
		c.pending = append(c.pending, c.rxUsed...)
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

// Write sends p and returns once the device has taken all of it (every
// buffer back), so that bytes written before the guest stops have left
// it. wait is called while the device holds every transmit buffer or has
// not yet taken the last ones (the host's side is full).
func (c *Console) Write(p []byte, wait func()) (int, error) {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	sent := 0
	for {
		var err error
		c.txUsed, err = c.tx.Reclaim(c.txUsed[:0])
		if err != nil {
			return sent, err
		}
		inflight := int(c.tx.Size()) - c.tx.Free()
		if sent == len(p) && inflight == 0 {
			return sent, nil
		}
		posted := false
		for sent < len(p) && c.tx.Free() > 0 {
			// The free buffer slots are the queue's free descriptors:
			// descriptor i always uses page i of the region.
			off := c.freeTxOff()
			k := copy(c.tx.data.Bytes[off:off+consoleBufSize], p[sent:])
			if _, err := c.tx.Post(Buffer{Off: off, Len: k}); err != nil {
				return sent, err
			}
			sent += k
			posted = true
		}
		if posted {
			if c.tx.NeedsKick() {
				c.t.Notify(consoleTxQueue)
			}
			continue
		}
		wait()
	}
}

// freeTxOff returns the region offset of the buffer the next Post takes:
// its descriptor id's page.
func (c *Console) freeTxOff() int {
	return int(c.tx.free[len(c.tx.free)-1]) * consoleBufSize
}
