#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-sp's validation test (sp_validation_test.sh) on PostgreSQL: a real
# server from Debian's postgresql package (tests/integration/pg.sh). If the
# server cannot start, the test fails.
SP_STORE=postgresql exec bash "$(dirname "$0")/sp_validation_test.sh"
