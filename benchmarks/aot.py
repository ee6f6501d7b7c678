#!/usr/bin/env python3
"""The NativeAOT binary against the JIT build, side by side: one training epoch of mlp and lenet, start-up time and
binary size. Writes benchmarks/results/aot.md, which report.py puts into BENCHMARKS.md. Standard library only.

  benchmarks/aot.py            builds both: `dotnet publish --self-contained false` (JIT) and the README's
                               `dotnet publish ... -p:PublishAot=true` (the one file: x86-64-v3 image + x86-64-v4 image)
  benchmarks/aot.py --use DIR  measures ready builds instead (a machine without the SDK): DIR/jit/Nabla.Cli (any
                               build that runs on its own, e.g. a self-contained publish) and DIR/aot/Nabla.Cli

The AOT binary runs twice: as it chooses (its x86-64-v4 image on an AVX-512 machine, extracted into a cache under the
work folder) and with NABLA_AVX512=0 (its x86-64-v3 image, the 256-bit kernels); the JIT build likewise with and
without DOTNET_EnableAVX512=0. Each variant trains `--epochs 2 --threads 2` on the built-in sample in turn, REPS times
round-robin (env REPS, default 5), so a slow phase of a shared machine hits all of them; the tables give medians of
metrics.csv's seconds. Epoch 1 includes the JIT's warm-up, epoch 2 is steady state. Start-up: wall time of
`--version`, median of 20 (the AOT binary's includes its exec of the cached v4 image; the first start, which extracts
it, is timed once). As wall times on a busy machine say little, the script also measures CPU time, which other
processes barely change: with one thread, a run of 3 epochs minus a run of 1 epoch, halved, is the CPU time of a
steady-state epoch (the least of CPU_REPS pairs, default 2).
"""
import csv
import os
import platform
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(HERE, "results", "aot.md")
REPS = int(os.environ.get("REPS", "5"))
MODELS = ["mlp", "lenet"]


def publish(dest):
    """The JIT build and the AOT binary, as a user makes them."""
    cli = os.path.join(REPO, "src", "Nabla.Cli")
    subprocess.run(["dotnet", "publish", cli, "-c", "Release", "-r", "linux-x64", "--self-contained", "false",
                    "-o", os.path.join(dest, "jit"), "-nologo", "-v", "q"], check=True)
    subprocess.run(["dotnet", "publish", cli, "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true",
                    "-o", os.path.join(dest, "aot"), "-nologo", "-v", "q"], check=True)


def variants(builds):
    jit, aot = os.path.join(builds, "jit", "Nabla.Cli"), os.path.join(builds, "aot", "Nabla.Cli")
    return [("JIT build", [jit], {}),
            ("JIT build, DOTNET_EnableAVX512=0", [jit], {"DOTNET_EnableAVX512": "0"}),
            ("NativeAOT, as it chooses", [aot], {}),
            ("NativeAOT, NABLA_AVX512=0", [aot], {"NABLA_AVX512": "0"})]


def trailer(path):
    """(v3 image bytes, deflated v4 image bytes, v4 image bytes) from the AOT binary's trailer, or None."""
    with open(path, "rb") as f:
        f.seek(-64, 2)
        t = f.read(64)
    if t[56:] != b"nabla-v4":
        return None
    return struct.unpack("<qqq", t[:24])


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def run(cmd, env, cwd):
    # the AOT binary extracts its v4 image here, not into the user's cache; NABLA_*/DOTNET_EnableAVX512* only as given
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NABLA_", "DOTNET_EnableAVX512"))}
    base["XDG_CACHE_HOME"] = os.path.join(cwd, "cache")
    p = subprocess.run(cmd, env={**base, **env}, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip() or p.stdout.strip()}")
    return p.stdout


