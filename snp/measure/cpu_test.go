package measure

import (
	"strings"
	"testing"
)

func TestCPUSignature(t *testing.T) {
	tests := []struct {
		family, model, stepping uint32
		want                    uint32
	}{
		{23, 1, 2, 0x800f12},  // EPYC (Naples)
		{23, 49, 0, 0x830f10}, // Rome
		{25, 1, 1, 0xa00f11},  // Milan
		{25, 17, 0, 0xa10f10}, // Genoa
		{26, 0, 0, 0xb00f00},  // Turin
		{6, 0, 0, 0x600},
		{15, 0, 0, 0xf00},
	}
	for _, tt := range tests {
		got, err := CPUSignature(tt.family, tt.model, tt.stepping)
		if err != nil || got != tt.want {
			t.Errorf("CPUSignature(%d, %d, %d) = %#x, %v, want %#x", tt.family, tt.model, tt.stepping, got, err, tt.want)
		}
	}
	for _, bad := range [][3]uint32{{0x10f, 0, 0}, {25, 0x100, 0}, {25, 1, 16}} {
		if _, err := CPUSignature(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("CPUSignature(%v) succeeded, want an error", bad)
		}
	}
}

func TestVCPUTypeSignature(t *testing.T) {
	got, err := VCPUTypeSignature("epyc-milan-v2")
	if err != nil || got != 0xa00f11 {
		t.Errorf("VCPUTypeSignature(epyc-milan-v2) = %#x, %v, want 0xa00f11", got, err)
	}
	_, err = VCPUTypeSignature("Opteron_G5")
	if err == nil || !strings.Contains(err.Error(), "EPYC-Genoa") || !strings.Contains(err.Error(), "Opteron_G5") {
		t.Errorf("VCPUTypeSignature(Opteron_G5) error = %v, want one naming it and listing the known types", err)
	}
}
