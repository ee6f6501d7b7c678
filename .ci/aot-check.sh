#!/usr/bin/env bash
# The NativeAOT binary as users get it: published with the README's command, copied alone into an empty folder
# outside the repository (no .so, no data beside it), then run as a user would. Under qemu-user (when installed) it
# also runs as an AVX2-only CPU (Haswell) and is refused by a pre-AVX2 one (Nehalem). Takes a few minutes (ILC).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

dotnet publish "$repo/src/Nabla.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$tmp/publish" -nologo -v q
mkdir "$tmp/alone"
cp "$tmp/publish/Nabla.Cli" "$tmp/alone/nabla"
cd "$tmp/alone"
fail() { echo "aot-check: $*" >&2; exit 1; }

./nabla --version | tee version.txt
grep -q "^runtime: NativeAOT" version.txt || fail "not a NativeAOT binary"
# the default x86-64-v1 target ran every kernel's scalar loop; x86-64-v3 runs the 256-bit ones on every CPU
grep -q "^vectors: 256-bit kernels (AVX2+FMA)" version.txt || fail "expected the 256-bit kernels"

./nabla train --epochs 1 --hidden 16 --threads 2 --plain --run t | tee train.txt
grep -q "^data: bundled:mnist-sample (8000 train, 2000 test, 28x28)" train.txt || fail "train did not use the built-in sample"
[ -f runs/t/model.safetensors ] || fail "train wrote no model.safetensors"
./nabla eval runs/t | grep "test accuracy:"
[ -s runs/t/loss.png ] || fail "train drew no plots"
rm -f runs/t/*.png runs/t/*.svg
./nabla plot runs/t
for f in loss accuracy lr; do [ -s "runs/t/$f.png" ] && [ -s "runs/t/$f.svg" ] || fail "plot did not write $f.png/.svg"; done
./nabla explain --batch-size 4 | tee explain.txt | grep "loss J = "
# a 28x28 grey PNG (a bar, drawn with the standard library) for predict
python3 - <<'PY'
import struct, zlib
w = h = 28
rows = b"".join(b"\0" + bytes(255 if 12 <= x <= 15 and 4 <= y <= 23 else 0 for x in range(w)) for y in range(h))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open("digit.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
./nabla predict runs/t digit.png | grep "^prediction: "

if command -v qemu-x86_64 >/dev/null 2>&1; then
  qemu-x86_64 -cpu Haswell ./nabla --version 2>/dev/null | grep "^vectors: 256-bit kernels (AVX2+FMA)" \
    || fail "the binary did not run on an emulated Haswell (AVX2, no AVX-512)"
  qemu-x86_64 -cpu Haswell ./nabla explain --batch-size 4 2>/dev/null | cmp - explain.txt \
    || fail "explain on an emulated Haswell differs from this CPU's"
  if qemu-x86_64 -cpu Nehalem ./nabla --version >old.txt 2>&1; then fail "a pre-AVX2 CPU (Nehalem) was not refused"; fi
  grep -q "The required instruction sets are not supported by the current CPU." old.txt \
    || fail "a pre-AVX2 CPU got no clear message: $(cat old.txt)"
else
  echo "aot-check: qemu-user is not installed: the emulated Haswell/Nehalem runs were not made" >&2
fi
echo "aot-check: ok"
