package north

import "testing"

// TestEndWatch checks the pidfd end notification: functions added before
// the end run at it, once; a cancelled one does not; one added after it
// runs at once.
func TestEndWatch(t *testing.T) {
	var e endWatch
	var a, b, c int
	e.add(func() { a++ })
	cancel := e.add(func() { b++ })
	cancel()
	if a != 0 {
		t.Fatalf("ran before the end")
	}
	e.end()
	e.end()
	e.add(func() { c++ })
	if a != 1 || b != 0 || c != 1 {
		t.Errorf("runs: added before %d (want 1), cancelled %d (want 0), added after %d (want 1)", a, b, c)
	}
}
