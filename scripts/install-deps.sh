#!/usr/bin/env bash
# Installs what ttl-auditor needs to build, test and run its demo on Debian 12: the C++ libraries,
# the real servers the integration tests start (PostgreSQL, Prometheus, Pushgateway, Swift's S3
# layer), python3-boto3/botocore for peers and generators, and dynalite from npm.
# Idempotent and quiet: packages already present are not touched.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake g++ make pkg-config git ca-certificates
  prometheus-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcurl4-openssl-dev libssl-dev
  libpugixml-dev libyaml-cpp-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libpq-dev libsimdjson-dev
  prometheus prometheus-pushgateway postgresql
  python3 python3-boto3 python3-botocore python3-jsonschema python3-yaml awscli
  swift-proxy swift-account swift-container swift-object
  time procps
  # serve --web.config.file tests: htpasswd -B (bcrypt), a TLS client, self-signed certificates
  apache2-utils curl openssl
)
# Needed by the tests only, never by ttl-auditor itself: a headless browser that renders the
# --html page (tests/integration/html_page_test.cc). Set TTLA_NO_TEST_DEPS=1 to leave it out on a
# machine that only builds and runs the auditor.
test_packages=(chromium)
if [ "${TTLA_NO_TEST_DEPS:-0}" != 1 ]; then packages+=("${test_packages[@]}"); fi

# node and npm may come from elsewhere than Debian on a developer machine: only ask apt for them
# when they are not on PATH at all.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${#missing[@]} Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    > /tmp/ttla-apt.log 2>&1 || { tail -30 /tmp/ttla-apt.log; exit 1; }
else
  echo "install-deps: all Debian packages present"
fi

# Debian's packages may start system services on a normal host; our tests never use them.
bash scripts/install-node-deps.sh
