// Package virtio is Cocoon's virtio driver core (Virtual I/O Device
// (VIRTIO) Version 1.2, OASIS): split virtqueues, the device
// initialization sequence, and the transports (virtio-mmio on microvm,
// modern virtio-pci on q35 and OVMF) behind one Transport interface.
//
// The device is the host, and the host is not trusted (under SEV-SNP it
// is hostile): the rings and buffers live in memory the platform shares
// with it (Region), and nothing else of the kernel's is reachable from
// the device. The driver keeps its own copy of every descriptor it posts
// and never reads one back; every value the device writes (the used
// ring's index, ids and lengths, configuration fields) is checked before
// use, and a device that breaks the protocol is refused: the queue stops
// and reports ErrDevice, the kernel carries on.
package virtio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// PageSize is the granule of Region: no buffer crosses a page.
const PageSize = 4096

// Region is memory shared with the device: Bytes is the driver's view;
// page i of it is at device (guest-physical) address Pages[i]. Pages
// need not be contiguous.
type Region struct {
	Bytes []byte
	Pages []uint64
}

// Phys returns the device address of byte off of r.
func (r Region) Phys(off int) uint64 {
	return r.Pages[off/PageSize] + uint64(off%PageSize)
}

// Split virtqueue layout (VIRTIO 1.2, 2.7 "Split Virtqueues"): a
// descriptor table of 16-byte entries (addr u64, len u32, flags u16,
// next u16), the driver area (avail ring: flags u16, idx u16,
// ring[size] u16, used_event u16) and the device area (used ring: flags
// u16, idx u16, ring[size] of {id u32, len u32}, avail_event u16).
const (
	descSize = 16
	// Descriptor flags (2.7.5 "The Virtqueue Descriptor Table").
	descFNext  = 1
	descFWrite = 2
	// MaxQueueSize is the largest queue Cocoon sets up: its descriptor
	// table, avail and used rings each fit in one page.
	MaxQueueSize = 256
	// availFNoInterrupt is VIRTQ_AVAIL_F_NO_INTERRUPT, the avail ring
	// flag that advises the device not to notify the driver of used
	// buffers (2.7.7 "Used Buffer Notification Suppression"; without
	// VIRTIO_F_EVENT_IDX the driver sets flags to 0 or 1).
	availFNoInterrupt = 1
)

// ErrDevice reports a device that broke the virtio protocol; the queue
// that saw it is stopped for good.
var ErrDevice = errors.New("virtio: the device broke the protocol")

// deviceError wraps ErrDevice with what the device did.
func deviceError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrDevice, fmt.Sprintf(format, a...))
}

// Buffer is one buffer the driver lends the device: a span of a Region.
type Buffer struct {
	Off, Len int  // in the region
	Write    bool // device-writable (a receive buffer)
}

// Queue is one split virtqueue with single-descriptor buffers. It is not
// safe for concurrent use.
type Queue struct {
	size                 uint16
	desc, avail          []byte // driver-owned rings in shared memory
	used                 []byte // device-written ring in shared memory
	data                 Region // the buffers' memory
	bufs                 []Buffer
	posted               []bool // by descriptor id: lent to the device
	free                 []uint16
	availIdx             uint16 // the next avail ring index to publish
	availFlags           uint16 // the avail ring's flags (availFNoInterrupt)
	lastUsed             uint16 // the next used ring index to consume
	broken               error
	descP, availP, usedP uint64
}

// QueueLayout returns the bytes the three parts of a queue of size
// entries need.
func QueueLayout(size uint16) (desc, avail, used int) {
	n := int(size)
	return descSize * n, 6 + 2*n, 6 + 8*n
}

// NewQueue makes a queue of size entries (a power of two, at most
// MaxQueueSize) whose rings are the first bytes of three pages of ring,
// with buffers in data.
func NewQueue(size uint16, ring Region, data Region) (*Queue, error) {
	if size == 0 || size&(size-1) != 0 || size > MaxQueueSize {
		return nil, fmt.Errorf("virtio: queue size %d is not a power of two up to %d", size, MaxQueueSize)
	}
	if len(ring.Bytes) < 3*PageSize || len(ring.Pages) < 3 {
		return nil, fmt.Errorf("virtio: a queue's rings need 3 pages")
	}
	d, a, u := QueueLayout(size)
	q := &Queue{
		size:   size,
		desc:   ring.Bytes[0:d],
		avail:  ring.Bytes[PageSize : PageSize+a],
		used:   ring.Bytes[2*PageSize : 2*PageSize+u],
		data:   data,
		bufs:   make([]Buffer, size),
		posted: make([]bool, size),
		descP:  ring.Phys(0), availP: ring.Phys(PageSize), usedP: ring.Phys(2 * PageSize),
	}
	clear(ring.Bytes[:3*PageSize])
	for i := int(size) - 1; i >= 0; i-- {
		q.free = append(q.free, uint16(i))
	}
	return q, nil
}

// Size returns the number of entries.
func (q *Queue) Size() uint16 { return q.size }

// Addresses returns the device addresses of the descriptor table, the
// driver area and the device area, for the transport.
func (q *Queue) Addresses() (desc, driver, device uint64) { return q.descP, q.availP, q.usedP }

// Err returns why the queue stopped, or nil.
func (q *Queue) Err() error { return q.broken }

// Free returns how many more buffers the queue takes.
func (q *Queue) Free() int { return len(q.free) }

