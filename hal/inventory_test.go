package hal

import "testing"

// TestInventoriesHaveNoDuplicates: an exit listed twice (same kind and
// range or instruction) would be printed twice by mkimage inspect and
// checked twice by tools/hostcheck; each belongs in one entry.
func TestInventoriesHaveNoDuplicates(t *testing.T) {
	for _, p := range InventoryPlatforms {
		type key struct {
			kind, where string
			lo, hi      uint64
		}
		seen := map[key]string{}
		for _, e := range Inventory(p) {
			k := key{e.Kind, e.Where, e.Lo, e.Hi}
			if prev, ok := seen[k]; ok {
				t.Errorf("%s: %s %#x-%#x %s listed twice: %q and %q", p, e.Kind, e.Lo, e.Hi, e.Where, prev, e.What)
			}
			seen[k] = e.What
		}
	}
}
