package measure

import (
	"crypto/sha512"
	"runtime"
	"sync"
)

// parallelPages is the smallest run of pages worth spreading over several
// goroutines; below it the goroutine start-up costs more than it saves.
const parallelPages = 256

// hashPages returns SHA-384 of each 4 KiB page of data (len(data) must be a
// multiple of PageSize). The per-page hashes are independent, so large
// inputs such as a 4 MiB firmware are hashed on all CPUs; only the PAGE_INFO
// chain that consumes them is sequential.
func hashPages(data []byte) []Digest {
	n := len(data) / PageSize
	sums := make([]Digest, n)
	hashRange := func(from, to int) {
		for i := from; i < to; i++ {
			sums[i] = sha512.Sum384(data[i*PageSize : (i+1)*PageSize])
		}
	}
	workers := min(runtime.GOMAXPROCS(0), n/parallelPages)
	if workers <= 1 {
		hashRange(0, n)
		return sums
	}
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for from := 0; from < n; from += per {
		to := min(from+per, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			hashRange(from, to)
		}()
	}
	wg.Wait()
	return sums
}
