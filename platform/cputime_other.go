//go:build !unix

package platform

func seconds() float64 { return -1 }
