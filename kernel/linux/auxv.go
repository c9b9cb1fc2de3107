package linux

// Auxiliary vector types beyond those in linux.go
// (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h).
const (
	AtFlags    = 8
	AtPlatform = 15
	AtHwcap2   = 26
	// AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN: the size of struct rseq's
	// supported fields and its alignment (since Linux 6.3).
	AtRseqFeatureSize = 27
	AtRseqAlign       = 28
	AtSysinfoEhdr     = 33
	AtMinsigstksz     = 51
)

// AtClktckHz is the AT_CLKTCK value Linux reports: USER_HZ
// (include/asm-generic/param.h).
const AtClktckHz = 100
