#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The options are one set in three places: each command's --help, the man
# page (tcpscope.8: every option with the commands that take it) and the
# README's usage; and the man page renders without a warning. Exit 0 when
# they agree, 1 with the differences.
set -u
cd "$(dirname "$0")/.."
T=${TCPSCOPE:-${OUTPUT:-.output}/tcpscope}
D=$(mktemp -d /tmp/tcpscope-docs.XXXXXX)
trap 'rm -rf "$D"' EXIT
rc=0

# "--option command" for every option each command's --help lists
for c in trace diagnose top report hooks serve; do
	"$T" "$c" --help | grep -oE '^ +(-[^-], )?--[a-z0-9.-]+' | grep -oE -- '--[a-z0-9.-]+' |
		grep -vxE -- '--(help|usage|version)' | sed "s/\$/ $c/"
done | sort -u >"$D/help"
# the same from the man page's OPTIONS: a .TP entry's option names, then
# its "Commands: a, b." line
sed -n '/^\.SH OPTIONS/,/^\.SH /p' tcpscope.8 | sed 's/\\-/-/g' | awk '
	/^\.TP/ { getline; n = split($0, w, /[ ="]+/); opts = ""
		  for (i = 1; i <= n; i++) if (w[i] ~ /^--[a-z0-9.-]+$/) opts = opts " " w[i] }
	/^Commands:/ { sub(/^Commands: */, ""); sub(/\.$/, ""); m = split($0, c, /, */)
		       k = split(opts, o, " ")
		       for (i = 1; i <= k; i++) for (j = 1; j <= m; j++) print o[i], c[j] }' |
	sort -u >"$D/man"
# the README's usage block: every option it names
sed -n '/^## Usage/,/^## /p' README.md | sed -n '/^```$/,/^```$/p' |
	grep -oE -- '--[a-z0-9.-]+[a-z0-9]' | sort -u >"$D/readme"

if ! diff -u "$D/help" "$D/man" >"$D/d1"; then
	echo "--help (-) and tcpscope.8 (+) differ in options or their commands:"
	grep '^[-+]-' "$D/d1"
	rc=1
fi
cut -d' ' -f1 "$D/help" | sort -u >"$D/help.names"
if ! diff -u "$D/help.names" "$D/readme" >"$D/d2"; then
	echo "--help (-) and README.md's usage (+) differ:"
	grep '^[-+]-' "$D/d2"
	rc=1
fi
[ -s "$D/help" ] && [ "$(wc -l <"$D/help.names")" -ge 30 ] ||
	{ echo "too few options read from --help: $(wc -l <"$D/help.names")"; rc=1; }
# the man page renders without a warning (groff-base: scripts/install-deps.sh)
w=$(groff -man -Tutf8 -ww -z tcpscope.8 2>&1)
[ -z "$w" ] || { echo "tcpscope.8: $w"; rc=1; }
exit $rc
