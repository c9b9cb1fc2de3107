package kernel

// Network devices: finding a virtio-net device (a virtio-pci function on
// a PC with a PCI host bridge, q35 and OVMF; a virtio-mmio window on
// microvm) and giving its driver (hal/virtio) register access and shared
// memory. Goroutine context.

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/hal/pci"
	"github.com/cocoon-vm/cocoon/hal/virtio"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// microvm's virtio-mmio transports (QEMU hw/i386/microvm.c
// VIRTIO_MMIO_BASE): 0x200-byte windows from 0xfeb00000, up to 24 of
// them (8 without the second IO-APIC).
const (
	virtioMMIOBase  = 0xfeb00000
	virtioMMIOSlots = 24
)

// PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): the
// address of a configuration dword goes to CONFIG_ADDRESS, its data is
// read and written at CONFIG_DATA.
const (
	pciConfigAddress = 0xcf8
	pciConfigData    = 0xcfc
	pciEnable        = 1 << 31
)

// pciWindow is where the kernel keeps the memory BARs it maps: the PCI
// hole below 4 GiB between q35's ECAM (0xb0000000-0xbfffffff) and the
// IO-APIC (0xfec00000), which QEMU routes to the PCI bus and the SEV-SNP
// boot maps shared. It is hal.PCExits' PCI BAR entry.
var pciWindow = pci.Range{Lo: 0xc0000000, Hi: 0xfebfffff}

// NetQueueSize is the largest virtqueue the network driver sets up.
const NetQueueSize = 256

// mmioRegs is a device register window reached through the direct map.
// Each access is one plain MOV of its width (MOVZX for narrow reads) in
// a function of its own that is not inlined, so the compiler neither
// merges, reorders nor drops them; x86 keeps stores in order. Under
// SEV-SNP each raises #VC, whose handler decodes MOV, MOVZX and MOVSX
// only (snp/vc.DecodeMMIO): no atomic exchange here.
type mmioRegs struct{ va uintptr }

//go:noinline
func (r mmioRegs) Read32(off uint32) uint32 { return *cpu.Ptr32(r.va + uintptr(off)) }

//go:noinline
func (r mmioRegs) Write32(off uint32, v uint32) { *cpu.Ptr32(r.va + uintptr(off)) = v }

//go:noinline
func (r mmioRegs) Read16(off uint32) uint16 { return *cpu.Ptr16(r.va + uintptr(off)) }

//go:noinline
func (r mmioRegs) Write16(off uint32, v uint16) { *cpu.Ptr16(r.va + uintptr(off)) = v }

//go:noinline
func (r mmioRegs) Read8(off uint32) uint8 { return *cpu.Ptr8(r.va + uintptr(off)) }

//go:noinline
func (r mmioRegs) Write8(off uint32, v uint8) { *cpu.Ptr8(r.va + uintptr(off)) = v }

// pciMu serializes configuration mechanism #1, a two-step access.
var pciMu sync.Mutex

// pciConfig is one function's configuration space.
type pciConfig struct{ bus, dev, fn uint8 }

// addr is CONFIG_ADDRESS for offset off: enable, bus (23:16), device
// (15:11), function (10:8), register (7:2).
func (c pciConfig) addr(off uint8) uint32 {
	return pciEnable | uint32(c.bus)<<16 | uint32(c.dev&31)<<11 | uint32(c.fn&7)<<8 | uint32(off&^3)
}

func (c pciConfig) Read32(off uint8) uint32 {
	pciMu.Lock()
	defer pciMu.Unlock()
	cpu.Outl(pciConfigAddress, c.addr(off))
	return cpu.Inl(pciConfigData)
}

func (c pciConfig) Write32(off uint8, v uint32) {
	pciMu.Lock()
	defer pciMu.Unlock()
	cpu.Outl(pciConfigAddress, c.addr(off))
	cpu.Outl(pciConfigData, v)
}

// NetDevice is the machine's virtio-net device. On microvm its receive
// queue can interrupt: the interrupt handler signals an eventfd that
// WaitInterrupt waits on through the kernel runtime's netpoller, so a
// goroutine sleeps until a frame arrives instead of polling.
type NetDevice struct {
	n   *virtio.Net
	irq *os.File // the eventfd netInterrupt signals; nil: polled only
	// raw is irq's raw connection: WaitInterrupt parks in the netpoller
	// until the eventfd is signalled, without reading it (see arrived).
	raw syscall.RawConn
	// taken is netInterrupts when WaitInterrupt last saw an interrupt.
	taken uint64
}

// ReceivePending reports whether the device has returned receive
// buffers the driver has not taken yet: a look at the used ring in
// memory, no register access. A hint (the receive loop may be taking
// them meanwhile).
func (d *NetDevice) ReceivePending() bool { return d.n.ReceivePending() }

// The driver's methods, spelled out rather than promoted from an
// embedded *virtio.Net: the compiler's wrappers for promoted methods
// belong to no file, so the trap-code check could not tell they run in
// goroutine context.

// MAC returns the device's Ethernet address.
func (d *NetDevice) MAC() [6]byte { return d.n.MAC() }

