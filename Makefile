# SPDX-License-Identifier: MIT
# One non-recursive Makefile for the whole tree. `make help` lists the targets.

include config.mk

ifeq ($(SAN),1)
CFLAGS_OPT := -O1 -g -fno-omit-frame-pointer
SANFLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all
WERROR     := -Werror
endif

CPPFLAGS := $(CPPFLAGS_BASE) $(CPPFLAGS_EXTRA)
CFLAGS   := $(CFLAGS_BASE) $(SANFLAGS) $(WERROR) $(CFLAGS_EXTRA)
LDFLAGS  := $(SANFLAGS) $(LDFLAGS_EXTRA)

OBJ := $(BUILD)/obj

# --- the library, in layers (README "Layout", docs/layers.md) ---------------
# One archive per folder of lib/. A layer may use only the layers below it:
#   base     nothing (libc)
#   bus      base                          (the plugin's and the runtime's rules)
#   payload  base, schemas                 (codecs, validation, sealed payloads)
#   engine   base, schemas                 (FlexOffers, aggregation, clearing)
#   devices  engine, base                  (device models and their offers)
#   anon     base                          (pseudonyms, sealing and opening: JWE with OpenSSL)
#   meter    base                          (meter exports, local time, resampling)
#   grid     base                          (feeder model and three-phase power flow; libm)
#   mqtt     base                          (our MQTT 5 client: packets, session; OpenSSL)
#   agent    mqtt, bus, payload, base, schemas (the agent runtime: SQLite; paho for local.c)
# and the broker plugin base, bus and payload only. schemas is the code
# protoc-c generates (below). $(BUILD)/lib/layers/<layer>.so links each archive
# whole against only what it may use with --no-undefined, so a call across the
# rule is a link error in every build; tests/layering_test.sh says which file
# broke it and checks the includes too.
LAYERS        := base bus payload engine devices anon meter grid mqtt agent
LAYER_DEPS_base    :=
LAYER_DEPS_bus     := base
LAYER_DEPS_payload := base schemas
LAYER_DEPS_engine  := base schemas
LAYER_DEPS_devices := engine base
LAYER_DEPS_anon    := base
LAYER_DEPS_meter   := base
LAYER_DEPS_grid    := base
LAYER_DEPS_mqtt    := base
LAYER_DEPS_agent   := mqtt bus payload base schemas
LAYER_LIBS_base    := -lm
LAYER_LIBS_bus     := $(PKG_LIBS)
LAYER_LIBS_payload := $(PKG_LIBS)
LAYER_LIBS_engine  := $(PKG_LIBS)
LAYER_LIBS_devices := $(PKG_LIBS)
LAYER_LIBS_anon    := $(ANON_LIBS)
LAYER_LIBS_meter   := $(PKG_LIBS)
LAYER_LIBS_grid    := -lm
LAYER_LIBS_mqtt    := -lssl -lcrypto
LAYER_LIBS_agent   := $(PKG_LIBS) -lpaho-mqtt3as -lsqlite3 -lssl -lcrypto
layer_lib = $(BUILD)/lib/libgf-$(1).a
LIB_SRCS := $(foreach l,$(LAYERS),$(wildcard lib/$(l)/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(OBJ)/%.o)
$(foreach l,$(LAYERS),$(eval LAYER_OBJS_$(l) := $(patsubst %.c,$(OBJ)/%.o,$(wildcard lib/$(l)/*.c))))
LIBGF_SCHEMAS := $(call layer_lib,schemas)
# What the agents and most tests link: every layer, users before what they use.
LIBGF_ALL     := $(foreach l,agent mqtt devices engine anon meter grid payload bus base schemas,$(call layer_lib,$(l)))
# What the broker plugin links.
LIBGF_PLUGIN  := $(foreach l,payload bus base schemas,$(call layer_lib,$(l)))
LAYER_CHECKS  := $(LAYERS:%=$(BUILD)/lib/layers/%.so)
AGENT_LIBS    := -lpaho-mqtt3as -lsqlite3 -lssl $(ANON_LIBS)

# --- the broker plugin ------------------------------------------------------
PLUGIN_SRCS := $(wildcard broker-plugin/*.c)
PLUGIN_OBJS := $(PLUGIN_SRCS:%.c=$(OBJ)/%.o)
PLUGIN      := $(BUILD)/lib/goflex_privacy.so

# --- tests ------------------------------------------------------------------
UNIT_SRCS  := $(wildcard tests/unit/*_test.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
STUB_OBJS  := $(OBJ)/tests/unit/broker_stubs.o
TOOL_SRCS  := $(wildcard tests/tools/*.c)
TOOL_BINS  := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/tools/%)
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/tests/bench/%)

# --- schemas (docs/schemas.md) ----------------------------------------------
# protoc-c turns every schemas/*.proto into $(GEN)/<name>.pb-c.{c,h} in one run
# (the protos import one another); schemas/gen-registry.sh turns
# schemas/messages.tsv into the msg -> descriptor table. Both go into
# libgf-schemas.a.
PROTOS      := $(wildcard schemas/*.proto)
GEN         := $(BUILD)/gen
PROTO_SRCS  := $(PROTOS:schemas/%.proto=$(GEN)/%.pb-c.c)
PROTO_HDRS  := $(PROTO_SRCS:.c=.h)
SCHEMA_REG  := $(GEN)/schema_registry.c
SCHEMA_OBJS := $(PROTO_SRCS:$(GEN)/%.c=$(OBJ)/gen/%.o) $(OBJ)/gen/schema_registry.o
# Any object of ours may include a generated header: on a clean tree they must
# exist before it compiles (order-only; -MMD tracks them from then on).
OWN_OBJS    := $(LIB_OBJS) $(PLUGIN_OBJS) $(STUB_OBJS) \
	$(UNIT_SRCS:%.c=$(OBJ)/%.o) $(TOOL_SRCS:%.c=$(OBJ)/%.o) $(BENCH_SRCS:%.c=$(OBJ)/%.o)
# protoc-c's output is not ours to change. protobuf-c 1.4.1's is clean under
# our warnings, but another version's warnings must not fail the -Werror build:
# those files only lose -Wconversion, -Wpedantic and -Werror (our own code,
# schema_registry.c included, keeps them all).
GEN_CFLAGS  := $(filter-out -Wconversion -Wpedantic -Werror,$(CFLAGS))

# --- the codec's test schema (tests/codec/codec_test.proto) -------------------
# Every field type and label, for the codec's unit test and fuzzers.
TEST_GEN      := $(GEN)/tests
CODEC_TEST_PB := $(TEST_GEN)/codec_test.pb-c
CODEC_TEST_USERS := $(OBJ)/tests/unit/codec_test.o

FUZZ_SRCS  := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 20

NPROC := $(shell nproc 2>/dev/null || echo 2)
MOSQ_LIBS := $(shell pkg-config --libs libmosquitto 2>/dev/null || echo -lmosquitto)

.PHONY: all deps test check unit integration bench fuzz demo format format-check clean help

all: $(LIBGF_ALL) $(LAYER_CHECKS) $(PLUGIN) $(UNIT_BINS) $(TOOL_BINS) $(BENCH_BINS)

help:
	@echo "make deps          install the Debian packages (root; quick when present)"
	@echo "make               build everything into $(BUILD)/"
	@echo "make test          deps + build + every test (what CI runs)"
	@echo "make check         unit and integration tests under ASan+UBSan (build/asan/)"
	@echo "make fuzz          each libFuzzer target for FUZZ_SECONDS (default 20)"
	@echo "make bench         broker CPU per message (ratios against no plugin), engine, trading latency, metering store"
	@echo "make demo          a simulated site through one day (DEMO_ARGS=--prosumers 500)"
	@echo "make format-check  clang-format conformance; 'make format' rewrites"
	@echo "make install       programs, plugin, units, docs, man pages (PREFIX=/usr/local DESTDIR=)"
	@echo "make uninstall     removes what make install put there (same PREFIX, DESTDIR)"

# Installs only what is missing, so it is quick on a provisioned machine.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$(printf ' %s' $$missing)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "deps: all installed"; fi

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(PROTO_SRCS) $(PROTO_HDRS) &: $(PROTOS)
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) -Ischemas $(PROTOS)

$(SCHEMA_REG): schemas/messages.tsv schemas/gen-registry.sh $(PROTOS)
	@mkdir -p $(@D)
	sh schemas/gen-registry.sh schemas/messages.tsv $(PROTOS) >$@.tmp && mv $@.tmp $@

$(OBJ)/gen/%.pb-c.o: $(GEN)/%.pb-c.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(GEN_CFLAGS) -c $< -o $@

$(OBJ)/gen/schema_registry.o: $(SCHEMA_REG) | $(PROTO_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OWN_OBJS): | $(PROTO_HDRS)

$(LIBGF_SCHEMAS): $(SCHEMA_OBJS)
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^

define LAYER_RULES
# The folder is a prerequisite too: a file removed from it changes its time.
$(call layer_lib,$(1)): $(LAYER_OBJS_$(1)) lib/$(1)
	@mkdir -p $$(@D)
	rm -f $$@; $$(AR) rcs $$@ $$(filter %.o,$$^)

$(BUILD)/lib/layers/$(1).so: $(call layer_lib,$(1)) $(foreach d,$(LAYER_DEPS_$(1)),$(call layer_lib,$(d)))
	@mkdir -p $$(@D)
	$$(CC) -shared $$(LDFLAGS) -Wl,--no-undefined -o $$@ -Wl,--whole-archive $$< \
		-Wl,--no-whole-archive $$(filter-out $$<,$$^) $(LAYER_LIBS_$(1)) \
		|| { echo "layering: lib/$(1)/ may use only: $(or $(LAYER_DEPS_$(1)),nothing of ours) (tests/layering_test.sh names the file)"; exit 1; }
endef
$(foreach l,$(LAYERS),$(eval $(call LAYER_RULES,$(l))))
$(LAYERS:%=lib/%): ;

# The plugin exports only the three mosquitto_plugin_* entry points and does
# not link libmosquitto: the broker provides those symbols at load time.
$(PLUGIN): $(PLUGIN_OBJS) $(LIBGF_PLUGIN) broker-plugin/plugin.map
	@mkdir -p $(@D)
	$(CC) -shared $(LDFLAGS) -Wl,--version-script=broker-plugin/plugin.map \
		-o $@ $(PLUGIN_OBJS) $(LIBGF_PLUGIN) $(PKG_LIBS)

# Linked as an executable against the broker stubs and only the layers the
# plugin may use: a plugin call into engine, devices or agent fails here.
$(BUILD)/tests/unit/plugin_test: $(OBJ)/tests/unit/plugin_test.o $(PLUGIN_OBJS) $(STUB_OBJS) $(LIBGF_PLUGIN)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion

$(BUILD)/tests/unit/%: $(OBJ)/tests/unit/%.o $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(AGENT_LIBS) $(UNIT_LIBS) -lcriterion

# libjose checks lib/anon's JWE content encryption (config.mk).
$(BUILD)/tests/unit/seal_libjose_test: UNIT_LIBS := $(JOSE_LIBS)

$(BUILD)/tests/tools/%: $(OBJ)/tests/tools/%.o $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(MOSQ_LIBS) $(PKG_LIBS) $(AGENT_LIBS)

$(BUILD)/tests/bench/%: $(OBJ)/tests/bench/%.o $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(MOSQ_LIBS) $(PKG_LIBS)

$(CODEC_TEST_PB).c $(CODEC_TEST_PB).h &: tests/codec/codec_test.proto
	@mkdir -p $(TEST_GEN)
	protoc-c --c_out=$(TEST_GEN) -Itests/codec $<

$(CODEC_TEST_USERS): CPPFLAGS += -I$(TEST_GEN)
$(CODEC_TEST_USERS): | $(CODEC_TEST_PB).h

$(OBJ)/gen/tests/%.pb-c.o: $(TEST_GEN)/%.pb-c.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(GEN_CFLAGS) -c $< -o $@

# tests/unit/msggen.c: random messages of any type, for the codec's round trips.
MSGGEN_OBJ := $(OBJ)/tests/unit/msggen.o

$(BUILD)/tests/unit/codec_test: $(OBJ)/tests/unit/codec_test.o $(MSGGEN_OBJ) $(OBJ)/gen/tests/codec_test.pb-c.o $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion

$(BUILD)/tests/unit/schemas_roundtrip_test: $(OBJ)/tests/unit/schemas_roundtrip_test.o $(MSGGEN_OBJ) $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcriterion

# libFuzzer targets: clang, instrumented lib sources compiled in directly.
# Every target links the whole library, generated schema code included (and
# jansson and OpenSSL, for lib/anon/), and the codec's test schema
# (tests/codec/codec_test.proto), which the codec fuzzers decode into. The library is instrumented once (fuzzer-no-link) into
# build/fuzz/obj/ and shared by all targets.
FUZZ_SAN     := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CPPFLAGS := -D_GNU_SOURCE -Ilib -Ischemas -I$(GEN) -I$(TEST_GEN) $(PKG_CFLAGS) -MMD -MP
# The inbox log reader (lib/agent/inbox.c) is a parser of what a crash left
# behind; it needs no paho, so it joins the fuzzed objects (with the mailbox
# it queues through). Of lib/mqtt only the packets are fuzzed: the link and
# the client need sockets and OpenSSL's TLS (mqtt_client_test runs them).
FUZZ_LIB_SRCS := $(filter-out lib/agent/% lib/mqtt/link.c lib/mqtt/client.c,$(LIB_SRCS)) lib/agent/inbox.c lib/agent/mailbox.c $(PROTO_SRCS) $(SCHEMA_REG) $(CODEC_TEST_PB).c
FUZZ_LIB_OBJS := $(patsubst %.c,build/fuzz/obj/%.o,$(FUZZ_LIB_SRCS:$(BUILD)/%=%))

build/fuzz/obj/%.o: %.c | $(PROTO_HDRS) $(CODEC_TEST_PB).h
	@mkdir -p $(@D)
	clang $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(FUZZ_CPPFLAGS) -c $< -o $@

build/fuzz/obj/%.o: $(BUILD)/%.c | $(PROTO_HDRS) $(CODEC_TEST_PB).h
	@mkdir -p $(@D)
	clang $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(FUZZ_CPPFLAGS) -c $< -o $@

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	clang $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) -o $@ $< $(FUZZ_LIB_OBJS) $(PKG_LIBS) \
		$(ANON_LIBS)

# gate_fuzz drives the plugin's callbacks against the broker stubs, like
# plugin_test: it also links the plugin's objects and the stubs, fuzz flavour.
GATE_FUZZ_OBJS := $(patsubst %.c,build/fuzz/obj/%.o,$(PLUGIN_SRCS) tests/unit/broker_stubs.c)

build/fuzz/gate_fuzz: tests/fuzz/gate_fuzz.c $(GATE_FUZZ_OBJS) $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	clang $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) -o $@ $< $(GATE_FUZZ_OBJS) \
		$(FUZZ_LIB_OBJS) $(PKG_LIBS) $(ANON_LIBS)

# http_fuzz drives gf-http's request parsing and identities file: it links
# those two files of the agent (they need nothing of the runtime), fuzz flavour.
HTTP_FUZZ_OBJS := build/fuzz/obj/agents/gf-http/request.o build/fuzz/obj/agents/gf-http/ident.o

build/fuzz/http_fuzz: tests/fuzz/http_fuzz.c $(HTTP_FUZZ_OBJS) $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	clang $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) -Iagents/gf-http -o $@ $< \
		$(HTTP_FUZZ_OBJS) $(FUZZ_LIB_OBJS) $(PKG_LIBS) $(ANON_LIBS)

# siteconf_fuzz fuzzes gfctl site check's reading of mosquitto.conf
# (tools/gfctl/siteconf.c, which uses libc only).
build/fuzz/siteconf_fuzz: tests/fuzz/siteconf_fuzz.c build/fuzz/obj/tools/gfctl/siteconf.o
	@mkdir -p $(@D)
	clang $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) -Itools/gfctl -o $@ $^

# --- programs -----------------------------------------------------------------
# agents/<name>/ are the daemons, tools/<name>/ the commands for people
# (gfctl, gf-report), tests/bench/<name>/ the engine's benchmark commands.
# Each folder's *.c is compiled into $(OBJ)/<folder>/ and linked, with every
# layer, paho's asynchronous MQTT client (TLS build) and SQLite, into
# $(BUILD)/bin/<name>. A new program needs only its folder.
PROG_DIRS  := $(sort $(dir $(wildcard agents/*/*.c tools/*/*.c tests/bench/*/*.c)))
PROG_SRCS  := $(wildcard $(PROG_DIRS:%=%*.c))
PROG_OBJS  := $(PROG_SRCS:%.c=$(OBJ)/%.o)
PROG_BINS  := $(foreach d,$(PROG_DIRS),$(BUILD)/bin/$(notdir $(d:%/=%)))
# What one program links beyond the rest: gf-sp's PostgreSQL store.
PROG_LIBS_gf-sp := -lpq
# gf-http's HTTP server (libmicrohttpd, whose TLS is GnuTLS: the client
# certificate is read from the GnuTLS session).
PROG_LIBS_gf-http := $(shell pkg-config --libs libmicrohttpd gnutls 2>/dev/null || echo -lmicrohttpd -lgnutls)
# and gf-kpi's HTTP server (the REST API and the dashboard).
PROG_LIBS_gf-kpi := -lmicrohttpd
# and where libpq's header is (Debian: /usr/include/postgresql).
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
$(OBJ)/agents/gf-sp/%.o: CPPFLAGS += $(PQ_CFLAGS)
# gf-ingest's HTTP client and XML parser (docs/ingest.md).
XML_CFLAGS := $(shell pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
INGEST_LIBS := $(shell pkg-config --libs libcurl libxml-2.0 2>/dev/null || echo -lcurl -lxml2)
PROG_LIBS_gf-ingest := $(INGEST_LIBS)
$(OBJ)/agents/gf-ingest/%.o: CPPFLAGS += $(XML_CFLAGS)

all: $(PROG_BINS)
integration: $(PROG_BINS)

$(PROG_OBJS): | $(PROTO_HDRS)

define PROG_LINK
$(BUILD)/bin/$(notdir $(1:%/=%)): $(filter $(OBJ)/$(1)%,$(PROG_OBJS)) $(LIBGF_ALL)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS) $$(AGENT_LIBS) $$(PROG_LIBS_$(notdir $(1:%/=%)))
endef
$(foreach d,$(PROG_DIRS),$(eval $(call PROG_LINK,$(d))))

# gf-sp's unit tests (tests/unit/sp_*_test.c) link its modules but main.c,
# and libpq: the store's suite runs against SQLite and PostgreSQL.
SP_OBJS := $(filter-out %/main.o,$(filter $(OBJ)/agents/gf-sp/%,$(PROG_OBJS)))
$(OBJ)/tests/unit/sp_%_test.o: CPPFLAGS += $(PQ_CFLAGS) -Iagents/gf-sp
$(BUILD)/tests/unit/sp_%_test: $(OBJ)/tests/unit/sp_%_test.o $(SP_OBJS) $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(AGENT_LIBS) -lpq -lcriterion
# and its store's benchmark (tests/bench/sp_bench.sh).
$(OBJ)/tests/bench/sp_db_bench.o: CPPFLAGS += $(PQ_CFLAGS) -Iagents/gf-sp
$(BUILD)/tests/bench/sp_db_bench: $(OBJ)/tests/bench/sp_db_bench.o $(SP_OBJS) $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(AGENT_LIBS) -lpq

# gf-ingest's unit tests (tests/unit/ingest_*_test.c) link its modules but main.c.
INGEST_OBJS := $(filter-out %/main.o,$(filter $(OBJ)/agents/gf-ingest/%,$(PROG_OBJS)))
$(OBJ)/tests/unit/ingest_%_test.o: CPPFLAGS += $(XML_CFLAGS) -Iagents/gf-ingest
$(BUILD)/tests/unit/ingest_%_test: $(OBJ)/tests/unit/ingest_%_test.o $(INGEST_OBJS) $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(AGENT_LIBS) $(INGEST_LIBS) -lcriterion
# and its parsers' fuzz targets (the pure files only: no agent, no libcurl).
INGEST_FUZZ_OBJS := $(patsubst %.c,build/fuzz/obj/%.o,$(addprefix agents/gf-ingest/,util.c a44.c openmeteo.c))
build/fuzz/obj/agents/gf-ingest/%.o: FUZZ_CPPFLAGS += $(XML_CFLAGS)
build/fuzz/a44_fuzz build/fuzz/openmeteo_fuzz: build/fuzz/%: tests/fuzz/%.c $(INGEST_FUZZ_OBJS) $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	clang $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) $(XML_CFLAGS) -Iagents/gf-ingest -o $@ $< \
		$(INGEST_FUZZ_OBJS) $(FUZZ_LIB_OBJS) $(PKG_LIBS) $(ANON_LIBS) $(INGEST_LIBS)
# gf-http's unit tests (tests/unit/http_*_test.c) link its modules but
# main.c and server.c (the HTTP server itself is tested end to end).
HTTP_OBJS := $(filter-out %/main.o %/server.o,$(filter $(OBJ)/agents/gf-http/%,$(PROG_OBJS)))
$(OBJ)/tests/unit/http_%_test.o: CPPFLAGS += -Iagents/gf-http
$(BUILD)/tests/unit/http_%_test: $(OBJ)/tests/unit/http_%_test.o $(HTTP_OBJS) $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(AGENT_LIBS) -lcriterion
# gf-fmar's and gf-fman's pure pricing files (tests/unit/fmar_bidprice_test.c,
# tests/unit/fman_captariff_test.c).
$(OBJ)/tests/unit/fmar_%_test.o: CPPFLAGS += -Iagents/gf-fmar
$(BUILD)/tests/unit/fmar_bidprice_test: $(OBJ)/tests/unit/fmar_bidprice_test.o $(OBJ)/agents/gf-fmar/bidprice.o $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(AGENT_LIBS) -lcriterion
$(OBJ)/tests/unit/fman_%_test.o: CPPFLAGS += -Iagents/gf-fman
$(BUILD)/tests/unit/fman_captariff_test: $(OBJ)/tests/unit/fman_captariff_test.o $(OBJ)/agents/gf-fman/captariff.o $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(AGENT_LIBS) -lcriterion
# gf-kpi's unit tests (tests/unit/kpi_*_test.c) link its pure modules (rules,
# series, parse: no SQLite, no HTTP); its fuzz target compiles them in too.
KPI_PURE_SRCS := agents/gf-kpi/rules.c agents/gf-kpi/series.c agents/gf-kpi/parse.c
$(OBJ)/tests/unit/kpi_%_test.o: CPPFLAGS += -Iagents/gf-kpi
$(BUILD)/tests/unit/kpi_%_test: $(OBJ)/tests/unit/kpi_%_test.o $(KPI_PURE_SRCS:%.c=$(OBJ)/%.o) $(LIBGF_ALL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(AGENT_LIBS) -lcriterion
build/fuzz/kpi_fuzz: tests/fuzz/kpi_fuzz.c $(KPI_PURE_SRCS:%.c=build/fuzz/obj/%.o) $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	clang $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) -Iagents/gf-kpi -o $@ $< \
		$(KPI_PURE_SRCS:%.c=build/fuzz/obj/%.o) $(FUZZ_LIB_OBJS) $(PKG_LIBS) $(ANON_LIBS)

# --- running tests ----------------------------------------------------------
unit: $(UNIT_BINS)
	@BUILD=$(BUILD) tests/run-unit.sh $(UNIT_BINS)

integration: $(PLUGIN) $(TOOL_BINS)
	@BUILD=$(BUILD) tests/run-integration.sh

test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all $(FUZZ_BINS)
	@BUILD=$(BUILD) FUZZ_SECONDS=5 tests/run-all.sh

# Then the reload and hardening tests once more with the plugin of the
# normal build and mosquitto itself under valgrind: mosquitto is not built
# with ASan, and what the plugin could make it do to its own memory (issue
# 10) shows only there.
check: deps
	@$(MAKE) --no-print-directory -j$(NPROC) SAN=1 BUILD=build/asan all
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@BUILD=build/asan SAN=1 tests/run-all.sh; s=$$?; \
	echo "=== hardening under valgrind"; \
	VALGRIND=1 FLOOD=1000 bash tests/integration/hardening_test.sh || s=1; exit $$s

# Runs each fuzz target for FUZZ_SECONDS on a copy of its seed corpus.
fuzz: deps $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_BINS)

