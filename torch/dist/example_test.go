package dist_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ebmgo/ebm/torch/dist"
)

// Launch starts the ranks of a run on this host with torchrun's
// environment; here each is a shell that says who it is.
func ExampleLaunch() {
	var out bytes.Buffer
	err := dist.Launch(context.Background(), dist.LaunchConfig{
		NProc:  2,
		Path:   "/bin/sh",
		Args:   []string{"-c", `echo "rank $RANK of $WORLD_SIZE, local rank $LOCAL_RANK, store $MASTER_ADDR"`},
		Stdout: &out,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	slices.Sort(lines) // the ranks run concurrently
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// rank 0 of 2, local rank 0, store 127.0.0.1
	// rank 1: rank 1 of 2, local rank 1, store 127.0.0.1
}

// A rank that fails stops the run: the others are stopped, and the error
// names the rank and its exit status.
func ExampleLaunch_failure() {
	err := dist.Launch(context.Background(), dist.LaunchConfig{
		NProc: 3,
		Path:  "/bin/sh",
		Args:  []string{"-c", `if [ "$RANK" = 2 ]; then exit 3; fi; sleep 60`},
	})
	fmt.Println(err)
	fmt.Println("exit code:", err.(*dist.ExitError).ExitCode())
	// Output:
	// dist: rank 2: exit status 3
	// exit code: 3
}

// FromEnv reads the run's description from torchrun's variables; each
// missing one is named.
func ExampleParseEnv() {
	env := map[string]string{"RANK": "1", "WORLD_SIZE": "4", "MASTER_PORT": "29500"}
	_, err := dist.ParseEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	fmt.Println(err)
	env["MASTER_ADDR"], env["LOCAL_RANK"] = "10.0.0.1", "1"
	rz, err := dist.ParseEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	fmt.Printf("%+v %v\n", rz, err)
	// Output:
	// dist: environment variable MASTER_ADDR, LOCAL_RANK not set (start the processes with torchrun or a launcher that sets MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE and LOCAL_RANK)
	// {MasterAddr:10.0.0.1 MasterPort:29500 Rank:1 WorldSize:4 LocalRank:1 LocalWorldSize:0 AgentStore:false Attempt:0} <nil>
}
