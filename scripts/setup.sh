#!/usr/bin/env bash
# One-command setup on a fresh Debian 12 machine (run as root, or with sudo available):
# installs every Debian package the build and the tests need, the npm packages of the
# client tests, then configures and builds. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential g++ cmake ninja-build pkg-config ccache git
  libboost1.74-dev nlohmann-json3-dev libcli11-dev libfmt-dev libpcre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev zlib1g-dev
  libcurl4-openssl-dev              # pensieve pull (resumable HTTPS downloads)
  clang libclang-rt-14-dev          # libFuzzer + sanitizers for the fuzz targets
  python3 python3-numpy             # ../shared/tools/gen_model.py (test models)
  nodejs npm                        # client e2e tests with the official SDKs
  iproute2 util-linux procps curl   # unshare -n / ip for the Claude Code e2e test
  lcov                              # scripts/coverage.sh (gcov comes with g++)
  zsh fish                          # `pensieve completions zsh|fish` are checked with zsh -n / fish -n
  zip unzip jq file                 # tests/cmd_eval: programs the evaluated commands run
  chromium                          # the web page's test (tests/clients/test/web.test.mjs, headless)
  systemd                           # systemd-analyze verify for packaging/pensieve.service
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # node may come from elsewhere (e.g. NodeSource); don't fight an existing install.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    filtered=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
    missing=("${filtered[@]}")
  fi
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# npm packages for tests/clients (official @anthropic-ai/sdk and openai clients).
if [ -f tests/clients/package.json ] && command -v npm >/dev/null; then
  # Also when package-lock.json changed since the last install (a package was added): the lock's
  # hash is kept beside the installed packages (mtimes do not survive merges and checkouts).
  lock_sum=$(sha256sum tests/clients/package-lock.json | cut -d' ' -f1)
  if [ "$(cat tests/clients/node_modules/.pensieve-lock-sha256 2>/dev/null)" != "$lock_sum" ]; then
    if (cd tests/clients && (npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error)); then
      echo "$lock_sum" > tests/clients/node_modules/.pensieve-lock-sha256
    else
      echo "setup: npm install failed; the client tests will skip (and fail when CI is set)"
    fi
  fi
fi

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "setup: built $BUILD_DIR/pensieve"
