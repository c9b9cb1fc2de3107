package virtio

import (
	"fmt"

	"github.com/cocoon-vm/cocoon/hal/pci"
)

// Window is a device register window with the access widths virtio-pci
// needs: the driver accesses each field of a structure with its natural
// width, 8, 16 or 32 bits (VIRTIO 1.2, 4.1.3.1 "Driver Requirements: PCI
// Device Layout"; a 64-bit field as two 32-bit halves). The platform
// implements it over a mapped BAR.
type Window interface {
	Read8(off uint32) uint8
	Read16(off uint32) uint16
	Read32(off uint32) uint32
	Write8(off uint32, v uint8)
	Write16(off uint32, v uint16)
	Write32(off uint32, v uint32)
}

// BARMap maps memory BAR i of the function and returns its window and
// size. The platform sizes it, places it in its host interface and maps
// it; the transport then checks each structure lies inside it.
type BARMap func(i int) (Window, uint64, error)

// virtio-pci identification (4.1.2 "PCI Device Discovery").
const (
	PCIVendor = 0x1af4
	// pciModernBase + device type is a modern (non-transitional)
	// device's PCI device id; transitional devices use 0x1000-0x103f
	// and give the type as the subsystem device id (4.1.2.1).
	pciModernBase               = 0x1040
	pciTransitionalFirst        = 0x1000
	pciTransitionalLast         = 0x103f
	pciCapVendor                = 0x09 // vendor-specific capability (4.1.4)
	pciCapLen                   = 16   // struct virtio_pci_cap
	pciNotifyCapLen             = 20   // struct virtio_pci_notify_cap
	pciCapCommon                = 1    // VIRTIO_PCI_CAP_COMMON_CFG
	pciCapNotify                = 2    // VIRTIO_PCI_CAP_NOTIFY_CFG
	pciCapISR                   = 3    // VIRTIO_PCI_CAP_ISR_CFG
	pciCapDevice                = 4    // VIRTIO_PCI_CAP_DEVICE_CFG
	pciCommonMinLen             = 0x38 // through queue_device (4.1.4.3)
	pciNoVector          uint16 = 0xffff
)

// struct virtio_pci_common_cfg (4.1.4.3 "Common configuration structure
// layout").
const (
	commonDeviceFeatureSel = 0x00
	commonDeviceFeature    = 0x04
	commonDriverFeatureSel = 0x08
	commonDriverFeature    = 0x0c
	commonMSIXConfig       = 0x10
	commonNumQueues        = 0x12
	commonStatus           = 0x14
	commonConfigGeneration = 0x15
	commonQueueSelect      = 0x16
	commonQueueSize        = 0x18
	commonQueueMSIXVector  = 0x1a
	commonQueueEnable      = 0x1c
	commonQueueNotifyOff   = 0x1e
	commonQueueDesc        = 0x20
	commonQueueDriver      = 0x28
	commonQueueDevice      = 0x30
)

// PCIDeviceType returns the virtio device type of a PCI function, or 0
// when it is not a virtio device.
func PCIDeviceType(f pci.Function) uint32 {
	switch {
	case f.Vendor != PCIVendor || f.HeaderType != 0:
		return 0
	case f.Device >= pciTransitionalFirst && f.Device <= pciTransitionalLast:
		return uint32(f.SubsystemID)
	case f.Device > pciModernBase && f.Device <= pciModernBase+0x3f:
		return uint32(f.Device - pciModernBase)
	}
	return 0
}

// region is one virtio structure: a span of a BAR's window.
type region struct {
	w        Window
	off, len uint32
}

// PCI is a modern virtio-pci transport (4.1).
type PCI struct {
	id                       uint32
	common, notify, isr, dev region
	notifyMult               uint32
	numQueues                uint16
	notifyAt                 map[uint16]uint32 // queue -> offset in notify's window
	fn                       pci.Function
}

