#!/bin/sh
# make demo: a self-contained tern instance under the build tree (its own
# main.cf and master.cf, queue, log and daemon directory, loopback ports
# above 1024, running as the invoking user, or as root with the services
# running as nobody), started in the foreground.
# It prints what is running and how to talk to it, then waits; Ctrl-C (or
# "tern -c DIR stop" from another terminal) stops it.  With DEMO_SECONDS
# set it stops by itself after that many seconds.
# Usage: demo.sh BUILDDIR SRCDIR
set -eu
B=$1
S=$2
D=$B/demo
BIN=$B/src/commands
PY=/usr/bin/python3

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mkdir -p "$D/etc" "$D/libexec"
for d in master/master qmgr/qmgr local/local pickup/pickup showq/showq \
    smtpd/smtpd authd/authd anvil/anvil; do
	ln -sf "$B/src/$d" "$D/libexec/${d##*/}"
done
mkdir -p "$D/mail"
chmod 1777 "$D/mail"
# As root, master runs as root and the services as nobody (a real
# installation has a dedicated mail_owner, "tern"); otherwise everything
# runs as the invoking user.
if [ "$(id -u)" = 0 ]; then
	OWNER=nobody
	GROUP=nogroup
else
	OWNER=$(id -un)
	GROUP=$(id -gn)
fi
if [ ! -f "$D/etc/main.cf" ]; then
	cp "$S/conf/main.cf" "$S/conf/aliases" "$D/etc/"
	chmod u+w,go-w "$D/etc/"*
fi
"$BIN/ternconf" -c "$D/etc" -e \
	"myhostname = demo.localhost" \
	"mydomain = localhost" \
	"queue_directory = $D/spool" \
	"data_directory = $D/data" \
	"daemon_directory = $D/libexec" \
	"command_directory = $BIN" \
	"mail_owner = $OWNER" \
	"setgid_group = $GROUP" \
	"maillog_file = $D/maillog" \
	"inet_interfaces = 127.0.0.1" \
	"inet_protocols = ipv4" \
	"alias_maps = hash:$D/etc/aliases" \
	"alias_database = hash:$D/etc/aliases" \
	"mydestination = demo.localhost, localhost" \
	"mail_spool_directory = $D/mail" \
	"mynetworks = 127.0.0.0/8" \
	"smtpd_peername_lookup = no" \
	"smtpd_tls_security_level = may" \
	"smtpd_tls_cert_file = $D/etc/demo.pem" \
	"authd_passwd_file = $D/etc/users" \
	"authd_system_users = no"
# A self-signed certificate for STARTTLS, and the demo user for AUTH
# (password "demo"), kept across runs.
if [ ! -f "$D/etc/demo.pem" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 365 -subj /CN=demo.localhost \
	    -addext subjectAltName=DNS:demo.localhost,DNS:localhost \
	    -keyout "$D/etc/demo.pem" -out "$D/etc/demo.crt" 2>/dev/null
	cat "$D/etc/demo.crt" >> "$D/etc/demo.pem"
	chmod 600 "$D/etc/demo.pem"
fi
# A demo mailbox that works whoever runs this: an alias to a file.
if ! grep -q '^demo:' "$D/etc/aliases"; then
	echo "demo: $D/mail/demo.mbox" >> "$D/etc/aliases"
fi
MAIL_CONFIG=$D/etc
export MAIL_CONFIG
if "$BIN/tern" status 2>/dev/null; then
	echo "The demo instance is already running; stop it with:"
	echo "  $BIN/tern -c $D/etc stop"
	exit 1
fi

if ! grep -q '^demo@demo.localhost:' "$D/etc/users" 2>/dev/null; then
	echo demo | "$BIN/tern" -c "$D/etc" user add demo@demo.localhost
fi

# Fresh ports each time: whatever was free last time may be taken now.
PORT=$(free_port)
SUBPORT=$(free_port)
cat > "$D/etc/master.cf" <<EOF
# The demo's services (see tern-master.cf(5)): SMTP on a loopback port,
# submission (STARTTLS and AUTH required) on another, and the mail
# pipeline (pickup, qmgr, local) behind them.
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$PORT inet n  -       n       -       -       smtpd
127.0.0.1:$SUBPORT inet n -     n       -       -       smtpd
  -o syslog_name=tern/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
anvil     unix  -       -       n       -       1       anvil
authd     unix  -       -       n       -       -       authd
pickup    unix  n       -       n       60      1       pickup
qmgr      unix  n       -       n       300     1       qmgr
showq     unix  n       -       n       -       -       showq
local     unix  -       n       n       -       -       local
EOF

"$BIN/ternalias" "hash:$D/etc/aliases"
"$BIN/tern" check
"$BIN/tern" start-fg &
fg=$!
stop() {
	trap - INT TERM
	"$BIN/tern" stop || kill "$fg" 2>/dev/null || :
	wait "$fg" || :
	exit 0
}
trap stop INT TERM

i=0
until "$BIN/tern" status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$fg" 2>/dev/null; then
		echo "demo: the instance did not start; see $D/maillog" >&2
		exit 1
	fi
	sleep 0.1
done
sleep 0.5

echo
echo "== tern demo instance in $D, running in the foreground"
"$BIN/tern" status
echo
echo "== its processes (master and one pool per master.cf service)"
ps -o pid,ppid,user,args --ppid "$fg" -p "$fg" || :
echo
echo "== an SMTP session on 127.0.0.1:$PORT (Python's smtplib)"
"$PY" - "$PORT" <<'EOF'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.set_debuglevel(1)
s.ehlo("demo.client")
s.sendmail("visitor@example.com", ["demo@demo.localhost"],
           b"Subject: hello over SMTP\r\n\r\nIt works over SMTP too.\r\n")
s.quit()
EOF
echo
echo "== a message through the queue: sendmail -> pickup -> qmgr -> local"
printf 'Subject: hello from the demo\n\nIt works.\n' |
    "$BIN/sendmail" -i demo
i=0
until grep -q '^Subject: hello from the demo' "$D/mail/demo.mbox" \
    2>/dev/null && grep -q '^Subject: hello over SMTP' "$D/mail/demo.mbox"; do
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then
		echo "demo: the message was not delivered; see $D/maillog" >&2
		break
	fi
	sleep 0.1
done
cat "$D/mail/demo.mbox" 2>/dev/null || :
"$BIN/ternqueue" -p || :
echo
echo "== the log ($D/maillog)"
tail -n 8 "$D/maillog"
echo
echo "Send mail:   echo hi | MAIL_CONFIG=$D/etc $BIN/sendmail demo"
echo "             (delivered to $D/mail/demo.mbox; mailq: $BIN/ternqueue -p)"
echo "SMTP:        swaks --server 127.0.0.1:$PORT --to demo@demo.localhost"
echo "             curl smtp://127.0.0.1:$PORT --mail-from you@example.com \\"
echo "                 --mail-rcpt demo@demo.localhost -T $S/README.md"
echo "Submission:  swaks --server 127.0.0.1:$SUBPORT --tls --auth PLAIN \\"
echo "                 --auth-user demo@demo.localhost --auth-password demo \\"
echo "                 --to demo@demo.localhost"
echo "             (self-signed certificate: $D/etc/demo.crt)"
echo "Configure:   MAIL_CONFIG=$D/etc $BIN/ternconf -e myhostname=other.example"
echo "             $BIN/tern -c $D/etc reload"
echo "Stop it:     Ctrl-C here, or $BIN/tern -c $D/etc stop"
if [ -n "${DEMO_SECONDS:-}" ]; then
	sleep "$DEMO_SECONDS"
	stop
fi
wait "$fg" || :
