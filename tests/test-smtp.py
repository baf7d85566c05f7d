#!/usr/bin/python3
# Outbound delivery end to end: two instances, A on 127.0.0.1 and B on
# 127.0.0.2 (the same port P; A's smtp_tcp_port = P), with DNS from an
# unbound.conf-format file and no network.  MX routing into B's Maildir,
# a dead first MX, null MX (RFC 7505) and NXDOMAIN bounces, SERVFAIL
# deferral (a stub zone served by a SERVFAIL-only DNS server); against
# smtp-sink and a scripted server: 4xx defers, 5xx bounces quoting the
# remote reply, mixed per-recipient results, retry after a disconnect,
# slow replies within the timeouts and a timeout exceeded; log lines in
# Postfix's shape; opportunistic TLS (B's Received: says ESMTPS),
# encrypt against a server without STARTTLS, verify with the right and a
# wrong name, per-destination smtp_tls_policy_maps; DANE against a
# DNSSEC-signed zone served by nsd (a matching TLSA, a non-matching one,
# an insecure zone falling back to may); LMTP over TCP and a UNIX socket
# (RFC 2033 replies after the dot); connection reuse; relayhost with
# SASL AUTH to B's submission service; as root, smtp running as
# mail_owner.
import email
import email.policy
import json
import os
import pwd
import re
import smtplib
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ternlib import (IS_ROOT, PIPELINE_MASTER_CF, Instance, ScriptedSmtpServer,
                     ServfailDns, SignedZone, SmtpSink, Tally, free_port,
                     headers, maildir_files, make_ca, make_cert, proc_uids,
                     spki_sha256, wait_for)

t = Tally()
A = Instance(t, "tern-smtp-a", tag="a")
B = Instance(t, "tern-smtp-b", tag="b")
A.setup_commands()
B.setup_commands()
D = A.dir
QID_RE = re.compile(r"queued as ([0-9A-V]{12,24})")

used_ports = set()


def new_port():
    while True:
        p = free_port()
        if p not in used_ports:
            used_ports.add(p)
            return p


# P: smtpd of A on 127.0.0.1 and of B on 127.0.0.2, smtp-sink on
# 127.0.0.5 (no STARTTLS); SUB: B's submission; the rest on 127.0.0.1.
(P, SUB, S4, S5, SQ, SW, ST, PMIX, PREUSE, PLMTP, PNSD, PRELOAD) = [
    new_port() for _ in range(12)]
tag = str(os.getpid())[-6:]

# Mailboxes: the sender's at A (bounces come back there) and the
# recipient's at B.
if IS_ROOT:
    UA = A.add_user("ternsa" + tag).pw_name
    UB = B.add_user("ternsb" + tag).pw_name
    MAILDIR_A = os.path.join(pwd.getpwnam(UA).pw_dir, "Maildir")
    MAILDIR_B = os.path.join(pwd.getpwnam(UB).pw_dir, "Maildir")
    mbox_a = mbox_b = {"home_mailbox": "Maildir/"}
else:
    UA = UB = pwd.getpwuid(os.getuid()).pw_name
    for inst in (A, B):
        os.mkdir(os.path.join(inst.dir, "mail"))
    MAILDIR_A = os.path.join(A.dir, "mail", UA)
    MAILDIR_B = os.path.join(B.dir, "mail", UB)
    mbox_a = {"mail_spool_directory": os.path.join(A.dir, "mail") + "/"}
    mbox_b = {"mail_spool_directory": os.path.join(B.dir, "mail") + "/"}
SENDER = "%s@a.test" % UA

# TLS: B's certificate for mx.b.test from a CA that A trusts.
CA = make_ca(D, "ca")
CERT, KEY = make_cert(D, "mxb", CA, ["mx.b.test"])
os.chmod(KEY, 0o600)
SPKI = spki_sha256(CERT)
WRONG = "%064x" % (int(SPKI, 16) ^ 1)

# DNS.  The signed zone first: nsd on 127.0.0.1:PNSD.
servfail = ServfailDns()
HAVE_NSD = SignedZone.available()
zone = None
if HAVE_NSD:
    zone = SignedZone(D, "dane.example", [
        "@ IN MX 10 mx",
        "mx IN A 127.0.0.2",
        "_%d._tcp.mx IN TLSA 3 1 1 %s" % (P, SPKI),
        "bad IN MX 10 mxbad",
        "mxbad IN A 127.0.0.2",
        "_%d._tcp.mxbad IN TLSA 3 1 1 %s" % (P, WRONG),
    ], PNSD)
else:
    print("note: nsd or ldnsutils missing: the DANE checks fail",
          file=sys.stderr)
