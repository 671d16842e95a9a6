#!/usr/bin/env bash
# Installs the Debian 12 packages Ratchet builds with, calling apt-get only for
# the ones that are missing. Safe to run repeatedly; a no-op once all are present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  librocksdb-dev libboost-dev
  libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  libabsl-dev libspdlog-dev prometheus-cpp-dev libcpp-httplib-dev
  # promtool (tests of /metrics and deploy/prometheus rules) and a real
  # Prometheus server (tests/integration/prometheus_scrape_test).
  prometheus
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  libssl-dev openssl  # openssl: tests/e2e/tls_test makes its certificates
  libhowardhinnant-date-dev tzdata libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  # House rules (make format-check, make tidy, make sanitize): clang-14 with its
  # sanitizer runtimes, llvm-14 for llvm-symbolizer, clang-format-14, clang-tidy-14;
  # git lists the tracked files, jq reads compile_commands.json and ctest's JSON.
  git jq clang-14 libclang-rt-14-dev llvm-14 clang-format-14 clang-tidy-14
  # make fuzz: libFuzzer for clang-14 (tests/fuzz/).
  libfuzzer-14-dev
  # tests/deploy: systemd-analyze verifies deploy/systemd/ratchetd.service.
  systemd
  # tests/e2e/dashboard_test: headless Chromium driven by Selenium.
  chromium chromium-driver python3-selenium
  # tests/e2e/python_client_test: Python stubs generated from the shipped
  # protos (protoc's --python_out and gRPC's Python plugin) run against
  # ratchetd.
  # protoc-gen-go and protoc-gen-go-grpc: the same test generates Go stubs.
  python3-grpcio python3-protobuf protobuf-compiler-grpc protoc-gen-go protoc-gen-go-grpc
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
