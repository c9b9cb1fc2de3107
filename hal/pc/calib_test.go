package pc

import (
	"math"
	"math/rand"
	"testing"
)

// simPIT models PIT channel 0 in mode 0, MSB-only, reloaded with 0xff00,
// beside a TSC of tscHz and an APIC timer of apicHz counting down from
// 0xffffffff, with the host able to stop the vCPU: it hands the
// calibrator the edges pitCalibrate would catch.
type simPIT struct {
	tscHz, apicHz float64
	now           float64 // seconds since the reload
	base          float64 // seconds of the last reload since the start
	width         func(i int) float64
	stall         func(i int) float64 // seconds lost before edge i is looked for
	edges         int
}

// count is what pitHigh reads now: the count's high byte. The count is
// 0xff00 less the ticks since the reload, modulo 2^16 (mode 0 wraps).
func (s *simPIT) count() uint16 {
	return uint16(0xff00-int64(s.now*pitHz)) &^ 0xff
}

// edgeBelow returns the next high-byte edge whose count is at most
// target, as pitEdgeBelow would catch it, or wrapped when a stall before
// it let the count wrap and the read after the stall shows a count above
// the one before (a stall of over 55 ms can end below it: the wrap is
// not seen, only the gap).
func (s *simPIT) edgeBelow(target uint16) (e pitEdge, wrapped bool) {
	i := s.edges
	s.edges++
	gap := 500.0 // TSC ticks between two reads
	if s.stall != nil {
		before := s.count()
		d := s.stall(i)
		s.now += d
		gap += d * s.tscHz
		if s.count() > before {
			return pitEdge{}, true
		}
	}
	// The high byte changes when 0xff00-n is 255 modulo 256: at ticks
	// n = 1 modulo 256.
	n := int64(s.now*pitHz)/256*256 + 1
	if float64(n) <= s.now*pitHz {
		n += 256
	}
	for uint16(0xff00-n)&^0xff > target {
		n += 256
	}
	s.now = float64(n) / pitHz
	w := s.width(i)
	at := (s.base + s.now) * s.tscHz
	lo := at - w*0.3
	apic := 0xffffffff - (s.base+s.now)*s.apicHz
	return pitEdge{count: uint16(0xff00-n) &^ 0xff, lo: uint64(lo), hi: uint64(lo + w), apic: uint32(apic), gap: uint64(gap)}, false
}

// run drives the calibrator as pitCalibrate does.
func (s *simPIT) run(c *calibrator) {
	c.reset()
	for {
		now := s.count()
		from, target := now, now-256
		if c.chain != 0 {
			from, target = c.prev.count, c.prev.count-c.window
		}
		if now < c.window+firstWindow || target > from {
			s.base += s.now
			s.now = 0
			c.restart()
			continue
		}
		if c.add(s.edgeBelow(target)) {
			return
		}
	}
}

func relErr(got uint64, want float64) float64 { return math.Abs(float64(got)-want) / want }

func TestCalibratorQuiet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hz    float64
		width float64 // TSC ticks
	}{
		{"tcg", 2.445e9, 1400},   // one port read under TCG, this machine
		{"icount", 1e9, 68},      // -icount shift=0
		{"slow exits", 3e9, 2e4}, // ~7 µs per port read
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &simPIT{tscHz: tc.hz, apicHz: 1e9, width: func(int) float64 { return tc.width }}
			var c calibrator
			s.run(&c)
			if !c.agreed {
				t.Fatalf("no agreement after %d windows", c.windows)
			}
			if e := relErr(c.tscHz, tc.hz); e > 1.0/(2*windowTol) {
				t.Errorf("TSC %d Hz, want %.0f (error %.1e)", c.tscHz, tc.hz, e)
			}
			if e := relErr(c.apicHz, 1e9); e > 1.0/windowTol {
				t.Errorf("APIC %d Hz, want 1e9 (error %.1e)", c.apicHz, e)
			}
			t.Logf("%d windows, window %d ticks, %.0f PIT ticks in all", c.windows, c.window, s.base*pitHz+s.now*pitHz)
		})
	}
}

// TestCalibratorQuietIsQuick: with tight brackets two one-step windows
// agree, so calibration takes about three high-byte steps of the PIT
// (under 1 ms), where three 2 ms windows were taken before.
func TestCalibratorQuietIsQuick(t *testing.T) {
	s := &simPIT{tscHz: 1e9, apicHz: 1e9, width: func(int) float64 { return 68 }}
	var c calibrator
	s.run(&c)
	if !c.agreed || c.windows > 1 || c.window != firstWindow {
		t.Errorf("agreed %v after %d windows of %d ticks, want two windows of %d", c.agreed, c.windows+1, c.window, firstWindow)
	}
}

