package psc

import (
	"fmt"

	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

// Exiter issues GHCB exits; *ghcb.Block implements it.
type Exiter interface {
	Exit(g *ghcb.GHCB) error
	SharedBufferGPA() uint64
}

// Validator validates or rescinds validation of one private 4 KiB guest
// page with PVALIDATE (AMD APM vol. 3, "PVALIDATE"). The kernel maps gfn to
// the page's virtual address. An implementation must report a PVALIDATE
// that left the RMP unchanged (CF set) as an error: validating a page twice
// is how a hypervisor would alias guest memory.
type Validator interface {
	PValidate(gfn uint64, validate bool) error
}

// MaxStalls bounds how many times in a row the hypervisor may return from
// a page state change without processing anything before Submit gives up.
const MaxStalls = 8

// Error reports a page state change that did not complete. Pages it
// covered are in an unknown RMP state, so the guest must not continue.
type Error struct {
	Op       Operation // first entry's operation
	GFN      uint64    // first entry's GFN
	Entries  int
	CurEntry uint16 // last cur_entry the guest accepted
	Info2    uint64 // SW_EXITINFO2, when the hypervisor reported an error
	Reason   string
	Err      error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("page state change of %d entries from GFN %#x to %v: stopped at entry %d: %s",
		e.Entries, e.GFN, e.Op, e.CurEntry, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// TerminationReason implements ghcbmsr.Terminal.
func (e *Error) TerminationReason() ghcbmsr.Reason {
	return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonPageStateChange}
}

// Submit asks the hypervisor to apply entries (at most MaxEntries) with the
// SNP Page State Change exit (GHCB spec section 4.1.6), re-issuing the
// request while the hypervisor processes only part of it. It does not
// PVALIDATE.
func Submit(ex Exiter, entries []Entry) error {
	sent, err := NewBuffer(entries)
	if err != nil {
		return err
	}
	fail := func(reason string, info2 uint64, err error) error {
		return &Error{Op: entries[0].Op, GFN: entries[0].GFN, Entries: len(entries),
			CurEntry: sent.Header.CurEntry, Info2: info2, Reason: reason, Err: err}
	}
	stalls := 0
	for !sent.Done() {
		var g ghcb.GHCB
		if err := sent.Marshal(g.SharedBuffer[:]); err != nil {
			return fail("encoding", 0, err)
		}
		g.Set(ghcb.FieldSwExitCode, uint64(ghcb.ExitSNPPageStateChange))
		g.Set(ghcb.FieldSwExitInfo1, 0)
		g.Set(ghcb.FieldSwExitInfo2, 0)
		g.Set(ghcb.FieldSwScratch, ex.SharedBufferGPA())
		if err := ex.Exit(&g); err != nil {
			return fail("exit failed", 0, err)
		}
		if g.SwExitInfo2 != 0 {
			return fail(fmt.Sprintf("hypervisor error %#x", g.SwExitInfo2), g.SwExitInfo2, nil)
		}
		got, err := Unmarshal(g.SharedBuffer[:])
		if err != nil {
			return fail("malformed answer", 0, err)
		}
		progress, err := Check(sent, got)
		if err != nil {
			return fail("answer rewrites the request", 0, err)
		}
		if progress {
			stalls = 0
		} else if stalls++; stalls >= MaxStalls {
			return fail(fmt.Sprintf("no progress in %d exits", stalls), 0, nil)
		}
		sent = got
	}
	return nil
}

// ValidateError reports a PVALIDATE failure during a page state change.
type ValidateError struct {
	GFN      uint64
	Validate bool
	Err      error
}

func (e *ValidateError) Error() string {
	verb := "validate"
	if !e.Validate {
		verb = "rescind validation of"
	}
	return fmt.Sprintf("PVALIDATE: cannot %s GFN %#x: %v", verb, e.GFN, e.Err)
}

func (e *ValidateError) Unwrap() error { return e.Err }

// TerminationReason implements ghcbmsr.Terminal.
func (e *ValidateError) TerminationReason() ghcbmsr.Reason {
	return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonPValidate}
}

// Change makes count 4 KiB pages starting at gfn private (op OpPrivate) or
// shared (OpShared), in batches of MaxEntries. Making pages shared first
// rescinds their validation, then asks the hypervisor; making them private
// first asks the hypervisor, then validates them, so a private page is
// never left validated while the hypervisor can reassign it.
func Change(ex Exiter, v Validator, op Operation, gfn, count uint64) error {
	if op != OpPrivate && op != OpShared {
		return fmt.Errorf("page state change: Change takes private or shared, not %v", op)
	}
	entries := make([]Entry, 0, MaxEntries)
	for done := uint64(0); done < count; {
		n := min(count-done, MaxEntries)
		entries = entries[:0]
		for i := uint64(0); i < n; i++ {
			entries = append(entries, Entry{GFN: gfn + done + i, Op: op, Size: Size4K})
		}
		if op == OpShared {
			if err := validate(v, entries, false); err != nil {
				return err
			}
		}
		if err := Submit(ex, entries); err != nil {
			return err
		}
		if op == OpPrivate {
			if err := validate(v, entries, true); err != nil {
				return err
			}
		}
		done += n
	}
	return nil
}

func validate(v Validator, entries []Entry, on bool) error {
	for _, e := range entries {
		if err := v.PValidate(e.GFN, on); err != nil {
			return &ValidateError{GFN: e.GFN, Validate: on, Err: err}
		}
	}
	return nil
}
