# SPDX-License-Identifier: MIT
# Build configuration shared by every target. Override on the command line,
# e.g. `make CC=clang` or `make BUILD=build/dbg CFLAGS_OPT=-O0`.

CC        ?= cc
BUILD     ?= build
CFLAGS_OPT ?= -O2 -g
PKGS      := libcrypto libssl libprotobuf-c libcjson msgpack
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lglpk -lm
# jansson and OpenSSL for lib/anon/ only: the broker plugin never links them.
ANON_LIBS  := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson) -lcrypto
# libjose for tests/unit/seal_test only: the second JOSE implementation that
# checks lib/anon's content encryption (lib/anon/seal.c says why not more).
JOSE_LIBS  := $(shell pkg-config --libs jose 2>/dev/null || echo -ljose -ljansson)

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wformat=2 -Wconversion \
        -Werror=implicit-function-declaration
CPPFLAGS_BASE := -D_GNU_SOURCE -Ilib -Ischemas -I$(BUILD)/gen -MMD -MP
CFLAGS_BASE   := $(WARN) $(CFLAGS_OPT) -fPIC -fvisibility=hidden $(PKG_CFLAGS)

# Debian packages of SPEC section 2 plus the tools the tests use.
DEB_PACKAGES := mosquitto mosquitto-dev mosquitto-clients libmosquitto-dev \
	libpaho-mqtt-dev libprotobuf-c-dev protobuf-c-compiler libmsgpack-dev \
	libcjson-dev libssl-dev libcriterion-dev libsqlite3-dev libglpk-dev \
	libjose-dev libpq-dev postgresql tzdata \
	openssl pkg-config clang clang-format libclang-rt-14-dev util-linux procps jq sqlite3 python3 \
	python3-jwcrypto valgrind systemd groff-base \
	libcurl4-openssl-dev libxml2-dev \
	libmicrohttpd-dev libgnutls28-dev \
	chromium curl