// Post lends b to the device and returns its descriptor id. The caller
// must Kick the device afterwards (after posting a batch).
func (q *Queue) Post(b Buffer) (uint16, error) {
	if q.broken != nil {
		return 0, q.broken
	}
	if b.Len <= 0 || b.Off < 0 || b.Off+b.Len > len(q.data.Bytes) || b.Off/PageSize != (b.Off+b.Len-1)/PageSize {
		return 0, fmt.Errorf("virtio: buffer [%d, +%d) is not within one page of the region", b.Off, b.Len)
	}
	if len(q.free) == 0 {
		return 0, errors.New("virtio: queue full")
	}
	id := q.free[len(q.free)-1]
	q.free = q.free[:len(q.free)-1]
	q.bufs[id] = b
	q.posted[id] = true
	d := q.desc[int(id)*descSize:]
	binary.LittleEndian.PutUint64(d[0:], q.data.Phys(b.Off))
	binary.LittleEndian.PutUint32(d[8:], uint32(b.Len))
	var flags uint16
	if b.Write {
		flags = descFWrite
	}
	binary.LittleEndian.PutUint16(d[12:], flags)
	binary.LittleEndian.PutUint16(d[14:], 0)
	binary.LittleEndian.PutUint16(q.avail[4+2*int(q.availIdx%q.size):], id)
	q.availIdx++
	// The ring entry is visible before the index that publishes it: a
	// sequentially consistent store orders them (2.7.13 "Supplying
	// Buffers to The Device", the write memory barrier).
	atomic.StoreUint32(word(q.avail), uint32(q.availIdx)<<16|uint32(q.availFlags))
	return id, nil
}

// NoInterrupts tells the device that the driver polls this queue's used
// ring and wants no used-buffer notifications (availFNoInterrupt): the
// device then neither raises its interrupt nor sets the interrupt
// status for this queue, which the driver need not read or acknowledge.
// A device that notifies anyway costs nothing: its interrupt is not
// taken.
func (q *Queue) NoInterrupts() {
	q.availFlags = availFNoInterrupt
	atomic.StoreUint32(word(q.avail), uint32(q.availIdx)<<16|uint32(q.availFlags))
}

// Interrupts asks the device for used-buffer notifications again
// (clears availFNoInterrupt).
func (q *Queue) Interrupts() {
	q.availFlags = 0
	atomic.StoreUint32(word(q.avail), uint32(q.availIdx)<<16|uint32(q.availFlags))
}

// Pending reports whether the device has used buffers not yet
// reclaimed. After Interrupts it tells a driver about to wait whether
// buffers came before the device saw the request (2.7.10: a driver that
// re-enables notifications must check the used index again); the
// sequentially consistent store and load keep that order.
func (q *Queue) Pending() bool {
	return q.broken == nil && uint16(atomic.LoadUint32(word(q.used))>>16) != q.lastUsed
}

// word returns the 32-bit word at the start of b (flags in its low half,
// idx in its high half, for both rings).
func word(b []byte) *uint32 {
	// unsafe: the rings are 4-byte aligned (2.7 "Split Virtqueues",
	// table of alignments) and atomics need a *uint32 to order the
	// index against the entries.
	return (*uint32)(unsafe.Pointer(&b[0]))
}

// Used is one buffer the device returned: its id, the buffer, and for a
// device-writable buffer how many bytes the device wrote (checked to fit).
type Used struct {
	ID  uint16
	Buf Buffer
	Len int
}

// Reclaim returns the buffers the device has used since the last call,
// checking every entry: an index that runs ahead of what was posted, an
// id out of range or not lent, or a length beyond its buffer stops the
// queue with ErrDevice (the entries before it are still returned).
func (q *Queue) Reclaim(out []Used) ([]Used, error) {
	if q.broken != nil {
		return out, q.broken
	}
	idx := uint16(atomic.LoadUint32(word(q.used)) >> 16)
	pending := idx - q.lastUsed
	inflight := q.size - uint16(len(q.free))
	if pending > inflight {
		q.broken = deviceError("used index %d is %d entries ahead of the %d buffers lent", idx, pending, inflight)
		return out, q.broken
	}
	for ; q.lastUsed != idx; q.lastUsed++ {
		e := q.used[4+8*int(q.lastUsed%q.size):]
		id32 := binary.LittleEndian.Uint32(e[0:])
		n := binary.LittleEndian.Uint32(e[4:])
		if id32 >= uint32(q.size) {
			q.broken = deviceError("used id %d out of range (queue size %d)", id32, q.size)
			return out, q.broken
		}
		id := uint16(id32)
		if !q.posted[id] {
			q.broken = deviceError("used id %d was not lent to the device (returned twice?)", id)
			return out, q.broken
		}
		b := q.bufs[id]
		u := Used{ID: id, Buf: b}
		if b.Write {
			if n > uint32(b.Len) {
				q.broken = deviceError("used length %d for a %d-byte buffer", n, b.Len)
				return out, q.broken
			}
			u.Len = int(n)
		}
		q.posted[id] = false
		q.free = append(q.free, id)
		out = append(out, u)
	}
	return out, nil
}

// Bytes returns the driver's view of a used buffer's valid bytes.
func (q *Queue) Bytes(u Used) []byte {
	return q.data.Bytes[u.Buf.Off : u.Buf.Off+u.Len]
}

// NeedsKick reports whether the device asked to be notified of new
// buffers: the used ring's flags lack VIRTQ_USED_F_NO_NOTIFY (2.7.10).
// A wrong answer from the device costs only a notification.
func (q *Queue) NeedsKick() bool {
	return atomic.LoadUint32(word(q.used))&1 == 0
}