// Send queues one frame (virtio.Net.Send).
func (d *NetDevice) Send(frame []byte) error { return d.n.Send(frame) }

// SendParts queues one frame given in parts (virtio.Net.SendParts).
func (d *NetDevice) SendParts(parts [][]byte) error { return d.n.SendParts(parts) }

// QueueParts queues one frame given in parts without notifying the
// device (virtio.Net.QueueParts).
func (d *NetDevice) QueueParts(parts [][]byte) error { return d.n.QueueParts(parts) }

// Flush notifies the device of queued frames (virtio.Net.Flush).
func (d *NetDevice) Flush() { d.n.Flush() }

// Receive passes the frames that arrived to deliver (virtio.Net.Receive).
func (d *NetDevice) Receive(deliver func(frame []byte)) (int, error) { return d.n.Receive(deliver) }

// ReceiveShared lends the frames that arrived to deliver, which copies
// what it keeps (virtio.Net.ReceiveShared).
func (d *NetDevice) ReceiveShared(deliver func(frame []byte)) (int, error) {
	return d.n.ReceiveShared(deliver)
}

// EnableInterrupt asks for the receive interrupt and reports whether
// frames already wait (virtio.Net.EnableInterrupt).
func (d *NetDevice) EnableInterrupt() bool { return d.n.EnableInterrupt() }

// DisableInterrupt makes the receive queue polled again.
func (d *NetDevice) DisableInterrupt() { d.n.DisableInterrupt() }

// AckInterrupt acknowledges the device's interrupt status.
func (d *NetDevice) AckInterrupt() { d.n.AckInterrupt() }

// Interrupts reports whether the device's receive interrupt is routed
// (WaitInterrupt can be used).
func (d *NetDevice) Interrupts() bool { return d.irq != nil }

// WaitInterrupt waits up to timeout for the receive interrupt, which
// the caller asked for with EnableInterrupt, and reports whether it
// came. One goroutine at a time waits.
func (d *NetDevice) WaitInterrupt(timeout time.Duration) bool {
	if d.irq == nil {
		time.Sleep(timeout)
		return false
	}
	if d.arrived() {
		return true
	}
	d.irq.SetReadDeadline(time.Now().Add(timeout))
	return d.raw.Read(func(uintptr) bool { return d.arrived() }) == nil
}

// arrived reports whether an interrupt came since the last one it
// reported. It reads the handler's count rather than the eventfd: a
// read(2) of it would be a system call of the kernel's runtime, two per
// wait that blocks (the one that finds it empty, the one after the
// wake-up), and each wakes the runtime's sysmon thread (entersyscall)
// to sleep again; the netpoller reports every signal all the same, as
// the eventfd is watched edge-triggered (EPOLLET) and netInterrupt adds
// to it each time (its counter is never drained, and stops growing at
// 2^62 interrupts, where the netpoller would no longer be told).
func (d *NetDevice) arrived() bool {
	n := atomic.LoadUint64(&netInterrupts)
	if n == d.taken {
		return false
	}
	d.taken = n
	return true
}

// microvmVirtioGSI is the interrupt input of microvm's first virtio-mmio
// transport; transport i has microvmVirtioGSI+i. QEMU wires them so with
// ACPI on and the second IO-APIC off, as qemu.Microvm runs it
// (hw/i386/microvm.c microvm_devices_init: virtio_irq_base 16).
const microvmVirtioGSI = 16

// routeNetInterrupt sets up the receive interrupt of the device in
// virtio-mmio slot: an eventfd for the handler to signal, and the
// IO-APIC input of the slot delivered as vecNet. Only on the plain PC
// platform; elsewhere, or if any step fails, the device is polled.
func routeNetInterrupt(d *NetDevice, slot int) {
	r, ok := platform.(hal.InterruptRouter)
	if !ok || platform.Name() != "pc" || netIRQFd != 0 {
		return
	}
	fd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, linux.EfdNonblock|linux.EfdCloexec, 0)
	if errno != 0 {
		return
	}
	f := os.NewFile(fd, "virtio-net interrupt")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return
	}
	netIRQFd = int64(fd)
	if err := r.RouteInterrupt(uint32(microvmVirtioGSI+slot), vecNet); err != nil {
		netIRQFd = 0
		f.Close()
		return
	}
	d.irq, d.raw = f, raw
}

// VirtioNet finds the first virtio-net device and starts its driver. It
// returns nil and no error when the machine has none, or when the
// platform can give a device no memory it may share (neither a plain PC
// nor one with hal.DeviceMemory).
func VirtioNet() (*NetDevice, error) {
	if platform == nil {
		return nil, nil
	}
	alloc, size := virtio.Alloc(dmaAlloc), uint16(NetQueueSize)
	if dm, ok := platform.(hal.DeviceMemory); ok {
		// SEV-SNP: rings and bounce buffers only in the pages the
		// platform shared for devices; the rest of memory stays private.
		mem, gpa := dm.DeviceMemory()
		pool, err := virtio.NewPool(mem, gpa)
		if err != nil {
			return nil, err
		}
		if size = virtio.NetQueueSizeFor(len(mem)/pageSize, NetQueueSize); size == 0 {
			return nil, fmt.Errorf("virtio-net: %d pages of device memory hold no queues", len(mem)/pageSize)
		}
		alloc = pool.Alloc
	} else if platform.Name() != "pc" {
		return nil, nil
	}
	bus := func(bus, dev, fn uint8) pci.Config { return pciConfig{bus, dev, fn} }
	if host := (pciConfig{0, 0, 0}).Read32(0); uint16(host) != 0xffff && uint16(host) != 0 {
		// A PCI host bridge answers: q35 (SeaBIOS or OVMF).
		return virtioNetPCI(pci.Scan(bus), alloc, size)
	}
	return virtioNetMMIO(alloc, size)
}

