"""PyTorch's reference for torch/dist's all-reduce benchmark.

Times torch.distributed.all_reduce (sum) of one float32 tensor of NUMEL
values over WORLD processes of this host, Gloo over loopback, as ebm's
BenchmarkAllReduceMNISTCNN times its Group: WARMUP untimed calls, then N
timed ones, one perf_counter per call. Prints one JSON line (rank 0):
median and mean microseconds per all-reduce.

    /usr/bin/python3 benchmarks/pytorch/allreduce.py --numel 76993 --world 2 --n 300
"""
import argparse
import json
import os
import socket
import statistics
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank, args, port):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=args.world)
    t = torch.randn(args.numel)
    for _ in range(args.warmup):
        dist.all_reduce(t)
    times = []
    for _ in range(args.n):
        s = time.perf_counter()
        dist.all_reduce(t)
        times.append(time.perf_counter() - s)
    if rank == 0:
        print(json.dumps({"median_us": 1e6 * statistics.median(times), "mean_us": 1e6 * statistics.mean(times),
                          "n": args.n, "numel": args.numel, "world": args.world, "torch": torch.__version__}), flush=True)
    dist.barrier()
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--numel", type=int, default=76993)
    p.add_argument("--world", type=int, default=2)
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--warmup", type=int, default=30)
    args = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    mp.spawn(worker, args=(args, free_port()), nprocs=args.world, join=True)


if __name__ == "__main__":
    main()
