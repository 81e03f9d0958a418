#!/usr/bin/env bash
# The e-mail tests start their own Dovecot (IMAP) from a config in a temp dir; here we only make
# sure the binary is there: installed with apt-get (dovecot-imapd) when absent and we are root,
# like PostgreSQL in ensure-services.sh. The package's own system service is not started.
set -u
if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "Dovecot is not installed: installing dovecot-imapd with apt-get…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null
  exit $?
fi
echo "Dovecot is not installed (apt-get install dovecot-imapd): the IMAP tests will be skipped."
exit 1
