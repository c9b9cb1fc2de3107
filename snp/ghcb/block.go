package ghcb

// Registered GHCB pages and the checks of their answers. Goroutine
// context: errors are made here; Exchange (raw.go) is the part that runs
// with the GHCB held.

import (
	"fmt"

	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

// Block is a registered GHCB page of one vCPU.
type Block struct {
	cpu     ghcbmsr.CPU
	page    *Page
	gpa     uint64
	version uint16
}

// Register registers page, found at guest physical address gpa and
// already made shared, as cpu's GHCB, and returns the Block that issues
// exits through it with GHCB protocol version version.
func Register(cpu ghcbmsr.CPU, page *Page, gpa uint64, version uint16) (*Block, error) {
	if gpa%PageSize != 0 {
		return nil, fmt.Errorf("GHCB at %#x: not page aligned", gpa)
	}
	if err := ghcbmsr.RegisterGHCB(cpu, gpa/PageSize); err != nil {
		return nil, err
	}
	return &Block{cpu: cpu, page: page, gpa: gpa, version: version}, nil
}

// Registered returns the Block of a page already registered as cpu's
// GHCB (by the MSR protocol at boot) for exits from goroutine context.
func Registered(cpu ghcbmsr.CPU, page *Page, gpa uint64, version uint16) *Block {
	return &Block{cpu: cpu, page: page, gpa: gpa, version: version}
}

// GPA returns the guest physical address of the GHCB page.
func (b *Block) GPA() uint64 { return b.gpa }

// SharedBufferGPA returns the guest physical address of the shared
// buffer, the only place SW_SCRATCH may point into for exits that pass
// data in the GHCB (GHCB spec section 2.3).
func (b *Block) SharedBufferGPA() uint64 { return b.gpa + SharedBufferOffset }

// Exit issues the exit described by g: Exchange, then Check.
func (b *Block) Exit(g *GHCB) error {
	exit := g.SwExitCode
	b.Exchange(g)
	return b.Check(g, exit)
}

// Check checks the answer Exchange left in g to an exit whose SW_EXITCODE
// was exit. It makes the errors, outside whatever kept the GHCB to itself
// during the exchange (interrupts off: snp.Config.Exclusive), so a
// hostile answer cannot make that section allocate.
func (b *Block) Check(g *GHCB, exit uint64) error {
	if g.SwExitCode != exit {
		return &ProtocolError{Exit: ExitCode(exit), Reason: fmt.Sprintf("SW_EXITCODE changed to %#x", g.SwExitCode)}
	}
	return g.Result()
}

// ProtocolError reports a GHCB answer that violates the protocol in a way
// the guest cannot recover from.
type ProtocolError struct {
	Exit   ExitCode
	Reason string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("GHCB %v exit: protocol violation: %s", e.Exit, e.Reason)
}

// TerminationReason implements ghcbmsr.Terminal.
func (e *ProtocolError) TerminationReason() ghcbmsr.Reason {
	return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonGHCBProtocol}
}
