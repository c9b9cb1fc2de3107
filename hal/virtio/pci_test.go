package virtio

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/hal/pci"
)

// fakePCINet is a transitional virtio-net PCI function laid out as
// QEMU's (hw/virtio/virtio-pci.c): BAR 4, 64-bit and 16 KiB, holds the
// common configuration at 0, the ISR at 0x1000, the device
// configuration at 0x2000 and the notifications at 0x3000 (multiplier
// 4). Its common configuration drives the queues of a fakeNetDevice.
// It fails the test on an access of the wrong width (4.1.3.1).
type fakePCINet struct {
	t         *testing.T
	net       *fakeNetDevice
	cfg       *pciSpace
	numQueues uint16
	notifyOff [2]uint16
	msix      [2]uint16
	isrReads  int
	bars      []int // the BARs mapped
}

const fakeBARSize = 0x4000

func newFakePCINet(t *testing.T, mem *fakeMem) *fakePCINet {
	d := &fakePCINet{t: t, net: newFakeNet(mem), cfg: &pciSpace{}, numQueues: 2, notifyOff: [2]uint16{0, 1}}
	le := binary.LittleEndian
	le.PutUint32(d.cfg.space[0:], 0x1000<<16|PCIVendor)
	le.PutUint32(d.cfg.space[4:], 1<<20) // status: capability list
	le.PutUint32(d.cfg.space[0x2c:], 1<<16|PCIVendor)
	le.PutUint32(d.cfg.space[0x20:], 0xc|0xfebf8000) // BAR 4: 64-bit, prefetchable
	d.cfg.space[0x34] = 0x40
	// A PCI configuration access capability (type 5), then the four
	// structures Cocoon uses, then an MSI-X capability.
	d.cap(0x40, 0x50, 16, 5, 0, 0, 0)
	d.cap(0x50, 0x60, 16, pciCapCommon, 4, 0, 0x1000)
	d.cap(0x60, 0x70, 16, pciCapISR, 4, 0x1000, 0x1000)
	d.cap(0x70, 0x80, 16, pciCapDevice, 4, 0x2000, 0x1000)
	d.cap(0x80, 0x98, 20, pciCapNotify, 4, 0x3000, 0x1000)
	le.PutUint32(d.cfg.space[0x90:], 4)
	d.cfg.space[0x98] = 0x11 // MSI-X, last
	return d
}

func (d *fakePCINet) cap(at, next, n, typ, bar uint8, off, length uint32) {
	le := binary.LittleEndian
	le.PutUint32(d.cfg.space[at:], uint32(typ)<<24|uint32(n)<<16|uint32(next)<<8|pciCapVendor)
	le.PutUint32(d.cfg.space[at+4:], uint32(bar))
	le.PutUint32(d.cfg.space[at+8:], off)
	le.PutUint32(d.cfg.space[at+12:], length)
}

// pciSpace is the function's configuration space.
type pciSpace struct{ space [256]byte }

func (d *pciSpace) Read32(off uint8) uint32 {
	return binary.LittleEndian.Uint32(d.space[off&^3:])
}

func (d *pciSpace) Write32(off uint8, v uint32) {
	switch off {
	case 0x20: // BAR 4, 16 KiB, type bits fixed
		v = v&^(fakeBARSize-1) | 0xc
	case 0x10, 0x14, 0x18, 0x1c:
		v = 0 // not implemented
	}
	binary.LittleEndian.PutUint32(d.space[off&^3:], v)
}

func (d *fakePCINet) function() pci.Function {
	return pci.Function{Dev: 1, Vendor: PCIVendor, Device: 0x1000, SubsystemID: DeviceNet, Config: d.cfg}
}

// bar maps BAR i through pci.ReadBAR, as the kernel does.
func (d *fakePCINet) bar(i int) (Window, uint64, error) {
	b, err := d.function().ReadBAR(i)
	if err != nil {
		return nil, 0, err
	}
	d.bars = append(d.bars, i)
	return d, b.Size, nil
}

// Common configuration fields by offset and width.
var commonWidth = map[uint32]int{
	commonDeviceFeatureSel: 4, commonDeviceFeature: 4, commonDriverFeatureSel: 4, commonDriverFeature: 4,
	commonMSIXConfig: 2, commonNumQueues: 2, commonStatus: 1, commonConfigGeneration: 1, commonQueueSelect: 2, commonQueueSize: 2,
	commonQueueMSIXVector: 2, commonQueueEnable: 2, commonQueueNotifyOff: 2,
	commonQueueDesc: 4, commonQueueDesc + 4: 4, commonQueueDriver: 4, commonQueueDriver + 4: 4,
	commonQueueDevice: 4, commonQueueDevice + 4: 4,
}

