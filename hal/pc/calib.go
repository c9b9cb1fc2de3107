package pc

// TSC calibration against PIT channel 0. Trap context: nosplit, no
// allocation.

import (
	"math/bits"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

// pitHz is the 8254's input clock (Intel 8254 datasheet; QEMU
// hw/timer/i8254.c PIT_FREQ).
const pitHz = 1193182

// Calibration tolerances. A window is used only when its TSC brackets
// bound its rate's error by 1/windowTol; calibration ends when two
// consecutive usable windows agree within 1/agreeTol, and the result,
// their combined span, is then within 1/(2 windowTol) or so. Agreement
// guards against what brackets cannot see: a vCPU stopped for longer
// than the PIT's 55 ms wrap between two edges makes a window whose
// brackets are tight but whose PIT count lost 65536 ticks. Two usable
// windows may differ by up to 2/windowTol; asking for agreement within
// 1/agreeTol only costs a window now and then. The first window is
// firstWindow PIT ticks long and windows grow when their brackets are
// too wide for that length (slow port exits), up to maxWindow; after
// maxWindows windows without agreement the lowest usable rate is
// taken (see count).
const (
	windowTol   = 1024 // 1/1024: about 980 ppm
	agreeTol    = 1024
	firstWindow = 256   // PIT ticks: 215 µs, one step of the high byte
	maxWindow   = 16384 // 13.7 ms
	maxWindows  = 24
)

// pitEdge is the moment PIT channel 0's count became count, bracketed by
// two TSC reads: the edge lies in [lo, hi]. apic is the APIC timer's
// current count read just after hi. gap is the longest time, in TSC
// ticks, between two consecutive reads of the PIT since the previous
// edge: how long the vCPU was away at most.
type pitEdge struct {
	count  uint16
	lo, hi uint64
	apic   uint32
	gap    uint64
}

// mid is the edge's TSC estimate; it is off by at most half the bracket.
//
//go:nosplit
func (e pitEdge) mid() uint64 { return e.lo + (e.hi-e.lo)/2 }

// calibrator turns a chain of PIT edges into the TSC and APIC timer
// frequencies (host-testable: the edges come from outside).
//
// Each window is two consecutive edges. Its rate is the TSC ticks
// between the edges' midpoints over the PIT ticks between them, and its
// error is bounded by half the sum of the two brackets over the span:
// counting edges (the count changing) rather than reading a count
// removes the 838 ns quantisation of a single read. A host that takes
// the vCPU away between two reads of one bracket widens it, and the
// window is not used; one that takes it away elsewhere costs nothing,
// since both clocks run on. Calibration ends at two consecutive usable
// windows that agree; the result is their combined span, first edge to
// last.
type calibrator struct {
	window        uint16 // PIT ticks the next window should span
	chain         int    // edges in the current chain of usable windows (0-2)
	first, prev   pitEdge
	prevRate      uint64             // the last usable window's rate, if chain == 2
	narrowest     uint64             // the narrowest bracket seen, TSC ticks
	windows       int                // windows measured
	rates         [maxWindows]uint64 // every window's rates, for the fallback
	apics         [maxWindows]uint64
	usable        [maxWindows]bool
	tscHz, apicHz uint64
	agreed        bool
}

//go:nosplit
func (c *calibrator) reset() { *c = calibrator{window: firstWindow} }

// restart forgets the chain (the PIT was reloaded): the next edge starts
// a new one.
//
//go:nosplit
func (c *calibrator) restart() { c.chain = 0 }

// add takes the next edge of the chain, at least c.window PIT ticks
// after the previous one, and reports whether calibration is done
// (c.tscHz and c.apicHz then hold the result). wrapped says the PIT
// wrapped instead (e is empty): the chain starts again, and the attempt
// counts as a window.
//
//go:nosplit
func (c *calibrator) add(e pitEdge, wrapped bool) bool {
	if wrapped {
		c.chain = 0
		return c.count(0, 0, false)
	}
	if w := e.hi - e.lo; c.narrowest == 0 || w < c.narrowest {
		c.narrowest = w
	}
	if c.chain == 0 {
		c.first, c.prev, c.chain = e, e, 1
		return false
	}
	ticks := uint64(c.prev.count - e.count) // mode 0 counts down; uint16 wraps
	span := e.mid() - c.prev.mid()
	slack := (c.prev.hi - c.prev.lo + e.hi - e.lo) / 2
	if ticks == 0 || e.mid() <= c.prev.mid() || e.hi < c.prev.hi {
		// The PIT stood still or the TSC went backwards: nothing to
		// learn from this pair, start again from this edge.
		c.first, c.prev, c.chain = e, e, 1
		return c.count(0, 0, false)
	}
	rate := mulDiv(span, pitHz, ticks)
	if e.gap > span/2 {
		// The vCPU was away for over half the window: long enough,
		// maybe, for a wrap no read showed (that takes 65536 ticks, at
		// least four fifths of any window's span, since windows are at
		// most maxWindow+firstWindow ticks). The edge itself is good: a
		// new chain starts at it.
		c.first, c.prev, c.chain = e, e, 1
		return c.count(0, 0, false)
	}
	apic := apicRate(c.prev, e, rate)
	if slack*windowTol > span {
		// Brackets too wide for this window. If even the narrowest
		// bracket seen would not fit it (slow port exits rather than
		// the host stopping the vCPU inside a bracket), grow the window
		// so that two such would fit it, with half again to spare. The
		// wider edge is dropped: a new chain starts here, or at the next
		// edge if this one is the wider.
		wa, wb := c.prev.hi-c.prev.lo, e.hi-e.lo
		if need := mulDiv(uint64(c.window), c.narrowest*windowTol*3/2, span); need > uint64(c.window) {
			c.window = uint16((min(need, maxWindow) + 255) &^ 255)
		}
		c.first, c.prev, c.chain = e, e, 1
		if wb > wa {
			c.chain = 0
		}
		return c.count(rate, apic, false)
	}
	if c.chain == 2 && diff(rate, c.prevRate)*agreeTol <= rate {
		total := uint64(c.first.count - e.count)
		c.tscHz = mulDiv(e.mid()-c.first.mid(), pitHz, total)
		c.apicHz = apicRate(c.first, e, c.tscHz)
		c.agreed = true
		return true
	}
	if c.chain == 2 {
		// Two usable windows that disagree: the older is dropped, the
		// chain goes on from the newer.
		c.first = c.prev
	}
	c.prev, c.prevRate, c.chain = e, rate, 2
	return c.count(rate, apic, true)
}

// count records a window's rates for the fallback and reports whether
// the windows are used up; if so the fallback result is set.
//
//go:nosplit
func (c *calibrator) count(rate, apic uint64, usable bool) bool {
	i := uint(c.windows) % maxWindows
	c.rates[i], c.apics[i], c.usable[i] = rate, apic, usable && rate != 0
	c.windows++
	if c.windows < maxWindows {
		return false
	}
	// No two usable windows agreed. A result of some kind is needed;
	// c.agreed stays false. A usable window's error is bounded except
	// for the PIT ticks of wraps it did not see, and those only make
	// its rate too high (its TSC span is true, its tick count short by
	// 65536s): the lowest usable rate is the best. Without one, the
	// median of the windows with a rate.
	best := -1
	for i := range c.rates {
		if c.usable[i] && (best < 0 || c.rates[i] < c.rates[best]) {
			best = i
		}
	}
	if best >= 0 {
		c.tscHz, c.apicHz = c.rates[best], c.apics[best]
		return true
	}
	n := 0
	for i := range c.rates {
		if c.rates[i] != 0 {
			c.rates[n], c.apics[n] = c.rates[i], c.apics[i]
			n++
		}
	}
	// Insertion sort by TSC rate, the APIC rate riding along.
	for a := 1; a < n; a++ {
		for b := a; b > 0 && c.rates[b] < c.rates[b-1]; b-- {
			c.rates[b], c.rates[b-1] = c.rates[b-1], c.rates[b]
			c.apics[b], c.apics[b-1] = c.apics[b-1], c.apics[b]
		}
	}
	if n > 0 {
		c.tscHz, c.apicHz = c.rates[n/2], c.apics[n/2]
	}
	return true
}

// apicRate is the APIC timer's rate between two edges, whose APIC counts
// were read just after their TSC brackets, given the TSC rate. 0 when
// the APIC timer did not count down (stopped, or absent).
//
//go:nosplit
func apicRate(a, b pitEdge, tscHz uint64) uint64 {
	if b.apic >= a.apic || b.hi <= a.hi {
		return 0
	}
	return mulDiv(uint64(a.apic-b.apic), tscHz, b.hi-a.hi)
}

// mulDiv returns x*y/z in 128-bit arithmetic, or 0 when z is 0 or the
// quotient does not fit 64 bits.
//
//go:nosplit
func mulDiv(x, y, z uint64) uint64 {
	hi, lo := bits.Mul64(x, y)
	if z == 0 || hi >= z {
		return 0
	}
	q, _ := bits.Div64(hi, lo, z)
	return q
}

//go:nosplit
func diff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

// pitCalibrate measures the TSC and APIC timer rates against PIT
// channel 0, with the APIC timer counting down from 0xffffffff at
// divide-by-1 beside it. agreed is false when no two windows agreed (the
// median of those measured is returned).
//
// The channel runs in mode 0 with MSB-only access (Intel 8254 datasheet:
// control word, RW = 10; mode 0 keeps decrementing past zero): one port
// read returns the count's high byte, which changes every 256 PIT ticks
// (215 µs). An edge is the high byte changing, caught between two reads,
// so a bracket is one read wide (a port read is the slow part under TCG
// and costs a VM exit under KVM), where a latched 16-bit count takes
// three port accesses and still leaves 838 ns of quantisation.
//
//go:nosplit
func (p *PC) pitCalibrate() (tscHz, apicHz uint64, agreed bool) {
	c := &p.cal
	c.reset()
	p.apicWrite(lapicDivide, 0xb) // divide by 1
	p.apicWrite(lapicLVTTimer, 1<<16)
	p.apicWrite(lapicInitCount, 0xffffffff)
	pitReload()
	for {
		now := pitHigh()
		from, target := now, now-256 // a chain starts at the next edge
		if c.chain != 0 {
			from, target = c.prev.count, c.prev.count-c.window
		}
		if now < c.window+firstWindow || target > from {
			// Not enough count left before the wrap for this window.
			pitReload()
			c.restart()
			continue
		}
		since := cpu.Rdtsc()
		if c.chain != 0 {
			since = c.prev.hi
		}
		e, st := p.pitEdgeBelow(from, target, since)
		if st == edgeDead {
			break // the PIT does not count: no calibration
		}
		if c.add(e, st == edgeWrapped) {
			break
		}
	}
	p.apicWrite(lapicInitCount, 0)
	return c.tscHz, c.apicHz, c.agreed
}

// pitReload starts channel 0 counting down from 0xff00 in mode 0, MSB
// only.
//
//go:nosplit
func pitReload() {
	cpu.Outb(pitCmd, 0x20) // channel 0, MSB only, mode 0, binary
	cpu.Outb(pitCh0, 0xff)
}

// pitHigh reads channel 0's count in MSB-only access: the high byte, as
// a count (its low byte zero).
//
//go:nosplit
func pitHigh() uint16 { return uint16(cpu.Inb(pitCh0)) << 8 }

// What pitEdgeBelow found.
const (
	edgeOK      = iota
	edgeWrapped // the count went up: it wrapped while the vCPU was away
	edgeDead    // the count does not move
)

// pitEdgeBelow waits until channel 0's high byte, last seen at from, is
// at most target's and returns the edge at which it got there: the byte
// changed between the previous read (which started at lo) and this one
// (which ended at hi). A count above the one read before means the PIT
// wrapped while the host held the vCPU (mode 0 wraps every 55 ms): the
// window would lose 65536 ticks, and edgeWrapped says so. A hold of over
// 55 ms can also end at a count below the one before, a wrap no read
// shows: the edge's gap, the longest time between reads since the TSC
// read since, lets calibrator.add see it. edgeDead: the count did not
// move for 2^22 reads (seconds under TCG), no PIT.
//
//go:nosplit
func (p *PC) pitEdgeBelow(from, target uint16, since uint64) (e pitEdge, status int) {
	lo := cpu.Rdtsc()
	prev := pitHigh()
	if prev > from {
		return pitEdge{}, edgeWrapped
	}
	gap := cpu.Rdtsc() - since
	last := lo
	still := 0
	for still < 1<<22 {
		t0 := cpu.Rdtsc()
		c := pitHigh()
		t1 := cpu.Rdtsc()
		gap = max(gap, t1-last)
		last = t0
		switch {
		case c > prev:
			return pitEdge{}, edgeWrapped
		case c != prev && c <= target:
			return pitEdge{count: c, lo: lo, hi: t1, apic: p.apicRead(lapicCurCount), gap: gap}, edgeOK
		case c == prev:
			still++
		default:
			still = 0
		}
		prev, lo = c, t0
	}
	return pitEdge{}, edgeDead
}
