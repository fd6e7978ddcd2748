package platform

// CPUSeconds returns the user plus system CPU time the process has used so
// far, in seconds, or −1 where the system does not report it.
func CPUSeconds() float64 { return seconds() }
