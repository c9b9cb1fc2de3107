package measure

import (
	"fmt"
	"slices"
	"strings"
)

// Fields of the processor signature, CPUID Fn0000_0001_EAX (AMD CPUID
// Specification, publication 25481, "CPUID Fn0000_0001_EAX Family, Model,
// Stepping Identifiers"). The displayed family is BaseFamily +
// ExtendedFamily when BaseFamily is 0xF; the displayed model is
// ExtendedModel:BaseModel.
const (
	sigSteppingShift   = 0  // Stepping, bits 3:0
	sigBaseModelShift  = 4  // BaseModel, bits 7:4
	sigBaseFamilyShift = 8  // BaseFamily, bits 11:8
	sigExtModelShift   = 16 // ExtModel, bits 19:16
	sigExtFamilyShift  = 20 // ExtFamily, bits 27:20
	sigMaxBaseFamily   = 0xf
	sigMaxFamily       = sigMaxBaseFamily + 0xff
	sigMaxModel        = 0xff
	sigMaxStepping     = 0xf
)

// CPUSignature returns the CPUID Fn0000_0001_EAX value of a processor with
// the given displayed family, model and stepping. QEMU loads it into RDX of
// every vCPU at reset, so it is part of each VMSA.
func CPUSignature(family, model, stepping uint32) (uint32, error) {
	if family > sigMaxFamily || model > sigMaxModel || stepping > sigMaxStepping {
		return 0, fmt.Errorf("family %d, model %d, stepping %d: want family <= %d, model <= %d, stepping <= %d",
			family, model, stepping, sigMaxFamily, sigMaxModel, sigMaxStepping)
	}
	baseFamily, extFamily := family, uint32(0)
	if family > sigMaxBaseFamily {
		baseFamily, extFamily = sigMaxBaseFamily, family-sigMaxBaseFamily
	}
	return extFamily<<sigExtFamilyShift |
		(model>>4)<<sigExtModelShift |
		baseFamily<<sigBaseFamilyShift |
		(model&0xf)<<sigBaseModelShift |
		stepping<<sigSteppingShift, nil
}

// vcpuTypes maps QEMU's AMD EPYC CPU models (target/i386/cpu.c,
// builtin_x86_defs and their versions) to family, model and stepping.
// Versions of a model share its signature.
var vcpuTypes = map[string][3]uint32{
	"EPYC":          {23, 1, 2},
	"EPYC-v1":       {23, 1, 2},
	"EPYC-v2":       {23, 1, 2},
	"EPYC-IBPB":     {23, 1, 2},
	"EPYC-v3":       {23, 1, 2},
	"EPYC-v4":       {23, 1, 2},
	"EPYC-Rome":     {23, 49, 0},
	"EPYC-Rome-v1":  {23, 49, 0},
	"EPYC-Rome-v2":  {23, 49, 0},
	"EPYC-Rome-v3":  {23, 49, 0},
	"EPYC-Milan":    {25, 1, 1},
	"EPYC-Milan-v1": {25, 1, 1},
	"EPYC-Milan-v2": {25, 1, 1},
	"EPYC-Genoa":    {25, 17, 0},
	"EPYC-Genoa-v1": {25, 17, 0},
	"EPYC-Turin":    {26, 0, 0},
}

// VCPUTypes returns the vCPU type names VCPUTypeSignature knows, sorted.
func VCPUTypes() []string {
	names := make([]string, 0, len(vcpuTypes))
	for n := range vcpuTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// VCPUTypeSignature returns the CPUID signature of a QEMU -cpu model such as
// "EPYC-v4" (matched without regard to case).
func VCPUTypeSignature(name string) (uint32, error) {
	for n, fms := range vcpuTypes {
		if strings.EqualFold(n, name) {
			return CPUSignature(fms[0], fms[1], fms[2])
		}
	}
	return 0, fmt.Errorf("unknown vCPU type %q: known types are %s; or give the signature (CPUID Fn0000_0001_EAX) or family/model/stepping instead",
		name, strings.Join(VCPUTypes(), ", "))
}
