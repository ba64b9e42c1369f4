#!/usr/bin/env bash
# setup.sh — install the Debian packages sluice needs to build, test and run.
#
# Idempotent: asks dpkg what is already installed and only calls apt-get for
# what is missing, so `make run` / `make test` can call it every time at the
# cost of one dpkg-query. Debian packages only (README.md, "What sluice is");
# npm packages for the compatibility tests are installed by tests/compat/.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  # libraries sluice links
  librdkafka-dev libcurl4-openssl-dev libavro-dev libjansson-dev
  libmicrohttpd-dev libgnutls28-dev libyaml-dev libsqlite3-dev libncurses-dev
  libprotobuf-dev libprotoc-dev
  # servers, peers and tools for tests, benchmarks and `make run`
  clickhouse-server clickhouse-client kcat curl openssl tmux wrk groff-base
  # the ZooKeeper of the replicated-ClickHouse tests (tests/support/zookeeper.c,
  # run by pid from its jars; log4j 1.2 so that its log says why it stopped)
  zookeeper liblog4j1.2-java
  # the JSON tokenizer the codec benchmark measures ours against (bench only)
  libyajl-dev
  python3-confluent-kafka python3-clickhouse-driver python3-requests
  # packaging and install tests: dpkg-shlibdeps, systemd-analyze
  dpkg-dev systemd
  protobuf-compiler python3-protobuf python3-jsonschema
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

# Node.js and npm run the compatibility tests (kafkajs, avsc). A machine may
# already have them from another source (nodesource's nodejs ships npm inside
# and conflicts with Debian's npm), so ask for the commands, not the packages.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

# The compatibility tests' npm packages (kafkajs, avsc, the Confluent
# registry client), pinned by tests/compat/package-lock.json.
npm_deps() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/compat"
  if [[ ! -d $dir/node_modules ]]; then
    echo "setup: npm ci in tests/compat"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
}

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
  npm_deps
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# clickhouse-server's maintainer script would start a system service; we only
# want the binary (tests start their own server on a free port), so tell
# invoke-rc.d not to start anything while we install.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  made_policy=1
fi
trap '[[ $made_policy == 1 ]] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
npm_deps
echo "setup: done"
