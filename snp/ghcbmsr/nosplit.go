package ghcbmsr

// Checks for boot and trap context, where no error value may be created:
// each reports only whether a response word is well formed. The Decode
// functions give the detailed errors for host-side and goroutine callers;
// tests check that both agree. //go:nosplit, no allocation.

// ParseSEVInfo is DecodeSEVInfo without an error value.
//
//go:nosplit
func ParseSEVInfo(w Word) (SEVInfo, bool) {
	if w.Info() != InfoSEVInfoResponse || w&sevInfoReserved != 0 {
		return SEVInfo{}, false
	}
	i := SEVInfo{
		MaxVersion: uint16(w >> sevInfoMaxShift),
		MinVersion: uint16(w >> sevInfoMinShift),
		CBit:       uint8(w >> sevInfoCBitShift),
	}
	return i, i.MinVersion <= i.MaxVersion
}

// ParseHypervisorFeatures is DecodeHypervisorFeatures without an error
// value.
//
//go:nosplit
func ParseHypervisorFeatures(w Word) (Features, bool) {
	if w.Info() != InfoHypervisorFeaturesResponse {
		return 0, false
	}
	return Features(w.Data()), true
}

// RegisterWord is RegisterGHCBRequest without an error value: ok is false
// when gfn does not fit GHCBData[63:12] or is the refusal pattern.
//
//go:nosplit
func RegisterWord(gfn uint64) (Word, bool) {
	if gfn > gfnMask || gfn == registerRefuse {
		return 0, false
	}
	return Word(gfn<<dataShift) | Word(InfoRegisterGHCBRequest), true
}

// RegisterEchoed reports whether w is a registration response echoing
// gfn, as DecodeRegisterGHCBResponse(w, gfn) == nil.
//
//go:nosplit
func RegisterEchoed(w Word, gfn uint64) bool {
	return w.Info() == InfoRegisterGHCBResponse && w.Data() == gfn
}

// PageStateWord is PageStateChangeRequest without an error value.
//
//go:nosplit
func PageStateWord(gfn uint64, op PageOp) (Word, bool) {
	if gfn>>pscGFNBits != 0 || op != PagePrivate && op != PageShared {
		return 0, false
	}
	return Word(uint64(op)<<pscOpShift|gfn<<dataShift) | Word(InfoPageStateChangeRequest), true
}

// PageStateDone reports whether w is a successful page state change
// response, as DecodePageStateChangeResponse(w, ...) == nil.
//
//go:nosplit
func PageStateDone(w Word) bool {
	return w.Info() == InfoPageStateChangeResponse && w&pscRespReserved == 0 && w>>pscErrorShift == 0
}
