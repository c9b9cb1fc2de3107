// Package layers states Cocoon's layering as rules over the import graph
// and checks them (TestLayers runs Check over `go list` of the tree).
// docs/ARCHITECTURE.md draws the same picture.
//
// The layers, bottom up:
//
//   - hal, the South contract: interfaces and the types they speak
//     (Platform, VCHandler, GuestRequester, Frame, HostExit). It imports
//     the standard library only, so every layer and every host tool can
//     use it.
//   - kernel/cpu, kernel/layout: instruction wrappers and the address-space
//     layout, shared by the kernel and the platforms.
//   - Platforms (hal/pc, snp, lvbs and their sub-packages): implement hal
//     and hold all their machine code. They never import the kernel, the
//     Linux personality or the boot code.
//   - kernel: CPU traps, memory and time for the kernel's own Go runtime.
//     It reaches the machine only through hal, so it imports no platform.
//   - north, the Linux personality: reaches attestation and devices only
//     through hal's interfaces. Of the SNP tree it may use the message
//     codecs (snp/guestmsg, snp/secrets, snp/report), never a platform.
//   - boot and the kernel main packages: the composition root that picks
//     the platform and starts the kernel.
//
// Host-side code (the simulated PSP, the fake hypervisor, QEMU launching,
// the CLI) never links into a kernel image: no simulator package is in
// the dependencies of a kernel main package.
package layers

import (
	"fmt"
	"sort"
	"strings"
)

// Module is the module path the rules speak of.
const Module = "github.com/cocoon-vm/cocoon"

// KernelMains are the main packages built into kernel images: the
// application kernel and the test kernels.
var KernelMains = []string{"north/cocoon", "images/selftest", "images/usermode"}

// Simulators are host-side packages (prefixes): simulations and test
// doubles of the host, and the host tools.
var Simulators = []string{"snp/simpsp", "snp/snptest", "lvbs/hvtest", "lvbs/vtl0load", "lvbs/vsmsim", "lvbs/skimage", "qemu", "tools"}

// Platforms are the platform packages (prefixes).
var Platforms = []string{"hal/pc", "snp", "lvbs"}

// hostSide are packages under a platform prefix that are host tools, not
// platform code: the launch measurement and the simulators.
var hostSide = []string{"snp/measure", "snp/simpsp", "snp/snptest", "lvbs/hvtest", "lvbs/vtl0load", "lvbs/vsmsim", "lvbs/skimage"}

// codecs are the pure protocol packages of the SNP tree north may use.
var codecs = []string{"snp/guestmsg", "snp/secrets", "snp/report"}

// Graph maps a package (path relative to Module) to its direct imports
// inside the module, likewise relative. Deps maps each kernel main to
// all its module dependencies.
type Graph struct {
	Imports map[string][]string
	Deps    map[string][]string
}

// under reports whether pkg is prefix or below it.
func under(pkg string, prefixes ...string) bool {
	for _, p := range prefixes {
		if pkg == p || strings.HasPrefix(pkg, p+"/") {
			return true
		}
	}
	return false
}

func isPlatform(pkg string) bool { return under(pkg, Platforms...) && !under(pkg, hostSide...) }

// rule says why pkg may not import imp, or "".
func rule(pkg, imp string) string {
	switch {
	case pkg == "hal":
		return "hal, the South contract, imports the standard library only"
	case isPlatform(pkg) && under(imp, "kernel") && !under(imp, "kernel/cpu", "kernel/layout"):
		return "a platform imports no kernel package but kernel/cpu and kernel/layout"
	case isPlatform(pkg) && under(imp, "north", "boot"):
		return "a platform imports neither north nor boot"
	case under(pkg, "kernel") && (isPlatform(imp) || under(imp, "north", "boot")):
		return "the kernel reaches the machine through hal only: no platform, north or boot"
	case under(pkg, "north") && pkg != "north/cocoon" && isPlatform(imp) && !under(imp, codecs...):
		return "north reaches attestation and devices through hal's interfaces, not a platform"
	case under(pkg, "north") && pkg != "north/cocoon" && under(imp, "boot"):
		return "north does not import boot"
	}
	return ""
}

// Check returns every broken rule in g, sorted.
func Check(g Graph) []string {
	var bad []string
	for pkg, imps := range g.Imports {
		for _, imp := range imps {
			if why := rule(pkg, imp); why != "" {
				bad = append(bad, fmt.Sprintf("%s imports %s: %s", pkg, imp, why))
			}
		}
	}
	for main, deps := range g.Deps {
		for _, d := range deps {
			if under(d, Simulators...) || under(d, "snp/measure") {
				bad = append(bad, fmt.Sprintf("kernel %s links %s: host-side code stays out of kernel images", main, d))
			}
		}
	}
	sort.Strings(bad)
	return bad
}
