#!/usr/bin/env bash
# Make sure the PostgreSQL and MariaDB servers that the integration tests use are running,
# and export their URLs, and the browser the console's browser tests drive (Debian's
# Chromium, installed by scripts/install-test-deps.sh). Source it:
# `. scripts/ensure-services.sh`.
# On the project's machines both are installed; this only starts them if they have stopped.
set -u

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break; sleep 1; done
fi
if ! mysqladmin -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; then
  if [ -x /usr/sbin/mariadbd ]; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  fi
  for _ in $(seq 1 30); do mysqladmin -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1 && break; sleep 1; done
fi

export SHUAN_TEST_POSTGRES="${SHUAN_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
export SHUAN_TEST_MYSQL="${SHUAN_TEST_MYSQL:-mysql://root@127.0.0.1:3306/test}"
export SHUAN_TEST_BROWSER="${SHUAN_TEST_BROWSER:-/usr/bin/chromium}"