RESOLVER = os.path.join(D, "unbound.conf")
local_data = [
    "b.test. IN MX 10 mx.b.test.",
    "mx.b.test. IN A 127.0.0.2",
    "two.test. IN MX 10 down.two.test.",
    "two.test. IN MX 20 mx.b.test.",
    "down.two.test. IN A 127.0.0.3",
    "nullmx.test. IN MX 0 .",
    "notls.test. IN MX 10 mx.notls.test.",
    "mx.notls.test. IN A 127.0.0.5",
    "wrongname.test. IN MX 10 mx.wrongname.test.",
    "mx.wrongname.test. IN A 127.0.0.2",
    "verified.test. IN MX 10 mx.b.test.",
    "plain.test. IN MX 10 mx.b.test.",
    "insecure.test. IN MX 10 mx.insecure.test.",
    "mx.insecure.test. IN A 127.0.0.2",
    # Not DNSSEC-validated, so DANE must ignore it (RFC 7672 §2.2).
    "_%d._tcp.mx.insecure.test. IN TLSA 3 1 1 %s" % (P, WRONG),
]
with open(RESOLVER, "w") as f:
    f.write("server:\n  do-not-query-localhost: no\n"
            '  local-zone: "test." static\n')
    for r in local_data:
        f.write('  local-data: "%s"\n' % r)
    if zone:
        f.write('  trust-anchor: "%s"\n' % zone.trust_anchor)
        f.write('stub-zone:\n  name: "dane.example."\n'
                "  stub-addr: 127.0.0.1@%d\n" % PNSD)
    f.write('stub-zone:\n  name: "servfail.example."\n'
            "  stub-addr: 127.0.0.1@%d\n" % servfail.port)

LMTP_SOCK_DIR = os.path.join(D, "lmtp")
os.mkdir(LMTP_SOCK_DIR)
os.chmod(LMTP_SOCK_DIR, 0o755)
LMTP_SOCK = os.path.join(LMTP_SOCK_DIR, "lmtp.sock")


