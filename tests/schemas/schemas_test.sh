#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The schemas (schemas/*.proto, schemas/messages.tsv) against the catalogue,
# the build and the GOFLEX pilot FlexOffers:
# - messages.tsv names every msg of exchange.tsv and every "<msg>.result" of
#   its request rows, and nothing else, each once;
# - every type it names is a message of the protos, and its protobuf-c
#   descriptor is in $BUILD/lib/libgf-schemas.a, as is the generated registry, whose
#   table has one entry per line, in strcmp order;
# - the protos follow docs/schemas.md: proto2, package goflex, lowerCamelCase
#   field names, *Time/*Timestamp strings, *Interval int64, a comment on every
#   field;
# - every key of the three pilot FlexOffers, recursively, is a field of the
#   right message with a compatible type (null only where optional, enum
#   values among the enum's, integers where the field is an integer).
# Run from anywhere; needs the build ($BUILD, default build) and jq.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
build=${BUILD:-build}
samples=${GF_SAMPLES:-$top/../shared/fixtures/goflex-samples}
exchange=schemas/exchange.tsv
messages=schemas/messages.tsv
lib=$build/lib/libgf-schemas.a
registry=$build/gen/schema_registry.c
passed=0 failed=0
ok() {
	echo "ok - $1"
	passed=$((passed + 1))
}
not_ok() { # DESCRIPTION [DETAILS]
	echo "not ok - $1"
	[ -n "${2:-}" ] && sed 's/^/#   /' <<<"$2"
	failed=$((failed + 1))
}
check() { # DESCRIPTION DETAILS: ok when DETAILS is empty
	if [ -z "$2" ]; then ok "$1"; else not_ok "$1" "$2"; fi
}

# --- messages.tsv against exchange.tsv --------------------------------------
want=$(awk -F'\t' '!/^#/ && NF >= 5 { print $3; if ($5 ~ /(^|,)request(,|$)/) print $3 ".result" }' \
	"$exchange" | LC_ALL=C sort -u)
bad_lines=$(awk -F'\t' '!/^#/ && !/^[ \t]*$/ && (NF != 2 || $1 == "" || $2 !~ /^goflex\.[A-Z]/) {
	print FILENAME ":" NR ": " $0 }' "$messages")
check "messages.tsv lines are msg<TAB>goflex.Type" "$bad_lines"
have_all=$(awk -F'\t' '!/^#/ && NF >= 1 && $1 != "" { print $1 }' "$messages" | LC_ALL=C sort)
dups=$(uniq -d <<<"$have_all")
check "messages.tsv lists each msg once" "$dups"
have=$(uniq <<<"$have_all")
n_want=$(grep -c . <<<"$want")
if [ "$n_want" -lt 40 ]; then
	not_ok "exchange.tsv yields only $n_want message types; the parser no longer matches it"
fi
check "every msg and request .result of exchange.tsv ($n_want) has a schema in messages.tsv" \
	"$(comm -23 <(echo "$want") <(echo "$have"))"
check "messages.tsv has no msg that exchange.tsv does not carry" \
	"$(comm -13 <(echo "$want") <(echo "$have"))"

