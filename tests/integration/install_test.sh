#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make install and make uninstall (issue 15, item 4): the tree under a
# DESTDIR, man pages that render and name every option and configuration key
# of their program (and each key in its docs), the installed gfctl running,
# systemd units that systemd-analyze verifies, and an installation under a
# PREFIX that works: its gf-site-init makes a site whose mosquitto.conf loads
# the installed plugin, its gf-broker starts it, its gfctl site check passes.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'broker_stop "$tmp/site"; [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
MAKE=(make -C "$top" --no-print-directory BUILD="$BUILD" ${SAN:+SAN=1})
AGENTS=$(cd "$top/agents" && for d in */; do [ -n "$(ls "$d"*.c 2>/dev/null)" ] && echo "${d%/}"; done)
TOOLS=$(cd "$top/tools" && for d in */; do [ -n "$(ls "$d"*.c 2>/dev/null)" ] && echo "${d%/}"; done)

# --- the tree under DESTDIR -----------------------------------------------------------
D=$tmp/dest
"${MAKE[@]}" install DESTDIR="$D" PREFIX=/usr/local >"$tmp/install.out" 2>&1; rc=$?
check "make install DESTDIR=... exits 0" eq $rc 0 || tail -20 "$tmp/install.out"
P=$D/usr/local
missing=()
for a in $AGENTS; do
	for f in "sbin/$a" "share/man/man8/$a.8" "lib/systemd/system/$a@.service"; do
		[ -e "$P/$f" ] || missing+=("$f")
	done
done
for t in $TOOLS; do
	for f in "bin/$t" "share/man/man1/$t.1"; do [ -e "$P/$f" ] || missing+=("$f"); done
done
for f in bin/gf-broker bin/gf-site-init bin/gf-certs bin/gf-bridge-conf \
	share/man/man8/gf-broker.8 share/man/man8/gf-site-init.8 share/man/man1/gf-certs.1 \
	share/man/man1/gf-bridge-conf.1 lib/goflex-bus/goflex_privacy.so \
	lib/systemd/system/gf-broker@.service share/goflex-bus/exchange.tsv \
	share/goflex-bus/limits.tsv share/goflex-bus/mosquitto.conf.in \
	share/goflex-bus/site-template/agents/gf-fman.conf share/doc/goflex-bus/README.md \
	share/doc/goflex-bus/docs/ops.md share/doc/goflex-bus/docs/gfctl.md; do
	[ -e "$P/$f" ] || missing+=("$f")
done
check "every program, its man page and unit, the plugin, data and docs are there" \
	eq "${missing[*]:-}" "" || echo "# missing: ${missing[*]}"
check "... the agents executable" test -x "$P/sbin/gf-fman"
check "... the plugin is the build's" cmp -s "$P/lib/goflex-bus/goflex_privacy.so" "$BUILD/lib/goflex_privacy.so"
check "... nothing outside the PREFIX" eq "$(ls "$D")" "usr"
check "... no unsubstituted @NAME@ in the units and man pages" \
	eq "$(grep -rl '@[A-Z]*@' "$P/lib/systemd" "$P/share/man" | wc -l)" 0
check "... the installed gf-broker names the installed plugin" \
	grep -q "^plugin=/usr/local/lib/goflex-bus/goflex_privacy.so " "$P/bin/gf-broker"

