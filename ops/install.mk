# SPDX-License-Identifier: MIT
# make install / make uninstall / make man (included from the Makefile;
# docs/ops.md, "Installing").
#
#   make install PREFIX=/usr/local DESTDIR=
#
# installs under $(DESTDIR)$(PREFIX):
#   bin/           gfctl, gf-report, gf-certs, gf-bridge-conf, gf-broker, gf-site-init
#   sbin/          the agents (build/bin/gf-* of agents/)
#   lib/goflex-bus/goflex_privacy.so              the broker plugin
#   lib/systemd/system/gf-*@.service              one unit per agent and the broker
#   share/goflex-bus/   exchange.tsv, limits.tsv, mosquitto.conf.in, site-template/
#   share/doc/goflex-bus/   README.md, docs/*.md
#   share/man/man1, man8/   the man pages, generated from each program's --help
#
# The installed gf-broker and gf-bridge-conf find the plugin and the
# catalogue under PREFIX instead of the source tree; the units run the
# programs from PREFIX and keep a site in $(SITEROOT)/<site>.

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     := $(PREFIX)/bin
SBINDIR    := $(PREFIX)/sbin
PLUGINDIR  := $(PREFIX)/lib/goflex-bus
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DATADIR    := $(PREFIX)/share/goflex-bus
DOCDIR     := $(PREFIX)/share/doc/goflex-bus
MANDIR     := $(PREFIX)/share/man
SITEROOT   := /var/lib/goflex
MOSQUITTO_BIN ?= /usr/sbin/mosquitto
GF_VERSION := 0.1.0
INSTALL    ?= install

# The daemons (agents/) and the commands for people (tools/); the engine's
# benchmark commands (tests/bench/) are not installed.
INST_AGENTS := $(notdir $(patsubst %/,%,$(sort $(dir $(wildcard agents/*/*.c)))))
INST_TOOLS  := $(notdir $(patsubst %/,%,$(sort $(dir $(wildcard tools/*/*.c)))))
INST_SCRIPTS := ops/gf-broker ops/gf-site-init certs/gf-certs bridge/gf-bridge-conf
MAN_DIR     := $(BUILD)/man
# Section 8 for the daemons and gf-broker, 1 for the commands.
MAN_PAGES   := $(INST_AGENTS:%=$(MAN_DIR)/%.8) $(INST_TOOLS:%=$(MAN_DIR)/%.1) \
	$(MAN_DIR)/gf-broker.8 $(MAN_DIR)/gf-site-init.8 $(MAN_DIR)/gf-certs.1 \
	$(MAN_DIR)/gf-bridge-conf.1
UNIT_INS    := ops/systemd/gf-agent@.service.in ops/systemd/gf-broker@.service.in

.PHONY: install uninstall man

man: $(MAN_PAGES)

# doc_of PROG: the docs/ page of a program (gf-foa -> foa), if there is one.
doc_of = $(if $(wildcard docs/$(patsubst gf-%,%,$(1)).md),--doc $(patsubst gf-%,%,$(1)))
desc_of = $(if $(wildcard ops/man/$(1).desc),--desc ops/man/$(1).desc)