# --- the types exist: in the protos and in the build ------------------------
decl=$(awk -f tests/schemas/proto-fields.awk schemas/*.proto)
types=$(awk -F'\t' '!/^#/ && NF == 2 { sub(/^goflex\./, "", $2); print $2 }' "$messages" |
	LC_ALL=C sort -u)
proto_msgs=$(awk -F'\t' '$1 == "M" { print $2 }' <<<"$decl" | LC_ALL=C sort -u)
check "every type of messages.tsv is a message of schemas/*.proto" \
	"$(comm -23 <(echo "$types") <(echo "$proto_msgs"))"
# protobuf-c's mangling of a full name into its descriptor's symbol.
descriptor() {
	awk -v name="goflex.$1" 'BEGIN {
		n = split(name, part, "."); out = ""
		for (i = 1; i <= n; i++) {
			s = ""; was_up = 1
			for (j = 1; j <= length(part[i]); j++) {
				c = substr(part[i], j, 1); up = (c ~ /[A-Z]/)
				if (up && !was_up) s = s "_"
				s = s tolower(c); was_up = up
			}
			out = out (i > 1 ? "__" : "") s
		}
		print out "__descriptor"
	}'
}
if [ ! -r "$lib" ]; then
	not_ok "the library $lib exists (run make first)"
else
	syms=$(nm --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | LC_ALL=C sort -u)
	missing=""
	while read -r t; do
		[ -z "$t" ] && continue
		d=$(descriptor "$t")
		grep -qxF "$d" <<<"$syms" || missing+="goflex.$t: no $d"$'\n'
	done <<<"$types"
	check "libgf-schemas.a defines the descriptor of every type of messages.tsv" "${missing%$'\n'}"
	reg_missing=""
	for s in gf_schema_registry gf_schema_registry_len; do
		grep -qxF "$s" <<<"$syms" || reg_missing+="$s "
	done
	check "libgf-schemas.a defines the schema registry" "$reg_missing"
fi
if [ ! -r "$registry" ]; then
	not_ok "the generated registry $registry exists (run make first)"
else
	reg=$(sed -n 's/^\t{"\([^"]*\)", &\([a-z0-9_]*\)},$/\1\t\2/p' "$registry")
	reg_msgs=$(cut -f1 <<<"$reg")
	expect=$(while IFS=$'\t' read -r m t; do
		printf '%s\t%s\n' "$m" "$(descriptor "${t#goflex.}")"
	done < <(awk -F'\t' '!/^#/ && NF == 2' "$messages") | LC_ALL=C sort)
	len=$(sed -n 's/^const size_t gf_schema_registry_len = \([0-9]*\);$/\1/p' "$registry")
	problems=""
	[ "$reg" = "$expect" ] || problems+="entries differ from messages.tsv:"$'\n'"$(diff <(echo "$expect") <(echo "$reg"))"$'\n'
	[ "$reg_msgs" = "$(LC_ALL=C sort <<<"$reg_msgs")" ] || problems+="not in strcmp order"$'\n'
	[ "$len" = "$(grep -c . <<<"$reg")" ] || problems+="gf_schema_registry_len is $len"$'\n'
	check "the registry has one entry per line of messages.tsv, sorted, with its length" \
		"${problems%$'\n'}"
fi
if dup_out=$(printf 'kv.get\tgoflex.KvGet\nkv.get\tgoflex.KvGet\n' |
	sh schemas/gen-registry.sh /dev/stdin schemas/kv.proto 2>&1 >/dev/null); then
	not_ok "gen-registry.sh refuses a msg listed twice" "it succeeded"
elif grep -q 'listed twice' <<<"$dup_out"; then
	ok "gen-registry.sh refuses a msg listed twice"
else
	not_ok "gen-registry.sh refuses a msg listed twice" "$dup_out"
fi

# --- conventions of docs/schemas.md -----------------------------------------
check "every proto says syntax proto2 and package goflex" \
	"$(awk -F'\t' '$1 == "H" && ($3 != "proto2" || $4 != "goflex") { print $2 ": syntax " $3 ", package " $4 }' <<<"$decl")"
check "field names are lowerCamelCase" \
	"$(awk -F'\t' '$1 == "F" && $3 !~ /^[a-z][A-Za-z0-9]*$/ { print $7 ": " $3 }' <<<"$decl")"
check "fields named *Time or *Timestamp are strings (RFC 3339)" \
	"$(awk -F'\t' '$1 == "F" && $3 ~ /(Time|Timestamp)$/ && $6 != "string" { print $7 ": " $3 " is " $6 }' <<<"$decl")"
# numSecondsPerInterval is the GOFLEX name of a length in seconds, the one
# field ending in "Interval" that is not an interval number.
check "fields named *Interval are int64 interval numbers (numSecondsPerInterval aside)" \
	"$(awk -F'\t' '$1 == "F" && $3 ~ /Interval$/ && $3 != "numSecondsPerInterval" && ($6 != "int64" || $4 == "repeated") { print $7 ": " $3 " is " $4 " " $6 }' <<<"$decl")"
check "every field type resolves to a scalar, message or enum" \
	"$(awk -F'\t' '$1 == "F" && $5 == "unknown" { print $7 ": " $3 " of type " $6 }' <<<"$decl")"
check "every field has a comment" \
	"$(awk -F'\t' '$1 == "F" && $8 != 1 { print $7 ": " $3 }' <<<"$decl")"

# --- the pilot FlexOffers ---------------------------------------------------
# jq lists every path of a sample as "key/[index]/key" with its JSON type and
# scalar value; awk walks each path through the FlexOffer schema.
if ! command -v jq >/dev/null; then
	not_ok "jq is installed (make deps)"
else
	for f in "$samples"/SampleFO_*.json; do
		name=${f##*/}
		if [ ! -r "$f" ]; then
			not_ok "pilot FlexOffers found in $samples"
			break
		fi
		if ! paths=$(jq -r 'paths as $p
			| [($p | map(if type == "number" then "[\(.)]" else . end) | join("/")),
			   (getpath($p) | type),
			   (getpath($p) | if type == "object" or type == "array" or type == "null"
			                  then "" else tostring end)]
			| @tsv' "$f") || [ -z "$paths" ]; then
			not_ok "$name: jq reads it"
			continue
		fi
		problems=$(awk -F'\t' '
			NR == FNR {
				if ($1 == "F") { label[$2, $3] = $4; kind[$2, $3] = $5; type[$2, $3] = $6; has[$2, $3] = 1 }
				if ($1 == "V") value[$2, $3] = 1
				next
			}
			{
				n = split($1, key, "/"); jtype = $2; val = $3
				msg = "FlexOffer"; field = ""; elem = 0
				for (i = 1; i <= n; i++) {
					if (key[i] ~ /^\[[0-9]+\]$/) {
						if (field == "" || label[msg, field] != "repeated") {
							print $1 ": an array where the schema has no repeated field"; next
						}
						elem = 1
						continue
					}
					if (field != "") {
						if (kind[msg, field] != "message") {
							print $1 ": " field " is not a message"; next
						}
						msg = type[msg, field]
					}
					field = key[i]; elem = 0
					if (!has[msg, field]) { print $1 ": no field " field " in " msg; next }
				}
				l = label[msg, field]; k = kind[msg, field]; t = type[msg, field]
				if (jtype == "array") {
					if (l != "repeated") print $1 ": an array for " l " " t
				} else if (l == "repeated" && !elem) {
					print $1 ": " jtype " for repeated " t
				} else if (jtype == "null") {
					if (l != "optional") print $1 ": null for a " l " field"
				} else if (jtype == "object") {
					if (k != "message") print $1 ": an object for " k " " t
				} else if (jtype == "string") {
					if (k == "enum") {
						if (!((t, val) in value)) print $1 ": \"" val "\" is not a value of " t
					} else if (t != "string") print $1 ": a string for " t
				} else if (jtype == "boolean") {
					if (t != "bool") print $1 ": a boolean for " t
				} else if (jtype == "number") {
					if (t !~ /^(double|float|u?int(32|64)|s?fixed(32|64)|sint(32|64))$/)
						print $1 ": a number for " k " " t
					else if (t !~ /^(double|float)$/ && val !~ /^-?[0-9]+$/)
						print $1 ": " val " for integer " t
					else if (t ~ /^(uint|fixed)/ && val ~ /^-/)
						print $1 ": " val " for unsigned " t
				}
				checked++
			}
			END { if (checked == 0) print "no key checked" }' <(echo "$decl") <(echo "$paths"))
		n_keys=$(grep -c . <<<"$paths")
		check "$name: its $n_keys paths are FlexOffer fields of compatible types" "$problems"
	done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
