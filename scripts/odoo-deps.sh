#!/usr/bin/env bash
# The Debian packages an Odoo 19.0 source tree runs with (its debian/control
# Depends, Debian 12 names; PyPI is not used), plus what its browser tests
# (HttpCase tours) drive: Chromium and python3-websocket. Installed with
# apt-get when missing.
#   scripts/odoo-deps.sh check     list the missing packages; exit 1 if any
#   scripts/odoo-deps.sh ensure    install the missing ones (root), then check
#                                  that Odoo's Python imports work
set -euo pipefail

PACKAGES=(
  python3-asn1crypto python3-babel python3-cbor2 python3-chardet python3-cryptography
  python3-dateutil python3-docutils python3-freezegun python3-geoip2 python3-gevent
  python3-greenlet python3-idna python3-pil python3-jinja2 python3-libsass python3-lxml
  python3-magic python3-markupsafe python3-num2words python3-ofxparse python3-openpyxl
  python3-passlib python3-polib python3-psutil python3-psycopg2 python3-openssl
  python3-pypdf2 python3-rjsmin python3-qrcode python3-renderpm python3-reportlab
  python3-requests python3-stdnum python3-tz python3-urllib3 python3-vobject
  python3-werkzeug python3-xlsxwriter python3-xlrd python3-zeep
  postgresql-client
  fonts-dejavu-core gsfonts fonts-inconsolata fonts-font-awesome fonts-roboto-unhinted
  chromium python3-websocket
)

missing() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

check() {
  local need
  need=$(missing)
  if [[ -n "$need" ]]; then
    echo "odoo-deps: missing Debian packages: $(echo $need)" >&2
    return 1
  fi
  # The modules Odoo's server imports at start, from the Python Odoo runs with.
  /usr/bin/python3 -c 'import babel, dateutil, docutils, lxml, passlib, psycopg2, PIL, reportlab, requests, werkzeug, zeep, stdnum, num2words, rjsmin, OpenSSL, psutil, polib, gevent, freezegun, websocket' ||
    { echo "odoo-deps: the packages are installed but Python cannot import Odoo's modules" >&2; return 1; }
}

ensure() {
  local need
  need=$(missing)
  if [[ -n "$need" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "odoo-deps: missing Debian packages (run as root: apt-get install $(echo $need))" >&2
      return 1
    fi
    echo "odoo-deps: installing $(echo "$need" | wc -w) Debian packages for Odoo: $(echo $need)"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends $need ||
      { apt-get update && apt-get install -y --no-install-recommends $need; }
  fi
  check
}

case "${1:-ensure}" in
  check) check ;;
  ensure) ensure ;;
  *) echo "usage: $0 check|ensure" >&2; exit 2 ;;
esac
