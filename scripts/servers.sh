# Sourced by test.sh and bench.sh: installs what is missing and starts throw-away PostgreSQL and
# Redis servers on free loopback ports in a temp folder; stop_servers (trap it) removes them.
# Exports AGG_TEST_POSTGRES (server connection string) and AGG_TEST_REDIS (host:port).
# nginx (the load balancer of the two-node tests and benchmark) is installed here too; the tests start
# their own from deploy/nginx.conf.template, scripts use start_nginx / stop_nginx.

PGBIN=/usr/lib/postgresql/15/bin
NGINX=/usr/sbin/nginx
export AGG_NGINX=$NGINX

install_missing() {
  local need=()
  [ -x "$PGBIN/initdb" ] || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  [ -x "$NGINX" ] || need+=(nginx-light)
  [ "${1:-}" = "--with-browser" ] && { [ -x /usr/bin/chromium ] || need+=(chromium); }
  if [ ${#need[@]} -gt 0 ]; then
    echo "Installing ${need[*]} …"
    if [ "$(id -u)" -ne 0 ]; then echo "Missing ${need[*]}; run as root or install them." >&2; return 2; fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null \
      || { echo "apt-get install ${need[*]} failed" >&2; return 2; }
  fi
  command -v npm >/dev/null || { echo "Node.js with npm is required for the front-end build" >&2; return 2; }
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

start_servers() {
  SERVERS_DIR=$(mktemp -d /tmp/aggregator-servers.XXXXXX)
  chmod 755 "$SERVERS_DIR"
  local pg_port redis_port
  pg_port=$(free_port)
  redis_port=$(free_port)
  mkdir -p "$SERVERS_DIR/pg" "$SERVERS_DIR/run" && chown -R postgres:postgres "$SERVERS_DIR/pg" "$SERVERS_DIR/run"
  runuser -u postgres -- "$PGBIN/initdb" -D "$SERVERS_DIR/pg" -U postgres -A trust -E UTF8 >/dev/null \
    || { echo "initdb failed" >&2; return 2; }
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$SERVERS_DIR/pg" -l "$SERVERS_DIR/run/pg.log" \
    -o "-p $pg_port -k $SERVERS_DIR/run -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    -w start >/dev/null || { cat "$SERVERS_DIR/run/pg.log" >&2; return 2; }
  redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
    --pidfile "$SERVERS_DIR/redis.pid" --logfile "$SERVERS_DIR/redis.log" >/dev/null \
    || { echo "redis-server failed to start" >&2; return 2; }
  export AGG_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres;Include Error Detail=true;Maximum Pool Size=50"
  export AGG_TEST_REDIS="127.0.0.1:$redis_port"
  echo "PostgreSQL on $pg_port, Redis on $redis_port"
}

stop_servers() {
  [ -n "${SERVERS_DIR:-}" ] || return 0
  [ -f "$SERVERS_DIR/pg/postmaster.pid" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$SERVERS_DIR/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$SERVERS_DIR/redis.pid" ] && kill "$(cat "$SERVERS_DIR/redis.pid")" 2>/dev/null
  rm -rf "$SERVERS_DIR"
}

# start_nginx DIR: runs nginx (as root, workers as nobody) on DIR/nginx.conf with everything it writes
# (pid, logs, temp paths) inside DIR; the config must name them there (deploy/nginx.conf.template does).
start_nginx() {
  local dir=$1
  chmod 755 "$dir"
  "$NGINX" -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" \
    || { cat "$dir/error.log" >&2; return 2; }
}

# stop_nginx DIR: stops the nginx started by start_nginx DIR (by its pid file, never by name).
stop_nginx() {
  local dir=$1
  [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null
  return 0
}
