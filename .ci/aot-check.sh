#!/usr/bin/env bash
# The NativeAOT binary as users get it: published with the README's command, copied alone into an empty folder
# outside the repository (no .so, no data beside it), then run as a user would. The one file holds the x86-64-v3
# image and the x86-64-v4 one (NativeImage.targets); on an AVX-512 machine it must start the latter, and fall back to
# the former when told to, when the cache cannot be written, when the appended image is damaged. Under qemu-user (when
# installed) it also runs as an AVX2-only CPU (Haswell) and is refused by a pre-AVX2 one (Nehalem). Takes a few
# minutes (ILC runs twice).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

dotnet publish "$repo/src/Nabla.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$tmp/publish" -nologo -v q
mkdir "$tmp/alone"
cp "$tmp/publish/Nabla.Cli" "$tmp/alone/nabla"
cd "$tmp/alone"
fail() { echo "aot-check: $*" >&2; exit 1; }
# Under pipefail a pipeline into `grep -q` fails at random: grep exits at its first match and the writer before it
# (tee, nabla) may die of SIGPIPE on its next line. Pipelines here use `grep -c ... >/dev/null`, which reads it all.
# the extracted x86-64-v4 image goes here, not into the user's ~/.cache
export XDG_CACHE_HOME="$tmp/cache"
unset NABLA_AVX512 NABLA_IMAGE_FROM DOTNET_EnableAVX512 DOTNET_EnableAVX512F

size=$(stat -c %s nabla)
echo "aot-check: the binary is $size bytes; beside it in the publish folder: $(cd "$tmp/publish" && ls | tr '\n' ' ')"
# two images, ~10 MB and ~6 MB deflated (15.9 MB on 2026-12-05): a guard against bundled natives or data, not a budget
[ "$size" -lt 20000000 ] || fail "the binary grew past 20 MB ($size bytes)"
ls "$tmp/publish" | grep -c '\.so$' >/dev/null && fail "the publish folder has a shared library: the binary is not one file"

v3="vectors: 256-bit kernels (AVX2+FMA)"
v4="vectors: 512-bit kernels (AVX-512F)"
avx512=0
flags=$(grep -m1 '^flags' /proc/cpuinfo)
if [[ " $flags " == *" avx512f "* && " $flags " == *" avx512bw "* && " $flags " == *" avx512cd "* \
      && " $flags " == *" avx512dq "* && " $flags " == *" avx512vl "* ]]; then avx512=1; fi

./nabla --version | tee version.txt
grep -q "^runtime: NativeAOT" version.txt || fail "not a NativeAOT binary"
if [ $avx512 = 1 ]; then
  grep -qx "$v4" version.txt || fail "an AVX-512 machine did not get the 512-bit kernels: $(tr '\n' ' ' <version.txt)"
  grep -q "^image: x86-64-v4 (AVX-512), chosen at start-up from $tmp/alone/nabla" version.txt || fail "the image line is wrong"
  cached=$(ls "$XDG_CACHE_HOME"/nabla/*/nabla)
  [ "$(echo "$cached" | wc -l)" = 1 ] && [ "$(stat -c %a "$cached")" = 755 ] || fail "expected one cached image, mode 755: $cached"
  touch -d 2001-01-01 "$cached"
  ./nabla --version | grep -xc "$v4" >/dev/null || fail "the second start did not get the 512-bit kernels"
  [ "$(stat -c %Y "$cached")" = "$(date -d 2001-01-01 +%s)" ] || fail "the second start rewrote the cached image"
  # the opt-outs, the loop guard, an unwritable cache, a damaged appended image: the x86-64-v3 image runs on
  NABLA_AVX512=0 ./nabla --version | tee v3.txt | grep -xc "$v3" >/dev/null || fail "NABLA_AVX512=0 did not keep the 256-bit kernels"
  grep -qx "image: x86-64-v3 (AVX2): NABLA_AVX512=0" v3.txt || fail "NABLA_AVX512=0: wrong image line: $(cat v3.txt)"
  DOTNET_EnableAVX512=0 ./nabla --version | grep -xc "$v3" >/dev/null || fail "DOTNET_EnableAVX512=0 did not keep the 256-bit kernels"
  NABLA_IMAGE_FROM=/elsewhere/nabla ./nabla --version | grep -c "^image: x86-64-v3 (AVX2): started from /elsewhere/nabla" >/dev/null \
    || fail "the loop guard did not stop a second start"
  XDG_CACHE_HOME=/dev/null/cache ./nabla --version | grep -c "^image: x86-64-v3 (AVX2): the cache /dev/null/cache/nabla is not writable" >/dev/null \
    || fail "an unwritable cache did not leave the x86-64-v3 image running"
  cp nabla damaged
  python3 - <<'PY'
import struct
with open("damaged", "r+b") as f:
    f.seek(-64, 2)
    offset, length = struct.unpack("<qq", f.read(16))
    f.seek(offset + length // 2)
    b = f.read(1)
    f.seek(offset + length // 2)
    f.write(bytes([b[0] ^ 0x40]))
PY
  XDG_CACHE_HOME="$tmp/cache2" ./damaged --version | grep -c "^image: x86-64-v3 (AVX2): the appended x86-64-v4 image is damaged" >/dev/null \
    || fail "a damaged appended image was not refused"
  rm damaged
else
  grep -qx "$v3" version.txt || fail "/proc/cpuinfo lacks one of avx512f/bw/cd/dq/vl, yet the binary did not run its 256-bit kernels: $(tr '\n' ' ' <version.txt)"
  grep -q "^image: x86-64-v3 (AVX2): this CPU (or its OS) does not run AVX-512" version.txt || fail "the image line is wrong: $(tr '\n' ' ' <version.txt)"
fi

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

# the 256-bit image's output, to compare with the emulated Haswell's
NABLA_AVX512=0 ./nabla explain --batch-size 4 >explain-v3.txt
if command -v qemu-x86_64 >/dev/null 2>&1; then
  qemu-x86_64 -cpu Haswell ./nabla --version >haswell.txt 2>haswell-err.txt \
    || fail "the binary did not run on an emulated Haswell (AVX2, no AVX-512): $(cat haswell.txt; grep -v "TCG doesn't support" haswell-err.txt)"
  grep -qx "$v3" haswell.txt || fail "an emulated Haswell did not get the 256-bit kernels: $(tr '\n' ' ' <haswell.txt)"
  grep -q "^image: x86-64-v3 (AVX2): this CPU (or its OS) does not run AVX-512" haswell.txt || fail "Haswell: wrong image line"
  qemu-x86_64 -cpu Haswell ./nabla explain --batch-size 4 2>/dev/null | cmp - explain-v3.txt \
    || fail "explain on an emulated Haswell differs from this CPU's 256-bit image"
  if qemu-x86_64 -cpu Nehalem ./nabla --version >old.txt 2>&1; then fail "a pre-AVX2 CPU (Nehalem) was not refused"; fi
  grep -q "The required instruction sets are not supported by the current CPU." old.txt \
    || fail "a pre-AVX2 CPU got no clear message: $(cat old.txt)"
else
  echo "aot-check: qemu-user is not installed: the emulated Haswell/Nehalem runs were not made" >&2
fi
echo "aot-check: ok"
