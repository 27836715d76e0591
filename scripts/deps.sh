#!/usr/bin/env bash
# Install, with apt-get, the Debian 12 packages the build and tests need,
# but only those that are missing.  Needs root (or sudo) only when something
# is missing.  Extra package names may be given as arguments.
set -euo pipefail
pkgs=(cmake make gcc pkg-config libopenblas-dev liblapacke-dev libcmocka-dev librandom123-dev "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  sudo_=""
  [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_ apt-get update -qq
  $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
