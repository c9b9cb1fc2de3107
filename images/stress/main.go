// Command stress exercises a Cocoon application's runtime: goroutines and
// channels, the garbage collector, timers, a recovered nil dereference
// (a synchronous SIGSEGV turned into a Go panic), and files written and
// read back under /tmp. It prints "stress: PASS" and exits 0 when all
// hold.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

func main() {
	checks := []struct {
		name string
		fn   func() error
	}{
		{"goroutines", goroutines},
		{"gc", gc},
		{"timers", timers},
		{"nil dereference", nilDeref},
		{"files", files},
	}
	failed := false
	for _, c := range checks {
		if err := c.fn(); err != nil {
			fmt.Printf("stress: %s: FAIL: %v\n", c.name, err)
			failed = true
			continue
		}
		fmt.Printf("stress: %s: ok\n", c.name)
	}
	if failed {
		os.Exit(1)
	}
	fmt.Println("stress: PASS")
}

func goroutines() error {
	const n = 2000
	var wg sync.WaitGroup
	results := make(chan int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ch := make(chan int)
			go func() { ch <- i * 2 }()
			results <- <-ch
		}(i)
	}
	wg.Wait()
	close(results)
	sum := 0
	for r := range results {
		sum += r
	}
	if want := n * (n - 1); sum != want {
		return fmt.Errorf("sum %d, want %d", sum, want)
	}
	return nil
}

func gc() error {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var keep [][]byte
	for i := 0; i < 2000; i++ {
		keep = append(keep, make([]byte, 64<<10))
		if len(keep) > 32 {
			keep = keep[1:]
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if after.NumGC-before.NumGC < 5 {
		return fmt.Errorf("only %d GC cycles", after.NumGC-before.NumGC)
	}
	return nil
}

func timers() error {
	start := time.Now()
	for _, d := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		t0 := time.Now()
		time.Sleep(d)
		if got := time.Since(t0); got < d {
			return fmt.Errorf("Sleep(%v) returned after %v", d, got)
		}
	}
	tick := time.NewTicker(2 * time.Millisecond)
	for i := 0; i < 5; i++ {
		<-tick.C
	}
	tick.Stop()
	select {
	case <-time.After(10 * time.Millisecond):
	case <-time.After(time.Hour):
		return fmt.Errorf("the wrong timer fired")
	}
	if time.Since(start) < 36*time.Millisecond {
		return fmt.Errorf("timers fired early: %v in total", time.Since(start))
	}
	return nil
}

type node struct{ next *node }

func nilDeref() (err error) {
	defer func() {
		r := recover()
		if r == nil {
			err = fmt.Errorf("no panic")
			return
		}
		if e, ok := r.(runtime.Error); !ok || !bytes.Contains([]byte(e.Error()), []byte("nil pointer dereference")) {
			err = fmt.Errorf("recovered %v, want a nil pointer dereference runtime error", r)
		}
	}()
	var n *node
	fmt.Println(n.next) // faults: SIGSEGV at address 0
	return nil
}

func files() error {
	dir := filepath.Join(os.TempDir(), "stress")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	want := bytes.Repeat([]byte("cocoon "), 10000)
	p := filepath.Join(dir, "data")
	if err := os.WriteFile(p, want, 0o644); err != nil {
		return err
	}
	got, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("read back %d bytes, want %d", len(got), len(want))
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 || ents[0].Name() != "data" {
		return fmt.Errorf("ReadDir = %v, %v", ents, err)
	}
	if err := os.Rename(p, p+".2"); err != nil {
		return err
	}
	if err := os.Remove(p + ".2"); err != nil {
		return err
	}
	if _, err := os.Stat(p + ".2"); !os.IsNotExist(err) {
		return fmt.Errorf("removed file still there: %v", err)
	}
	return nil
}
