#!/usr/bin/env bash
# Runs every test. Installs the real BitTorrent peers the interop tests use (Debian packages) when missing.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(python3-libtorrent transmission-cli aria2 opentracker mktorrent tmux chromium dante-server microsocks tinyproxy miniupnpd miniupnpc nftables nginx-light)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing test peers: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  # miniupnpd is run by the port-mapping test in its own namespaces with its own config; never as the machine's service.
  echo "miniupnpd miniupnpd/start_daemon boolean false" | $SUDO debconf-set-selections
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

dotnet build RTorrent.sln -c Release -nologo -v q
dotnet test RTorrent.sln -c Release --no-build -nologo "$@"
