package guestmsg

import "testing"

// TestFirmwareStatusString: named statuses with their code, others by
// number.
func TestFirmwareStatusString(t *testing.T) {
	for s, want := range map[FirmwareStatus]string{
		StatusSuccess: "SUCCESS (0x0)", StatusInvalidKeySelected: "INVALID_KEY (0x27)",
		0x05: "firmware status 0x5", 0x1000: "firmware status 0x1000",
	} {
		if got := s.String(); got != want {
			t.Errorf("FirmwareStatus(%#x).String() = %q, want %q", uint32(s), got, want)
		}
	}
}
