// A kernel that links the SEV-SNP platform's trap-context entry points,
// so that TestTrapCodeRules checks them as linked: until the SNP boot path
// selects the platform at run time, no image references them.
package main

import (
	"os"

	_ "github.com/cocoon-vm/cocoon/boot"
	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/snp"
)

var (
	platform snp.Platform
	machine  kernel.SNPMachine
)

func main() {
	if len(os.Args) < 1000 {
		return
	}
	var p hal.Platform = &platform
	p.ConsoleWrite(nil)
	p.TimerArm(0)
	p.EOI()
	p.PowerOff(0)
	p.(hal.VCHandler).ServeVC(nil)
	platform.Init(&snp.Config{Machine: &machine})
	platform.Validate(0, 0, 0)
	platform.Share(0, 0, 0)
}