func (d *fakePCINet) access(off uint32, width int) {
	if off < 0x1000 && commonWidth[off] != width {
		d.t.Errorf("common configuration %#x accessed with %d bytes", off, width)
	}
}

func (d *fakePCINet) Read8(off uint32) uint8 {
	d.access(off, 1)
	switch {
	case off == commonStatus:
		return uint8(d.net.Read32(mmioStatus))
	case off == commonConfigGeneration:
		return uint8(d.net.Read32(mmioConfigGeneration))
	case off == 0x1000:
		d.isrReads++
		return 1
	case off >= 0x2000 && off < 0x2006:
		w := d.net.Read32(mmioConfig + (off-0x2000)&^3)
		return uint8(w >> (8 * (off & 3)))
	}
	return 0
}

func (d *fakePCINet) Read16(off uint32) uint16 {
	d.access(off, 2)
	switch off {
	case commonNumQueues:
		return d.numQueues
	case commonQueueSize:
		if n := d.net.queues[d.net.sel.queue%2].num; n != 0 {
			return uint16(n)
		}
		return uint16(d.net.Read32(mmioQueueNumMax))
	case commonQueueEnable:
		return uint16(d.net.Read32(mmioQueueReady))
	case commonQueueNotifyOff:
		return d.notifyOff[d.net.sel.queue%2]
	}
	return 0
}

func (d *fakePCINet) Read32(off uint32) uint32 {
	d.access(off, 4)
	if off == commonDeviceFeature {
		return d.net.Read32(mmioDeviceFeatures)
	}
	return 0
}

func (d *fakePCINet) Write8(off uint32, v uint8) {
	d.access(off, 1)
	if off == commonStatus {
		d.net.Write32(mmioStatus, uint32(v))
	}
}

func (d *fakePCINet) Write16(off uint32, v uint16) {
	if off >= 0x3000 {
		// A notification: queue v's register is notify_off * 4.
		if q := (off - 0x3000) / 4; q > 1 || uint16(q) != d.notifyOff[v%2] || uint32(v) != q {
			d.t.Errorf("notification of queue %d at %#x", v, off)
		}
		d.net.Write32(mmioQueueNotify, uint32(v))
		return
	}
	d.access(off, 2)
	switch off {
	case commonQueueSelect:
		d.net.Write32(mmioQueueSel, uint32(v))
	case commonQueueSize:
		d.net.Write32(mmioQueueNum, uint32(v))
	case commonQueueEnable:
		d.net.Write32(mmioQueueReady, uint32(v))
	case commonQueueMSIXVector:
		d.msix[d.net.sel.queue%2] = v
	}
}

func (d *fakePCINet) Write32(off uint32, v uint32) {
	d.access(off, 4)
	if r, ok := map[uint32]uint32{
		commonDeviceFeatureSel: mmioDeviceFeaturesSel, commonDriverFeatureSel: mmioDriverFeaturesSel,
		commonDriverFeature: mmioDriverFeatures, commonQueueDesc: mmioQueueDescLow,
		commonQueueDriver: mmioQueueDriverLow, commonQueueDevice: mmioQueueDeviceLow,
	}[off]; ok {
		d.net.Write32(r, v)
	}
}

func TestPCIDeviceType(t *testing.T) {
	for _, c := range []struct {
		vendor, device, subsys uint16
		want                   uint32
	}{
		{PCIVendor, 0x1000, 1, DeviceNet}, {PCIVendor, 0x1041, 0, DeviceNet}, {PCIVendor, 0x1042, 0, 2},
		{PCIVendor, 0x1040, 0, 0}, {PCIVendor, 0x1100, 1, 0}, {0x8086, 0x1000, 1, 0},
	} {
		f := pci.Function{Vendor: c.vendor, Device: c.device, SubsystemID: c.subsys}
		if got := PCIDeviceType(f); got != c.want {
			t.Errorf("%04x:%04x subsystem %d: type %d, want %d", c.vendor, c.device, c.subsys, got, c.want)
		}
	}
}