bench: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@BUILD=$(BUILD) tests/bench/run.sh
	@echo; echo "payload validation at the broker per encoding and size (docs/bench.md)"; \
	BUILD=$(BUILD) tests/bench/validate_bench.sh
	@echo; $(BUILD)/tests/bench/policy_bench schemas/exchange.tsv
	@echo; echo "aggregation (issue 4 workload; reference: 2.64 s and 5 GB at 1M offers)"; \
	for n in 10000 100000 1000000; do $(BUILD)/bin/gf-agg-bench --offers $$n || exit 1; done
	@echo; echo "market clearing over a 96-interval day: heuristic, GLPK MILP (20 s limit, warm-started), proven bound"; \
	$(BUILD)/bin/gf-clear-bench --aggregates 100 --time-limit 20 && \
	$(BUILD)/bin/gf-clear-bench --aggregates 1000 --time-limit 20 && \
	$(BUILD)/bin/gf-clear-bench --aggregates 10000 && \
	$(BUILD)/bin/gf-clear-bench --aggregates 10000 --totals 0.25
	@echo; echo "trading latency: a DOMS bid to every prosumer's schedule through the real loop (docs/bench.md)"; \
	BUILD=$(BUILD) tests/bench/trade_bench.sh 1000 10000
	@echo; echo "gf-sp's metering store: batches of 1000 readings, SQLite and PostgreSQL (docs/sp.md)"; \
	BUILD=$(BUILD) tests/bench/sp_bench.sh
	@echo; echo "the meter data path end to end: DMS CSV -> gf-anonymizer -> broker (TLS) -> gf-sp (docs/bench.md)"; \
	BUILD=$(BUILD) tests/bench/meter_bench.sh

# The main job (docs/demo.md): every agent over TLS through the plugin, one
# simulated day, a table, a summary and build/demo/report.html.
demo: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@BUILD=$(BUILD) ops/demo/gf-demo $(DEMO_ARGS)

# tracked and new (not ignored) files: a file formatted before its first
# git add is formatted too
FORMAT_FILES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build

# make install, make uninstall (PREFIX, DESTDIR), make man: ops/install.mk.
include ops/install.mk

-include $(shell find $(BUILD) build/fuzz/obj -name '*.d' 2>/dev/null)
