package virtio

import (
	"bytes"
	"errors"
	"fmt"
)

// virtio-net (VIRTIO 1.2, 5.1 "Network Device").
const (
	// NetFeatureMAC is VIRTIO_NET_F_MAC (5.1.3): the device has a MAC
	// address in its configuration.
	NetFeatureMAC = 1 << 5
	// netHdrSize is struct virtio_net_hdr with num_buffers, the header
	// every packet carries on a VIRTIO_F_VERSION_1 device (5.1.6).
	netHdrSize = 12
	// netRxQueue and netTxQueue are receiveq1 and transmitq1 (5.1.2).
	netRxQueue = 0
	netTxQueue = 1
	// netBufSize holds a header and an Ethernet frame of MTU 1500
	// (1514 bytes without FCS), two to a page.
	netBufSize = 2048
	// NetMTU is the IP MTU the device carries (no VIRTIO_NET_F_MTU:
	// Ethernet's).
	NetMTU = 1500
	// maxFrame is the largest Ethernet frame sent: MTU plus the
	// 14-byte header.
	maxFrame = NetMTU + 14
)

// Net is a virtio-net device with one receive and one transmit queue. It
// is not safe for concurrent use: one goroutine drives it.
type Net struct {
	t        Transport
	rx, tx   *Queue
	mac      [6]byte
	used     []Used
	txFree   []int // offsets of idle transmit buffers
	txQueued bool  // frames queued since the last Flush
}

// Alloc returns shared memory of n pages (the platform's: ordinary
// memory on a PC, pages shared with the host under SEV-SNP).
type Alloc func(pages int) (Region, error)

// NewNet initializes the virtio-net device on t with queues of up to
// size entries in memory from alloc, and posts every receive buffer.
func NewNet(t Transport, alloc Alloc, size uint16) (*Net, error) {
	if id := t.DeviceID(); id != DeviceNet {
		return nil, fmt.Errorf("virtio-net: device id %d, not a network device", id)
	}
	f, err := Negotiate(t, FeatureVersion1|NetFeatureMAC)
	if err != nil {
		return nil, err
	}
	n := &Net{t: t}
	for _, qi := range []uint16{netRxQueue, netTxQueue} {
		max := t.QueueMax(qi)
		if max == 0 {
			return nil, fail(t, fmt.Errorf("virtio-net: queue %d is missing", qi))
		}
		qs := min(size, max)
		for qs&(qs-1) != 0 { // the largest power of two that fits
			qs &= qs - 1
		}
		ring, err := alloc(3)
		if err != nil {
			return nil, fail(t, err)
		}
		data, err := alloc(netBufPages(qs))
		if err != nil {
			return nil, fail(t, err)
		}
		q, err := NewQueue(qs, ring, data)
		if err != nil {
			return nil, fail(t, err)
		}
		// The driver polls both queues (see Receive).
		q.NoInterrupts()
		d, dr, dv := q.Addresses()
		if err := t.EnableQueue(qi, qs, d, dr, dv); err != nil {
			return nil, fail(t, err)
		}
		if qi == netRxQueue {
			n.rx = q
		} else {
			n.tx = q
		}
	}
	if f&NetFeatureMAC != 0 {
		// mac is the first field of struct virtio_net_config (5.1.4).
		if cs := t.ConfigSize(); cs < 6 {
			return nil, fail(t, fmt.Errorf("virtio-net: device configuration of %d bytes has no room for the MAC address", cs))
		}
		mac, err := ReadConfig(t, 0, 6)
		if err != nil {
			return nil, fail(t, fmt.Errorf("virtio-net: reading the MAC address: %w", err))
		}
		n.mac = [6]byte(mac)
	} else {
		// A locally administered unicast address (IEEE 802 bit 1 of the
		// first octet) Cocoon picks when the device has none.
		n.mac = [6]byte{0x02, 0xc0, 0xc0, 0x00, 0x00, 0x01}
	}
	for i := 0; i < int(n.rx.Size()); i++ {
		if _, err := n.rx.Post(Buffer{Off: i * netBufSize, Len: netBufSize, Write: true}); err != nil {
			return nil, fail(t, err)
		}
	}
	for i := 0; i < int(n.tx.Size()); i++ {
		n.txFree = append(n.txFree, i*netBufSize)
	}
	Start(t)
	t.Notify(netRxQueue)
	return n, nil
}

// EnableInterrupt asks the device to interrupt when it returns receive
// buffers, and reports whether frames already wait (they may have come
// before the device saw the request): then the caller receives them
// rather than wait for an interrupt.
func (n *Net) EnableInterrupt() bool {
	n.rx.Interrupts()
	return n.rx.Pending()
}