// TestPCINet drives the network device through the modern virtio-pci
// transport: the structures are found through the capabilities, every
// field is accessed with its width, and frames go both ways.
func TestPCINet(t *testing.T) {
	mem := &fakeMem{}
	d := newFakePCINet(t, mem)
	tr, err := NewPCI(d.function(), d.bar)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.bars) != 1 || d.bars[0] != 4 {
		t.Errorf("mapped BARs %v, want BAR 4 once", d.bars)
	}
	if cmd := d.cfg.Read32(4); cmd&(pci.CommandMemory|pci.CommandMaster) != pci.CommandMemory|pci.CommandMaster {
		t.Errorf("command register %#x lacks memory decoding and bus mastering", cmd&0xffff)
	}
	n, err := NewNet(tr, mem.alloc, 256)
	if err != nil {
		t.Fatal(err)
	}
	if st := d.net.regs[mmioStatus]; st != StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK {
		t.Errorf("status %#x", st)
	}
	if d.net.queues[0].ready != 1 || d.net.queues[1].ready != 1 || d.net.queues[0].num != 16 {
		t.Errorf("queues %+v", d.net.queues)
	}
	if d.msix != [2]uint16{pciNoVector, pciNoVector} {
		t.Errorf("queue MSI-X vectors %#x, want none", d.msix)
	}
	if mac := n.MAC(); mac != [6]byte{2, 0x12, 0x34, 0x56, 0x78, 0x9a} {
		t.Errorf("MAC %x", mac)
	}
	frame := make([]byte, 60)
	copy(frame, "over pci")
	for i := 0; i < 20; i++ {
		if err := n.Send(frame); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if len(d.net.sent) != 20 || string(d.net.sent[19][:8]) != "over pci" {
		t.Fatalf("device got %d frames", len(d.net.sent))
	}
	if !d.net.deliver([]byte("fourteen bytes!")) {
		t.Fatal("no receive buffer")
	}
	var got [][]byte
	if _, err := n.Receive(func(f []byte) { got = append(got, f) }); err != nil || len(got) != 1 || string(got[0]) != "fourteen bytes!" {
		t.Errorf("Receive: %q, %v", got, err)
	}
	if d.isrReads != 0 {
		t.Errorf("the ISR status was read %d times: the driver polls queues that want no interrupts", d.isrReads)
	}
	for qi := range 2 {
		if f := d.net.availFlags(qi); f != availFNoInterrupt {
			t.Errorf("queue %d: avail flags %#x, want VIRTQ_AVAIL_F_NO_INTERRUPT", qi, f)
		}
	}
}

