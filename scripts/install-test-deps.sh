#!/usr/bin/env bash
# Install what the test suite needs beyond the Rust toolchain: independent implementations
# that shuan is cross-checked against (OpenSSL for SM3/SM4, Python `cryptography` and
# `gmssl` for SM2). Idempotent and quiet when everything is present.
set -eu

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v pg_isready >/dev/null 2>&1 || need_apt+=(postgresql-client)
command -v mysqladmin >/dev/null 2>&1 || need_apt+=(mariadb-client)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

py_missing=()
python3 -c 'import cryptography' 2>/dev/null || py_missing+=(cryptography)
python3 -c 'import gmssl' 2>/dev/null || py_missing+=(gmssl)
if [ ${#py_missing[@]} -gt 0 ]; then
  python3 -m pip install -q "${py_missing[@]}"
fi