// NewPCI finds the virtio structures of function f through its
// capability list (4.1.4 "Virtio Structure PCI Capabilities"), maps the
// BARs they live in with bars, and checks each lies inside its BAR. It
// turns on memory decoding and bus mastering (the device reads and
// writes the queues).
func NewPCI(f pci.Function, bars BARMap) (*PCI, error) {
	id := PCIDeviceType(f)
	if id == 0 {
		return nil, fmt.Errorf("virtio-pci %02x.%d: %04x:%04x is not a virtio device", f.Dev, f.Fn, f.Vendor, f.Device)
	}
	caps, err := f.Caps()
	if err != nil {
		return nil, fmt.Errorf("virtio-pci %02x.%d: %v", f.Dev, f.Fn, err)
	}
	p := &PCI{id: id, fn: f, notifyAt: map[uint16]uint32{}}
	windows := map[uint8]Window{}
	sizes := map[uint8]uint64{}
	found := map[uint8]bool{}
	for _, c := range caps {
		if c.ID != pciCapVendor {
			continue
		}
		w0 := f.Config.Read32(c.Off)
		w1 := f.Config.Read32(c.Off + 4)
		capLen, typ, bar := uint8(w0>>16), uint8(w0>>24), uint8(w1)
		var dst *region
		switch typ {
		case pciCapCommon:
			dst = &p.common
		case pciCapNotify:
			dst = &p.notify
		case pciCapISR:
			dst = &p.isr
		case pciCapDevice:
			dst = &p.dev
		default:
			continue // a structure Cocoon does not use
		}
		// The driver uses the first structure of each type it can
		// (4.1.4.1), and ignores one with a reserved BAR number (4.1.4).
		if found[typ] || bar > 5 {
			continue
		}
		need := uint8(pciCapLen)
		if typ == pciCapNotify {
			need = pciNotifyCapLen
		}
		if capLen < need || int(c.Off)+int(need) > 256 {
			return nil, fmt.Errorf("virtio-pci %02x.%d: capability at %#x of type %d has length %d, want %d", f.Dev, f.Fn, c.Off, typ, capLen, need)
		}
		off, n := f.Config.Read32(c.Off+8), f.Config.Read32(c.Off+12)
		if _, ok := windows[bar]; !ok {
			w, size, err := bars(int(bar))
			if err != nil {
				return nil, fmt.Errorf("virtio-pci %02x.%d: BAR %d: %v", f.Dev, f.Fn, bar, err)
			}
			windows[bar], sizes[bar] = w, size
		}
		if n == 0 || uint64(off)+uint64(n) > sizes[bar] {
			return nil, fmt.Errorf("virtio-pci %02x.%d: structure of type %d at [%#x, +%#x) is not inside BAR %d (%#x bytes)", f.Dev, f.Fn, typ, off, n, bar, sizes[bar])
		}
		if typ == pciCapNotify {
			m := f.Config.Read32(c.Off + 16)
			// 0, or an even power of two (4.1.4.4 "Device Requirements:
			// Notification capability").
			if m != 0 && (m&(m-1) != 0 || m == 1) {
				return nil, fmt.Errorf("virtio-pci %02x.%d: notify_off_multiplier %d is neither 0 nor an even power of two", f.Dev, f.Fn, m)
			}
			p.notifyMult = m
		}
		*dst = region{w: windows[bar], off: off, len: n}
		found[typ] = true
	}
	for _, need := range []struct {
		typ  uint8
		name string
	}{{pciCapCommon, "common configuration"}, {pciCapNotify, "notification"}, {pciCapISR, "ISR status"}} {
		if !found[need.typ] {
			return nil, fmt.Errorf("virtio-pci %02x.%d: no %s structure: not a modern (virtio 1.0+) device", f.Dev, f.Fn, need.name)
		}
	}
	if p.common.len < pciCommonMinLen {
		return nil, fmt.Errorf("virtio-pci %02x.%d: common configuration of %d bytes, want at least %d", f.Dev, f.Fn, p.common.len, pciCommonMinLen)
	}
	f.SetCommand(pci.CommandMemory|pci.CommandMaster, 0)
	p.numQueues = p.common.w.Read16(p.common.off + commonNumQueues)
	return p, nil
}

