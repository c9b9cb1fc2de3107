module github.com/cocoon-vm/cocoon

go 1.26
