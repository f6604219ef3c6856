#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# schemas/exchange.tsv and the table of SPEC section 5 must agree (SPEC: "both
# must agree"). Expands the SPEC's lists ("fman, fmar", "any agent") into one
# row per (from, to, msg) and compares both ways, class and anon flag included.
# Rows the SPEC states elsewhere (presence, section 4; the broker's own feeds)
# are the only extra rows allowed in the TSV.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
spec=${GF_SPEC:-$top/../shared/SPEC.md}
tsv=$top/schemas/exchange.tsv
if [ ! -r "$spec" ]; then
	echo "cannot read the SPEC at $spec (set GF_SPEC)"
	echo "0 passed, 1 failed"
	exit 1
fi
agents="foa fman fmar doms sp dms ext"
from_spec=$(awk -F'|' -v agents="$agents" '
	/^## 5\./ { on = 1; next }
	/^## / { on = 0 }
	on && /^\| / && $2 !~ /^ *(from|---)/ {
		for (i = 2; i <= 5; i++) { gsub(/^ +| +$/, "", $i) }
		cls = $5; anon = (cls ~ /anon/) ? "anon" : "-"; sub(/,.*/, "", cls)
		f = $2; if (f == "any agent") f = agents
		gsub(/,/, " ", f); t = $3; gsub(/,/, " ", t); m = $4; gsub(/,/, " ", m)
		nf = split(f, fs, " "); nt = split(t, ts, " "); nm = split(m, ms, " ")
		for (a = 1; a <= nf; a++) for (b = 1; b <= nt; b++) for (c = 1; c <= nm; c++)
			print fs[a], ts[b], ms[c], cls, anon
	}' "$spec" | sort -u)
from_tsv=$(awk -F'\t' '!/^#/ && NF == 5 && $3 != "status" && $5 !~ /broker/ {
		anon = ($5 ~ /anon/) ? "anon" : "-"; print $1, $2, $3, $4, anon }' "$tsv" | sort -u)
passed=0 failed=0
n_spec=$(wc -l <<<"$from_spec")
if [ "$n_spec" -lt 50 ]; then
	echo "not ok - SPEC section 5 yields $n_spec rows; the parser no longer matches the SPEC"
	failed=$((failed + 1))
fi
missing=$(comm -23 <(echo "$from_spec") <(echo "$from_tsv"))
extra=$(comm -13 <(echo "$from_spec") <(echo "$from_tsv"))
if [ -z "$missing" ]; then
	echo "ok - every one of the $n_spec rows of SPEC section 5 is in exchange.tsv"
	passed=$((passed + 1))
else
	echo "not ok - rows of SPEC section 5 missing from exchange.tsv:"
	sed 's/^/#   /' <<<"$missing"
	failed=$((failed + 1))
fi
if [ -z "$extra" ]; then
	echo "ok - exchange.tsv has no row the SPEC does not state"
	passed=$((passed + 1))
else
	echo "not ok - rows of exchange.tsv not in SPEC section 5:"
	sed 's/^/#   /' <<<"$extra"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