# --- man pages ------------------------------------------------------------------------
bad=
for m in "$P"/share/man/man*/*; do
	w=$(groff -man -Tutf8 -ww -z "$m" 2>&1)
	[ -z "$w" ] || bad="$bad $(basename "$m"): $w"
done
check "every man page renders without a warning (groff -ww)" eq "$bad" ""
# keys PROG: the configuration keys the agent accepts (its -h, from its table).
keys() { "$BUILD/bin/$1" -h | sed -n '/^configuration keys:/,/^$/s/^  \([a-z_0-9]*\) .*/\1/p'; }
for a in $AGENTS; do
	k=$(keys "$a")
	n=$(wc -w <<<"$k")
	miss=
	for key in $k; do grep -qF "\\fB$key\\fR" "$P/share/man/man8/$a.8" || miss="$miss $key"; done
	check "$a.8 names each of its $n configuration keys" eq "$n${miss}" "$n"
	# the docs: the agent's page, docs/agents.md (the runtime's keys) and the
	# pages it refers to (a device's keys are in docs/foa.md)
	docs="$top/docs/${a#gf-}.md $top/docs/agents.md"
	docs="$docs $(grep -o 'docs/[a-z-]*\.md' "$top/docs/${a#gf-}.md" 2>/dev/null | sort -u | sed "s|^|$top/|")"
	miss=
	# shellcheck disable=SC2086
	for key in $k; do grep -qw -- "$key" $docs 2>/dev/null || miss="$miss $key"; done
	check "... and docs/${a#gf-}.md (or the docs it names) each of them" eq "$n${miss}" "$n"
	miss=
	for o in $("$BUILD/bin/$a" -h | sed -n 's/^  \(-[a-z]\|--[a-z-]*\) .*/\1/p'); do
		grep -qF -- "\\fB${o//-/\\-}\\fR" "$P/share/man/man8/$a.8" || miss="$miss $o"
	done
	check "... and each of its options" eq "${miss}" ""
done
miss=
for o in $("$BUILD/bin/gfctl" --help | sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}\(--[a-z-]*\).*/\2/p'); do
	grep -qF -- "\\fB${o//-/\\-}\\fR" "$P/share/man/man1/gfctl.1" || miss="$miss $o"
done
check "gfctl.1 names each of gfctl's options" eq "$miss" ""
for c in $("$BUILD/bin/gfctl" --help | sed -n 's/^  gfctl \([a-z]*\).*/\1/p'); do
	check "gfctl.1 has the command '$c'" grep -q "^\.SS $c$" "$P/share/man/man1/gfctl.1"
done
check "gfctl.1 has site check's synopsis" grep -qF 'site\fR \fBcheck\fR \fISITEDIR' "$P/share/man/man1/gfctl.1"

# --- the installed gfctl runs ---------------------------------------------------------
out=$("$P/bin/gfctl" --version); rc=$?
check "the installed gfctl runs: --version" eq "$rc $out" "0 gfctl 0.1.0"
out=$("$P/bin/gfctl" validate flexoffer "$top/../shared/fixtures/goflex-samples/SampleFO_Cyprus.json"); rc=$?
check "... and validates a pilot FlexOffer" eq "$rc $out" "0 valid"

# --- systemd units ----------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
	# Installed under a real PREFIX, so that the paths in the units exist.
	R=$tmp/prefix
	"${MAKE[@]}" install PREFIX="$R" >/dev/null 2>&1
	mkdir -p "$tmp/units"
	for u in "$R"/lib/systemd/system/*@.service; do
		b=$(basename "$u" .service)
		cp "$u" "$tmp/units/${b}site1.service"
	done
	out=$(cd "$tmp/units" && systemd-analyze verify --man=no ./*.service 2>&1); rc=$?
	check "systemd-analyze verify: every unit clean ($(ls "$tmp/units" | wc -l) units)" \
		eq "$rc $out" "0 " || echo "$out" | sed 's/^/#   /'
	u=$tmp/units/gf-fman@site1.service
	check "an agent's unit restarts on failure" grep -qx 'Restart=on-failure' "$u"
	check "... writes only its state directory" grep -qx 'ReadWritePaths=/var/lib/goflex/%i/state/gf-fman' "$u"
	check "... with an empty capability set and ProtectSystem=strict" \
		eq "$(grep -cxE 'CapabilityBoundingSet=|ProtectSystem=strict|NoNewPrivileges=yes|ProtectHome=yes|PrivateTmp=yes' "$u")" 5
	check "... runs the installed agent with the site's configuration" \
		grep -qx "ExecStart=$R/sbin/gf-fman -d -c /var/lib/goflex/%i/agents/gf-fman.conf" "$u"
	# A unit made worse must fail the check: it is not vacuous.
	sed 's|^ExecStart=[^ ]*|ExecStart=/nonexistent/gf-x|; s|^ProtectHome=yes|ProtectHome=maybe|' "$u" \
		>"$tmp/units/gf-bad@site1.service"
	(cd "$tmp/units" && systemd-analyze verify --man=no ./gf-bad@site1.service >/dev/null 2>&1); rc=$?
	check "... while a broken unit fails systemd-analyze verify" [ "$rc" -ne 0 ]
	rm -f "$tmp/units/gf-bad@site1.service"
	worst=$(cd "$tmp/units" && for f in ./*.service; do
		systemd-analyze security --offline=true "$f" 2>/dev/null |
			sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
	done | sort -n | tail -1)
	check "systemd-analyze security: every unit's exposure below 2.5 (worst $worst)" \
		awk -v w="$worst" 'BEGIN { exit !(w != "" && w < 2.5) }'

	# --- the installed programs make and check a site ------------------------------
	TLS_PORT=$(free_port)
	LOCAL_PORT=$(free_port)
	"$R/bin/gf-site-init" -d "$tmp/site" --site site7 --tls-port "$TLS_PORT" \
		--local-port "$LOCAL_PORT" --agents gf-fman >"$tmp/init.out" 2>&1; rc=$?
	check "the installed gf-site-init makes a site from the installed template" eq $rc 0 ||
		cat "$tmp/init.out"
	check "... whose mosquitto.conf loads the installed plugin" \
		grep -qx "plugin $R/lib/goflex-bus/goflex_privacy.so" "$tmp/site/mosquitto.conf"
	"$R/bin/gf-broker" -d "$tmp/site" --tls-port "$TLS_PORT" --local-port "$LOCAL_PORT" >/dev/null; rc=$?
	check "... the installed gf-broker starts it" eq $rc 0
	"$R/sbin/gf-fman" -c "$tmp/site/agents/gf-fman.conf" >"$tmp/fman.log" 2>&1 &
	fman=$!
	for _ in $(seq 1 20); do
		"$R/bin/gfctl" site check "$tmp/site" --timeout 0.5 >"$tmp/check.out" 2>&1 && break
		sleep 0.5
	done
	check "... the installed gfctl site check passes with the installed gf-fman online" \
		grep -q '^site site7: [0-9]* OK, 0 WARN, 0 FAIL$' "$tmp/check.out" || cat "$tmp/check.out"
	kill "$fman" 2>/dev/null
	wait "$fman" 2>/dev/null
	broker_stop "$tmp/site"
	"${MAKE[@]}" uninstall PREFIX="$R" >/dev/null 2>&1
else
	echo "# systemd-analyze is not installed: the units are not verified (apt-get install systemd)"
fi

# --- make uninstall -----------------------------------------------------------------
"${MAKE[@]}" uninstall DESTDIR="$D" PREFIX=/usr/local >"$tmp/uninstall.out" 2>&1; rc=$?
check "make uninstall exits 0" eq $rc 0
check "... and leaves no file behind" eq "$(find "$D" -type f | wc -l)" 0 ||
	find "$D" -type f | sed 's/^/#   /'
check "... nor a directory under the PREFIX" test ! -e "$D/usr/local"

finish
