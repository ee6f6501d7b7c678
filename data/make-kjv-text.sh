#!/bin/sh
# Makes data/text/kjv-genesis-exodus.txt: Genesis and Exodus of the King James Version (1611, public domain), one
# verse per line ("1:1 In the beginning ..."), each book under its title line. The text comes from Debian's
# bible-kjv-text package (the Bible Retrieval System's compressed KJV, read back with its `bible` program from
# bible-kjv). Needs apt-get and dpkg-deb on amd64; rerun with: sh data/make-kjv-text.sh
set -eu
cd "$(dirname "$0")"
out=text/kjv-genesis-exodus.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download bible-kjv-text=4.38 bible-kjv=4.38 >/dev/null)
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/x"; done
bible() { "$tmp/x/usr/bin/bible" -p "$tmp/x/usr/lib" -f "$@"; }
mkdir -p text
{
    printf 'The First Book of Moses, called Genesis\n\n'
    bible gen1:1-50:26 | sed -E 's/^Ge([0-9]+:[0-9]+) /\1 /'
    printf '\nThe Second Book of Moses, called Exodus\n\n'
    bible ex1:1-40:38 | sed -E 's/^Exo([0-9]+:[0-9]+) /\1 /'
} > "$out.tmp"
# every line is a title, empty, or a verse "C:V text"
if grep -v -E '^([0-9]+:[0-9]+ .+|The (First|Second) Book of Moses, called (Genesis|Exodus)|)$' "$out.tmp"; then
    echo "make-kjv-text.sh: unexpected lines above" >&2
    exit 1
fi
mv "$out.tmp" "$out"
wc -c -l "$out"
sha256sum "$out"
