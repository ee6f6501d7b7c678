#!/usr/bin/env python3
"""Turns benchmarks/results/latest.tsv (written by benchmarks/run.sh) into BENCHMARKS.md. Standard library only.

Usage: report.py RESULTS_TSV OUTPUT_MD
"""
import os
import re
import subprocess
import sys


def parse(path):
    side, meta = None, {"nabla": [], "torch": [], "nabla_avx2": [], "torch_avx2": [], "run": []}
    results = {"nabla": {}, "torch": {}, "nabla_avx2": {}, "torch_avx2": {}}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"# == side=(\w+) workload=(\w+)", line)
            if m:
                side = m.group(1)
                continue
            if line.startswith("#"):
                meta[side or "run"].append(line[1:].strip())
                continue
            if not line.startswith("RESULT\t") or side is None:
                continue
            f_ = line.split("\t")
            if len(f_) < 6 or f_[1] == "name":
                continue
            extra = "\t".join(f_[6:]) if len(f_) > 6 else ""
            note = ""
            m = re.search(r"\[([^\]]*)\]\s*$", extra)
            if m:
                note = m.group(1)
                extra = extra[:m.start()].strip()
            r = {"min": float(f_[2]), "median": float(f_[3]), "unit": f_[4], "iters": int(f_[5]),
                 "extra": extra, "note": note}
            # Nabla's harness adds the 99th percentile, managed bytes allocated per iteration and GCs per 100 iterations
            for key, pat in (("p99", r"\bp99=(\S+)"), ("alloc", r"\balloc_per_iter_B=(\d+)"), ("gcs", r"\bgc_per_100_iters=(\S+)")):
                m = re.search(pat, extra)
                if m:
                    r[key] = m.group(1) if key == "gcs" else float(m.group(1))
            results[side][f_[1]] = r
    return meta, results


def cpu_model():
    model, family, mod, n = "?", "?", "?", 0
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k, v = k.strip(), v.strip()
                if k == "model name":
                    model, n = v, n + 1
                elif k == "cpu family":
                    family = v
                elif k == "model":
                    mod = v
    except OSError:
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            txt = f.read()
        fl = re.search(r"^flags\s*:\s*(.*)$", txt, re.M)
        if fl:
            have = set(fl.group(1).split())
            flags = ", ".join(x for x in ("avx2", "fma", "avx512f", "avx512_bf16") if x in have)
    except OSError:
        pass
    return f"{model} (family {family}, model {mod}), {n} logical CPUs; {flags}"


def find(lines, pattern):
    for l in lines:
        m = re.search(pattern, l)
        if m:
            return m
    return None


def blas_desc(torch_meta):
    m = find(torch_meta, r"BLAS mapped: (.*)$")
    if not m:
        return "?"
    libs = [p.strip() for p in m.group(1).split(",") if p.strip()]
    out = []
    for p in libs:
        real = os.path.realpath(p)
        out.append(os.path.basename(p) + (f" → {os.path.basename(real)}" if real != p else ""))
    pkg = ""
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "libopenblas0-pthread"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode == 0 and r.stdout.strip():
            pkg = f" (Debian {r.stdout.strip()})"
    except (OSError, subprocess.SubprocessError):
        pass
    return ", ".join(out) + pkg


def fmt(v, digits=3):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits - 1}f}" if v >= 1 else f"{v:.{digits}f}"


def ratio(torch_t, nabla_t):
    """PyTorch time / Nabla time (> 1: Nabla faster)."""
    if torch_t is None or nabla_t is None or nabla_t == 0:
        return "–"
    return f"{torch_t / nabla_t:.2f}"


def note(r):
    return r["note"] if r else ""