// virtioNetPCI starts the first virtio-net function of fns.
func virtioNetPCI(fns []pci.Function, alloc virtio.Alloc, size uint16) (*NetDevice, error) {
	for _, f := range fns {
		if virtio.PCIDeviceType(f) != virtio.DeviceNet {
			continue
		}
		t, err := virtio.NewPCI(f, func(i int) (virtio.Window, uint64, error) { return mapBAR(fns, f, i) })
		if err != nil {
			return nil, err
		}
		n, err := virtio.NewNet(t, alloc, size)
		if err != nil {
			return nil, fmt.Errorf("virtio-net at PCI %02x:%02x.%d: %v", f.Bus, f.Dev, f.Fn, err)
		}
		return &NetDevice{n: n}, nil
	}
	return nil, nil
}

// mapBAR sizes memory BAR i of f and maps it. A BAR the firmware placed
// outside pciWindow (OVMF puts 64-bit BARs above 4 GiB, beyond the direct
// map) is moved into it, where no function's BAR or bridge window is.
func mapBAR(fns []pci.Function, f pci.Function, i int) (virtio.Window, uint64, error) {
	b, err := f.ReadBAR(i)
	if err != nil {
		return nil, 0, err
	}
	if b.Addr < pciWindow.Lo || b.Addr+b.Size-1 > pciWindow.Hi {
		if f.Bus != 0 {
			// Moving it would mean moving its bridges' windows too.
			return nil, 0, fmt.Errorf("BAR %d at %#x, behind a PCI bridge, is outside the PCI hole %#x-%#x the kernel maps; put the device on bus 0", i, b.Addr, pciWindow.Lo, pciWindow.Hi)
		}
		at, err := pci.Place(pciWindow, b.Size, pci.Used(fns))
		if err != nil {
			return nil, 0, err
		}
		if err := f.SetBAR(&b, at); err != nil {
			return nil, 0, err
		}
	}
	va, ok := cpu.Device(b.Addr, b.Size, platform.Name())
	if !ok {
		return nil, 0, fmt.Errorf("BAR at %#x (%#x bytes) is not in the %s platform's host interface (hal.PCExits)", b.Addr, b.Size, platform.Name())
	}
	return mmioRegs{va}, b.Size, nil
}

// virtioNetMMIO probes microvm's virtio-mmio windows.
func virtioNetMMIO(alloc virtio.Alloc, size uint16) (*NetDevice, error) {
	for i := 0; i < virtioMMIOSlots; i++ {
		va, ok := cpu.Device(uint64(virtioMMIOBase+i*virtio.MMIOSize), virtio.MMIOSize, platform.Name())
		if !ok {
			return nil, fmt.Errorf("virtio-mmio window %#x is not in the %s platform's host interface (hal.PCExits)", virtioMMIOBase+i*virtio.MMIOSize, platform.Name())
		}
		regs := mmioRegs{va}
		if regs.Read32(0) != 0x74726976 { // "virt": a transport is there
			continue
		}
		if regs.Read32(8) != virtio.DeviceNet {
			continue
		}
		t, err := virtio.NewMMIO(regs)
		if err != nil {
			return nil, fmt.Errorf("virtio-mmio at %#x: %v", virtioMMIOBase+i*virtio.MMIOSize, err)
		}
		n, err := virtio.NewNet(t, alloc, size)
		if err != nil {
			return nil, fmt.Errorf("virtio-net at %#x: %v", virtioMMIOBase+i*virtio.MMIOSize, err)
		}
		d := &NetDevice{n: n}
		routeNetInterrupt(d, i)
		return d, nil
	}
	return nil, nil
}

// dmaAlloc returns pages of memory for a device: fresh pages of the
// kernel's own runtime memory, present, whose physical addresses it
// reads from the page tables. Nothing else lives on them.
func dmaAlloc(pages int) (virtio.Region, error) {
	b, err := syscall.Mmap(-1, 0, pages*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return virtio.Region{}, fmt.Errorf("memory for a device: %v", err)
	}
	r := virtio.Region{Bytes: b}
	for i := 0; i < pages; i++ {
		b[i*pageSize] = 0 // fault the page in
		pte, _ := walk(addrOf(&b[i*pageSize]), false)
		if pte == nil || *pte&ptePresent == 0 {
			return virtio.Region{}, errors.New("memory for a device: a page is not present")
		}
		r.Pages = append(r.Pages, *pte&pteFrame)
	}
	return r, nil
}
