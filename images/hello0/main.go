package main

import _ "github.com/cocoon-vm/cocoon/boot"

func main() { println("main") }
