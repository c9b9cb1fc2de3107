// Command fpcheck checks that the kernel preserves an application's
// extended state (XMM/YMM registers, x87) across system calls, timer
// interrupts and switches between threads: several threads (goroutines
// locked to OS threads) each keep their own values in every vector
// register and two x87 registers through thousands of system calls, and
// compare.
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sync"
)

func fpLoop(in, out *[16][32]byte, x87 *[2]float64, n int, avx bool)
func hasAVX() bool

func main() {
	avx := hasAVX()
	const workers, rounds, calls = 6, 8, 3000
	// Every worker thread runs user code at once, so the kernel switches
	// between them in the middle of fpLoop.
	runtime.GOMAXPROCS(workers)
	var wg sync.WaitGroup
	errs := make(chan string, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// One thread per worker: switching between them is the kernel's.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var in, out [16][32]byte
			for r := 0; r < rounds; r++ {
				for i := range in {
					for j := range in[i] {
						in[i][j] = byte(w*31 + r*7 + i*5 + j)
					}
				}
				x := [2]float64{float64(w) + 0.25, float64(r) * 3.5}
				want := x
				out = [16][32]byte{}
				fpLoop(&in, &out, &x, calls, avx)
				n := 16
				if !avx {
					for i := range in {
						copy(out[i][16:], in[i][16:]) // only XMM checked
					}
				}
				for i := 0; i < n; i++ {
					if !bytes.Equal(in[i][:], out[i][:]) {
						errs <- fmt.Sprintf("thread %d round %d: register %d changed: % x -> % x", w, r, i, in[i][:8], out[i][:8])
					}
				}
				if x != want {
					errs <- fmt.Sprintf("thread %d round %d: x87 %v -> %v", w, r, want, x)
				}
				runtime.Gosched()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	bad := 0
	for e := range errs {
		fmt.Println("fpcheck:", e)
		bad++
	}
	if bad > 0 {
		fmt.Printf("fpcheck: FAIL (%d errors)\n", bad)
		os.Exit(1)
	}
	fmt.Printf("fpcheck: PASS (avx=%v, %d threads x %d rounds x %d system calls)\n", avx, workers, rounds, calls)
}
