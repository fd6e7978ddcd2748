package dist

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The environment variables of torchrun's contract, which Launch sets and
// FromEnv reads.
const (
	EnvMasterAddr     = "MASTER_ADDR"      // host of rank 0's store (or the launcher's)
	EnvMasterPort     = "MASTER_PORT"      // its TCP port
	EnvRank           = "RANK"             // this process's rank, 0 ≤ RANK < WORLD_SIZE
	EnvWorldSize      = "WORLD_SIZE"       // number of processes in the run
	EnvLocalRank      = "LOCAL_RANK"       // rank among the processes of this host (the GPU to use)
	EnvLocalWorldSize = "LOCAL_WORLD_SIZE" // processes on this host (optional)
	// torchrun's static rendezvous hosts the store in the launcher itself
	// and tells its workers so; they then all connect as clients, under
	// a key prefix per restart.
	EnvUseAgentStore = "TORCHELASTIC_USE_AGENT_STORE"
	EnvRestartCount  = "TORCHELASTIC_RESTART_COUNT"
)

// Rendezvous is where and as whom a process joins a run: torchrun's
// environment contract as values.
type Rendezvous struct {
	// MasterAddr and MasterPort locate the TCP key-value store through
	// which the ranks find each other. Rank 0 starts it, unless
	// AgentStore says the launcher already runs it.
	MasterAddr string
	MasterPort int
	// Rank is this process's rank in [0, WorldSize).
	Rank, WorldSize int
	// LocalRank is the rank among this host's processes, which picks the
	// CUDA device with NCCL; LocalWorldSize is their number (0: unknown).
	LocalRank, LocalWorldSize int
	// AgentStore is torchrun's TORCHELASTIC_USE_AGENT_STORE: every rank
	// is a client of the launcher's store, with keys under
	// /worker/attempt_<Attempt>.
	AgentStore bool
	Attempt    int
}

// InEnv reports whether the environment asks for a multi-process run:
// WORLD_SIZE or RANK is set (as torchrun and Launch set them).
func InEnv() bool {
	_, w := os.LookupEnv(EnvWorldSize)
	_, r := os.LookupEnv(EnvRank)
	return w || r
}

// FromEnv reads the Rendezvous from the process environment. Every
// missing or malformed variable is named in one error.
func FromEnv() (Rendezvous, error) { return ParseEnv(os.LookupEnv) }

// ParseEnv reads the Rendezvous through lookup (os.LookupEnv, or a map's
// lookup in tests).
func ParseEnv(lookup func(string) (string, bool)) (Rendezvous, error) {
	var r Rendezvous
	var missing, bad []string
	str := func(name string) string {
		v, ok := lookup(name)
		if !ok || strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
		return strings.TrimSpace(v)
	}
	num := func(name string, required bool, lo, hi int) int {
		v, ok := lookup(name)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			if required {
				missing = append(missing, name)
			}
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			bad = append(bad, fmt.Sprintf("%s=%q", name, v))
		}
		return n
	}
	r.MasterAddr = str(EnvMasterAddr)
	r.MasterPort = num(EnvMasterPort, true, 1, 65535)
	r.WorldSize = num(EnvWorldSize, true, 1, 1<<20)
	r.Rank = num(EnvRank, true, 0, 1<<20)
	r.LocalRank = num(EnvLocalRank, true, 0, 1<<20)
	r.LocalWorldSize = num(EnvLocalWorldSize, false, 1, 1<<20)
	if v, _ := lookup(EnvUseAgentStore); strings.EqualFold(strings.TrimSpace(v), "true") {
		r.AgentStore = true
		r.Attempt = num(EnvRestartCount, false, 0, 1<<30)
	}
	switch {
	case len(missing) > 0:
		return r, fmt.Errorf("dist: environment variable %s not set (start the processes with torchrun or a launcher that sets MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE and LOCAL_RANK)", strings.Join(missing, ", "))
	case len(bad) > 0:
		return r, fmt.Errorf("dist: bad environment: %s", strings.Join(bad, ", "))
	}
	return r, r.Validate()
}

// Validate checks that the values are consistent.
func (r Rendezvous) Validate() error {
	switch {
	case r.MasterAddr == "":
		return fmt.Errorf("dist: empty master address")
	case r.MasterPort < 1 || r.MasterPort > 65535:
		return fmt.Errorf("dist: master port %d out of range 1–65535", r.MasterPort)
	case r.WorldSize < 1:
		return fmt.Errorf("dist: world size %d, want ≥ 1", r.WorldSize)
	case r.Rank < 0 || r.Rank >= r.WorldSize:
		return fmt.Errorf("dist: rank %d outside [0, %d) (WORLD_SIZE %d)", r.Rank, r.WorldSize, r.WorldSize)
	case r.LocalRank < 0 || (r.LocalWorldSize > 0 && r.LocalRank >= r.LocalWorldSize):
		return fmt.Errorf("dist: local rank %d outside [0, %d)", r.LocalRank, r.LocalWorldSize)
	}
	return nil
}

// Environ returns the rendezvous as NAME=value entries for a child
// process's environment (AgentStore is not passed on: a child started
// this way runs or joins its own store).
func (r Rendezvous) Environ() []string {
	env := []string{
		EnvMasterAddr + "=" + r.MasterAddr,
		EnvMasterPort + "=" + strconv.Itoa(r.MasterPort),
		EnvRank + "=" + strconv.Itoa(r.Rank),
		EnvWorldSize + "=" + strconv.Itoa(r.WorldSize),
		EnvLocalRank + "=" + strconv.Itoa(r.LocalRank),
	}
	if r.LocalWorldSize > 0 {
		env = append(env, EnvLocalWorldSize+"="+strconv.Itoa(r.LocalWorldSize))
	}
	return env
}

// storePrefix is the key prefix of torchrun's agent store for this
// attempt, as torch.distributed's env:// rendezvous uses it.
func (r Rendezvous) storePrefix() string {
	if !r.AgentStore {
		return ""
	}
	return "/worker/attempt_" + strconv.Itoa(r.Attempt)
}
