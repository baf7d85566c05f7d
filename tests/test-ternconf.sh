#!/bin/sh
# ternconf against a typical small site's Postfix main.cf: the values read
# back (raw and expanded) are the ones the file sets, unknown parameters are
# warned about with file and line, edits keep comments and order, a broken
# file fails with file:line, and every parameter is documented.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

C=$T/etc
mkdir -p "$C"
cat > "$C/main.cf" <<'CF'
# A small site: one host, relaying through its provider.
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no

append_dot_mydomain = no
myhostname = mail.example.com
mydomain = example.com
myorigin = $mydomain
mydestination = $myhostname, localhost.$mydomain, localhost,
    $mydomain
# trusted networks
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
	192.168.1.0/24
inet_interfaces = all
inet_protocols = ipv4
relayhost = [smtp.provider.example]:587
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
recipient_delimiter = +
message_size_limit = 52428800
queue_directory = /var/spool/tern
transport_maps = ${relayhost?{hash:/etc/tern/transport}}
CF
cp "$C/main.cf" "$T/main.cf.orig"
touch "$C/master.cf"

out=$("$BIN/ternconf" -c "$C" -n 2>"$T/err")
rc=$?
expect_eq "ternconf -n exit" "$rc" 0
expect_eq "raw mydestination" \
	"$(printf '%s\n' "$out" | grep '^mydestination =')" \
	'mydestination = $myhostname, localhost.$mydomain, localhost, $mydomain'
expect_eq "raw myorigin" "$(printf '%s\n' "$out" | grep '^myorigin =')" \
	'myorigin = $mydomain'
expect_eq "continued mynetworks" \
	"$(printf '%s\n' "$out" | grep '^mynetworks =')" \
	'mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128 192.168.1.0/24'
expect_no_match "-n omits unset" "$out" '^(syslog_name|mail_owner) ='

x=$("$BIN/ternconf" -c "$C" -n -x 2>/dev/null)
want='alias_database = hash:/etc/aliases
alias_maps = hash:/etc/aliases
inet_interfaces = all
inet_protocols = ipv4
message_size_limit = 52428800
mydestination = mail.example.com, localhost.example.com, localhost, example.com
mydomain = example.com
myhostname = mail.example.com
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128 192.168.1.0/24
myorigin = example.com
queue_directory = /var/spool/tern
recipient_delimiter = +
relayhost = [smtp.provider.example]:587
smtpd_banner = mail.example.com ESMTP tern (Debian/GNU)
transport_maps = hash:/etc/tern/transport'
expect_eq "ternconf -n -x" "$x" "$want"

# Unknown parameters: a warning each, with file and line, and a suggestion
# where one is close.
err=$(cat "$T/err")
expect_no_match "smtpd_banner is known" "$err" "unknown parameter smtpd_banner"
expect_match "warn biff" "$err" "$C/main.cf, line 3: unknown parameter biff"
expect_match "warn append_dot_mydomain" "$err" \
	"$C/main.cf, line 5: unknown parameter append_dot_mydomain"
"$BIN/ternconf" -c "$C" -e 'mydestinaton = x' >/dev/null 2>&1
err=$("$BIN/ternconf" -c "$C" -n 2>&1 >/dev/null)
expect_match "suggestion" "$err" \
	"line 2[0-9]: unknown parameter mydestinaton.*mydestination"
"$BIN/ternconf" -c "$C" -X mydestinaton

# Where Postfix is installed, postconf must see the same effective values.
POSTCONF=$(command -v postconf || ls /usr/sbin/postconf 2>/dev/null)
if [ -n "$POSTCONF" ] && [ -x "$POSTCONF" ]; then
	for p in $(printf '%s\n' "$want" | sed 's/ =.*//'); do
		# mail_name differs by design (tern, not Postfix).
		case $p in queue_directory|smtpd_banner) continue ;; esac
		expect_eq "postconf agrees on $p" \
			"$("$BIN/ternconf" -c "$C" -x -h "$p" 2>/dev/null)" \
			"$("$POSTCONF" -c "$C" -x -h "$p" 2>/dev/null)"
	done
