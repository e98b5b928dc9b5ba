#!/usr/bin/env bash
# Install what the test suite needs beyond the Rust toolchain: independent implementations
# that shuan is cross-checked against (OpenSSL for SM3/SM4, Python `cryptography` and
# `gmssl` for SM2), and for the console's browser tests (scripts/console_test.py) Debian's
# Chromium and Noto CJK fonts with Playwright for Python driving the system browser (it
# never downloads one) and zxing-cpp to read back the enrolment QR code. Idempotent and
# quiet when everything is present.
set -eu

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v pg_isready >/dev/null 2>&1 || need_apt+=(postgresql-client)
command -v mysqladmin >/dev/null 2>&1 || need_apt+=(mariadb-client)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
fc-list 2>/dev/null | grep -q 'Noto Sans CJK' || need_apt+=(fonts-noto-cjk)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

py_missing=()
python3 -c 'import cryptography' 2>/dev/null || py_missing+=(cryptography)
python3 -c 'import gmssl' 2>/dev/null || py_missing+=(gmssl)
PLAYWRIGHT_VERSION=1.65.2
ZXING_CPP_VERSION=3.1.1
PILLOW_VERSION=12.0.0
python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('playwright') != '$PLAYWRIGHT_VERSION')" 2>/dev/null \
  || py_missing+=("playwright==$PLAYWRIGHT_VERSION")
python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('zxing-cpp') != '$ZXING_CPP_VERSION')" 2>/dev/null \
  || py_missing+=("zxing-cpp==$ZXING_CPP_VERSION")
python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('pillow') != '$PILLOW_VERSION')" 2>/dev/null \
  || py_missing+=("pillow==$PILLOW_VERSION")
if [ ${#py_missing[@]} -gt 0 ]; then
  python3 -m pip install -q "${py_missing[@]}"
fi
