#!/usr/bin/env bash
# Installs what Veil needs on a fresh Debian machine that already has Rust:
#   - m4, which GMP's build (through the gmp-mpfr-sys crate) requires;
#   - with --peers: a virtualenv in .peers/ with python-paillier (phe), the peer that the
#     interoperability tests and the benchmark comparison run against.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

apt_install() {
    if command -v apt-get >/dev/null 2>&1; then
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
    else
        echo "install-deps: please install $* with your package manager" >&2
        exit 1
    fi
}

if ! command -v m4 >/dev/null 2>&1; then
    echo "install-deps: installing m4 (needed to build GMP)"
    apt_install m4
fi

if [ "${1:-}" = "--peers" ] && [ ! -x .peers/bin/pheutil ]; then
    echo "install-deps: creating .peers with python-paillier"
    if ! python3 -m venv .peers 2>/dev/null; then
        apt_install python3-venv
        python3 -m venv .peers
    fi
    .peers/bin/pip install -q --disable-pip-version-check phe==1.5.0 gmpy2==2.3.2 click==8.5.1
fi
