package virtio

import (
	"encoding/binary"
	"errors"
	"testing"
)

// fakeNetDevice is a virtio-mmio network device in memory: registers,
// and the device side of its two queues, reading rings through mem.
type fakeNetDevice struct {
	mem      *fakeMem
	regs     map[uint32]uint32
	features uint64
	sel      struct{ dev, drv, queue uint32 }
	driver   uint64
	queues   [2]struct {
		num, ready     uint32
		desc, drv, dev uint64
		lastAvail      uint16
		usedIdx        uint16
	}
	sent     [][]byte
	notified int
	accesses int // register reads and writes
	// generation is the configuration generation; while changes is
	// positive, each configuration read bumps it (a configuration that
	// changes as it is read) and counts down.
	generation, changes int
}

func newFakeNet(mem *fakeMem) *fakeNetDevice {
	return &fakeNetDevice{mem: mem, features: FeatureVersion1 | NetFeatureMAC, regs: map[uint32]uint32{}}
}

func (d *fakeNetDevice) Read32(off uint32) uint32 {
	d.accesses++
	switch off {
	case mmioMagic:
		return mmioMagicValue
	case mmioVersion:
		return 2
	case mmioDeviceID:
		return DeviceNet
	case mmioDeviceFeatures:
		return uint32(d.features >> (32 * d.sel.dev))
	case mmioQueueNumMax:
		return 16
	case mmioQueueReady:
		return d.queues[d.sel.queue].ready
	case mmioStatus:
		return d.regs[mmioStatus]
	case mmioConfigGeneration:
		return uint32(d.generation)
	case mmioConfig, mmioConfig + 4:
		if d.changes > 0 {
			d.changes--
			d.generation++
		}
		if off == mmioConfig {
			return 0x56341202
		}
		return 0x9a78
	}
	return 0
}

func (d *fakeNetDevice) Write32(off, v uint32) {
	d.accesses++
	q := &d.queues[d.sel.queue%2]
	switch off {
	case mmioDeviceFeaturesSel:
		d.sel.dev = v
	case mmioDriverFeaturesSel:
		d.sel.drv = v
	case mmioDriverFeatures:
		d.driver |= uint64(v) << (32 * d.sel.drv)
	case mmioQueueSel:
		d.sel.queue = v
	case mmioQueueNum:
		q.num = v
	case mmioQueueReady:
		q.ready = v
	case mmioQueueDescLow:
		q.desc = q.desc&^0xffffffff | uint64(v)
	case mmioQueueDriverLow:
		q.drv = q.drv&^0xffffffff | uint64(v)
	case mmioQueueDeviceLow:
		q.dev = q.dev&^0xffffffff | uint64(v)
	case mmioQueueNotify:
		d.notified++
		if v == netTxQueue {
			d.transmit()
		}
	case mmioStatus:
		d.regs[mmioStatus] = v
	}
}

// take returns the next available descriptor of queue qi, if any.
func (d *fakeNetDevice) take(qi int) (id uint16, addr uint64, n uint32, ok bool) {
	q := &d.queues[qi]
	avail := d.mem.at(q.drv, 4+2*int(q.num))
	if binary.LittleEndian.Uint16(avail[2:]) == q.lastAvail {
		return 0, 0, 0, false
	}
	id = binary.LittleEndian.Uint16(avail[4+2*int(q.lastAvail%uint16(q.num)):])
	q.lastAvail++
	desc := d.mem.at(q.desc+16*uint64(id), 16)
	return id, binary.LittleEndian.Uint64(desc), binary.LittleEndian.Uint32(desc[8:]), true
}

func (d *fakeNetDevice) use(qi int, id uint16, n uint32) {
	q := &d.queues[qi]
	used := d.mem.at(q.dev, 4+8*int(q.num))
	e := used[4+8*int(q.usedIdx%uint16(q.num)):]
	binary.LittleEndian.PutUint32(e, uint32(id))
	binary.LittleEndian.PutUint32(e[4:], n)
	q.usedIdx++
	binary.LittleEndian.PutUint16(used[2:], q.usedIdx)
}

func (d *fakeNetDevice) transmit() {
	for {
		id, addr, n, ok := d.take(netTxQueue)
		if !ok {
			return
		}
		d.sent = append(d.sent, append([]byte(nil), d.mem.at(addr, int(n))[netHdrSize:]...))
		d.use(netTxQueue, id, 0)
	}
}

