//go:build amd64 && !purego

package ops

//go:noescape
func gatherRows(t *rowArgs)

//go:noescape
func scatterAddRows(t *rowArgs)
