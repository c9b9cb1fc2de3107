package snp

import (
	"math/rand/v2"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/snp/ghcb"
)

// TestHandleVCRandom feeds the #VC handler random instruction bytes
// (mutations of every encoding it serves), exit codes and registers
// against a hypervisor that may drop its outputs or rewrite the exit code.
// The handler must never panic; when it refuses, the interrupted context
// is left exactly as it was; when it serves, RIP moves past one
// instruction. (A property test, not a go-fuzz target: coverage
// instrumentation inflates the nosplit frames of the handler's chain past
// the linker's limit. snp/vc fuzzes the decoders themselves.)
func TestHandleVCRandom(t *testing.T) {
	exits := []uint64{uint64(ghcb.ExitCPUID), uint64(ghcb.ExitIOIO), uint64(ghcb.ExitMSR),
		exitRDTSC, exitRDTSCP, exitNPF, 0x81, 0}
	seeds := [][]byte{
		{0x0F, 0xA2}, {0xEC}, {0xED}, {0xEE}, {0xE7, 0xF4}, {0x66, 0xEF}, {0x0F, 0x32}, {0x0F, 0x30},
		{0x0F, 0x31}, {0x0F, 0x01, 0xF9}, {0x8B, 0x81, 0x90, 0x03, 0, 0}, {0x89, 0xB7, 0xB0, 0, 0, 0},
		{0xC6, 0x47, 0x20, 0x5a}, {0x48, 0x0F, 0xB6, 0x01}, {0x66, 0x89, 0x44, 0x8A, 0xF0},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	s := newSetup(t)
	p := s.platform(t)
	served := 0
	const apicVA = 0x7e00_fee0_0000
	for i := 0; i < 20000; i++ {
		code := append([]byte(nil), seeds[rng.IntN(len(seeds))]...)
		for n := rng.IntN(3); n > 0; n-- {
			switch rng.IntN(3) {
			case 0:
				code[rng.IntN(len(code))] = byte(rng.Uint32())
			case 1:
				code = append(code, byte(rng.Uint32()))
			default:
				code = code[:rng.IntN(len(code))+1]
			}
		}
		s.g.Shared[apicVA] = 0xfee00000
		s.g.MSRs[0x1b] = 0xfee00900
		s.g.DropOutputs = rng.IntN(8) == 0
		s.g.ChangeExitCode = 0
		if rng.IntN(8) == 0 {
			s.g.ChangeExitCode = uint64(ghcb.ExitIOIO)
		}
		f := vcFrame(s, exits[rng.IntN(len(exits))], code...)
		f.RAX, f.RCX, f.RDX = rng.Uint64(), apicVA+uint64(rng.IntN(0x1000)), rng.Uint64()&0xffff
		f.RSI, f.RDI, f.RBX = apicVA, apicVA+uint64(rng.IntN(0x1000)), rng.Uint64()
		if rng.IntN(8) == 0 {
			f.CS = cpu.UCode | 3
		}
		before := *f
		_, ok := p.HandleVC(f)
		if !ok {
			if *f != before {
				t.Fatalf("code % x: refused #VC changed the frame:\n%+v\n%+v", code, before, *f)
			}
			continue
		}
		served++
		if n := f.RIP - before.RIP; n < 1 || n > uint64(len(code)) {
			t.Fatalf("code % x: served #VC moved RIP by %d", code, n)
		}
	}
	if served < 1000 {
		t.Errorf("only %d of 20000 random #VCs served: the generator is not exercising the handler", served)
	}
}
