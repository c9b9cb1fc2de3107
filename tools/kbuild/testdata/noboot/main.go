// A main package that does not import boot: not a kernel.
package main

func main() {}