$(MAN_DIR)/%.8: $(BUILD)/bin/% ops/man/gen-man $(wildcard ops/man/*.desc)
	@mkdir -p $(@D)
	$< -h >$@.help 2>&1 || { cat $@.help; exit 1; }
	ops/man/gen-man $* $@.help --section 8 --version $(GF_VERSION) $(call doc_of,$*) \
		$(call desc_of,$*) >$@.tmp && rm -f $@.help && mv $@.tmp $@

$(MAN_DIR)/gfctl.1: $(BUILD)/bin/gfctl ops/man/gen-man $(wildcard ops/man/*.desc)
	@mkdir -p $(@D)
	$< --help >$@.help
	set -e; cmds=$$(sed -n 's/^  gfctl \([a-z][a-z]*\).*/\1/p' $@.help); \
	args=; for c in $$cmds; do \
		$< $$c --help >$@.cmd-$$c; args="$$args --cmd-help $$c=$@.cmd-$$c"; done; \
	ops/man/gen-man gfctl $@.help --section 1 --version $(GF_VERSION) --doc gfctl \
		$(call desc_of,gfctl) $$args >$@.tmp; rm -f $@.help $@.cmd-*; mv $@.tmp $@

$(MAN_DIR)/gf-report.1: $(BUILD)/bin/gf-report ops/man/gen-man
	@mkdir -p $(@D)
	$< --help >$@.help 2>&1 || true
	ops/man/gen-man gf-report $@.help --section 1 --version $(GF_VERSION) --doc demo >$@.tmp \
		&& rm -f $@.help && mv $@.tmp $@

# A tool of tools/ other than these two: its --help, verbatim.
$(MAN_DIR)/%.1: $(BUILD)/bin/% ops/man/gen-man
	@mkdir -p $(@D)
	$< --help >$@.help 2>&1 || true
	ops/man/gen-man $* $@.help --section 1 --version $(GF_VERSION) >$@.tmp \
		&& rm -f $@.help && mv $@.tmp $@

$(MAN_DIR)/gf-broker.8: ops/gf-broker ops/man/gen-man
	@mkdir -p $(@D)
	$< --help >$@.help
	ops/man/gen-man gf-broker $@.help --section 8 --version $(GF_VERSION) --doc ops \
		$(call desc_of,gf-broker) >$@.tmp && rm -f $@.help && mv $@.tmp $@

$(MAN_DIR)/gf-site-init.8: ops/gf-site-init ops/man/gen-man
	@mkdir -p $(@D)
	$< --help >$@.help
	ops/man/gen-man gf-site-init $@.help --section 8 --version $(GF_VERSION) --doc ops >$@.tmp \
		&& rm -f $@.help && mv $@.tmp $@

$(MAN_DIR)/gf-certs.1: certs/gf-certs ops/man/gen-man
	@mkdir -p $(@D)
	$< --help >$@.help
	ops/man/gen-man gf-certs $@.help --section 1 --version $(GF_VERSION) --doc ops >$@.tmp \
		&& rm -f $@.help && mv $@.tmp $@

$(MAN_DIR)/gf-bridge-conf.1: bridge/gf-bridge-conf ops/man/gen-man
	@mkdir -p $(@D)
	$< --help >$@.help
	ops/man/gen-man gf-bridge-conf $@.help --section 1 --version $(GF_VERSION) --doc ops >$@.tmp \
		&& rm -f $@.help && mv $@.tmp $@

# Paths the installed files name.
INST_SED := -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
	-e 's|@PLUGINDIR@|$(PLUGINDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
	-e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@SITEROOT@|$(SITEROOT)|g' \
	-e 's|@MOSQUITTO@|$(MOSQUITTO_BIN)|g' -e 's|@VERSION@|$(GF_VERSION)|g'
# The scripts' defaults point into the source tree; installed, into PREFIX.
SCRIPT_SED := -e 's|\$$top/build/lib/|$(PLUGINDIR)/|g' -e 's|\$$top/schemas/|$(DATADIR)/|g' \
	-e 's|\$$here/mosquitto.conf.in|$(DATADIR)/mosquitto.conf.in|g' \
	-e 's|\$$here/site-template|$(DATADIR)/site-template|g' \
	-e 's|(default build/lib/goflex_privacy.so)|(default $(PLUGINDIR)/goflex_privacy.so)|' \
	-e 's|(default schemas/|(default $(DATADIR)/|g' -e 's|^\(\s*\)schemas/limits.tsv)|\1$(DATADIR)/limits.tsv)|'

install: all man
	@set -e; d='$(DESTDIR)'; \
	$(INSTALL) -d $$d$(BINDIR) $$d$(SBINDIR) $$d$(PLUGINDIR) $$d$(UNITDIR) \
		$$d$(DATADIR) $$d$(DOCDIR)/docs $$d$(MANDIR)/man1 $$d$(MANDIR)/man8; \
	for p in $(INST_AGENTS); do $(INSTALL) -m 0755 $(BUILD)/bin/$$p $$d$(SBINDIR)/$$p; done; \
	for p in $(INST_TOOLS); do $(INSTALL) -m 0755 $(BUILD)/bin/$$p $$d$(BINDIR)/$$p; done; \
	for s in $(INST_SCRIPTS); do \
		sed $(SCRIPT_SED) $$s >$$d$(BINDIR)/$$(basename $$s).tmp; \
		chmod 0755 $$d$(BINDIR)/$$(basename $$s).tmp; \
		mv $$d$(BINDIR)/$$(basename $$s).tmp $$d$(BINDIR)/$$(basename $$s); done; \
	$(INSTALL) -m 0644 $(PLUGIN) $$d$(PLUGINDIR)/goflex_privacy.so; \
	$(INSTALL) -m 0644 schemas/exchange.tsv schemas/limits.tsv ops/mosquitto.conf.in $$d$(DATADIR)/; \
	cp -R ops/site-template $$d$(DATADIR)/; \
	$(INSTALL) -m 0644 README.md $$d$(DOCDIR)/; \
	$(INSTALL) -m 0644 docs/*.md $$d$(DOCDIR)/docs/; \
	for m in $(MAN_PAGES); do \
		sec=$${m##*.}; sed $(INST_SED) $$m >$$d$(MANDIR)/man$$sec/$$(basename $$m); done; \
	sed $(INST_SED) ops/systemd/gf-broker@.service.in >$$d$(UNITDIR)/gf-broker@.service; \
	for p in $(INST_AGENTS); do \
		doc=$$(echo $$p | sed 's/^gf-//'); \
		sed $(INST_SED) -e "s|@PROG@|$$p|g" -e "s|@DOC@|$$doc|g" \
			-e "s|@WHAT@|$$($(BUILD)/bin/$$p -h 2>&1 | sed -n 2p | cut -d: -f1 | sed 's/[|&]/ /g')|g" \
			ops/systemd/gf-agent@.service.in >$$d$(UNITDIR)/$$p@.service; done; \
	chmod 0644 $$d$(UNITDIR)/gf-*@.service $$d$(MANDIR)/man1/* $$d$(MANDIR)/man8/*; \
	echo "installed into $$d$(PREFIX) (docs/ops.md: bringing up a site)"

uninstall:
	@set -e; d='$(DESTDIR)'; \
	for p in $(INST_AGENTS); do rm -f $$d$(SBINDIR)/$$p $$d$(UNITDIR)/$$p@.service \
		$$d$(MANDIR)/man8/$$p.8; done; \
	for p in $(INST_TOOLS); do rm -f $$d$(BINDIR)/$$p $$d$(MANDIR)/man1/$$p.1; done; \
	for s in $(INST_SCRIPTS); do b=$$(basename $$s); rm -f $$d$(BINDIR)/$$b \
		$$d$(MANDIR)/man1/$$b.1 $$d$(MANDIR)/man8/$$b.8; done; \
	rm -f $$d$(UNITDIR)/gf-broker@.service; \
	rm -rf $$d$(PLUGINDIR) $$d$(DATADIR) $$d$(DOCDIR); \
	for dir in $(BINDIR) $(SBINDIR) $(UNITDIR) $(MANDIR)/man1 $(MANDIR)/man8 $(MANDIR) \
		$(PREFIX)/lib/systemd $(PREFIX)/lib $(PREFIX)/share/doc $(PREFIX)/share $(PREFIX); do \
		rmdir $$d$$dir 2>/dev/null || true; done; \
	echo "removed from $$d$(PREFIX)"
