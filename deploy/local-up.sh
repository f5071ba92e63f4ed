#!/usr/bin/env bash
# The reference deployment on this one machine, for load tests: nginx (TLS with a self-signed certificate,
# static files, /ws/) in front of `caravane serve`, on PostgreSQL and Redis named by DATABASE_URL and REDIS_URL.
# Nothing is installed or written outside DIR: nginx runs with its own prefix and configuration there.
#
#   deploy/local-up.sh [--port 8443] [--http-port PORT+1] [--app-port 8000] [--dir DIR] [--workers N]
#   deploy/local-up.sh --down DIR
#
# Prints the URL on its last line (URL=https://127.0.0.1:PORT). The app runs in production mode unless
# CARAVANE_ENV says otherwise (a random secret key, hosts 127.0.0.1 and localhost); other CARAVANE_* variables
# pass through. PYTHON names the interpreter that has Caravane (default: the repository's .venv, else python3).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=8443 HTTP_PORT="" APP_PORT=8000 DIR="" WORKERS=""

log() { printf '[local-up] %s\n' "$*" >&2; }

stop() {
  local dir=$1
  [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  [ -f "$dir/app.pid" ] && kill -TERM "$(cat "$dir/app.pid")" 2>/dev/null || true
  for _ in $(seq 50); do
    { [ -f "$dir/app.pid" ] && kill -0 "$(cat "$dir/app.pid")" 2>/dev/null; } || break
    sleep 0.2
  done
  rm -f "$dir/nginx.pid" "$dir/app.pid"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=$2; shift 2 ;;
    --http-port) HTTP_PORT=$2; shift 2 ;;
    --app-port) APP_PORT=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --down) stop "$2"; exit 0 ;;
    *) echo "usage: $0 [--port 8443] [--http-port N] [--app-port 8000] [--dir DIR] [--workers N] | --down DIR" >&2; exit 2 ;;
  esac
done

HTTP_PORT=${HTTP_PORT:-$((PORT + 1))}  # the site's plain-HTTP redirect
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { log "nginx is not installed (apt-get install nginx)"; exit 3; }
PYTHON=${PYTHON:-$([ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python3)}
DIR=${DIR:-$(mktemp -d /tmp/caravane-local-XXXXXX)}
DIR=$(mkdir -p "$DIR" && cd "$DIR" && pwd)
mkdir -p "$DIR/nginx/logs" "$DIR/nginx/temp" "$DIR/data"

export CARAVANE_ENV=${CARAVANE_ENV:-production}
export CARAVANE_SECRET_KEY=${CARAVANE_SECRET_KEY:-$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')}
export CARAVANE_ALLOWED_HOSTS=${CARAVANE_ALLOWED_HOSTS:-127.0.0.1,localhost}
export CARAVANE_CSRF_TRUSTED_ORIGINS=${CARAVANE_CSRF_TRUSTED_ORIGINS:-https://127.0.0.1:$PORT,https://localhost:$PORT}
export CARAVANE_DATA_DIR=${CARAVANE_DATA_DIR:-$DIR/data}
export CARAVANE_BIND=127.0.0.1:$APP_PORT
[ -n "$WORKERS" ] && export CARAVANE_WEB_WORKERS=$WORKERS
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
caravane() { "$PYTHON" -m caravane.cli "$@"; }

if [ ! -f "$DIR/cert.pem" ]; then
  log "self-signed certificate for 127.0.0.1 and localhost"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$DIR/key.pem" -out "$DIR/cert.pem" 2>/dev/null
fi

log "migrations and static files"
caravane migrate --no-input --verbosity 0
caravane collectstatic --no-input --verbosity 0
MAX_BODY=$("$PYTHON" -c 'from caravane.config import Config; print(Config.from_environ().max_request_bytes)')

sed -e "s|@UPSTREAM@|127.0.0.1:$APP_PORT|" -e "s|@LISTEN@|127.0.0.1:$PORT|" -e "s|@SERVER_NAME@|localhost 127.0.0.1|" \
    -e "s|@CERT@|$DIR/cert.pem|" -e "s|@KEY@|$DIR/key.pem|" -e "s|@MAX_BODY@|$MAX_BODY|" \
    -e "s|@STATIC_ROOT@|$CARAVANE_DATA_DIR/static|" -e "s|@HTTP_LISTEN@|127.0.0.1:$HTTP_PORT|" \
    "$ROOT/deploy/nginx/caravane.conf" > "$DIR/nginx/caravane.conf"
# The main configuration Debian's /etc/nginx/nginx.conf would give, with every path under DIR.
cat > "$DIR/nginx/nginx.conf" <<CONF
user $(id -un) $(id -gn);
worker_processes auto;
pid $DIR/nginx.pid;
error_log $DIR/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    access_log off;
    client_body_temp_path $DIR/nginx/temp/body;
    proxy_temp_path $DIR/nginx/temp/proxy;
    fastcgi_temp_path $DIR/nginx/temp/fastcgi;
    uwsgi_temp_path $DIR/nginx/temp/uwsgi;
    scgi_temp_path $DIR/nginx/temp/scgi;
    include $DIR/nginx/caravane.conf;
}
CONF

stop "$DIR"
log "caravane serve on 127.0.0.1:$APP_PORT (log: $DIR/app.log)"
setsid "$PYTHON" -m caravane.cli serve > "$DIR/app.log" 2>&1 &
echo $! > "$DIR/app.pid"
"$NGINX" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/logs/error.log"

for _ in $(seq 150); do
  if curl -sf --cacert "$DIR/cert.pem" "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
    log "up; stop with: $0 --down $DIR"
    echo "DIR=$DIR"
    echo "URL=https://127.0.0.1:$PORT"
    exit 0
  fi
  kill -0 "$(cat "$DIR/app.pid")" 2>/dev/null || { log "the app exited:"; cat "$DIR/app.log" >&2; stop "$DIR"; exit 1; }
  sleep 0.2
done
log "no answer on https://127.0.0.1:$PORT/healthz within 30 s"; cat "$DIR/app.log" >&2; stop "$DIR"; exit 1