def plots_section(results_dir):
    """benchmarks/results/plots.tsv (benchmarks/plots.sh) as its own section; nothing when absent."""
    path = os.path.join(results_dir, "plots.tsv")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip()][1:]
    out = ["## Plots: `nabla plot` (managed renderer, in-process, per chart = one 800x500 PNG + its SVG)", "",
           "| measure | min | median | unit | iterations | note |", "| --- | ---: | ---: | --- | ---: | --- |"]
    out += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |" for r in rows if len(r) >= 6]
    out += ["", "Rerun: `benchmarks/plots.sh` (writes `benchmarks/results/plots.tsv`).", ""]
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    meta, res = parse(src)
    nb, tr = res["nabla"], res["torch"]

    started = find(meta["run"], r"started=(.+?) host=")
    mode = find(meta["run"], r"mode=(\w+)")
    dotnet = find(meta["nabla"], r"\| (\.NET [^|]+?) \|")
    nthreads = find(meta["nabla"], r"threads=(\d+)")
    gc = find(meta["nabla"], r"GC server=(\w+)")
    torchv = find(meta["torch"], r"PyTorch (\S+) \| python (\S+)")
    tthreads = find(meta["torch"], r"threads=(\d+) interop=(\d+)")

    peak = nb.get("fma_peak")
    peak_best = peak["min"] if peak else None   # GFLOP/s: 'min' column holds the best

    L = []
    L.append("# Nabla benchmarks")
    L.append("")
    L.append("Measured numbers only, from one run of `benchmarks/run.sh`: Nabla and PyTorch ran on the same machine, "
             "interleaved per workload (Nabla gemm, PyTorch gemm, Nabla mlp, PyTorch mlp, ...), both timed the same way "
             "(`bench_torch.py`'s method: quiet-machine wait, warm-up, ≥ 20 iterations and ~2 s, min and median).")
    L.append("")
    L.append(f"- Date: {started.group(1) if started else '?'} (run mode: {mode.group(1) if mode else '?'})")
    L.append(f"- CPU: {cpu_model()}")
    L.append(f"- Threads: Nabla `Threading.MaxThreads` = {nthreads.group(1) if nthreads else '?'}; "
             f"PyTorch `torch.get_num_threads()` = {tthreads.group(1) if tthreads else '?'} "
             f"(interop {tthreads.group(2) if tthreads else '?'})")
    L.append(f"- .NET: {dotnet.group(1).strip() if dotnet else '?'} (Release, TieredPGO on, server GC {gc.group(1).lower() if gc else '?'}, "
             "concurrent GC off)")
    L.append(f"- PyTorch: {torchv.group(1) if torchv else '?'} (python {torchv.group(2) if torchv else '?'}); "
             f"BLAS: {blas_desc(meta['torch'])}")
    L.append("- Data: float32, synthetic (randn inputs, random class labels).")
    L.append("")

    # ---- SGEMM
    L.append("## SGEMM C = A·B (n×n, C allocated per call)")
    L.append("")
    if peak:
        L.append(f"FMA peak measured by the benchmark (2 threads × 12 independent 512-bit FMA chains): "
                 f"**{peak['min']:.0f} GFLOP/s** best, {peak['median']:.0f} median "
                 f"({peak['iters']} iterations; {peak['note']}). % of peak below is relative to the best peak.")
        L.append("")
    L.append("| n | Nabla GFLOP/s median | Nabla best | Nabla % peak (median) | PyTorch GFLOP/s median | PyTorch best "
             "| PyTorch % peak (median) | PyTorch time / Nabla time (median) | conditions (Nabla; PyTorch) |")
    L.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for n in (256, 512, 1024, 2048):
        a, b = nb.get(f"sgemm_{n}"), tr.get(f"sgemm_{n}")
        at, bt = nb.get(f"sgemm_{n}_time"), tr.get(f"sgemm_{n}_time")
        if not a and not b:
            continue

        def pct(r):
            return f"{100 * r['median'] / peak_best:.0f}%" if r and peak_best else "–"

        L.append(f"| {n} | {fmt(a['median']) if a else '–'} | {fmt(a['min']) if a else '–'} | {pct(a)} "
                 f"| {fmt(b['median']) if b else '–'} | {fmt(b['min']) if b else '–'} | {pct(b)} "
                 f"| {ratio(bt['median'] if bt else None, at['median'] if at else None)} "
                 f"| {note(a)}; {note(b)} |")
    L.append("")

    def alloc(r):
        if not r or "alloc" not in r:
            return "–"
        b = r["alloc"]
        return f"{b:.0f} B" if b < 1024 else f"{b / 1024:.1f} KiB" if b < 1048576 else f"{b / 1048576:.1f} MiB"

    def timed_table(title, rows):
        L.append(f"## {title}")
        L.append("")
        L.append("| workload | unit | Nabla median | Nabla p99 | Nabla min | PyTorch median | PyTorch min "
                 "| PyTorch time / Nabla time (median) | Nabla managed alloc / iter | Nabla GCs / 100 iters (gen0/1/2) "
                 "| iterations (Nabla; PyTorch) | conditions (Nabla; PyTorch) |")
        L.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
        for key, label, unit in rows:
            a, b = nb.get(key), tr.get(key)
            if not a and not b:
                continue
            L.append(f"| {label} | {unit} | {fmt(a['median']) if a else '–'} | {fmt(a.get('p99')) if a else '–'} "
                     f"| {fmt(a['min']) if a else '–'} "
                     f"| {fmt(b['median']) if b else '–'} | {fmt(b['min']) if b else '–'} "
                     f"| {ratio(b['median'] if b else None, a['median'] if a else None)} "
                     f"| {alloc(a)} | {a.get('gcs', '–') if a else '–'} "
                     f"| {a['iters'] if a else '–'}; {b['iters'] if b else '–'} | {note(a)}; {note(b)} |")
        L.append("")

    timed_table("MLP train step (784-512-256-10, ReLU, cross-entropy, batch 128, SGD: zero_grad, forward, backward, step)",
                [("mlp_train_b128", "train step b128", "ms/step")])
    timed_table("MLP inference (eval mode, no grad)",
                [("mlp_infer_b1", "batch 1 (latency)", "µs/call"), ("mlp_infer_b1024", "batch 1024 (throughput)", "ms/call")])
    timed_table("Normalisation layers: forward + backward (training mode, float32, grads set to None each step)",
                [("batchnorm2d_fwd_bwd", "BatchNorm2d(64), input 32x64x56x56", "ms/iter"),
                 ("layernorm_fwd_bwd", "LayerNorm(768), input 64x512x768", "ms/iter")])
    timed_table("Convolution: training steps (forward, backward, SGD update) and Conv2d forward",
                [("lenet_train_b64", "LeNet-5 train step, batch 64 of 1x28x28", "ms/step"),
                 ("cnn_nobn_train_b32", "conv3x3 32-64-128 + maxpools + GAP + fc, no BN, batch 32 of 3x32x32", "ms/step"),
                 ("cnnbn_train_b32", "the cnn preset: conv3x3-BN-ReLU 32-64-128 + maxpools + GAP + fc, SGD momentum, batch 32 of 3x32x32", "ms/step"),
                 ("conv2d_fwd_resnet_b8", "Conv2d(64→64, 3x3, pad 1) forward, 8x64x56x56", "ms/call")])
    timed_table("LSTM train step (LSTM(28→128, batch_first) over 28 steps, batch 64, fc 128→10 on the last step, cross-entropy, Adam)",
                [("lstm_train_b64", "train step b64 (~0.86 GFLOP)", "ms/step")])
    timed_table("Transformer encoder layer: forward + backward (d_model 256, 4 heads, dim_feedforward 1024, dropout 0, batch_first, training mode, float32)",
                [("encoder_layer_fwd_bwd", "TransformerEncoderLayer, input 16x128x256", "ms/iter")])

    # ---- the same CPU restricted to AVX2 (what most Intel client CPUs have): Nabla with DOTNET_EnableAVX512=0,
    # PyTorch with ATEN_CPU_CAPABILITY=avx2 and OPENBLAS_CORETYPE=Haswell
    na, ta = res["nabla_avx2"], res["torch_avx2"]
    if na or ta:
        L.append("## Without AVX-512: the same workloads on AVX2 code paths")
        L.append("")
        L.append("Most Intel client CPUs have no AVX-512. Here both sides are restricted to AVX2 on this CPU: Nabla with "
                 "`DOTNET_EnableAVX512=0`, PyTorch with `ATEN_CPU_CAPABILITY=avx2` and OpenBLAS with "
                 "`OPENBLAS_CORETYPE=Haswell`. (This Zen 4 runs 512-bit FMAs as two 256-bit halves, so its AVX2 FMA peak "
                 "is the same.)")
        L.append("")
        L.append("| workload | unit | Nabla median | PyTorch median | PyTorch time / Nabla time (median) | conditions (Nabla; PyTorch) |")
        L.append("| --- | --- | ---: | ---: | ---: | --- |")
        rows = [(f"sgemm_{n}_time", f"SGEMM n={n}", "ms") for n in (256, 512, 1024, 2048)] + [
            ("mlp_train_b128", "MLP train step b128", "ms/step"),
            ("lenet_train_b64", "LeNet-5 train step b64", "ms/step"),
            ("cnn_nobn_train_b32", "conv3x3 CNN train step b32", "ms/step"),
            ("conv2d_fwd_resnet_b8", "Conv2d(64→64, 3x3) forward b8", "ms/call")]
        for key, label, unit in rows:
            a, b = na.get(key), ta.get(key)
            if not a and not b:
                continue
            L.append(f"| {label} | {unit} | {fmt(a['median']) if a else '–'} | {fmt(b['median']) if b else '–'} "
                     f"| {ratio(b['median'] if b else None, a['median'] if a else None)} | {note(a)}; {note(b)} |")
        L.append("")

    # ---- peak RSS of each Nabla benchmark process (one process per workload in run.sh)
    rss = sorted((k[len("peak_rss_"):], v["median"]) for k, v in nb.items() if k.startswith("peak_rss_"))
    if rss:
        L.append("## Peak memory of the Nabla benchmark processes")
        L.append("")
        L.append("Peak resident set (VmHWM) of each `Nabla.Benchmarks` process, one per workload: "
                 + ", ".join(f"{w} {v:.0f} MiB" for w, v in rss)
                 + f"; the largest: **{max(v for _, v in rss):.0f} MiB**.")
        L.append("")

    L.append("Ratios > 1 mean Nabla is faster. \"conditions\" are the harness's notes per attempt: `others` is the CPU "
             "share used by other processes during the timed loop, `steal` the hypervisor's; an attempt with others > 5% "
             "is retried while the retry budget lasts. This machine is shared: compare only numbers taken side by side "
             "in one run.")
    L.append("")
    L.append("Rerun: `benchmarks/run.sh` from the repository root (`benchmarks/run.sh --quick` skips the quiet-machine "
             "wait and retries). It rebuilds Release, runs `Nabla.Benchmarks` and `bench_torch.py` interleaved, keeps "
             "the raw RESULT lines in `benchmarks/results/latest.tsv` and rewrites this file. One workload alone: "
             "`benchmarks/Nabla.Benchmarks/bin/Release/net10.0/Nabla.Benchmarks [all|gemm|mlp|infer|peak|profile|norm|lenet|conv|cnnbn|lstm|transformer|convpasses]` (`convpasses`: each conv pass alone, per method); "
             "BenchmarkDotNet micro-benchmarks: `... Nabla.Benchmarks --bdn --filter '*'`. "
             "`nabla bench` runs the same harness and workloads (Nabla only) on any machine. Nabla's p99, managed "
             "allocation per iteration (`GC.GetAllocatedBytesForCurrentThread`, the timing thread) and GC counts come "
             "from the same timed loop as its median.")
    L.append("")
    # ---- peak memory of the CLI: benchmarks/memory.sh writes this section
    memory = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "memory.md")
    if os.path.exists(memory):
        with open(memory, encoding="utf-8") as f:
            L.append(f.read().rstrip("\n"))
        L.append("")
    L.extend(plots_section(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")))
    # ---- the NativeAOT binary against the JIT build: its own script (benchmarks/aot.py) and results file
    aot = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "aot.md")
    if os.path.exists(aot):
        with open(aot, encoding="utf-8") as f:
            L.append(f.read().rstrip("\n"))
        L.append("")
    # ---- data-parallel training over MPI: its own script (benchmarks/ddp.py) and results file
    ddp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "ddp.md")
    if os.path.exists(ddp):
        with open(ddp, encoding="utf-8") as f:
            L.append(f.read().rstrip("\n"))
        L.append("")
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(L))
    return 0


if __name__ == "__main__":
    sys.exit(main())
