#!/usr/bin/env bash
# clickhouse.sh — a private ClickHouse server for tests, benchmarks and `make run`.
#
#   scripts/clickhouse.sh start DIR [HTTP_PORT [TCP_PORT]]
#                                                 start a server whose data, logs and config live in DIR;
#                                                 prints "http_port=N tcp_port=M pid=P" when it answers /ping
#   scripts/clickhouse.sh stop DIR                SIGTERM the server recorded in DIR/pid (SIGKILL after 20 s)
#   scripts/clickhouse.sh status DIR              exit 0 if it answers /ping
#
# Uses Debian's clickhouse-server binary, never the system service or its data
# directory. Listens on 127.0.0.1 only; free ports are picked unless given
# (a restart that must keep its ports, e.g. a cluster member named in the
# others' <remote_servers>, passes both). Files in DIR/config.d/*.xml are
# merged into the configuration by ClickHouse itself; tests/support/clickhouse.c
# puts a cluster member's <zookeeper>, <macros>, <remote_servers> and
# interserver port there.
# The <kafka> section lets ClickHouse's own Kafka engine (a benchmark peer)
# start from the earliest offset.
set -euo pipefail
source "$(dirname "$0")/lib.sh" # free_port

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || { echo "usage: $0 start|stop|status DIR [HTTP_PORT [TCP_PORT]]" >&2; exit 2; }

ping_ok() {
  local port
  port=$(cat "$dir/http_port" 2>/dev/null) || return 1
  [[ $(curl -s --max-time 2 "http://127.0.0.1:$port/ping" 2>/dev/null) == "Ok." ]]
}

case "$cmd" in
start)
  mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log}
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null && ping_ok; then
    echo "http_port=$(cat "$dir/http_port") tcp_port=$(cat "$dir/tcp_port") pid=$(cat "$dir/pid") (already running)"
    exit 0
  fi
  http_port=${3:-$(free_port)}
  tcp_port=${4:-$(free_port)}
  cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$dir/log/clickhouse-server.log</log>
        <errorlog>$dir/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$http_port</http_port>
    <tcp_port>$tcp_port</tcp_port>
    <max_connections>1024</max_connections>
    <keep_alive_timeout>30</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
    <kafka>
        <auto_offset_reset>smallest</auto_offset_reset>
    </kafka>
</yandex>
XML
  cat >"$dir/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
XML
  echo "$http_port" >"$dir/http_port"
  echo "$tcp_port" >"$dir/tcp_port"
  (cd "$dir" && exec /usr/sbin/clickhouse-server --config-file="$dir/config.xml" \
      >"$dir/log/stdout.log" 2>&1) &
  echo $! >"$dir/pid"
  for _ in $(seq 1 300); do
    if ping_ok; then
      echo "http_port=$http_port tcp_port=$tcp_port pid=$(cat "$dir/pid")"
      exit 0
    fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "clickhouse.sh: server exited; last log lines:" >&2
      tail -n 20 "$dir/log/clickhouse-server.err.log" "$dir/log/stdout.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.1
  done
  echo "clickhouse.sh: server did not answer /ping within 30 s" >&2
  exit 1
  ;;
stop)
  [[ -f $dir/pid ]] || exit 0
  pid=$(cat "$dir/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$dir/pid"
  ;;
status)
  ping_ok
  ;;
*)
  echo "usage: $0 start|stop|status DIR [HTTP_PORT [TCP_PORT]]" >&2
  exit 2
  ;;
esac
