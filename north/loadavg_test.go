package north

import "testing"

// TestLoadAverageDecay: calc_load's fixed point, as Linux computes it.
// One thread busy from idle gives the familiar 0.08 after the first
// 5-second sample (164/2048); busy for long the averages reach 1.00
// exactly (calc_load rounds up while rising) and decay back to 0 idle.
func TestLoadAverageDecay(t *testing.T) {
	var l loadAvg
	l.fold(1)
	if got := l.get(); got != [3]uint64{164, 34, 11} {
		t.Errorf("after one sample of 1 runnable: %v, want [164 34 11]", got)
	}
	for range 2000 {
		l.fold(1)
	}
	if got := l.get(); got != [3]uint64{fixed1, fixed1, fixed1} {
		t.Errorf("after 2000 samples of 1 runnable: %v, want all %d", got, fixed1)
	}
	l.fold(3)
	if got := l.get(); got[0] != calcLoad(fixed1, 1884, 3*fixed1) || got[0] <= fixed1 || got[2] >= got[0] {
		t.Errorf("a sample of 3 after 1: %v", got)
	}
	for range 5000 {
		l.fold(0)
	}
	if got := l.get(); got != [3]uint64{} {
		t.Errorf("after 5000 idle samples: %v, want 0", got)
	}
}
