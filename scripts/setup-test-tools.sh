#!/usr/bin/env bash
# Installs the real clients the integration tests drive, only when they are missing:
#   redis-cli and redis-benchmark (Debian's redis-tools), and the `redis` package for python3;
#   Django and django-redis for python3 (the Django cache test drives a cluster through them);
#   PyYAML for scripts/check-deploy.py; Chromium for scripts/check-status-page.sh;
#   curl (the auth tests log in with --netrc-file).
# Idempotent and quiet; run it again at any time.
set -euo pipefail

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

if ! command -v redis-cli >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "installing: redis-tools"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-tools >/dev/null
fi

if ! command -v curl >/dev/null; then
    echo "installing: curl"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq curl >/dev/null
fi

if ! command -v python3 >/dev/null; then
    echo "installing: python3 python3-pip"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3 python3-pip >/dev/null
fi

if ! python3 -c 'import redis' 2>/dev/null; then
    echo "installing: redis (python)"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-pip >/dev/null
    fi
    # Debian's own python3 refuses system-wide pip installs (PEP 668); fall back to its package.
    python3 -m pip install --quiet --disable-pip-version-check redis 2>/dev/null \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages redis 2>/dev/null \
        || DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-redis >/dev/null
    python3 -c 'import redis' || { echo "error: could not install the python redis package" >&2; exit 1; }
fi

if ! python3 -c 'import django, django_redis' 2>/dev/null; then
    echo "installing: Django and django-redis (python)"
    python3 -m pip install --quiet --disable-pip-version-check django django-redis 2>/dev/null \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages django django-redis 2>/dev/null \
        || DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-django python3-django-redis >/dev/null
    python3 -c 'import django, django_redis' \
        || { echo "error: could not install Django and django-redis (pip install django django-redis)" >&2; exit 1; }
fi

if ! python3 -c 'import yaml' 2>/dev/null; then
    echo "installing: PyYAML (python)"
    python3 -m pip install --quiet --disable-pip-version-check PyYAML 2>/dev/null \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages PyYAML 2>/dev/null \
        || DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-yaml >/dev/null
    python3 -c 'import yaml' || { echo "error: could not install PyYAML (pip install PyYAML)" >&2; exit 1; }
fi

# Not fatal: without Chromium the status page test says so and skips.
if ! command -v chromium >/dev/null; then
    echo "installing: chromium (the status page test loads the page in it)"
    { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null; } \
        || echo "warning: could not install chromium; scripts/check-status-page.sh will skip" >&2
fi
