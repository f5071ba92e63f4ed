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

install_python_env() {
  local extras="$1" stamp="$VENV/.installed-$1"
  if [ ! -x "$PY" ]; then
    log "creating the virtual environment in .venv"
    python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
  fi
  # Reinstall only when the dependency files change.
  local want; want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing Python dependencies (pinned by constraints.txt)"
    "$PY" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$PY" -m pip install -q --disable-pip-version-check -c constraints.txt -e ".$extras"
    echo "$want" > "$stamp"
  fi
}

install_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium for the browser tests"
    as_root apt-get update -qq >/dev/null && \
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null || \
      log "could not install chromium: browser tests will be skipped"
  fi
}

install_nginx() {
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    log "installing Debian's nginx for the reference deployment's test"
    as_root apt-get update -qq >/dev/null && \
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nginx >/dev/null || \
      log "could not install nginx: the reference deployment's test will be skipped"
  fi
}

install_coturn() {
  if ! command -v turnserver >/dev/null && [ ! -x /usr/bin/turnserver ]; then
    log "installing Debian's coturn for the call rooms' TURN test"
    as_root apt-get update -qq >/dev/null && \
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq coturn >/dev/null || \
      log "could not install coturn: the TURN test will be skipped"
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
    install_chromium
    install_nginx
    install_coturn
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
