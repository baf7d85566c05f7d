#!/bin/sh
# make demo: sets up a self-contained tern instance under the build tree
# (its own main.cf, master.cf and aliases, owned by the invoking user) and
# shows what it is made of.  Usage: demo.sh BUILDDIR SRCDIR
set -eu
B=$1
S=$2
D=$B/demo
BIN=$B/src/commands

mkdir -p "$D/etc" "$D/spool" "$D/data"
if [ ! -f "$D/etc/main.cf" ]; then
	cp "$S/conf/main.cf" "$S/conf/master.cf" "$D/etc/"
	cp "$S/conf/aliases" "$D/etc/aliases"
	chmod u+w "$D/etc/"*
	"$BIN/ternconf" -c "$D/etc" -e \
		"myhostname = demo.localhost" \
		"mydomain = localhost" \
		"queue_directory = $D/spool" \
		"data_directory = $D/data" \
		"mail_owner = $(id -un)" \
		"setgid_group = $(id -gn)" \
		"maillog_file = $D/maillog" \
		"alias_maps = hash:$D/etc/aliases" \
		"alias_database = hash:$D/etc/aliases"
fi
MAIL_CONFIG=$D/etc
export MAIL_CONFIG

echo "tern demo instance in $D (configuration: \$MAIL_CONFIG=$D/etc)"
echo
echo "== ternconf -n: what this instance sets"
"$BIN/ternconf" -n
echo
echo "== ternconf -x mydestination: the effective local domains"
"$BIN/ternconf" -x mydestination
echo
echo "== ternconf -M: the services of master.cf"
"$BIN/ternconf" -M
echo
echo "== newaliases, then ternmap -q postmaster hash:$D/etc/aliases"
"$BIN/ternalias" "hash:$D/etc/aliases"
"$BIN/ternmap" -q postmaster "hash:$D/etc/aliases"
echo
echo "== ternmap -q against a regexp table"
printf '/^(.*)@example\\.com$/ relay:[mx.example.net]:$1\n' > "$D/etc/transport.re"
"$BIN/ternmap" -q alice@Example.COM "regexp:$D/etc/transport.re"
echo
echo "Try: MAIL_CONFIG=$D/etc $BIN/ternconf -e recipient_delimiter=+"
echo "The instance is files only; remove it with: rm -rf $D"
