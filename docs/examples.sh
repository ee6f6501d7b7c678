#!/usr/bin/env bash
# Regenerates the command-line output shown in README.md and docs/*.md from the built CLI; with --check, changes
# nothing and lists the blocks that differ from what the code prints now (exit 1). A block is a fenced block right
# after a marker line:
#   <!-- example: CMD -->   the block is "$ CMD" and everything CMD prints (deterministic commands only)
#   <!-- excerpt: CMD -->   the log of a real run, whose timings vary: the lines CMD prints before training starts
#                           (up to its "run:" line) are regenerated; the block's later lines are kept as written
# CMD runs under bash in a new empty folder, with `nabla` the built CLI; the repository's path prints as nothing.
# Usage: dotnet build Nabla.sln -c Release && docs/examples.sh [--check]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cli="${NABLA_CLI:-$root/src/Nabla.Cli/bin/Release/net10.0/Nabla.Cli.dll}"
[ -f "$cli" ] || { echo "examples.sh: no built CLI at $cli (dotnet build Nabla.sln -c Release)" >&2; exit 2; }
check=0
[ "${1:-}" = "--check" ] && check=1

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
printf '#!/bin/sh\nexec dotnet "%s" "$@"\n' "$cli" > "$tmp/bin/nabla"
chmod +x "$tmp/bin/nabla"
export PATH="$tmp/bin:$PATH"
unset COLUMNS # the full lines a log gets, whatever the terminal
set -m # each background command gets its own process group, so an excerpt's run can be stopped whole

# Runs CMD in a new folder; prints its output with the folder's and the repository's paths made relative.
run() {
  local work
  work="$(mktemp -d "$tmp/run.XXXX")"
  if [ "$2" = example ]; then
    (cd "$work" && bash -c "$1") > "$work.log" 2>&1 || true
  else
    (cd "$work" && exec bash -c "$1") > "$work.log" 2>&1 &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null && ! grep -q '^run: ' "$work.log"; do sleep 0.2; done
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    sed -i '/^run: /q' "$work.log"
  fi
  sed -e "s|$work/||g; s|$root/||g" "$work.log"
}

status=0
for file in "$root/README.md" "$root"/docs/*.md; do
  mapfile -t lines < "$file"
  out=()
  i=0
  while [ "$i" -lt "${#lines[@]}" ]; do
    line="${lines[$i]}"
    out+=("$line")
    i=$((i + 1))
    [[ "$line" =~ ^'<!-- '(example|excerpt)': '(.*)' -->'$ ]] || continue
    kind="${BASH_REMATCH[1]}" cmd="${BASH_REMATCH[2]}"
    name="${file#"$root"/}:$i"
    [[ "${lines[$i]:-}" == '```'* ]] || { echo "$name: the marker must be followed by a fenced block" >&2; exit 2; }
    out+=("${lines[$i]}")
    i=$((i + 1))
    old=()
    while [ "$i" -lt "${#lines[@]}" ] && [ "${lines[$i]}" != '```' ]; do old+=("${lines[$i]}"); i=$((i + 1)); done
    run "$cmd" "$kind" > "$tmp/output" # not in a subshell: there, set -m is off and the kill would miss
    mapfile -t new < <(printf '$ %s\n' "$cmd"; cat "$tmp/output")
    if [ "$kind" = excerpt ]; then
      rest=0
      for ((k = 0; k < ${#old[@]}; k++)); do [[ "${old[$k]}" == 'run: '* ]] && { rest=$((k + 1)); break; }; done
      new+=("${old[@]:$rest}")
    fi
    if [ "$(printf '%s\n' "${old[@]}")" != "$(printf '%s\n' "${new[@]}")" ]; then
      status=1
      if [ "$check" = 1 ]; then
        echo "$name: the $kind of '$cmd' differs from what the code prints; regenerate it with docs/examples.sh"
        diff <(printf '%s\n' "${old[@]}") <(printf '%s\n' "${new[@]}") | head -n 20 || true
      fi
    fi
    out+=("${new[@]}")
  done
  [ "$check" = 1 ] || printf '%s\n' "${out[@]}" > "$file"
done
[ "$check" = 1 ] && exit "$status"
exit 0