// TestPCIHostile has the device describe itself impossibly: each is
// refused with an error, before any queue is set up.
func TestPCIHostile(t *testing.T) {
	le := binary.LittleEndian
	for _, c := range []struct {
		name   string
		break_ func(d *fakePCINet)
		want   string
	}{
		{"common past the BAR", func(d *fakePCINet) { le.PutUint32(d.cfg.space[0x5c:], 0x4001) }, "not inside BAR 4"},
		{"offset wraps", func(d *fakePCINet) { le.PutUint32(d.cfg.space[0x78:], 0xffffffff) }, "not inside BAR 4"},
		{"empty structure", func(d *fakePCINet) { le.PutUint32(d.cfg.space[0x6c:], 0) }, "not inside BAR 4"},
		{"short notify capability", func(d *fakePCINet) { d.cfg.space[0x82] = 16 }, "length 16, want 20"},
		{"capability past the space", func(d *fakePCINet) {
			d.cfg.space[0x99] = 0xf8
			le.PutUint32(d.cfg.space[0xf8:], pciCapISR<<24|16<<16|pciCapVendor)
			le.PutUint32(d.cfg.space[0xfc:], 4)
			d.cfg.space[0x63] = 9 // the real ISR is now a vendor structure
		}, "want 16"},
		{"odd multiplier", func(d *fakePCINet) { le.PutUint32(d.cfg.space[0x90:], 3) }, "notify_off_multiplier 3"},
		{"multiplier 1", func(d *fakePCINet) { le.PutUint32(d.cfg.space[0x90:], 1) }, "notify_off_multiplier 1"},
		{"no ISR", func(d *fakePCINet) { d.cfg.space[0x63] = 9 }, "no ISR status structure"},
		{"no common configuration", func(d *fakePCINet) { d.cfg.space[0x54] = 6 }, "no common configuration structure"},
		{"short common configuration", func(d *fakePCINet) { le.PutUint32(d.cfg.space[0x5c:], 0x20) }, "common configuration of 32 bytes"},
		{"I/O BAR", func(d *fakePCINet) { d.cfg.space[0x54] = 0; le.PutUint32(d.cfg.space[0x10:], 1) }, "BAR 0: "},
		{"capability loop", func(d *fakePCINet) { d.cfg.space[0x99] = 0x40 }, "loops"},
	} {
		mem := &fakeMem{}
		d := newFakePCINet(t, mem)
		c.break_(d)
		if c.name == "I/O BAR" {
			// An I/O BAR decodes as one whatever is written to it.
			d.cfg.space[0x10] = 1
		}
		_, err := NewPCI(d.function(), func(i int) (Window, uint64, error) {
			if i == 0 {
				return nil, 0, errors.New("BAR 0: an I/O BAR")
			}
			return d.bar(i)
		})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestPCIHostileQueues: a notification register outside the structure,
// a missing queue and a reserved BAR number.
func TestPCIHostileQueues(t *testing.T) {
	mem := &fakeMem{}
	d := newFakePCINet(t, mem)
	d.notifyOff[1] = 0x400 // 0x400 * 4 = the structure's length
	tr, err := NewPCI(d.function(), d.bar)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewNet(tr, mem.alloc, 16); err == nil || !strings.Contains(err.Error(), "outside the 0x1000-byte notification structure") {
		t.Errorf("notify offset past the structure: %v", err)
	}
	if d.net.regs[mmioStatus]&StatusFailed == 0 {
		t.Error("the device was not marked FAILED")
	}

	d = newFakePCINet(t, mem)
	d.numQueues = 1
	tr, _ = NewPCI(d.function(), d.bar)
	if _, err := NewNet(tr, mem.alloc, 16); err == nil || !strings.Contains(err.Error(), "queue 1 is missing") {
		t.Errorf("one queue: %v", err)
	}

	// A first common configuration with a reserved BAR number is
	// ignored (4.1.4), the second used.
	d = newFakePCINet(t, mem)
	d.cap(0x40, 0x50, 16, pciCapCommon, 7, 0, 0x1000)
	if _, err := NewPCI(d.function(), d.bar); err != nil {
		t.Errorf("a reserved BAR number was not skipped: %v", err)
	}
	for _, b := range d.bars {
		if b != 4 {
			t.Errorf("BAR %d mapped", b)
		}
	}
}

// boundedWindow is a BAR of size bytes whose registers read as fuzz
// data; an access past its end fails the test.
type boundedWindow struct {
	t    *testing.T
	size uint64
	data []byte
}

func (w *boundedWindow) check(off uint32, n int) uint64 {
	if uint64(off)+uint64(n) > w.size {
		w.t.Fatalf("access of %d bytes at %#x, past the %#x-byte BAR", n, off, w.size)
	}
	v := uint64(0)
	for i := 0; i < n; i++ {
		if len(w.data) > 0 {
			v |= uint64(w.data[(int(off)+i)%len(w.data)]) << (8 * i)
		}
	}
	return v
}

func (w *boundedWindow) Read8(off uint32) uint8   { return uint8(w.check(off, 1)) }
func (w *boundedWindow) Read16(off uint32) uint16 { return uint16(w.check(off, 2)) }
func (w *boundedWindow) Read32(off uint32) uint32 { return uint32(w.check(off, 4)) }
func (w *boundedWindow) Write8(off uint32, v uint8) {
	w.check(off, 1)
}
func (w *boundedWindow) Write16(off uint32, v uint16) { w.check(off, 2) }
func (w *boundedWindow) Write32(off uint32, v uint32) { w.check(off, 4) }

// FuzzPCI gives NewPCI arbitrary capability lists and register values:
// it never panics, and neither it nor the transport it returns touches
// a register outside a BAR.
func FuzzPCI(f *testing.F) {
	d := newFakePCINet(&testing.T{}, &fakeMem{})
	f.Add(d.cfg.space[0x40:], []byte{0x10, 0, 4, 0, 2, 0})
	f.Add(d.cfg.space[0x40:], []byte{0xff})
	f.Fuzz(func(t *testing.T, caps, regs []byte) {
		sp := &pciSpace{}
		copy(sp.space[:0x40], d.cfg.space[:0x40])
		copy(sp.space[0x40:], caps)
		w := &boundedWindow{t: t, size: fakeBARSize, data: regs}
		fn := pci.Function{Dev: 1, Vendor: PCIVendor, Device: 0x1000, SubsystemID: DeviceNet, Config: sp}
		p, err := NewPCI(fn, func(i int) (Window, uint64, error) { return w, w.size, nil })
		if err != nil {
			return
		}
		for q := uint16(0); q < 3; q++ {
			if p.QueueMax(q) != 0 && p.EnableQueue(q, 16, 0x1000, 0x2000, 0x3000) == nil {
				p.Notify(q)
			}
		}
		for off := uint32(0); off < p.ConfigSize() && off < 64; off++ {
			p.ConfigRead8(off)
		}
		p.AckInterrupt()
		p.SetStatus(p.Status())
		p.SetDriverFeatures(p.DeviceFeatures())
	})
}
