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

func TestAPICBase(t *testing.T) {
	for _, tc := range []struct {
		msr  uint64
		want uintptr
	}{
		{0xfee00900, 0xfee00000},            // BSP, enabled: the default
		{0xfec01900, 0xfec01000},            // moved within the MMIO hole
		{0x00100900, 0xfee00000},            // RAM: refused
		{0x1_0000_0900, 0xfee00000},         // above 4 GiB: refused
		{0xffff_f900, 0xffff_f000},          // last page of the hole
		{0xfff0_0000_fee0_0900, 0xfee00000}, // reserved high bits ignored
	} {
		if got := apicBase(tc.msr); got != tc.want {
			t.Errorf("apicBase(%#x) = %#x, want %#x", tc.msr, got, tc.want)
		}
	}
}