// TestCalibratorStalls: the host stops the vCPU at random, inside
// brackets (which then span the stop) and between edges (for up to
// three PIT wraps); the result stays within the bound, never the 25x
// of an unbracketed read.
func TestCalibratorStalls(t *testing.T) {
	const hz = 2.445e9
	for seed := int64(1); seed <= 200; seed++ {
		r := rand.New(rand.NewSource(seed))
		s := &simPIT{tscHz: hz, apicHz: 1e9}
		s.width = func(int) float64 {
			if r.Intn(4) == 0 {
				return hz * r.Float64() * 0.05 // stopped up to 50 ms inside the bracket
			}
			return 1000 + 1000*r.Float64()
		}
		s.stall = func(int) float64 {
			if r.Intn(3) == 0 {
				return r.Float64() * 0.2 // up to 200 ms: PIT wraps missed
			}
			return 0
		}
		var c calibrator
		s.run(&c)
		if !c.agreed {
			// The fallback is the median of usable windows: still
			// within their bound.
			t.Logf("seed %d: no agreement in %d windows", seed, c.windows)
		}
		if e := relErr(c.tscHz, hz); e > 1.0/windowTol {
			t.Errorf("seed %d: TSC %d Hz, want %.0f (error %.1e, agreed %v)", seed, c.tscHz, hz, e, c.agreed)
		}
	}
}

// TestCalibratorMissedWrap: a window whose brackets are tight but whose
// PIT count lost a wrap (the vCPU stopped for over 55 ms between its
// edges) is 5x off; agreement keeps it out.
func TestCalibratorMissedWrap(t *testing.T) {
	const hz = 2.445e9
	s := &simPIT{tscHz: hz, apicHz: 1e9, width: func(int) float64 { return 1400 }}
	s.stall = func(i int) float64 {
		if i == 1 {
			return 65536 / float64(pitHz)
		}
		return 0
	}
	var c calibrator
	s.run(&c)
	if !c.agreed {
		t.Fatalf("no agreement after %d windows", c.windows)
	}
	if e := relErr(c.tscHz, hz); e > 1.0/(2*windowTol) {
		t.Errorf("TSC %d Hz, want %.0f (error %.1e)", c.tscHz, hz, e)
	}
}

// TestCalibratorNoAgreement: windows that never agree end after
// maxWindows with agreed false and the lowest usable rate.
func TestCalibratorNoAgreement(t *testing.T) {
	var c calibrator
	c.reset()
	rates := []uint64{}
	tsc := uint64(1e6)
	count := uint16(0xff00)
	done := false
	c.add(pitEdge{count: count, lo: tsc, hi: tsc + 10, apic: 0xffffffff}, false)
	for i := 0; i < 2*maxWindows && !done; i++ {
		// Alternate 1.0 and 1.1 GHz windows of 256 ticks: never within
		// 1/1024 of each other.
		ticks := uint64(256) * 1e9 / pitHz
		if i%2 == 1 {
			ticks = ticks * 11 / 10
		}
		tsc += ticks
		count -= 256
		if count < 512 {
			count = 0xff00
			c.restart()
		}
		done = c.add(pitEdge{count: count, lo: tsc, hi: tsc + 10, apic: 0xffffffff - uint32(i+1)*1000}, false)
		rates = append(rates, ticks)
	}
	if !done || c.agreed {
		t.Fatalf("done %v agreed %v after %d windows, want done without agreement after %d", done, c.agreed, c.windows, maxWindows)
	}
	if e := relErr(c.tscHz, 1e9); e > 1.0/windowTol {
		t.Errorf("fallback TSC %d Hz, want the lower rate, 1 GHz", c.tscHz)
	}
}

func TestMulDiv(t *testing.T) {
	for _, tc := range []struct{ x, y, z, want uint64 }{
		{10, 20, 4, 50},
		{1 << 40, 1 << 40, 1 << 41, 1 << 39}, // the product needs 81 bits
		{5, 5, 0, 0},                         // no divisor
		{1 << 63, 4, 1, 0},                   // quotient over 64 bits
	} {
		if got := mulDiv(tc.x, tc.y, tc.z); got != tc.want {
			t.Errorf("mulDiv(%d, %d, %d) = %d, want %d", tc.x, tc.y, tc.z, got, tc.want)
		}
	}
}

// TestCalibratorHiddenWraps: the host stops the vCPU for 56 ms inside
// every window, and each stop ends at a count below the one before it,
// so no read shows the wrap: every window's tick count is short by
// 65536 and all of them agree on a rate 5x too high. The gap between
// reads gives them away.
func TestCalibratorHiddenWraps(t *testing.T) {
	const hz = 2.445e9
	s := &simPIT{tscHz: hz, apicHz: 1e9, width: func(int) float64 { return 1400 }}
	s.stall = func(i int) float64 {
		if i >= 1 && i < 12 {
			return (65536 + 100) / float64(pitHz)
		}
		return 0
	}
	var c calibrator
	s.run(&c)
	if e := relErr(c.tscHz, hz); e > 1.0/(2*windowTol) || !c.agreed {
		t.Errorf("TSC %d Hz, want %.0f (error %.1e, agreed %v)", c.tscHz, hz, e, c.agreed)
	}
}