// ReceivePending reports whether the device has returned receive
// buffers not yet taken (Receive would deliver frames or lend buffers
// back).
func (n *Net) ReceivePending() bool { return n.rx.Pending() }

// DisableInterrupt makes the receive queue polled again (NoInterrupts),
// while the driver takes what an interrupt announced.
func (n *Net) DisableInterrupt() { n.rx.NoInterrupts() }

// AckInterrupt acknowledges the device's interrupt status, after an
// interrupt and before the driver looks at the queues: a notification
// after it raises the interrupt again.
func (n *Net) AckInterrupt() { n.t.AckInterrupt() }

// MAC returns the device's Ethernet address.
func (n *Net) MAC() [6]byte { return n.mac }

// ErrTxFull means every transmit buffer is with the device.
var ErrTxFull = errors.New("virtio-net: transmit queue full")

// Send queues one Ethernet frame (without FCS) for transmission.
func (n *Net) Send(frame []byte) error { return n.SendParts([][]byte{frame}) }

// SendParts queues one Ethernet frame given as consecutive parts (a
// packet's headers and payload where they lie), copied once into a
// transmit buffer, and notifies the device.
func (n *Net) SendParts(parts [][]byte) error {
	if err := n.QueueParts(parts); err != nil {
		return err
	}
	n.Flush()
	return nil
}

// QueueParts is SendParts without the notification: frames queued one
// after another cost the device one notification, by Flush, instead of
// one each (each is an exit to the host).
func (n *Net) QueueParts(parts [][]byte) error {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	if size > maxFrame || size < 14 {
		return fmt.Errorf("virtio-net: frame of %d bytes", size)
	}
	if err := n.reclaimTx(); err != nil {
		return err
	}
	if len(n.txFree) == 0 {
		return ErrTxFull
	}
	off := n.txFree[len(n.txFree)-1]
	buf := n.tx.data.Bytes[off : off+netHdrSize+size]
	clear(buf[:netHdrSize]) // no checksum offload, no GSO
	at := netHdrSize
	for _, p := range parts {
		at += copy(buf[at:], p)
	}
	if _, err := n.tx.Post(Buffer{Off: off, Len: len(buf)}); err != nil {
		return err
	}
	n.txFree = n.txFree[:len(n.txFree)-1]
	n.txQueued = true
	return nil
}

// Flush notifies the device of the frames queued since the last
// notification, if it asked to be told (2.7.10).
func (n *Net) Flush() {
	if n.txQueued && n.tx.NeedsKick() {
		n.t.Notify(netTxQueue)
	}
	n.txQueued = false
}

func (n *Net) reclaimTx() error {
	var err error
	n.used, err = n.tx.Reclaim(n.used[:0])
	for _, u := range n.used {
		n.txFree = append(n.txFree, u.Buf.Off)
	}
	return err
}

// Receive passes each frame the device delivered since the last call to
// deliver, as a private copy (the device can no longer change it), and
// lends the buffers back. It returns how many frames it delivered.
func (n *Net) Receive(deliver func(frame []byte)) (int, error) {
	return n.ReceiveShared(func(f []byte) { deliver(bytes.Clone(f)) })
}

// ReceiveShared is Receive without the copy: frame is the receive
// buffer itself, valid only during the call, in memory the device (the
// host, under SEV-SNP) can write at any time; deliver copies what it
// keeps before looking at it, so that one copy serves the caller's own
// buffers.
//
// It touches no device register unless it lends buffers to a device that
// asked to be told: the queues want no interrupts (NoInterrupts), so
// there is no interrupt status to read and acknowledge. A register
// access is the costly part of a poll (a trap to the host, or under QEMU
// the device model's lock), and a poll that finds nothing makes none.
func (n *Net) ReceiveShared(deliver func(frame []byte)) (int, error) {
	if err := n.reclaimTx(); err != nil {
		return 0, err
	}
	var err error
	n.used, err = n.rx.Reclaim(n.used[:0])
	count := 0
	for _, u := range n.used {
		if u.Len > netHdrSize {
			f := n.rx.Bytes(u)[netHdrSize:]
			deliver(f[:len(f):len(f)]) // no room to append into the next buffer
			count++
		}
		if _, perr := n.rx.Post(Buffer{Off: u.Buf.Off, Len: netBufSize, Write: true}); perr != nil && err == nil {
			err = perr
		}
	}
	if len(n.used) > 0 && n.rx.NeedsKick() {
		n.t.Notify(netRxQueue)
	}
	return count, err
}
