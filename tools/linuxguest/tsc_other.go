//go:build !amd64

package linuxguest

// hostTSCkHz returns 0, unknown: off amd64 the host's counter says
// nothing about the guest's TSC, and Linux calibrates it itself.
func hostTSCkHz() int64 { return 0 }