// availFlags returns the flags of queue qi's avail ring.
func (d *fakeNetDevice) availFlags(qi int) uint16 {
	return binary.LittleEndian.Uint16(d.mem.at(d.queues[qi].drv, 2))
}

// deliver puts frame in the next receive buffer, or reports none.
func (d *fakeNetDevice) deliver(frame []byte) bool {
	id, addr, n, ok := d.take(netRxQueue)
	if !ok || int(n) < netHdrSize+len(frame) {
		return false
	}
	b := d.mem.at(addr, netHdrSize+len(frame))
	clear(b[:netHdrSize])
	copy(b[netHdrSize:], frame)
	d.use(netRxQueue, id, uint32(len(b)))
	return true
}

func TestNetSendReceive(t *testing.T) {
	mem := &fakeMem{}
	dev := newFakeNet(mem)
	tr, err := NewMMIO(dev)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNet(tr, mem.alloc, 256)
	if err != nil {
		t.Fatal(err)
	}
	if st := dev.regs[mmioStatus]; st != StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK {
		t.Errorf("status %#x", st)
	}
	if dev.driver != FeatureVersion1|NetFeatureMAC {
		t.Errorf("driver features %#x", dev.driver)
	}
	if dev.queues[0].num != 16 || dev.queues[0].ready != 1 || dev.queues[1].ready != 1 {
		t.Errorf("queues %+v", dev.queues)
	}
	if mac := n.MAC(); mac != [6]byte{2, 0x12, 0x34, 0x56, 0x78, 0x9a} {
		t.Errorf("MAC %x", mac)
	}
	frame := make([]byte, 60)
	copy(frame, "an ethernet frame")
	for i := 0; i < 40; i++ { // more than the queue holds: buffers come back
		if err := n.Send(frame); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if len(dev.sent) != 40 || string(dev.sent[39][:17]) != "an ethernet frame" {
		t.Fatalf("device got %d frames", len(dev.sent))
	}
	for i := 0; i < 20; i++ { // more than the receive queue holds
		if !dev.deliver([]byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}) {
			t.Fatalf("no receive buffer for frame %d", i)
		}
		var got [][]byte
		if _, err := n.Receive(func(f []byte) { got = append(got, f) }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0][0] != byte(i) || len(got[0]) != 15 {
			t.Fatalf("received %x", got)
		}
	}
	// ReceiveShared lends the buffer itself, with no room to write past
	// the frame into the next buffer.
	dev.deliver([]byte("a lent frame.."))
	var lent []byte
	if k, err := n.ReceiveShared(func(f []byte) {
		lent = append(f, "past the end"...) // must reallocate
		if len(f) != 14 || cap(f) != 14 || string(f) != "a lent frame.." {
			t.Errorf("lent %q (cap %d)", f, cap(f))
		}
	}); k != 1 || err != nil {
		t.Fatalf("ReceiveShared: %d frames, %v", k, err)
	}
	if string(lent) != "a lent frame..past the end" {
		t.Errorf("appended to the lent frame: %q", lent)
	}
	if err := n.Send(make([]byte, 2000)); err == nil {
		t.Error("an oversized frame was sent")
	}
	// A frame in parts (headers and payload where they lie) is one
	// frame, its parts in order; the limits count the whole frame.
	if err := n.SendParts([][]byte{[]byte("header|"), frame[:20], []byte("|tail")}); err != nil {
		t.Fatal(err)
	}
	if got, want := string(dev.sent[len(dev.sent)-1]), "header|an ethernet frame\x00\x00\x00|tail"; got != want {
		t.Errorf("frame in parts sent as %q, want %q", got, want)
	}
	if err := n.SendParts([][]byte{make([]byte, 1000), make([]byte, 1000)}); err == nil {
		t.Error("an oversized frame in parts was sent")
	}
	if err := n.SendParts([][]byte{make([]byte, 7), make([]byte, 6)}); err == nil {
		t.Error("a 13-byte frame in parts was sent")
	}
	// The driver polls: both queues ask for no used-buffer
	// notifications, and a poll that finds nothing touches no register.
	for qi := range 2 {
		if f := dev.availFlags(qi); f != availFNoInterrupt {
			t.Errorf("queue %d: avail flags %#x, want VIRTQ_AVAIL_F_NO_INTERRUPT", qi, f)
		}
	}
	before := dev.accesses
	if k, err := n.Receive(func([]byte) {}); k != 0 || err != nil {
		t.Fatalf("empty poll: %d frames, %v", k, err)
	}
	if dev.accesses != before {
		t.Errorf("an empty poll made %d register accesses", dev.accesses-before)
	}
}

