package trainer

// A Monitor watches a run. Run calls every Config.Monitors entry after each
// finished iteration, once its metrics are written and its checkpoint (if
// Progress.Checkpointed) is on disk, with the trainer and the iteration's
// Progress. A monitor reads the trainer through its accessors (Samples,
// DataBatch, Buffer, History, Config, and Model after SyncModel) and must
// not keep the slices they return past the call. An error from a monitor
// ends the run with that error; the last checkpoint stays valid.
//
// Package trainer/monitor has the monitors the programs install: sample
// and replay-buffer grids, loss and energy curves, 2-D energy landscapes.
type Monitor interface {
	Observe(t *Trainer, p Progress) error
}

// MonitorFunc adapts a function to the Monitor interface.
type MonitorFunc func(t *Trainer, p Progress) error

// Observe calls f(t, p).
func (f MonitorFunc) Observe(t *Trainer, p Progress) error { return f(t, p) }

// Data is the stream of training batches a Trainer draws x⁺ from;
// *datasets.Batches is one. Next fills dst with the next Size() samples of
// Dim() values each (row-major) and returns how many it wrote (the trainer
// needs a full batch); idx, if not nil, receives their indices. The
// marshalled state is the stream's position, stored in checkpoints so that
// a resumed run draws the batches an uninterrupted one would.
type Data interface {
	Dim() int
	Size() int
	Next(dst []float64, idx []int) int
	MarshalBinary() ([]byte, error)
	UnmarshalBinary(data []byte) error
}