def write_file(name, text, inst=A):
    path = os.path.join(inst.dir, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


TRANSPORT = write_file("transport", "".join(
    "%s %s\n" % kv for kv in [
        ("sink4.test", "smtp:[127.0.0.1]:%d" % S4),
        ("sink5.test", "smtp:[127.0.0.1]:%d" % S5),
        ("drop.test", "smtp:[127.0.0.1]:%d" % SQ),
        ("slow.test", "smtp:[127.0.0.1]:%d" % SW),
        ("timeout.test", "smtp:[127.0.0.1]:%d" % ST),
        ("mixed.test", "smtp:[127.0.0.1]:%d" % PMIX),
        ("reuse.test", "smtp:[127.0.0.1]:%d" % PREUSE),
        ("reload.test", "smtp:[127.0.0.1]:%d" % PRELOAD),
        ("lmtp.test", "lmtp:inet:127.0.0.1:%d" % PLMTP),
        ("lmtpu.test", "lmtp:unix:%s" % LMTP_SOCK),
    ]))
POLICY = write_file("tls_policy", "".join(
    "%s %s\n" % kv for kv in [
        ("notls.test", "encrypt"),
        ("wrongname.test", "verify"),
        ("verified.test", "verify"),
        ("plain.test", "none"),
        ("insecure.test", "dane"),
        ("dane.example", "dane"),
        ("bad.dane.example", "dane"),
    ]))
SASL_USER = "relay@b.test"
SASL_PASS = "relay-secret"
SASL_MAP = os.path.join(A.dir, "sasl_passwd")


def write_sasl(password):
    write_file("sasl_passwd", "[127.0.0.2]:%d %s:%s\n"
               % (SUB, SASL_USER, password))
    if IS_ROOT:
        os.chmod(SASL_MAP, 0o640)
        os.chown(SASL_MAP, 0, pwd.getpwnam(A.owner).pw_gid)


write_sasl("wrong-" + SASL_PASS)

A.write_master(PIPELINE_MASTER_CF + """\
127.0.0.1:{P} inet n - n - - smtpd
smtp      unix  -       -       n       -       -       smtp
lmtp      unix  -       -       n       -       -       lmtp
""".format(P=P))
A.write_main(
    myhostname="a.test", mydomain="a.test", myorigin="a.test",
    mydestination="a.test, localhost", mynetworks="127.0.0.0/8",
    inet_interfaces="127.0.0.1", smtpd_peername_lookup="no",
    dns_resolver_config=RESOLVER, smtp_tcp_port=str(P),
    transport_maps="texthash:" + TRANSPORT,
    smtp_tls_policy_maps="texthash:" + POLICY,
    smtp_tls_CAfile=CA[0], smtp_tls_security_level="may",
    smtp_helo_timeout="5s", smtp_connect_timeout="5s",
    # At most two sessions per destination: five messages queued at once
    # for one destination must share connections.
    smtp_destination_concurrency_limit="2",
    smtp_sasl_password_maps="texthash:" + SASL_MAP,
    **mbox_a)

B_USERS = os.path.join(B.dir, "users")
B.write_master(PIPELINE_MASTER_CF + """\
anvil     unix  -       -       n       -       1       anvil
authd     unix  -       -       n       -       -       authd
127.0.0.2:{P} inet n - n - - smtpd
127.0.0.2:{SUB} inet n - n - - smtpd
  -o syslog_name=tern/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
""".format(P=P, SUB=SUB))
B.write_main(
    myhostname="mx.b.test", mydomain="b.test", myorigin="b.test",
    mydestination="b.test, two.test, verified.test, wrongname.test, "
                  "plain.test, insecure.test, dane.example, "
                  "bad.dane.example, localhost",
    mynetworks="127.0.0.9/32", inet_interfaces="127.0.0.2",
    smtpd_peername_lookup="no", dns_resolver_config=RESOLVER,
    smtpd_tls_cert_file=CERT, smtpd_tls_key_file=KEY,
    smtpd_tls_security_level="may", authd_passwd_file=B_USERS,
    **mbox_b)


# Helpers -------------------------------------------------------------------

# How long to wait for an outcome that does not come (TERN_TEST_WAIT
# seconds, for a slow machine).
WAIT = float(os.environ.get("TERN_TEST_WAIT", "30"))


def find_msg(maildir, subject, timeout=None):
    def look():
        for raw in maildir_files(maildir):
            if headers(raw).get("Subject") == subject:
                return raw
        return None
    return wait_for(look, timeout or WAIT)


def find_bounce(needle, timeout=None):
    """A message in the sender's Maildir at A (a DSN) that mentions
    needle (the original Subject is in the returned headers)."""
    def look():
        for raw in maildir_files(MAILDIR_A):
            if needle.encode() in raw and \
                    headers(raw).get("Subject") != needle:
                return raw.decode("utf-8", "replace")
        return None
    return wait_for(look, timeout or WAIT)


def dsn_recipients(text):
    """The per-recipient blocks of a DSN's message/delivery-status part
    (RFC 3464 §2.3) as (Final-Recipient, Action, Status) tuples."""
    out = []
    msg = email.message_from_string(text, policy=email.policy.compat32)
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for b in blocks[1:]:
            fr = (b.get("Final-Recipient") or "").split(";", 1)[-1].strip()
            out.append((fr, (b.get("Action") or "").strip(),
                        (b.get("Status") or "").strip()))
    return out


def received(raw):
    head = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    for f in re.split(r"\n(?![ \t])", head):
        if f.lower().startswith("received:"):
            return " ".join(f[len("received:"):].split())
    return ""


def message(subject, to):
    return ("From: <%s>\r\nTo: %s\r\nSubject: %s\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID: <%s@a.test>\r\n\r\nbody of %s\r\n"
            % (SENDER, ", ".join("<%s>" % r for r in to), subject,
               re.sub(r"\W", "-", subject), subject))


def inject(subject, rcpts):
    """Submits a message to A's smtpd; returns the queue ID (None when
    A refused it)."""
    try:
        s = smtplib.SMTP("127.0.0.1", P, local_hostname="client.a.test",
                         timeout=20)
        s.ehlo()
        s.mail(SENDER)
        for r in rcpts:
            s.rcpt(r)
        code, resp = s.data(message(subject, rcpts).encode())
        s.quit()
    except (OSError, smtplib.SMTPException) as e:
        t.fail("inject %r: %s" % (subject, e))
        return None
    m = QID_RE.search(resp.decode(errors="replace"))
    return m.group(1) if code == 250 and m else None


def status_line(qid, rcpt, status, timeout=None, inst=A):
    """A's delivery log line for qid and rcpt with status=status, waiting
    for it; None when it does not come, or when another outcome for that
    recipient is logged after the call and this one does not follow
    within two seconds."""
    if qid is None:
        return None
    pat = re.compile(r"%s: to=<%s>, .*status=%s " % (qid, re.escape(rcpt),
                                                     status))
    anyst = re.compile(r"%s: to=<%s>, .*status=" % (qid, re.escape(rcpt)))
    before = len([ln for ln in inst.logtext().splitlines()
                  if anyst.search(ln)])
    other_at = [None]

    def look():
        lines = [ln for ln in inst.logtext().splitlines()
                 if anyst.search(ln)]
        for ln in lines:
            if pat.search(ln):
                return ln
        if len(lines) > before:
            if other_at[0] is None:
                other_at[0] = time.monotonic()
            elif time.monotonic() - other_at[0] > 2:
                return "other"
        return None
    ln = wait_for(look, timeout or WAIT, step=0.2)
    return None if ln == "other" else ln


def any_status(qid, rcpt):
    pat = re.compile(r"%s: to=<%s>.*status=" % (qid, re.escape(rcpt)))
    return [ln for ln in A.logtext().splitlines() if pat.search(ln)]


# Postfix's delivery line: to=<...>, relay=..., delay=..., [delays=...,]
# dsn=X.Y.Z, status=... (text).
SHAPE = re.compile(r": to=<[^>]*>, (orig_to=<[^>]*>, )?relay=[^,\s]+, "
                   r"delay=[0-9.]+, (delays=[0-9./]+, )?"
                   r"dsn=[245]\.\d{1,3}\.\d{1,3}, "
                   r"status=(sent|deferred|bounced) \(.+\)$")


def check_line(what, qid, rcpt, status, relay=None, dsn=None, text=None,
               timeout=None):
    ln = status_line(qid, rcpt, status, timeout)
    if not t.ok("%s: logged status=%s" % (what, status), ln is not None,
                "qid %s; lines: %r" % (qid, any_status(qid, rcpt) if qid
                                       else None)):
        return None
    t.ok("%s: the log line has Postfix's shape" % what,
         SHAPE.search(ln) is not None, ln)
    if relay:
        t.has("%s: relay=%s" % (what, relay), ln, "relay=%s," % relay)
    if dsn:
        t.has("%s: dsn=%s" % (what, dsn), ln, "dsn=%s," % dsn)
    if text:
        t.has("%s: the text" % what, ln, text)
    return ln


def queue_json():
    p = A.run("ternqueue", "-j")
    out = []
    for line in p.stdout.decode(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def still_queued(what, qid, rcpt):
    recips = [r.get("address", "") for m in queue_json()
              if m.get("queue_id") == qid
              for r in m.get("recipients", [])]
    t.ok("%s: the recipient stays in the queue" % what, rcpt in recips,
         "queue: %r" % recips)


def flush():
    p = A.run("ternqueue", "-f")
    return p.returncode


B_MX = "mx.b.test[127.0.0.2]:%d" % P
LOCAL = "127.0.0.1[127.0.0.1]"


# 1. MX routing and DNS outcomes -------------------------------------------

def mx():
    rb = "%s@b.test" % UB
    q1 = inject("mx one", [rb])
    q2 = inject("mx two, first down", ["%s@two.test" % UB])
    q3 = inject("null mx", ["someone@nullmx.test"])
    q4 = inject("nxdomain", ["someone@nx.test"])
    q5 = inject("servfail", ["someone@servfail.example"])
    t.ok("A accepts the messages", None not in (q1, q2, q3, q4, q5))

    check_line("MX", q1, rb, "sent", relay=B_MX, dsn="2.0.0")
    raw = find_msg(MAILDIR_B, "mx one")
    if t.ok("MX: delivered into B's Maildir", raw is not None,
            B.logtext()[-1500:]):
        rc = received(raw)
        t.has("MX: B's Received: names B", rc, "by mx.b.test")
        t.has("MX: B's Received: names A's HELO", rc, "from a.test")
        t.has("MX: B's Received: says ESMTPS (opportunistic TLS)", rc,
              "with ESMTPS")
        t.has("MX: the body arrives", raw.decode(errors="replace"),
              "body of mx one")
    t.ok("MX: A logs the TLS connection to B",
         re.search(r"(Anonymous|Untrusted|Trusted|Verified) TLS connection "
                   r"established to %s" % re.escape(B_MX), A.logtext()),
         A.logtext()[-1500:])

    check_line("second MX", q2, "%s@two.test" % UB, "sent", relay=B_MX)
    t.ok("second MX: delivered at B", find_msg(
        MAILDIR_B, "mx two, first down") is not None)

    check_line("null MX", q3, "someone@nullmx.test", "bounced",
               dsn="5.1.10")
    b = find_bounce("null mx")
    if t.ok("null MX: the bounce reaches the sender's mailbox",
            b is not None):
        t.eq("null MX: the DSN's delivery-status part", dsn_recipients(b),
             [("someone@nullmx.test", "failed", "5.1.10")])

    ln = check_line("NXDOMAIN", q4, "someone@nx.test", "bounced")
    if ln:
        t.ok("NXDOMAIN: a 5.x.x status", "dsn=5." in ln, ln)
        t.has("NXDOMAIN: Postfix's text", ln, "Host or domain name not found")
    b = find_bounce("nxdomain")
    t.ok("NXDOMAIN: the bounce reaches the sender's mailbox",
         b is not None and "someone@nx.test" in b)

    ln = check_line("SERVFAIL", q5, "someone@servfail.example", "deferred")
    if ln:
        t.ok("SERVFAIL: a 4.x.x status", "dsn=4." in ln, ln)
    t.ok("SERVFAIL: the DNS server was asked", servfail.queries > 0)
    still_queued("SERVFAIL", q5, "someone@servfail.example")
    t.eq("SERVFAIL: no bounce", find_bounce("servfail", timeout=1), None)


# 2. smtp-sink and a scripted server as relays -----------------------------

def relays():
    sinks = []
    if not SmtpSink.available():
        t.fail("smtp-sink is not installed (Debian package postfix)")
        return
    sinks.append(SmtpSink("127.0.0.1", S4, "-r", "RCPT", directory=D))
    sinks.append(SmtpSink("127.0.0.1", S5, "-f", "RCPT", "-B",
                          "550 5.1.1 Recipient address rejected: "
                          "no such user", directory=D))
    drop = SmtpSink("127.0.0.1", SQ, "-q", "DATA", directory=D)
    slow = SmtpSink("127.0.0.1", SW, "-W", "EHLO:2", directory=D)
    sinks += [slow, SmtpSink("127.0.0.1", ST, "-W", "EHLO:9", directory=D)]
    mixed = ScriptedSmtpServer(("127.0.0.1", PMIX), rcpt=lambda a: (
        "550 5.1.1 <%s>: no such user" % a if a.startswith("bad")
        else "450 4.2.1 <%s>: mailbox busy" % a if a.startswith("soft")
        else "250 2.1.5 Ok"))
    try:
        q4 = inject("sink 4xx", ["u@sink4.test"])
        q5 = inject("sink 5xx", ["u@sink5.test"])
        qd = inject("sink drop", ["u@drop.test"])
        qs = inject("sink slow", ["u@slow.test"])
        qt = inject("sink timeout", ["u@timeout.test"])
        qm = inject("mixed", ["ok@mixed.test", "bad@mixed.test",
                              "soft@mixed.test"])

        ln = check_line("4xx", q4, "u@sink4.test", "deferred",
                        relay=LOCAL + ":%d" % S4, text="host %s said: 450"
                        % LOCAL)
        if ln:
            t.ok("4xx: a 4.x.x status", "dsn=4." in ln, ln)
        still_queued("4xx", q4, "u@sink4.test")

        check_line("5xx", q5, "u@sink5.test", "bounced",
                   relay=LOCAL + ":%d" % S5, dsn="5.1.1",
                   text="host %s said: 550 5.1.1 Recipient address "
                        "rejected" % LOCAL)
        b = find_bounce("sink 5xx")
        if t.ok("5xx: the bounce reaches the sender", b is not None):
            t.has("5xx: the DSN quotes the remote reply", " ".join(b.split()),
                  "host %s said: 550 5.1.1 Recipient address rejected: "
                  "no such user" % LOCAL)
            t.has("5xx: the DSN says in reply to RCPT TO",
                  " ".join(b.split()), "in reply to RCPT TO command")

        # Per-recipient results in one transaction.
        check_line("mixed: 250", qm, "ok@mixed.test", "sent")
        check_line("mixed: 550", qm, "bad@mixed.test", "bounced",
                   dsn="5.1.1", text="said: 550 5.1.1")
        check_line("mixed: 450", qm, "soft@mixed.test", "deferred",
                   dsn="4.2.1", text="said: 450 4.2.1")
        got = mixed.received_for("Subject: mixed")
        t.eq("mixed: the server got one copy for the accepted recipient",
             [m[1] for m in got], [["ok@mixed.test"]])
        b = find_bounce("Subject: mixed")
        if t.ok("mixed: a bounce for the rejected recipient", b is not None):
            t.eq("mixed: the DSN reports the rejected recipient only",
                 dsn_recipients(b), [("bad@mixed.test", "failed", "5.1.1")])
        still_queued("mixed: 450", qm, "soft@mixed.test")

        # A disconnect, then the same destination accepts: retry.
        ln = check_line("disconnect", qd, "u@drop.test", "deferred",
                        text="lost connection with %s" % LOCAL)
        drop.stop()
        drop = SmtpSink("127.0.0.1", SQ, directory=D)
        sinks.append(drop)
        t.eq("ternqueue -f", flush(), 0)
        check_line("retry after the disconnect", qd, "u@drop.test", "sent",
                   relay=LOCAL + ":%d" % SQ, timeout=40)
        t.ok("retry: the sink got the message",
             any(b"Subject: sink drop" in d for d in drop.dumps()))

        check_line("slow replies within the timeout", qs, "u@slow.test",
                   "sent", relay=LOCAL + ":%d" % SW)
        t.ok("slow: the sink got the message",
             any(b"Subject: sink slow" in d for d in slow.dumps()))
        # Postfix names the host in relay= once it has a session with it
        # (relay=none only when no connection was made).
        check_line("timeout exceeded", qt, "u@timeout.test", "deferred",
                   relay=LOCAL + ":%d" % ST, text="timed out")
        still_queued("timeout", qt, "u@timeout.test")
    finally:
        for s in sinks + [drop]:
            s.stop()
        mixed.stop()


# 3. TLS ---------------------------------------------------------------------

def tls():
    notls = SmtpSink("127.0.0.5", P, directory=D)
    try:
        qe = inject("tls encrypt", ["u@notls.test"])
        qw = inject("tls wrong name", ["%s@wrongname.test" % UB])
        qv = inject("tls verified", ["%s@verified.test" % UB])
        qp = inject("tls none", ["%s@plain.test" % UB])

        ln = check_line("encrypt without STARTTLS", qe, "u@notls.test",
                        "deferred", dsn="4.7.4",
                        relay="mx.notls.test[127.0.0.5]:%d" % P)
        if ln:
            t.has("encrypt: says TLS was not offered", ln, "TLS")
        still_queued("encrypt", qe, "u@notls.test")
        t.eq("encrypt: nothing reached the server", notls.dumps(), [])

        check_line("verify, wrong name", qw, "%s@wrongname.test" % UB,
                   "deferred")
        still_queued("verify, wrong name", qw, "%s@wrongname.test" % UB)
        t.eq("verify, wrong name: not delivered",
             find_msg(MAILDIR_B, "tls wrong name", timeout=1), None)

        check_line("verify, right name", qv, "%s@verified.test" % UB, "sent",
                   relay=B_MX)
        t.ok("verify: the log says Verified",
             "Verified TLS connection established to %s" % B_MX
             in A.logtext(), A.logtext()[-1500:])
        raw = find_msg(MAILDIR_B, "tls verified")
        t.ok("verify: delivered with ESMTPS", raw is not None
             and "with ESMTPS" in received(raw))

        check_line("policy none", qp, "%s@plain.test" % UB, "sent",
                   relay=B_MX)
        raw = find_msg(MAILDIR_B, "tls none")
        if t.ok("policy none: delivered", raw is not None):
            rc = received(raw)
            t.ok("policy none: B's Received: says ESMTP, not ESMTPS",
                 "with ESMTP " in rc + " " and "ESMTPS" not in rc, rc)
    finally:
        notls.stop()


# 4. DANE ---------------------------------------------------------------------

def dane():
    if zone is None:
        t.fail("DANE: nsd/ldns-signzone unavailable")
        return
    t.ok("DANE: nsd serves the signed zone", zone.proc.poll() is None)
    qg = inject("dane match", ["%s@dane.example" % UB])
    qb = inject("dane mismatch", ["%s@bad.dane.example" % UB])
    qi = inject("dane insecure", ["%s@insecure.test" % UB])

    mx_dane = "mx.dane.example[127.0.0.2]:%d" % P
    check_line("DANE match", qg, "%s@dane.example" % UB, "sent",
               relay=mx_dane)
    t.ok("DANE match: the log says Verified",
         "Verified TLS connection established to %s" % mx_dane
         in A.logtext(), A.logtext()[-1500:])
    t.ok("DANE match: delivered at B",
         find_msg(MAILDIR_B, "dane match") is not None)

    check_line("DANE mismatch", qb, "%s@bad.dane.example" % UB, "deferred")
    still_queued("DANE mismatch", qb, "%s@bad.dane.example" % UB)
    t.eq("DANE mismatch: not delivered",
         find_msg(MAILDIR_B, "dane mismatch", timeout=1), None)

    mx_ins = "mx.insecure.test[127.0.0.2]:%d" % P
    check_line("DANE, insecure zone: falls back to may", qi,
               "%s@insecure.test" % UB, "sent", relay=mx_ins)
    t.ok("DANE, insecure zone: TLS without verification",
         re.search(r"(Untrusted|Trusted|Anonymous) TLS connection "
                   r"established to %s" % re.escape(mx_ins), A.logtext()),
         A.logtext()[-1500:])


# 5. LMTP -------------------------------------------------------------------

def lmtp():
    def after_dot(a):
        if a.startswith("bad"):
            return "550 5.1.1 <%s>: no such mailbox" % a
        if a.startswith("soft"):
            return "452 4.2.2 <%s>: mailbox full" % a
        return "250 2.1.5 <%s> delivered" % a
    tcp = ScriptedSmtpServer(("127.0.0.1", PLMTP), lmtp=True,
                             after_dot=after_dot, name="lmtp.test")
    unix = ScriptedSmtpServer(LMTP_SOCK, lmtp=True, after_dot=after_dot,
                              name="lmtpu.test")
    try:
        q = inject("lmtp inet", ["ok@lmtp.test", "bad@lmtp.test",
                                 "soft@lmtp.test"])
        qu = inject("lmtp unix", ["ok@lmtpu.test"])
        check_line("LMTP: 250 after the dot", q, "ok@lmtp.test", "sent",
                   relay="127.0.0.1[127.0.0.1]:%d" % PLMTP)
        check_line("LMTP: 550 after the dot", q, "bad@lmtp.test", "bounced",
                   dsn="5.1.1")
        check_line("LMTP: 452 after the dot", q, "soft@lmtp.test",
                   "deferred", dsn="4.2.2")
        still_queued("LMTP 452", q, "soft@lmtp.test")
        t.ok("LMTP: the client says LHLO",
             any(c.upper().startswith("LHLO ") for c in tcp.commands),
             repr(tcp.commands[:5]))
        t.eq("LMTP: one accepted copy", [m[1] for m in
                                         tcp.received_for("lmtp inet")],
             [["ok@lmtp.test"]])
        b = find_bounce("lmtp inet")
        t.ok("LMTP: the bounce names the rejected recipient",
             b is not None and "bad@lmtp.test" in b)
        ln = check_line("LMTP over a UNIX socket", qu, "ok@lmtpu.test",
                        "sent")
        if ln:
            t.has("LMTP unix: relay names the socket", ln, LMTP_SOCK)
        t.eq("LMTP unix: the server got it",
             len(unix.received_for("lmtp unix")), 1)
    finally:
        tcp.stop()
        unix.stop()


# 6. Connection reuse -------------------------------------------------------

def reuse():
    srv = ScriptedSmtpServer(("127.0.0.1", PREUSE), delays={".": 0.3})
    try:
        qids = [inject("reuse %d" % i, ["r%d@reuse.test" % i])
                for i in range(5)]
        for i, q in enumerate(qids):
            status_line(q, "r%d@reuse.test" % i, "sent")
        n = len(srv.received_for("Subject: reuse "))
        t.eq("reuse: all five messages arrive", n, 5)
        mails = sum(1 for c in srv.commands if c.upper().startswith("MAIL"))
        t.eq("reuse: one MAIL per message", mails, 5)
        t.ok("reuse: five messages over at most two connections",
             1 <= srv.connections <= 2, "%d connections for %d messages"
             % (srv.connections, n))
    finally:
        srv.stop()


# 6b. A reload while a delivery is out --------------------------------------

def reload_mid_delivery():
    """At a reload the old qmgr records the deliveries it has out before
    it exits, and hands what it has not started back to incoming/; the
    new one delivers meanwhile, but takes up what is left in active/ only
    after the old one is gone: every message is sent once, not twice."""
    srv = ScriptedSmtpServer(("127.0.0.1", PRELOAD), delays={".": 5})
    subjects = ["reload mid delivery %d" % i for i in range(3)]
    try:
        # smtp_destination_concurrency_limit is 2: two deliveries go out,
        # the server holds its replies to the dot, the third waits.
        qids = [inject(subj, ["r%d@reload.test" % i])
                for i, subj in enumerate(subjects)]
        t.ok("reload: two deliveries under way",
             wait_for(lambda: len(srv.received_for("Subject: reload mid "
                                                   "delivery")) >= 2, 10),
             srv.commands)
        rc, out, err = A.tern("reload")
        t.eq("reload: tern reload", rc, 0)
        # As in sasl(): smtpd answers sessions between transactions with
        # 421 while the old processes stop; let the new ones take over.
        time.sleep(1)
        ql = inject("reload local", [SENDER])
        for i, q in enumerate(qids):
            check_line("reload: message %d recorded" % i, q,
                       "r%d@reload.test" % i, "sent")
        check_line("reload: a message queued after the reload", ql, SENDER,
                   "sent")
        t.ok("reload: the old qmgr waits for its deliveries",
             A.wait_log("stopping once 2 deliveries in progress are "
                        "recorded"), A.logtext()[-1500:])
        t.ok("reload: the new qmgr waits for the old one's active/",
             A.wait_log("waiting for the previous queue manager"),
             A.logtext()[-1500:])
        log = A.logtext()
        t.ok("reload: the new qmgr delivers before the old one is done",
             0 <= log.find("%s: to=<%s>" % (ql, SENDER))
             < log.find("deliveries recorded; stopping"), log[-2000:])
        time.sleep(6)  # time enough for a second copy, if one were sent
        for i, subj in enumerate(subjects):
            t.eq("reload: message %d arrives once" % i,
                 len(srv.received_for("Subject: %s\r\n" % subj)), 1)
            t.eq("reload: message %d has one status line" % i,
                 len(any_status(qids[i], "r%d@reload.test" % i)), 1)
        t.ok("reload: the queue is empty", wait_for(lambda: not any(
            e.get("queue_id") in qids for e in queue_json()), 10))
    finally:
        srv.stop()


# 7. relayhost with SASL -----------------------------------------------------

def sasl():
    p = B.run("tern", "-c", B.etc, "user", "add", SASL_USER,
              input=SASL_PASS + "\n")
    t.eq("tern user add at B", p.returncode, 0)
    A.write_main(relayhost="[127.0.0.2]:%d" % SUB,
                 smtp_sasl_auth_enable="yes")
    rc, out, err = A.tern("reload")
    t.eq("tern reload (relayhost, wrong password)", rc, 0)
    time.sleep(1)
    rcpt = "%s@b.test" % UB
    relay = "127.0.0.2[127.0.0.2]:%d" % SUB
    qbad = inject("sasl wrong password", [rcpt])
    ln = check_line("AUTH, wrong password", qbad, rcpt, "deferred",
                    relay=relay)
    if ln:
        t.has("AUTH, wrong password: the server's 535 is quoted", ln, "535")
    still_queued("AUTH, wrong password", qbad, rcpt)

    write_sasl(SASL_PASS)
    rc, out, err = A.tern("reload")
    t.eq("tern reload (right password)", rc, 0)
    time.sleep(1)
    q = inject("sasl relayed", [rcpt])
    check_line("AUTH: relayed through the smarthost", q, rcpt, "sent",
               relay=relay)
    raw = find_msg(MAILDIR_B, "sasl relayed")
    if t.ok("AUTH: delivered at B", raw is not None, B.logtext()[-1500:]):
        t.has("AUTH: B's Received: says ESMTPSA", received(raw),
              "with ESMTPSA")
    t.eq("ternqueue -f", flush(), 0)
    check_line("AUTH: the deferred message goes after the fix", qbad, rcpt,
               "sent", relay=relay, timeout=40)


# 8. Privilege separation ---------------------------------------------------

def privileges():
    owner = pwd.getpwnam(A.owner).pw_uid
    pids = A.service_pids("smtp")
    if not pids:
        # smtp may have exited when idle: give it work.
        inject("privileges", ["%s@b.test" % UB])
        pids = wait_for(lambda: A.service_pids("smtp"), 10) or []
    t.ok("smtp is running", len(pids) >= 1)
    for pid in pids:
        t.eq("smtp runs as mail_owner (real, effective, saved, fs)",
             proc_uids(pid), [owner] * 4)


def section(name, fn, *args):
    try:
        fn(*args)
    except Exception as e:
        t.ok("%s: ran to the end" % name, False, "%s\n%s" % (
            e, "".join(traceback.format_exc().splitlines(True)[-6:])))


started = []
try:
    if IS_ROOT:
        os.chown(KEY, 0, 0)
    for name, inst in (("B", B), ("A", A)):
        rc, out, err = inst.tern("start")
        t.eq("tern start (%s)" % name, rc, 0)
        if rc != 0:
            print(err, file=sys.stderr)
            raise SystemExit(t.finish())
        started.append(inst)
    t0 = time.monotonic()
    section("mx", mx)
    if IS_ROOT:
        section("privileges", privileges)
    section("relays", relays)
    section("tls", tls)
    section("dane", dane)
    section("lmtp", lmtp)
    section("reuse", reuse)
    section("reload", reload_mid_delivery)
    section("sasl", sasl)
    for name, inst in (("A", A), ("B", B)):
        panics = [ln for ln in inst.logtext().splitlines()
                  if "panic:" in ln or "fatal:" in ln]
        t.eq("no panic or fatal in %s's log" % name, panics, [])
    for name, inst in (("A", A), ("B", B)):
        rc, out, err = inst.tern("stop")
        t.eq("tern stop (%s)" % name, rc, 0)
    print("ran in %.0f s" % (time.monotonic() - t0), file=sys.stderr)
finally:
    for inst in (A, B):
        inst.cleanup()
    servfail.stop()
    if zone:
        zone.stop()
raise SystemExit(t.finish())
