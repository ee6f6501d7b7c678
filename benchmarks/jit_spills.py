#!/usr/bin/env python3
"""Lists Nabla's JIT-compiled kernels that store vector registers to the stack: candidates for register spills.

The JIT spills a vector accumulator that stays live across a register-hungry epilogue (an inlined exp, a horizontal sum
and a scalar tail loop) by storing it after every fused multiply-add of the loop, which can cost half a kernel's speed
(2026-12-05: the fused LSTM tiles and the batch-1 GEMV). This runs workloads of the built benchmark binary with the
JIT's disassembly on, and prints the optimised (tier-1 or full-opts) Nabla methods that contain both FMAs and vector
stores to [rbp/rsp+offset], most stores first. A store outside the loops (a struct's copy or zeroing, accumulators
parked on purpose after the loop) is harmless: keep the listings (--keep DIR) and look at the loops.

Usage: benchmarks/jit_spills.py [--avx2] [--keep DIR] [WORKLOAD ...]   (default workloads: mlp infer lenet lstm cnnbn)
Needs benchmarks/Nabla.Benchmarks built in Release (dotnet build benchmarks/Nabla.Benchmarks -c Release).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.path.join(HERE, "Nabla.Benchmarks", "bin", "Release", "net10.0", "Nabla.Benchmarks")
STACK_STORE = re.compile(r"^\s*vmov\w*\s+[xyz]mmword ptr \[(rbp|rsp)[-+]")


def scan(path):
    """{method: (vector stack stores, fma instructions)} for the optimised Nabla methods of one listing file."""
    found, method, optimised, stores, fmas = {}, None, False, 0, 0

    def flush():
        if method and optimised and "Nabla" in method and stores and fmas:
            found[method] = max(found.get(method, (0, 0)), (stores, fmas))

    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("; Assembly listing for method"):
                flush()
                method = line.split("method", 1)[1].strip()
                optimised = "(Tier1" in method or "FullOpts" in method
                stores = fmas = 0
            elif STACK_STORE.match(line):
                stores += 1
            elif "vfmadd" in line or "vfnmadd" in line:
                fmas += 1
    flush()
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", default=["mlp", "infer", "lenet", "lstm", "cnnbn"])
    ap.add_argument("--avx2", action="store_true", help="run with DOTNET_EnableAVX512=0 (the 256-bit kernels)")
    ap.add_argument("--keep", help="write the disassembly listings into this folder instead of a temporary one")
    args = ap.parse_args()
    if not os.access(BINARY, os.X_OK):
        print(f"missing {BINARY}: build benchmarks/Nabla.Benchmarks in Release first", file=sys.stderr)
        return 1
    folder = args.keep or tempfile.mkdtemp(prefix="nabla-jit-")
    os.makedirs(folder, exist_ok=True)
    found = {}
    for w in args.workloads:
        listing = os.path.join(folder, f"{w}{'-avx2' if args.avx2 else ''}.asm")
        env = dict(os.environ, DOTNET_JitDisasm="*", DOTNET_JitStdOutFile=listing, ANCHORS_RETRY_BUDGET_S="0",
                   DOTNET_TieredPGO="1", DOTNET_gcServer="0")
        if args.avx2:
            env["DOTNET_EnableAVX512"] = "0"
        subprocess.run([BINARY, w], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        for m, v in scan(listing).items():
            found[m] = max(found.get(m, (0, 0)), v)
        if not args.keep:
            os.remove(listing)
    if not args.keep:
        os.rmdir(folder)
    if not found:
        print("no optimised Nabla method stores vector registers to the stack next to FMAs")
        return 0
    print("stack stores  FMAs  method")
    for m, (stores, fmas) in sorted(found.items(), key=lambda kv: -kv[1][0]):
        print(f"{stores:12d}  {fmas:4d}  {m[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
