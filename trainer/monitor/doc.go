// Package monitor has trainer.Monitor implementations that a program
// installs in trainer.Config.Monitors to watch a run: Pictures draws what
// people look at (sample and replay-buffer grids of image data, the energy
// landscape of 2-D data, loss and energy curves) into the run folder.
//
// The trainer itself writes only what resuming needs (checkpoints, the
// model, metrics.jsonl); everything drawn is a monitor's, so a program
// chooses what to draw, how often, and where.
package monitor
