package virtio

import "fmt"

// Pool hands out the pages of one span of device memory as Regions: on
// SEV-SNP the platform's shared pages (hal.DeviceMemory), the only
// memory a device may be given there. It never frees: a driver takes
// what it needs once, at start.
type Pool struct {
	mem  []byte
	gpa  uint64
	next int // the first page not handed out
}

// NewPool makes a pool of mem, whose first byte is at device address gpa
// (page-aligned, whole pages).
func NewPool(mem []byte, gpa uint64) (*Pool, error) {
	if gpa%PageSize != 0 || len(mem)%PageSize != 0 || gpa+uint64(len(mem)) < gpa {
		return nil, fmt.Errorf("virtio: device memory [%#x, +%#x) is not whole pages", gpa, len(mem))
	}
	return &Pool{mem: mem, gpa: gpa}, nil
}

// Alloc returns the next pages pages of the pool, zeroed.
func (p *Pool) Alloc(pages int) (Region, error) {
	if pages <= 0 || pages > len(p.mem)/PageSize-p.next {
		return Region{}, fmt.Errorf("virtio: %d pages of device memory asked, %d left of %d", pages, len(p.mem)/PageSize-p.next, len(p.mem)/PageSize)
	}
	r := Region{Bytes: p.mem[p.next*PageSize : (p.next+pages)*PageSize]}
	for i := 0; i < pages; i++ {
		r.Pages = append(r.Pages, p.gpa+uint64(p.next+i)*PageSize)
	}
	clear(r.Bytes)
	p.next += pages
	return r, nil
}

// Contains reports whether the n bytes at device address a lie in the
// pool.
func (p *Pool) Contains(a uint64, n int) bool {
	return n >= 0 && a >= p.gpa && a+uint64(n) >= a && a+uint64(n) <= p.gpa+uint64(len(p.mem))
}

// NetQueueSizeFor returns the largest queue size (a power of two, at
// most max) whose virtio-net rings and buffers fit in pages of device
// memory, or 0 if none does.
func NetQueueSizeFor(pages int, max uint16) uint16 {
	for max&(max-1) != 0 {
		max &= max - 1
	}
	for qs := max; qs > 0; qs /= 2 {
		if 2*(3+netBufPages(qs)) <= pages {
			return qs
		}
	}
	return 0
}

// netBufPages is the pages a queue of qs buffers of netBufSize takes.
func netBufPages(qs uint16) int { return (int(qs)*netBufSize + PageSize - 1) / PageSize }
