#!/usr/bin/env bash
# Install the system packages the tests need (Debian): headless Chromium for the
# browser test (tests/python/test_browser.py), tmux for the console test
# (tests/python/test_query.py). Idempotent: apt runs only when a
# package is missing. Needs root (or sudo) only when something must be installed.
#   scripts/install_system_deps.sh          install what is missing
#   scripts/install_system_deps.sh --check  exit 1 if something is missing
set -euo pipefail

PACKAGES=(chromium fonts-dejavu-core tmux)

missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "install_system_deps: missing ${missing[*]}" >&2
    exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
        sudo="sudo"
    else
        echo "install_system_deps: need root to install ${missing[*]} (apt-get install -y ${missing[*]})" >&2
        exit 1
    fi
fi

echo "install_system_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
