#!/usr/bin/env bash
# Installs what building and testing temoto needs on Debian/Ubuntu, only what is missing.
# Run as root (or with sudo available). Quiet when everything is there.
set -euo pipefail

packages=(build-essential cmake ninja-build clang clang-format libclang-rt-dev
          gcc-mingw-w64-x86-64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
          python3 pkg-config libpcre2-dev libjansson-dev libutf8proc-dev
          libcurl4-openssl-dev libxml2-utils)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# node and npm run the interoperability tests; any version from 18 on will do
command -v npm >/dev/null || missing+=(nodejs npm)
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