else
	echo "postconf not installed: comparison with Postfix skipped"
fi

# MAIL_CONFIG selects the instance when -c is absent.
expect_eq "MAIL_CONFIG" "$(MAIL_CONFIG=$C "$BIN/ternconf" -h myorigin 2>/dev/null)" \
	'$mydomain'

# -e replaces in place (continuation lines included) and appends new
# names; comments and order stay.
"$BIN/ternconf" -c "$C" -e 'mydestination=$myhostname' 'relayhost = ' \
	maillog_file=/dev/stdout
expect_eq "-e exit" "$?" 0
expect_eq "-e in place" "$(sed -n '9,11p' "$C/main.cf")" \
'mydestination = $myhostname
# trusted networks
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128'
expect_eq "-e kept comment" "$(sed -n 1p "$C/main.cf")" \
	'# A small site: one host, relaying through its provider.'
expect_eq "-e appended" "$(tail -n 1 "$C/main.cf")" 'maillog_file = /dev/stdout'
expect_eq "-e empty value" "$("$BIN/ternconf" -c "$C" -h relayhost)" ''
"$BIN/ternconf" -c "$C" -X maillog_file
expect_no_match "-X removed" "$(cat "$C/main.cf")" '^maillog_file'

# Bad values and broken syntax: non-zero exit, file and line named.
cp "$T/main.cf.orig" "$C/main.cf"
printf 'message_size_limit = 10M\n' >> "$C/main.cf"
err=$("$BIN/ternconf" -c "$C" -n 2>&1 >/dev/null)
expect_eq "bad size exit" "$?" 1
expect_match "bad size message" "$err" "$C/main.cf, line 23: .*message_size_limit"
cp "$T/main.cf.orig" "$C/main.cf"
printf 'this line has no equals sign\n' >> "$C/main.cf"
err=$("$BIN/ternconf" -c "$C" 2>&1 >/dev/null)
expect_eq "syntax exit" "$?" 1
expect_match "syntax message" "$err" "$C/main.cf, line 23"
cp "$T/main.cf.orig" "$C/main.cf"
printf 'a = $b\nb = ${a}\nmyorigin = $a\n' >> "$C/main.cf"
err=$("$BIN/ternconf" -c "$C" -x myorigin 2>&1 >/dev/null)
expect_eq "recursion exit" "$?" 1
expect_match "recursion message" "$err" "recurs"
cp "$T/main.cf.orig" "$C/main.cf"
err=$("$BIN/ternconf" -c "$T/nonexistent" -n 2>&1)
expect_eq "missing dir exit" "$?" 1
expect_match "missing dir message" "$err" "$T/nonexistent/main.cf"
err=$("$BIN/ternconf" -c "$C" no_such_parameter 2>&1)
expect_eq "unknown name exit" "$?" 1
expect_match "unknown name message" "$err" "no_such_parameter: unknown parameter"

# -M prints master.cf entries, continuation lines joined.
cat > "$C/master.cf" <<'MCF'
# comment
smtp      inet  n       -       -       -       -       smtpd
submission inet n       -       -       -       -       smtpd
  -o syslog_name=tern/submission
pickup    unix  n       -       -       60      1       pickup
MCF
m=$("$BIN/ternconf" -c "$C" -M submission/inet 2>&1)
expect_match "-M entry" "$m" \
	'^submission +inet +n +- +- +- +- +smtpd +-o +syslog_name=tern/submission$'
expect_eq "-M all count" "$("$BIN/ternconf" -c "$C" -M | wc -l)" 3
printf 'broken inet n\n' >> "$C/master.cf"
err=$("$BIN/ternconf" -c "$C" -M 2>&1 >/dev/null)
expect_eq "-M broken exit" "$?" 1
expect_match "-M broken message" "$err" "$C/master.cf, line 6"

# Every parameter ternconf knows is documented in tern-main.cf(5).
for p in $("$BIN/ternconf" -d | sed 's/ =.*//'); do
	checks=$((checks + 1))
	grep -q "^\.It Va $p " "$top_srcdir/man/tern-main.cf.5" ||
		fail "$p is not documented in man/tern-main.cf.5"
done

finish
