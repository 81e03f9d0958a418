#!/usr/bin/env bash
# Debian's Chromium and a Chinese font for the browser tests (tests/e2e): installed with
# apt-get when absent and we are root, like PostgreSQL in ensure-services.sh. Playwright drives
# /usr/bin/chromium; it never downloads a browser. Exit 0 when both are here; otherwise print
# why and exit 1 (the browser tests then skip with that reason, or fail under CI=true).
set -u

have_chromium() { [ -x /usr/bin/chromium ]; }
have_cjk_font() { fc-list :lang=zh family 2>/dev/null | grep -q .; }
can_apt() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; }

missing=()
have_chromium || missing+=(chromium)
have_cjk_font || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ] && can_apt; then
  echo "Installing ${missing[*]} for the browser tests with apt-get…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

ok=0
have_chromium || { echo "Chromium is not installed (/usr/bin/chromium; apt-get install chromium)"; ok=1; }
have_cjk_font || { echo "No Chinese font is installed (apt-get install fonts-noto-cjk)"; ok=1; }
exit $ok
