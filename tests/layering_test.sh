#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The layers of lib/ (README "Layout", docs/layers.md) and who may use what:
#
#   base     nothing of ours
#   bus      base
#   payload  base (and the generated schema code)
#   engine   base (and, in fo_message only, the generated schema code)
#   devices  engine, base
#   anon     base
#   meter    base
#   grid     base
#   mqtt     base
#   agent    mqtt, bus, payload, base
#   broker-plugin/  base, bus, payload
#
# Checked twice, on the sources and on the built objects:
#  1. includes: every lib header is included by its folder ("bus/policy.h"),
#     and a file includes only headers of the layers it may use; generated
#     protobuf headers only in payload/ and engine/fo_message.*;
#  2. symbols: every gf_ symbol an object of a layer uses is defined in that
#     layer or one it may use (nm over $BUILD/lib/libgf-*.a and the plugin's
#     objects). The build's own link check ($BUILD/lib/layers/*.so) stops at
#     the first undefined symbol; this names every file and symbol.
#  3. no program folder (agents/, tools/, tests/bench/<cmd>/) has files that
#     call one another in a circle;
#  4. a program file exports nothing that no other file of it uses;
#  5. every global symbol of a program file in agents/ and tools/ is named
#     <program>_<module>_... (docs/conventions.md "Names"), and main.c
#     defines main only.
# Each broken rule is one failed check with the file and what it uses.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
pass=0 fail=0
check() { # NAME PROBLEMS
	if [ -z "$2" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $1:"
		sed 's/^/  /' <<<"$2"
	fi
}

layers="base bus payload engine devices anon meter grid mqtt agent"
declare -A may=(
	[base]="base"
	[bus]="bus base"
	[payload]="payload base schemas"
	[engine]="engine base schemas"
	[devices]="devices engine base"
	[anon]="anon base"
	[meter]="meter base"
	[grid]="grid base"
	[mqtt]="mqtt base"
	[agent]="agent mqtt bus payload base"
	[plugin]="bus payload base schemas"
)

# --- 1. includes ---------------------------------------------------------------
# Headers that live in a layer, by bare name, to catch an include without its
# folder anywhere in the tree.
declare -A home=()
for l in $layers; do
	for h in lib/$l/*.h; do home[$(basename "$h")]=$l; done
done
bare=""
while IFS=: read -r file line text; do
	[[ $text =~ \#include\ \"([^\"/]*)\" ]] || continue # (no fork per line: thousands)
	name=${BASH_REMATCH[1]}
	[ -n "${home[$name]:-}" ] || continue
	# a program's own header of the same name (none today) would be next to it
	[ -e "$(dirname "$file")/$name" ] && [ "$(dirname "$file")" != "lib/${home[$name]}" ] && continue
	bare+="$file:$line: #include \"$name\" (write \"${home[$name]}/$name\")"$'\n'
done < <(git grep -n '#include "' -- '*.c' '*.h')
check "lib headers are included by their folder" "${bare%$'\n'}"

uses_of() { # LAYER-OR-plugin FILES... -> "file:line: includes X" for each forbidden include
	local who=$1 f inc dir ok
	shift
	for f in "$@"; do
		while IFS=: read -r line text; do
			[[ $text =~ \#include\ \"([^\"]*)\" ]] || continue
			inc=${BASH_REMATCH[1]}
			case $inc in
			*.pb-c.h | schema_registry.h)
				dir=schemas
				# engine: only fo_message, the one place FlexOffers meet the wire
				[ "$who" = engine ] && [[ $f != lib/engine/fo_message.* ]] && {
					echo "$f:$line: includes $inc (in engine/ only fo_message may)"
					continue
				}
				;;
			*/*) dir=${inc%%/*} ;;
			*) continue ;;
			esac
			case " $layers schemas " in *" $dir "*) ;; *) continue ;; esac
			ok=0
			for m in ${may[$who]}; do [ "$m" = "$dir" ] && ok=1; done
			[ $ok = 1 ] || echo "$f:$line: includes $inc (${who} may use only: ${may[$who]})"
		done < <(grep -n '#include "' "$f")
	done
}
for l in $layers; do
	check "lib/$l/ includes only ${may[$l]}" "$(uses_of "$l" lib/"$l"/*.[ch])"
done
check "broker-plugin/ includes only ${may[plugin]}" "$(uses_of plugin broker-plugin/*.[ch])"

# --- 2. symbols ----------------------------------------------------------------
missing=""
for l in $layers schemas; do
	[ -r "$BUILD/lib/libgf-$l.a" ] || missing+="$BUILD/lib/libgf-$l.a "
done
if [ -n "$missing" ]; then
	check "the layer archives are built (make)" "missing: $missing"
else
	# "symbol layer" for every gf_ (and protobuf descriptor) symbol defined
	defs=$(for l in $layers schemas; do
		nm -g --defined-only "$BUILD/lib/libgf-$l.a" 2>/dev/null |
			awk -v l="$l" 'NF == 3 { print $3, l }'
	done | sort -u)
	undefined_uses() { # WHO DIR ARCHIVE-OR-OBJECTS...: "file uses sym from layer/"
		local who=$1 dir=$2
		shift 2
		nm -A -u "$@" | awk '{ o = $1; sub(/:$/, "", o); sub(/.*:/, "", o); print $NF, o }' |
			sort -k1,1 | join - <(echo "$defs") |
			awk -v may=" ${may[$who]} " -v who="$who" -v dir="$dir" '
				index(may, " " $3 " ") == 0 {
					o = $2; sub(/.*\//, "", o); sub(/\.o$/, ".c", o)
					printf "%s%s uses %s from %s/ (%s may use only:%s)\n", dir, o, $1, $3, who, may
				}'
	}
	for l in $layers; do
		check "lib/$l/ objects use only ${may[$l]}" \
			"$(undefined_uses "$l" "lib/$l/" "$BUILD/lib/libgf-$l.a")"
	done
	check "broker-plugin/ objects use only ${may[plugin]}" \
		"$(undefined_uses plugin broker-plugin/ "$BUILD"/obj/broker-plugin/*.o)"
fi

# --- programs: 3 to 5 -----------------------------------------------------------
# "D file symbol" for each global symbol a file of program folder DIR
# defines, "U file symbol" for each it uses, from the objects whose source
# is still there (a renamed or removed file leaves its object in the build
# tree). ASan's ODR indicators (__odr_asan.<variable>) are not ours.
symbols() { # DIR
	local dir=$1 o f
	for o in "$BUILD/obj/$dir"/*.o; do
		f=$(basename "$o" .o)
		[ -e "$o" ] && [ -e "$dir/$f.c" ] || continue
		nm -g --defined-only "$o" | awk -v f="$f" 'NF == 3 { print "D", f, $3 }'
		nm -u "$o" | awk -v f="$f" '{ print "U", f, $NF }'
	done | grep -v ' __odr_asan\.'
}

# --- 3. no circles inside a program ---------------------------------------------
# In each agents/<name>/, tools/<name>/ and tests/bench/<name>/, the files
# call one another without a circle: main.c is the root nothing calls, shared
# utilities sit in a leaf file (issue 11). A file "calls" another when an
# object uses a symbol the other defines; a circle is a strongly connected
# set of more than one file, printed with the symbols that close it.
circles() { # DIR
	local dir=$1
	symbols "$dir" | awk -v dir="$dir" '
		$1 == "D" { def[$3] = $2; next }
		{ use[++n] = $2 " " $3 }
		END {
			for (i = 1; i <= n; i++) {
				split(use[i], u, " ")
				if ((u[2] in def) && def[u[2]] != u[1]) {
					e = u[1] SUBSEP def[u[2]]
					if (!(e in why)) { why[e] = u[2]; out[u[1]] = out[u[1]] " " def[u[2]] }
					files[u[1]]; files[def[u[2]]]
				}
			}
			# reach[a][b] by repeated relaxation (a handful of files)
			for (a in files) { m = split(out[a], t, " "); for (k = 1; k <= m; k++) r[a, t[k]] = 1 }
			for (c in files) for (a in files) if ((a, c) in r) for (b in files) if ((c, b) in r) r[a, b] = 1
			for (e in why) {
				split(e, ab, SUBSEP)
				if ((ab[2], ab[1]) in r)
					printf "%s/%s.c -> %s.c (%s) is in a circle\n", dir, ab[1], ab[2], why[e]
			}
		}' | sort
}
for d in agents/*/ tools/*/ tests/bench/*/; do
	d=${d%/}
	ls "$BUILD/obj/$d"/*.o >/dev/null 2>&1 || continue
	check "$d/ has no call circle between its files" "$(circles "$d")"
done

# --- 4. what one file uses alone is static ---------------------------------------
# A function or variable a program file exports must be used by another file
# of the same program (main excepted); else it is static, or it goes.
lonely() { # DIR
	local dir=$1
	symbols "$dir" | awk -v dir="$dir" '
		$1 == "D" && $3 != "main" { def[$3] = $2; next }
		$1 == "U" { used[$3] = used[$3] " " $2 }
		END {
			for (s in def) {
				n = split(used[s], u, " "); other = 0
				for (k = 1; k <= n; k++) if (u[k] != def[s]) other = 1
				if (!other) printf "%s/%s.c: %s is used by no other file (static, or remove it)\n", dir, def[s], s
			}
		}' | sort
}
for d in agents/*/ tools/*/ tests/bench/*/; do
	d=${d%/}
	ls "$BUILD/obj/$d"/*.o >/dev/null 2>&1 || continue
	check "$d/ exports only what its other files use" "$(lonely "$d")"
done

# --- 5. names ---------------------------------------------------------------------
# In agents/<name>/ and tools/<name>/, a file's global symbols are
# <program>_<module>_<verb> (docs/conventions.md "Names"): program the
# folder's name without gf-, module the file's without .c. So no program
# defines a gf_ symbol (lib's), and a name says which file to open. main.c,
# the root nothing calls, defines main only.
misnamed() { # DIR
	local dir=$1 prog=${1##*/}
	prog=${prog#gf-}
	symbols "$dir" | awk -v dir="$dir" -v prog="$prog" '
		$1 != "D" { next }
		$2 == "main" && $3 != "main" {
			printf "%s/main.c: %s (main.c defines main only)\n", dir, $3
		}
		$2 != "main" && index($3, prog "_" $2 "_") != 1 {
			printf "%s/%s.c: %s is not named %s_%s_<verb>\n", dir, $2, $3, prog, $2
		}' | sort
}
for d in agents/*/ tools/*/; do
	d=${d%/}
	ls "$BUILD/obj/$d"/*.o >/dev/null 2>&1 || continue
	check "$d/ names what it exports <program>_<module>_<verb>" "$(misnamed "$d")"
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