func (p *PCI) c8(off uint32) uint8      { return p.common.w.Read8(p.common.off + off) }
func (p *PCI) c16(off uint32) uint16    { return p.common.w.Read16(p.common.off + off) }
func (p *PCI) c32(off uint32) uint32    { return p.common.w.Read32(p.common.off + off) }
func (p *PCI) w8(off uint32, v uint8)   { p.common.w.Write8(p.common.off+off, v) }
func (p *PCI) w16(off uint32, v uint16) { p.common.w.Write16(p.common.off+off, v) }
func (p *PCI) w32(off uint32, v uint32) { p.common.w.Write32(p.common.off+off, v) }

func (p *PCI) DeviceID() uint32 { return p.id }
func (p *PCI) Status() uint8    { return p.c8(commonStatus) }
func (p *PCI) SetStatus(s uint8) {
	p.w8(commonStatus, s)
}

func (p *PCI) DeviceFeatures() uint64 {
	p.w32(commonDeviceFeatureSel, 0)
	lo := p.c32(commonDeviceFeature)
	p.w32(commonDeviceFeatureSel, 1)
	hi := p.c32(commonDeviceFeature)
	return uint64(hi)<<32 | uint64(lo)
}

func (p *PCI) SetDriverFeatures(f uint64) {
	p.w32(commonDriverFeatureSel, 0)
	p.w32(commonDriverFeature, uint32(f))
	p.w32(commonDriverFeatureSel, 1)
	p.w32(commonDriverFeature, uint32(f>>32))
}

func (p *PCI) QueueMax(q uint16) uint16 {
	if q >= p.numQueues {
		return 0
	}
	p.w16(commonQueueSelect, q)
	if p.c16(commonQueueEnable) != 0 {
		return 0
	}
	return p.c16(commonQueueSize)
}

func (p *PCI) EnableQueue(q uint16, size uint16, desc, driver, device uint64) error {
	p.w16(commonQueueSelect, q)
	// The queue's notification address (4.1.4.4): cap.offset +
	// queue_notify_off * notify_off_multiplier, a 16-bit register that
	// must lie inside the notification structure.
	at := uint64(p.c16(commonQueueNotifyOff)) * uint64(p.notifyMult)
	if at+2 > uint64(p.notify.len) {
		return fmt.Errorf("virtio-pci: queue %d's notification register at %#x is outside the %#x-byte notification structure", q, at, p.notify.len)
	}
	p.notifyAt[q] = p.notify.off + uint32(at)
	p.w16(commonQueueSize, size)
	// Cocoon polls: no MSI-X vector (4.1.4.3, VIRTIO_MSI_NO_VECTOR).
	p.w16(commonQueueMSIXVector, pciNoVector)
	for _, r := range []struct {
		off uint32
		v   uint64
	}{{commonQueueDesc, desc}, {commonQueueDriver, driver}, {commonQueueDevice, device}} {
		p.w32(r.off, uint32(r.v))
		p.w32(r.off+4, uint32(r.v>>32))
	}
	p.w16(commonQueueEnable, 1)
	return nil
}

func (p *PCI) Notify(q uint16) {
	if at, ok := p.notifyAt[q]; ok {
		p.notify.w.Write16(at, q)
	}
}

func (p *PCI) ConfigSize() uint32 {
	if p.dev.w == nil {
		return 0
	}
	return p.dev.len
}

func (p *PCI) ConfigRead8(off uint32) uint8 {
	if off >= p.ConfigSize() {
		return 0
	}
	return p.dev.w.Read8(p.dev.off + off)
}

func (p *PCI) ConfigGeneration() uint32 { return uint32(p.c8(commonConfigGeneration)) }

// AckInterrupt reads the ISR status, which clears it (4.1.4.5).
func (p *PCI) AckInterrupt() { p.isr.w.Read8(p.isr.off) }
