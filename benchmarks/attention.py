#!/usr/bin/python3
"""Attention alone, forward + backward, side by side: Nabla's fused kernel, Nabla's composed graph and PyTorch 1.13
composing the formula (torch 1.13 has no public scaled_dot_product_attention), float32, q/k/v (2, 4, T, 64), no mask,
T = 512 and 2048, 2 threads each. Every configuration runs in its own process, interleaved (Nabla fused, Nabla
composed, PyTorch per T), timed by bench_torch.py's method (Harness.cs on Nabla's side); memory is the growth of the
process's peak resident set (VmHWM) over its first step. Writes benchmarks/results/attention.md (report.py adds it to
BENCHMARKS.md) and prints the RESULT lines.
Usage: /usr/bin/python3 benchmarks/attention.py            (builds Nabla.Benchmarks Release first)
       /usr/bin/python3 benchmarks/attention.py torch T    (the PyTorch side of one configuration)
Env: ANCHORS_RETRY_BUDGET_S (quiet-machine waiting per process, default 45), NABLA_BENCH_SKIP_BUILD=1.
"""
import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
SEQS = (512, 2048)
B, H, D = 2, 4, 64


def peak_rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def torch_side(seq):
    import torch
    sys.path.insert(0, here)
    import bench_torch as bt
    torch.set_num_threads(2)
    torch.manual_seed(0)
    print(f"# PyTorch {torch.__version__} | threads={torch.get_num_threads()}")
    print("RESULT\tname\tmin\tmedian\tunit\titers\textra")
    q, k, v = (torch.randn(B, H, seq, D, requires_grad=True) for _ in range(3))
    dy = torch.randn(B, H, seq, D)
    scale = 1 / D ** 0.5

    def step():
        q.grad = k.grad = v.grad = None
        y = torch.softmax(q @ k.transpose(-1, -2) * scale, -1) @ v
        y.backward(dy)

    before = peak_rss_kb()
    step()
    peak = (peak_rss_kb() - before) / 1024
    t = bt.time_it(step, warmup=2)
    c0 = time.process_time()
    for _ in range(10):
        step()
    cpu_ms = (time.process_time() - c0) * 100
    gflop = 6 * 2.0 * B * H * seq * seq * D / 1e9
    name = f"attention_{seq}_torch"
    bt.report(name, t[0] * 1e3, bt.median(t) * 1e3, "ms/iter", len(t),
              f"shape={B}x{H}x{seq}x{D} GFLOP/s(median,6 products)={gflop / bt.median(t):.0f} cpu_ms/iter={cpu_ms:.1f}")
    bt.report(name + "_peak", peak, peak, "MB", 1, "growth of peak RSS over the first step")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "torch":
        torch_side(int(sys.argv[2]))
        return 0
    repo = os.path.dirname(here)
    if os.environ.get("NABLA_BENCH_SKIP_BUILD") != "1":
        subprocess.run(["dotnet", "build", os.path.join(here, "Nabla.Benchmarks", "Nabla.Benchmarks.csproj"), "-c", "Release", "-nologo", "-v", "q"], check=True)
    nabla = os.path.join(here, "Nabla.Benchmarks", "bin", "Release", "net10.0", "Nabla.Benchmarks")
    env = dict(os.environ, DOTNET_gcServer="0", DOTNET_TieredPGO="1")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()
    res = {}
    for seq in SEQS:
        for impl in ("fused", "composed"):
            res.update(subprocess_rows([nabla, "attention", impl, str(seq)], env))
        res.update(subprocess_rows([sys.executable, os.path.abspath(__file__), "torch", str(seq)], env))
    load_after = os.getloadavg()

    def cell(key):
        r = res.get(key)
        return f"{r['median']:.1f}" if r else "–"

    L = ["## Attention alone: forward + backward (q, k, v 2x4xTx64, float32, no mask, 2 threads)", "",
         f"`benchmarks/attention.py` ({started}; load average {load[0]:.1f} before, {load_after[0]:.1f} after on "
         f"{os.cpu_count()} CPUs: the machine was shared, so times are noisy; compare within a row). Nabla fused: "
         "`Tensor.ScaledDotProductAttention` (tiled kernel, saves only y and the per-row log-sum-exp); Nabla composed: "
         "MatMul/Softmax/MatMul; PyTorch 1.13: `softmax(q·kᵀ·scale)·v` (no fused kernel in 1.13). Memory: growth of the "
         "process's peak RSS over its first step, one process per configuration.", "",
         "| T | Nabla fused ms (median) | Nabla composed ms | PyTorch ms | PyTorch / fused | fused peak MB | composed peak MB | PyTorch peak MB |",
         "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for seq in SEQS:
        f, c, t = res.get(f"attention_{seq}_fused"), res.get(f"attention_{seq}_composed"), res.get(f"attention_{seq}_torch")
        ratio = f"{t['median'] / f['median']:.2f}" if f and t else "–"
        L.append(f"| {seq} | {cell(f'attention_{seq}_fused')} | {cell(f'attention_{seq}_composed')} | {cell(f'attention_{seq}_torch')} "
                 f"| {ratio} | {cell(f'attention_{seq}_fused_peak')} | {cell(f'attention_{seq}_composed_peak')} | {cell(f'attention_{seq}_torch_peak')} |")
    L.append("")
    os.makedirs(os.path.join(here, "results"), exist_ok=True)
    path = os.path.join(here, "results", "attention.md")
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        fh.write("\n".join(L) + "\n")
    os.replace(path + ".tmp", path)
    print("\n".join(L))
    return 0


def subprocess_rows(cmd, env):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    sys.stderr.write(out)
    rows = {}
    for line in out.splitlines():
        f = line.split("\t")
        if line.startswith("RESULT\t") and f[1] != "name":
            rows[f[1]] = {"min": float(f[2]), "median": float(f[3])}
    return rows


if __name__ == "__main__":
    sys.exit(main())
