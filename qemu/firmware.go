package qemu

import (
	"strings"
	"sync"
)

// firmwareWatch watches the console of an OVMF boot for the firmware
// giving up on the image: its boot manager (MdeModulePkg BdsDxe) says
// "No bootable option or device was found", or, out of options, starts
// its own shell, which waits for a keyboard forever; or the firmware
// itself faults (UefiCpuPkg CpuExceptionHandlerLib's report, after which
// it loops forever: OVMF does so with 32 MiB). Under Run such a
// guest would sit there until the timeout with nothing from Cocoon; the
// watch stops it at once. It happens when the firmware cannot load the
// kernel (-kernel, which QEMU hands it over fw_cfg) or a disk: with too
// little memory for the firmware, the image and its initrd, for one.
type firmwareWatch struct {
	mu     sync.Mutex
	line   strings.Builder // the current console line
	failed string          // the firmware's lines that said why
	gaveUp string          // the line on which it gave up
	stop   func()
}

// Firmware boot-manager lines (edk2 MdeModulePkg/Universal/BdsDxe).
const (
	bdsNoOption   = "BdsDxe: No bootable option or device was found"
	bdsFailed     = "BdsDxe: failed to load "
	bdsStartShell = "BdsDxe: starting Boot"
	shellName     = `"EFI Internal Shell"`
	fwException   = "!!!! X64 Exception Type - "
)

func (w *firmwareWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range p {
		if c != '\n' {
			w.line.WriteByte(c)
			continue
		}
		w.endLine()
	}
	return len(p), nil
}

func (w *firmwareWatch) endLine() {
	l := strings.TrimRight(w.line.String(), "\r")
	w.line.Reset()
	if i := strings.Index(l, bdsFailed); i >= 0 {
		w.failed += "\n\t" + l[i:]
	}
	w.check(l)
}

func (w *firmwareWatch) check(l string) {
	if w.gaveUp != "" {
		return
	}
	i := strings.Index(l, bdsNoOption)
	if i < 0 {
		i = strings.Index(l, fwException)
	}
	if i < 0 {
		if j := strings.Index(l, bdsStartShell); j >= 0 && strings.Contains(l[j:], shellName) {
			i = j
		}
	}
	if i >= 0 {
		w.gaveUp = strings.TrimRight(l[i:], "\r")
		w.stop()
	}
}

// result returns what the firmware said when it gave up, "" if it did
// not.
func (w *firmwareWatch) result() (gaveUp, failed string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gaveUp, w.failed
}