// TestNetHostileReceive has the device claim more bytes than a receive
// buffer holds: the driver stops instead of reading past the buffer.
func TestNetHostileReceive(t *testing.T) {
	mem := &fakeMem{}
	dev := newFakeNet(mem)
	tr, _ := NewMMIO(dev)
	n, err := NewNet(tr, mem.alloc, 16)
	if err != nil {
		t.Fatal(err)
	}
	id, _, _, _ := dev.take(netRxQueue)
	dev.use(netRxQueue, id, 1<<20)
	delivered := 0
	_, err = n.Receive(func([]byte) { delivered++ })
	if !errors.Is(err, ErrDevice) || delivered != 0 {
		t.Errorf("Receive: %v, %d frames", err, delivered)
	}
}

func TestNetRefusesLegacyAndOtherDevices(t *testing.T) {
	mem := &fakeMem{}
	dev := newFakeNet(mem)
	dev.features = NetFeatureMAC // no VIRTIO_F_VERSION_1
	tr, _ := NewMMIO(dev)
	if _, err := NewNet(tr, mem.alloc, 16); err == nil {
		t.Error("a device without VERSION_1 was driven")
	}
	if dev.regs[mmioStatus]&StatusFailed == 0 {
		t.Error("the device was not marked FAILED")
	}
}

// TestNetConfigGeneration: the MAC address is read again while the
// configuration generation changes across the read, and a device whose
// generation changes across every read is refused and marked FAILED.
func TestNetConfigGeneration(t *testing.T) {
	mem := &fakeMem{}
	dev := newFakeNet(mem)
	dev.changes = 8 // the first two reads of the six bytes see it move
	tr, _ := NewMMIO(dev)
	n, err := NewNet(tr, mem.alloc, 16)
	if err != nil {
		t.Fatal(err)
	}
	if dev.changes != 0 {
		t.Errorf("the MAC was taken with the configuration still changing (%d changes left)", dev.changes)
	}
	if mac := n.MAC(); mac != [6]byte{2, 0x12, 0x34, 0x56, 0x78, 0x9a} {
		t.Errorf("MAC %x", mac)
	}

	dev = newFakeNet(mem)
	dev.changes = 1 << 30
	tr, _ = NewMMIO(dev)
	if _, err := NewNet(tr, mem.alloc, 16); !errors.Is(err, ErrDevice) {
		t.Errorf("a configuration that never settles: %v, want ErrDevice", err)
	}
	if dev.regs[mmioStatus]&StatusFailed == 0 {
		t.Error("the device was not marked FAILED")
	}
}

// TestNetInterruptRequest: EnableInterrupt clears the receive queue's
// VIRTQ_AVAIL_F_NO_INTERRUPT and tells whether frames already wait;
// DisableInterrupt sets it again; the transmit queue never asks.
func TestNetInterruptRequest(t *testing.T) {
	mem := &fakeMem{}
	dev := newFakeNet(mem)
	tr, err := NewMMIO(dev)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNet(tr, mem.alloc, 256)
	if err != nil {
		t.Fatal(err)
	}
	if n.EnableInterrupt() {
		t.Error("frames wait before any arrived")
	}
	if f := dev.availFlags(netRxQueue); f != 0 {
		t.Errorf("receive avail flags %#x after EnableInterrupt, want 0", f)
	}
	if f := dev.availFlags(netTxQueue); f != availFNoInterrupt {
		t.Errorf("transmit avail flags %#x, want VIRTQ_AVAIL_F_NO_INTERRUPT", f)
	}
	if !dev.deliver(make([]byte, 20)) {
		t.Fatal("no receive buffer")
	}
	if !n.EnableInterrupt() {
		t.Error("a delivered frame does not count as waiting")
	}
	n.DisableInterrupt()
	if f := dev.availFlags(netRxQueue); f != availFNoInterrupt {
		t.Errorf("receive avail flags %#x after DisableInterrupt", f)
	}
	if k, err := n.Receive(func([]byte) {}); k != 1 || err != nil {
		t.Fatalf("Receive: %d, %v", k, err)
	}
	if n.EnableInterrupt() {
		t.Error("frames wait after all were received")
	}
}
