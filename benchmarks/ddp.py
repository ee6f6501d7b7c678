#!/usr/bin/env python3
"""Data-parallel training on this machine: 2 ranks x 1 thread against 1 rank x 2 threads (mpirun), the time spent in the
gradient all-reduce, the all-reduce's cost by message size, and from it a simulation of 8, 64 and 512 ranks.
Writes benchmarks/results/ddp.md, which report.py puts into BENCHMARKS.md. Standard library only; needs mpirun
(.ci/install-mpi.sh) and a Release build of benchmarks/Nabla.Benchmarks.

  benchmarks/ddp.py     ROUNDS (env, default 3) rounds, each running both layouts in turn, so a busy phase of a shared
                        machine hits both; each run times STEPS (env, default 50) steps per round x 3 rounds after 20
                        warm-up steps and reports its median round.
"""
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(HERE, "results", "ddp.md")
DLL = os.path.join(HERE, "Nabla.Benchmarks", "bin", "Release", "net10.0", "Nabla.Benchmarks.dll")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
STEPS = os.environ.get("STEPS", "50")
MLP_PARAMS = 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def mpirun(ranks, *args):
    p = subprocess.run(["mpirun", "-np", str(ranks), "--oversubscribe", "dotnet", DLL, "ddp", *args],
                       capture_output=True, text=True, env=ENV, check=True, timeout=600)
    rows = []
    for line in p.stdout.splitlines():
        # .NET may write terminal mode escapes (ESC[?1h ESC=) before a rank's first line: find the tag inside the line
        m = re.search(r"(DDP|ALLREDUCE)\t(.*)", line)
        if m:
            rows.append({k: float(v) for k, v in (f.split("=") for f in m.group(2).split("\t"))})
    return rows


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    subprocess.run(["dotnet", "build", os.path.join(HERE, "Nabla.Benchmarks"), "-c", "Release", "-nologo", "-v", "q"], check=True)
    load0 = loadavg()
    runs = {"2x1": [], "1x2": []}
    for _ in range(ROUNDS):
        runs["2x1"] += mpirun(2, "train", "1", STEPS, "3")
        runs["1x2"] += mpirun(1, "train", "2", STEPS, "3")
    ar = mpirun(2, "allreduce")
    load1 = loadavg()

    def med(key, field):
        return statistics.median(r[field] for r in runs[key])

    L = ["## Data-parallel training over MPI: 2 ranks x 1 thread against 1 rank x 2 threads", ""]
    L.append(f"Measured by `benchmarks/ddp.py` on {cpu_name()} ({os.cpu_count()} logical CPUs), "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Open MPI over shared memory on one machine. "
             f"The MLP 784-512-256-10 (SGD) on a global batch of {128} per step: split 64 + 64 over 2 ranks of 1 thread "
             f"each (`DistributedDataParallel`, one 2.1 MB gradient bucket), or 128 in one process with 2 threads (plain "
             f"training). {ROUNDS} rounds, the layouts in turn; per run the median of 3 timed rounds of {STEPS} steps; "
             f"the table gives the median over runs. Load average at the start and end: {load0:.1f}, {load1:.1f} on "
             f"{os.cpu_count()} CPUs" + (": far above the CPU count, other processes were competing for the cores, so wall "
                                          "times are inflated and noisy; the CPU time per step is the steadier number."
                                          if max(load0, load1) > (os.cpu_count() or 1) else "."))
    L.append("")
    L.append("The time blocked in the all-reduce includes waiting for the other rank to finish its backward pass: on a "
             "machine whose cores are shared with other processes that skew dominates it. The CPU time of the 2 ranks includes the waiting rank's polling (it spins, then yields the core for 20 ms, then sleeps 1 ms at a time).")
    L.append("")
    L.append("| layout | samples/s | ms per step | of which blocked in all-reduce | CPU ms per step (all ranks) |")
    L.append("| --- | ---: | ---: | ---: | ---: |")
    for key, name in (("2x1", "2 ranks x 1 thread"), ("1x2", "1 rank x 2 threads")):
        step, wait = med(key, "step_ms"), med(key, "wait_ms")
        share = f"{wait:.2f} ms ({100 * wait / step:.0f}%)" if key == "2x1" else "-"
        L.append(f"| {name} | {med(key, 'samples_per_s'):.0f} | {step:.2f} | {share} | {med(key, 'cpu_ms_per_step'):.2f} |")
    L.append("")

    # the all-reduce's cost, and the latency/bandwidth model fitted to it
    L.append("All-reduce (sum, in place, float32) between the 2 ranks, `ProcessGroup.AllReduce` as DDP calls it (median and "
             "least of the per-call times, averaged over the ranks):")
    L.append("")
    L.append("| bytes | median µs | least µs |")
    L.append("| ---: | ---: | ---: |")
    for r in ar:
        L.append(f"| {int(r['bytes']):,} | {r['median_us']:.1f} | {r['min_us']:.1f} |")
    L.append("")
    small = [r["min_us"] for r in ar if r["bytes"] <= 256]
    big = sorted((r for r in ar if r["bytes"] >= 1 << 16), key=lambda r: r["bytes"])
    alpha = statistics.median(small) / 2 * 1e-6                        # p = 2: 2(p-1) = 2 latency terms
    # p = 2: 2(p-1)/p = 1. Other processes only add time, so the least slope between neighbouring sizes is the least
    # disturbed estimate of the bandwidth term
    slopes = [((b["min_us"] - a["min_us"]) * 1e-6 / (b["bytes"] - a["bytes"]), a["bytes"], b["bytes"]) for a, b in zip(big, big[1:])]
    beta, lo, hi = min(s for s in slopes if s[0] > 0)
    grad_bytes = MLP_PARAMS * 4
    compute = med("2x1", "cpu_ms_per_step") / 2 * 1e-3                 # one rank's CPU time per step at batch 64
    L.append(f"A ring all-reduce of n bytes over p ranks costs T(p, n) = 2(p−1)·α + 2(p−1)/p · n · β. Fitted to the least "
             f"times above (p = 2): α = {alpha * 1e6:.2f} µs (half the time of a ≤ 256-byte all-reduce), β = "
             f"{beta * 1e9:.3f} ns/byte ({1 / beta / 1e9:.2f} GB/s; the least slope between neighbouring sizes from 64 KB, here "
             f"{int(lo):,} to {int(hi):,} bytes: other processes only add time, and on a loaded machine the large "
             f"messages, which take long enough to be preempted, show it).")
    L.append("")
    L.append("**A simulation, not a measurement:** the scaling this model predicts for the MLP's "
             f"{grad_bytes / 1e6:.2f} MB of gradients with 64 samples per rank (weak scaling: the global batch grows "
             f"with the ranks) and the compute time one rank measured above ({compute * 1e3:.2f} ms per step: its CPU "
             "time), assuming no overlap (the MLP's gradients fit one bucket, sent when backward ends) and one core per "
             "rank. First with this machine's shared-memory α and β, then with an assumed 10 Gb Ethernet cluster "
             "(α = 30 µs, β = 0.8 ns/byte: typical figures, not measured here).")
    L.append("")
    L.append("| ranks | network | all-reduce ms (latency + bandwidth) | step ms | samples/s | speed-up over 1 rank | efficiency |")
    L.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for net, a, b in (("shared memory (measured α, β)", alpha, beta), ("10 GbE (assumed α, β)", 30e-6, 0.8e-9)):
        for p in (8, 64, 512):
            lat, bw = 2 * (p - 1) * a, 2 * (p - 1) / p * grad_bytes * b
            step = compute + lat + bw
            L.append(f"| {p} | {net} | {(lat + bw) * 1e3:.2f} ({lat * 1e3:.2f} + {bw * 1e3:.2f}) | {step * 1e3:.2f} | "
                     f"{64 * p / step:,.0f} | {p * compute / step:.1f} | {100 * compute / step:.0f}% |")
    L.append("")
    L.append("Reading it: the bandwidth term stays near 2·n·β whatever p, while the ring's latency term grows with p "
             "(at 512 ranks over Ethernet it is 2·511·30 µs ≈ 31 ms, more than this small model's compute); more ranks "
             "help while the compute per rank stays well above T(p, n), i.e. for larger models per byte of gradient "
             "(convolutions) and larger per-rank batches. Open MPI switches to tree/recursive-doubling algorithms "
             "(≈ log₂p latency terms) for small messages, which the ring formula overstates.")
    L.append("")
    L.append("Rerun: `benchmarks/ddp.py` (writes `benchmarks/results/ddp.md`), then `benchmarks/report.py`.")
    L.append("")
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(L))
    print("\n".join(L))
    return 0


if __name__ == "__main__":
    sys.exit(main())