def epochs(cmd, env, model, work, tag):
    runs = os.path.join(work, "runs")
    run(cmd + ["train", "--model", model, "--epochs", "2", "--threads", "2", "--plain", "--runs-dir", runs, "--run", tag],
        env, work)
    with open(os.path.join(runs, tag, "metrics.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [float(r["seconds"]) for r in rows]


def cpu_epoch(cmd, env, model, work, tag):
    """CPU seconds of one steady-state epoch on one thread: (3 epochs - 1 epoch) / 2, so start-up, data loading,
    the JIT's compilation and the plots cancel out."""
    cpu = []
    for n in (1, 3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        run(cmd + ["train", "--model", model, "--epochs", str(n), "--threads", "1", "--plain",
                   "--runs-dir", os.path.join(work, "runs"), "--run", f"{tag}-{n}"], env, work)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return (cpu[1] - cpu[0]) / 2


def startup(cmd, env, work, n=20):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        run(cmd + ["--version"], env, work)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def size_mb(path):
    return os.path.getsize(path) / 1e6


def main():
    args = sys.argv[1:]
    builds = args[1] if args[:1] == ["--use"] and len(args) == 2 else None
    if args and builds is None:
        sys.exit(__doc__)
    work = tempfile.mkdtemp(prefix="nabla-aot-")  # outside the repository, as a user runs it
    try:
        if builds is None:
            builds = os.path.join(work, "builds")
            publish(builds)
        vs = variants(builds)
        t = time.perf_counter()
        run(vs[2][1] + ["--version"], {}, work)  # the first start extracts the v4 image into the cache
        first = time.perf_counter() - t
        load = [os.getloadavg()[1]]
        times = {(name, m): ([], []) for name, _, _ in vs for m in MODELS}
        for rep in range(REPS):
            for m in MODELS:
                for i, (name, cmd, env) in enumerate(vs):
                    e = epochs(cmd, env, m, work, f"{m}-{i}-{rep}")
                    times[(name, m)][0].append(e[0])
                    times[(name, m)][1].append(e[1])
                    print(f"{name:45} {m:6} rep {rep}: epoch 1 {e[0]:.2f} s, epoch 2 {e[1]:.2f} s", file=sys.stderr)
        cpu = {(name, m): [] for name, _, _ in vs for m in MODELS}
        for rep in range(int(os.environ.get("CPU_REPS", "2"))):
            for m in MODELS:
                for i, (name, cmd, env) in enumerate(vs):
                    cpu[(name, m)].append(cpu_epoch(cmd, env, m, work, f"cpu-{m}-{i}-{rep}"))
                    print(f"{name:45} {m:6} rep {rep}: {cpu[(name, m)][-1]:.2f} CPU s per epoch", file=sys.stderr)
        starts = {name: startup(cmd, env, work) for name, cmd, env in vs}
        versions = {name: next(l for l in run(cmd + ["--version"], env, work).splitlines() if l.startswith("vectors: "))
                    for name, cmd, env in vs}
        load.append(os.getloadavg()[1])
        write(vs, times, cpu, starts, first, versions, builds, load)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write(vs, times, cpu, starts, first, versions, builds, load):
    jit = vs[0][0]
    med = {k: (statistics.median(a), statistics.median(b)) for k, (a, b) in times.items()}
    L = ["## The NativeAOT binary against the JIT build", "",
         f"Measured by `benchmarks/aot.py` on {cpu_name()} ({os.cpu_count()} logical CPUs; "
         f"{', '.join(f for f in ('avx2', 'fma', 'avx512f') if f in cpu_flags())}), "
         f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Each variant trains `nabla train --model M --epochs 2 "
         f"--threads 2` on the built-in sample, the variants in turn, {REPS} rounds; medians of the epoch seconds in "
         "metrics.csv (train + test evaluation). Epoch 1 includes the JIT's warm-up; epoch 2 is steady state. "
         "The ratio is the variant's time over the JIT build's (< 1.10: within 10%). Load average (5 min) at the "
         f"start and end: {load[0]:.1f}, {load[1]:.1f} on {os.cpu_count()} CPUs: above the CPU count, other processes "
         "were competing for them and the times are inflated and noisy.", "",
         "| variant | vectors (`--version`) | " + " | ".join(f"{m} epoch 1 | {m} epoch 2" for m in MODELS)
         + " | start-up (`--version`) |",
         "| --- | --- | " + " | ".join("---: | ---:" for _ in MODELS) + " | ---: |"]
    for name, _, _ in vs:
        cells = []
        for m in MODELS:
            for e in (0, 1):
                t, base = med[(name, m)][e], med[(jit, m)][e]
                cells.append(f"{t:.2f} s" + ("" if name == jit else f" ({t / base:.2f})"))
        L.append(f"| {name} | {versions[name].removeprefix('vectors: ')} | " + " | ".join(cells)
                 + f" | {starts[name] * 1000:.0f} ms |")
    L.append("")
    L.append("CPU time of one steady-state epoch, one thread (`--threads 1`; 3 epochs minus 1 epoch, halved; least of "
             f"{len(next(iter(cpu.values())))}), in the same run; ratio to the JIT build:")
    L.append("")
    L.append("| variant | " + " | ".join(f"{m} CPU s per epoch" for m in MODELS) + " |")
    L.append("| --- | " + " | ".join("---:" for _ in MODELS) + " |")
    for name, _, _ in vs:
        cells = []
        for m in MODELS:
            t, base = min(cpu[(name, m)]), min(cpu[(jit, m)])
            cells.append(f"{t:.2f}" + ("" if name == jit else f" ({t / base:.2f})"))
        L.append(f"| {name} | " + " | ".join(cells) + " |")
    L.append("")
    aot = os.path.join(builds, "aot", "Nabla.Cli")
    others = sorted(f for f in os.listdir(os.path.dirname(aot)) if f.endswith(".so"))
    parts = trailer(aot)
    L.append(f"Binary size: the NativeAOT binary is one file of {size_mb(aot):.1f} MB (stripped; symbols in Nabla.Cli.dbg)"
             + (f": the x86-64-v3 image ({parts[0] / 1e6:.1f} MB), then the x86-64-v4 image deflated "
                f"({parts[1] / 1e6:.1f} MB; {parts[2] / 1e6:.1f} MB once extracted to the cache) and a 64-byte trailer"
                if parts else "")
             + (f", plus {', '.join(others)} beside it" if others else ", and needs nothing beside it")
             + f". Its first start on an AVX-512 machine, which extracts the v4 image, took {first * 1000:.0f} ms. "
             "The JIT build needs the .NET 10 runtime and its folder of assemblies. Rerun: `benchmarks/aot.py` "
             "(publishes, ILC twice, several minutes).")
    L.append("")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(L))
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
