package ghcbmsr

// The guest's side of the MSR protocol: request words and checks of the
// hypervisor's answers, for boot and trap context, where no error value
// may be created: each reports only whether a word is well formed.
// //go:nosplit, no allocation. (words.go holds the layouts and the
// hypervisor's side, which tests and the fake hypervisor use.)

// ParseSEVInfo decodes an SEV information response: the right GHCBInfo
// code, reserved bits 23:12 zero, and a minimum version not above the
// maximum.
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

// ParseHypervisorFeatures decodes a hypervisor feature support response.
//
//go:nosplit
func ParseHypervisorFeatures(w Word) (Features, bool) {
	if w.Info() != InfoHypervisorFeaturesResponse {
		return 0, false
	}
	return Features(w.Data()), true
}

// RegisterWord returns the request to register the GHCB at gfn: ok is
// false when gfn does not fit GHCBData[63:12] or is the refusal pattern.
//
//go:nosplit
func RegisterWord(gfn uint64) (Word, bool) {
	if gfn > gfnMask || gfn == registerRefuse {
		return 0, false
	}
	return Word(gfn<<dataShift) | Word(InfoRegisterGHCBRequest), true
}

// RegisterEchoed reports whether w is a registration response echoing
// gfn (a refusal holds all ones).
//
//go:nosplit
func RegisterEchoed(w Word, gfn uint64) bool {
	return w.Info() == InfoRegisterGHCBResponse && w.Data() == gfn
}

// PageStateWord returns the request to make the 4 KiB page at gfn private
// or shared: ok is false when gfn does not fit GHCBData[51:12] or op is
// neither.
//
//go:nosplit
func PageStateWord(gfn uint64, op PageOp) (Word, bool) {
	if gfn>>pscGFNBits != 0 || op != PagePrivate && op != PageShared {
		return 0, false
	}
	return Word(uint64(op)<<pscOpShift|gfn<<dataShift) | Word(InfoPageStateChangeRequest), true
}

// PageStateDone reports whether w is a successful page state change
// response: the right GHCBInfo code, reserved bits 31:12 zero and error
// code GHCBData[63:32] zero.
//
//go:nosplit
func PageStateDone(w Word) bool {
	return w.Info() == InfoPageStateChangeResponse && w&pscRespReserved == 0 && w>>pscErrorShift == 0
}
