# Compiles and links a two-package Go program with the Go toolchain's own
# compile and link, runs it and prints the result's checksum (the
# toolchain's output is reproducible: the same inputs give the same
# bytes). Run by busybox sh natively and inside Cocoon.
# $1: scratch directory; $2: directory of compile and link; $3: the
# linker's importcfg (the runtime's packages).
set -e
dir=$1 tools=$2 cfg=$3
cd "$dir"
mkdir -p src/greet
cat > src/greet/greet.go <<'GO'
package greet

// Squares sums the squares below n, each computed by its own goroutine.
func Squares(n int) int {
	ch := make(chan int)
	for i := 0; i < n; i++ {
		go func(i int) { ch <- i * i }(i)
	}
	sum := 0
	for i := 0; i < n; i++ {
		sum += <-ch
	}
	return sum
}

// Words counts the words of s by a map.
func Words(s string) map[string]int {
	m := map[string]int{}
	w := ""
	for _, r := range s + " " {
		if r == ' ' {
			if w != "" {
				m[w]++
			}
			w = ""
			continue
		}
		w += string(r)
	}
	return m
}
GO
cat > src/main.go <<'GO'
package main

import "greet"

func main() {
	println("hello from a program compiled inside", len("the sandbox"))
	println("squares", greet.Squares(1000))
	m := greet.Words("the cat and the dog and the bird")
	println("words", len(m), m["the"], m["and"], m["cat"])
	big := make([][]byte, 0)
	for i := 0; i < 64; i++ {
		big = append(big, make([]byte, 1<<20))
		big[i][i] = byte(i)
	}
	println("allocated", len(big), big[63][63])
}
GO
echo start
# -c 2: the back end compiles functions on two goroutines.
"$tools/compile" -o greet.a -p greet -trimpath "$dir=>" -c 2 -importcfg /dev/null src/greet/greet.go
echo "packagefile greet=greet.a" > importcfg
"$tools/compile" -o main.a -p main -trimpath "$dir=>" -c 2 -importcfg importcfg src/main.go
{ cat "$cfg"; echo "packagefile greet=greet.a"; } > importcfg.link
"$tools/link" -o hello -importcfg importcfg.link -buildid=cocoon main.a
./hello 2>&1
sha256sum greet.a main.a hello | sed 's/ .*\// /'
ls -l hello | awk '{print $1, $5}'
echo end
