package pc

import (
	"testing"
	"time"
)

func TestUnixSeconds(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 11, 22, 6, 47, 3, 0, time.UTC),
		time.Date(2100, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC),
	} {
		got := UnixSeconds(int64(tm.Year()), int64(tm.Month()), int64(tm.Day()), int64(tm.Hour()), int64(tm.Minute()), int64(tm.Second()))
		if got != tm.Unix() {
			t.Errorf("UnixSeconds(%v) = %d, want %d", tm, got, tm.Unix())
		}
	}
}

func TestBCD(t *testing.T) {
	if bcd(0x59) != 59 || bcd(0x00) != 0 || bcd(0x23) != 23 {
		t.Fatal("bcd decoding wrong")
	}
}
