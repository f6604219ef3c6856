#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-sp's services test (sp_services_test.sh) with the metering store on
# PostgreSQL: a real server from Debian's postgresql package
# (tests/integration/pg.sh). If the server cannot start, the test fails.
SP_STORE=postgresql exec bash "$(dirname "$0")/sp_services_test.sh"
