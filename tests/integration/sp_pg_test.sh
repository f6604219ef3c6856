#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-sp's integration test (sp_test.sh) on PostgreSQL: a real server from
# Debian's postgresql package in a temp dir, on a Unix socket only
# (tests/integration/pg.sh). If the server cannot start, the test fails.
SP_STORE=postgresql exec bash "$(dirname "$0")/sp_test.sh"
