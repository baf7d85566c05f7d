#!/usr/bin/python3
# smtpd end to end on a real instance, with real clients (swaks, curl,
# smtplib, openssl s_client) and raw sockets: delivery through the queue
# into a Maildir with the Received: header a user expects; PIPELINING,
# BDAT, SIZE, 8BITMIME, SMTPUTF8 and DSN parameters; STARTTLS and
# implicit TLS verified against a test CA (and failing against another),
# TLS 1.1 refused, commands pipelined behind STARTTLS discarded; AUTH
# PLAIN and LOGIN through authd on the submission ports, the failure
# delay, sender login mismatch, relay only when authenticated; an
# open-relay matrix of address tricks from outside mynetworks; the SMTP
# smuggling end-of-data variants; hostile input (a 10 MB line, NUL,
# 8-bit commands, disconnects mid-DATA and mid-BDAT, 1,000 idle
# connections); connection and message rate limits through anvil;
# reject_unknown_sender_domain through the test's own DNS; curl; and,
# as root, smtpd, authd and anvil running as mail_owner with a TLS key
# only root can read.
import base64
import json
import os
import pwd
import re
import resource
import selectors
import smtplib
import socket
import ssl
import stat
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ternlib import (IS_ROOT, PIPELINE_MASTER_CF, Instance, SmtpRaw, Tally,
                     free_port, headers, maildir_files, make_ca, make_cert,
                     proc_uids, wait_for)

t = Tally()
inst = Instance(t, "tern-smtpd")
inst.setup_commands()
D = inst.dir
QID_RE = re.compile(r"queued as ([0-9A-V]{12,24})")

used_ports = set()


def new_port():
    while True:
        p = free_port()
        if p not in used_ports:
            used_ports.add(p)
            return p


# The port-25 role (trusted loopback, STARTTLS offered), submission (587
# role), submissions (465 role), an "outside" service for which loopback
# is not in mynetworks, bare newlines rejected, short timeouts for idle
# connections, a one-process service for hostile input, connection and
# message limits, the exemption from limits, reject_unknown_sender_domain.
(P25, PSUB, PSUBS, POUT, PBARE, PSLOW, PBAD, PLIM, PRATE, PEXEMPT,
 PDNS) = [new_port() for _ in range(11)]

tag = str(os.getpid())[-6:]
if IS_ROOT:
    U1 = inst.add_user("terns" + tag).pw_name
    MAILDIR = os.path.join(pwd.getpwnam(U1).pw_dir, "Maildir")
    mailbox_params = {"home_mailbox": "Maildir/"}
else:
    U1 = pwd.getpwuid(os.getuid()).pw_name
    os.mkdir(os.path.join(D, "mail"))
    MAILDIR = os.path.join(D, "mail", U1)
    mailbox_params = {"mail_spool_directory": os.path.join(D, "mail") + "/"}
RCPT = "%s@example.test" % U1

# TLS: a CA the clients trust, one they do not, and the server's
# certificate; the key readable by its owner only (root when root).
CA = make_ca(D, "ca")
OTHER_CA = make_ca(D, "otherca")
CERT, KEY = make_cert(D, "server", CA, ["mail.example.test", "localhost"],
                      ["127.0.0.1"])
os.chmod(KEY, 0o600)
CAFILE = CA[0]
OTHER_CAFILE = OTHER_CA[0]

ALIASES = os.path.join(D, "aliases")
with open(ALIASES, "w", encoding="utf-8") as f:
    f.write("postmaster: %s\nvictim: %s\nj\u00f6s\u00e9: %s\n"
            % (U1, U1, U1))

UNBOUND = os.path.join(D, "unbound.conf")
with open(UNBOUND, "w") as f:
    f.write('server:\n'
            '  local-zone: "test." static\n'
            '  local-zone: "example." static\n'
            '  local-data: "example.test. IN MX 10 mail.example.test."\n'
            '  local-data: "mail.example.test. IN A 127.0.0.1"\n'
            '  local-data: "exists.test. IN A 192.0.2.10"\n')

USERS = os.path.join(D, "users")
SUBMISSION_OPTS = """\
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_sender_restrictions=reject_sender_login_mismatch
"""
OUTSIDE = "-o mynetworks=192.0.2.0/24"
inst.write_master(PIPELINE_MASTER_CF + """\
anvil     unix  -       -       n       -       1       anvil
authd     unix  -       -       n       -       -       authd
127.0.0.1:{P25} inet n - n - - smtpd
127.0.0.1:{PSUB} inet n - n - - smtpd
  -o syslog_name=tern/submission
  -o smtpd_tls_security_level=encrypt
{SUB}127.0.0.1:{PSUBS} inet n - n - - smtpd
  -o syslog_name=tern/submissions
  -o smtpd_tls_wrappermode=yes
{SUB}127.0.0.1:{POUT} inet n - n - - smtpd {OUT}
127.0.0.1:{PBARE} inet n - n - - smtpd -o smtpd_forbid_bare_newline=reject
127.0.0.1:{PSLOW} inet n - n - - smtpd -o smtpd_timeout=5s
  -o smtpd_client_connection_count_limit=0
127.0.0.1:{PBAD} inet n - n - 1 smtpd -o message_size_limit=100000
127.0.0.1:{PLIM} inet n - n - - smtpd {OUT}
  -o smtpd_client_connection_count_limit=2
127.0.0.1:{PRATE} inet n - n - - smtpd {OUT}
  -o smtpd_client_message_rate_limit=2
127.0.0.1:{PEXEMPT} inet n - n - - smtpd
  -o smtpd_client_connection_count_limit=2
127.0.0.1:{PDNS} inet n - n - - smtpd
  -o smtpd_sender_restrictions=reject_unknown_sender_domain
""".format(P25=P25, PSUB=PSUB, PSUBS=PSUBS, POUT=POUT, PBARE=PBARE,
           PSLOW=PSLOW, PBAD=PBAD, PLIM=PLIM, PRATE=PRATE, PEXEMPT=PEXEMPT,
           PDNS=PDNS, SUB=SUBMISSION_OPTS, OUT=OUTSIDE))
inst.write_main(
    myhostname="mail.example.test", mydomain="example.test",
    myorigin="example.test",
    mydestination="example.test, mail.example.test, localhost",
    mynetworks="127.0.0.0/8",
    alias_maps="hash:" + ALIASES, alias_database="hash:" + ALIASES,
    smtpd_peername_lookup="no", dns_resolver_config=UNBOUND,
    smtpd_tls_cert_file=CERT, smtpd_tls_key_file=KEY,
    smtpd_tls_security_level="may",
    authd_passwd_file=USERS, authd_failure_delay="1s",
    smtpd_sender_login_maps="inline:{ alice@example.test=alice@example.test, "
                            "bob@example.test=bob@example.test }",
    **mailbox_params)

TLS_OK = ssl.create_default_context(cafile=CAFILE)
TLS_WRONG = ssl.create_default_context(cafile=OTHER_CAFILE)


# Helpers -------------------------------------------------------------------

def find_msg(subject, timeout=15):
    """The delivered message (raw bytes) whose Subject is subject, waiting
    for it; None when it does not arrive."""
    def look():
        for raw in maildir_files(MAILDIR):
            if headers(raw).get("Subject") == subject:
                return raw
        return None
    return wait_for(look, timeout)


def count_msgs(subject):
    return sum(1 for raw in maildir_files(MAILDIR)
               if headers(raw).get("Subject") == subject)


def received(raw):
    """The first Received: header's value, unfolded."""
    head = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    fields = re.split(r"\n(?![ \t])", head)
    for f in fields:
        if f.lower().startswith("received:"):
            return " ".join(f[len("received:"):].split())
    return ""


def message(subject, frm="sender@example.test", to=None, body="hello\r\n"):
    to = to or RCPT
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID: <%s@client.example.test>\r\n\r\n%s"
            % (frm, to, subject, re.sub(r"\W", "-", subject), body))


def qid_of(text):
    m = QID_RE.search(text or "")
    return m.group(1) if m else None


def queued_lines(sender):
    """qmgr's "from=<sender>, ... (queue active)" lines: one per message
    that made it into the queue."""
    return [ln for ln in inst.logtext().splitlines()
            if "from=<%s>" % sender in ln and "(queue active)" in ln]


def queue_files(q, dotfiles=False):
    d = os.path.join(inst.spool, q)
    try:
        return [n for n in os.listdir(d) if dotfiles or not n.startswith(".")]
    except OSError:
        return []


def queue_json():
    p = inst.run("ternqueue", "-j")
    out = []
    for line in p.stdout.decode(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def queued_recipients():
    return [r.get("address", "") for m in queue_json()
            for r in m.get("recipients", [])]


def session(port, ehlo="client.example.test", **kw):
    """A raw session after the greeting (and EHLO unless ehlo is None);
    returns (client, greeting code, EHLO reply text)."""
    c = SmtpRaw(port, **kw)
    code, _ = c.reply()
    text = ""
    if ehlo is not None and code == 220:
        _, text = c.cmd("EHLO " + ehlo)
    return c, code, text


def ehlo_keywords(text):
    """The extension lines of an EHLO reply (without the greeting)."""
    return [ln[4:] for ln in text.splitlines()[1:]]


try:
    SWAKS_TLS = "=== TLS supported" in subprocess.run(
        ["swaks", "--support"], capture_output=True, text=True).stdout
except OSError:
    SWAKS_TLS = False
if not SWAKS_TLS:
    print("note: swaks has no TLS here (Perl Net::SSLeay missing): its TLS "
          "and AUTH runs are skipped", file=sys.stderr)


def swaks(port, *args, timeout=60):
    p = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                        str(port), "--helo", "client.example.test",
                        "--timeout", "20"] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def curl(*args, timeout=60):
    p = subprocess.run(["curl", "-sS", "--max-time", "20"] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def b64(s):
    return base64.b64encode(s.encode()).decode()


def write_file(name, data):
    path = os.path.join(D, name)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path


def check_delivered(what, subject, qid, sender, proto, helo=None, tls=False):
    """The message with this subject arrived, with the Received: header,
    Return-Path and Delivered-To a user expects."""
    if not t.ok(what + ": queued", qid is not None):
        return None
    raw = find_msg(subject)
    if not t.ok(what + ": delivered to the Maildir", raw is not None,
                inst.logtext()[-1500:]):
        return None
    rcvd = received(raw)
    h = headers(raw)
    t.has(what + ": Received: names the client address", rcvd,
          "[127.0.0.1]")
    if helo:
        t.has(what + ": Received: names the HELO", rcvd, "from " + helo)
    t.has(what + ": Received: says with %s and the queue ID" % proto, rcvd,
          "with %s id %s" % (proto, qid))
    t.has(what + ": Received: names us", rcvd, "by mail.example.test")
    if tls:
        t.ok(what + ": Received: has the TLS version and cipher",
             re.search(r"TLSv1\.[23] with cipher \S+", rcvd) is not None,
             rcvd)
    t.eq(what + ": Return-Path", h.get("Return-Path"), "<%s>" % sender)
    t.eq(what + ": Delivered-To", h.get("Delivered-To"), RCPT)
    return raw


def check_qid_logged(what, qid):
    t.ok(what + ": the queue ID is in the log",
         qid is not None and inst.wait_log(qid + ":", timeout=10),
         "qid %r" % qid)


# 1. Delivery on the port-25 role: swaks, smtplib, curl ---------------------

def delivery():
    c, code, ehlo = session(P25)
    t.eq("greeting is 220", code, 220)
    for kw in ("PIPELINING", "SIZE 10240000", "8BITMIME", "SMTPUTF8",
               "CHUNKING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS"):
        t.ok("EHLO offers " + kw, kw in ehlo_keywords(ehlo), ehlo)
    t.ok("no AUTH on the port-25 role", "AUTH" not in ehlo, ehlo)
    t.eq("QUIT", c.cmd("QUIT")[0], 221)
    c.close()

    rc, out = swaks(P25, "--from", "sw@example.test", "--to", RCPT,
                    "--header", "Subject: swaks plain")
    t.eq("swaks exits 0", rc, 0)
    t.ok("swaks: 250 2.0.0 Ok: queued as QID",
         re.search(r"250 2\.0\.0 Ok: queued as [0-9A-V]{12,24}", out), out)
    qid = qid_of(out)
    check_qid_logged("swaks", qid)
    t.has("smtpd logs the client against the queue ID", inst.logtext(),
          "%s: client=" % qid)
    check_delivered("swaks", "swaks plain", qid, "sw@example.test", "ESMTP",
                    helo="client.example.test")

    s = smtplib.SMTP("127.0.0.1", P25, local_hostname="py.example.test",
                     timeout=15)
    s.ehlo()
    t.eq("smtplib MAIL", s.mail("py@example.test")[0], 250)
    t.eq("smtplib RCPT", s.rcpt(RCPT)[0], 250)
    code, resp = s.data(message("smtplib plain", "py@example.test").encode())
    s.quit()
    t.eq("smtplib DATA 250", code, 250)
    qid = qid_of(resp.decode())
    check_qid_logged("smtplib", qid)
    raw = check_delivered("smtplib", "smtplib plain", qid, "py@example.test",
                          "ESMTP", helo="py.example.test")
    if raw:
        t.has("smtplib: the body arrives", raw.split(b"\n\n", 1)[1].decode(),
              "hello\n")

    # 10. curl smtp:// delivers.
    path = write_file("curl.eml", message("curl plain", "curl@example.test"))
    rc, out = curl("smtp://127.0.0.1:%d" % P25, "--mail-from",
                   "curl@example.test", "--mail-rcpt", RCPT, "-T", path)
    t.eq("curl smtp:// exits 0", rc, 0)
    t.ok("curl: delivered", find_msg("curl plain") is not None)
    t.eq("curl: queued once", len(queued_lines("curl@example.test")), 1)


# 2. ESMTP: PIPELINING, BDAT, SIZE, 8BITMIME, SMTPUTF8, DSN -------------------

def esmtp():
    # PIPELINING: four commands in one write, replies in order.
    c, code, _ = session(P25)
    c.send("MAIL FROM:<pipe@example.test>\r\nRCPT TO:<%s>\r\n"
           "RCPT TO:<nosuchuser@example.test>\r\nDATA\r\n" % RCPT)
    replies = [c.reply() for _ in range(4)]
    t.eq("pipelined: reply codes in order", [r[0] for r in replies],
         [250, 250, 550, 354])
    t.has("pipelined: the unknown user gets 5.1.1", replies[2][1], "5.1.1")
    # The message and a whole second transaction in one write.
    c.send(message("pipelined one", "pipe@example.test") + "\r\n.\r\n"
           "MAIL FROM:<pipe@example.test>\r\nRCPT TO:<%s>\r\nDATA\r\n" % RCPT)
    replies = [c.reply() for _ in range(4)]
    t.eq("pipelined after the dot: reply codes", [r[0] for r in replies],
         [250, 250, 250, 354])
    c.send(message("pipelined two", "pipe@example.test") +
           "\r\n.\r\nQUIT\r\n")
    r1, r2 = c.reply(), c.reply()
    t.eq("pipelined: second message and QUIT", [r1[0], r2[0]], [250, 221])
    c.close()
    t.ok("pipelined: first message delivered", find_msg("pipelined one"))
    t.ok("pipelined: second message delivered", find_msg("pipelined two"))

    # BDAT: two chunks, the CRLF of one line split between them; a "."
    # line and a dot-started line are text in BDAT.
    body = ("From: <bdat@example.test>\r\nTo: <%s>\r\nSubject: bdat exact\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID: <bdat-exact@client.example.test>\r\n\r\n"
            "line one\r\n.\r\n..two dots\r\ntrailing space \r\n"
            "last line\r\n" % RCPT).encode()
    cut = body.index(b"\r\n.\r\n") + 1     # chunk one ends in a CR
    c, code, ehlo = session(P25)
    t.eq("BDAT: MAIL", c.cmd("MAIL FROM:<bdat@example.test>")[0], 250)
    t.eq("BDAT: RCPT", c.cmd("RCPT TO:<%s>" % RCPT)[0], 250)
    c.send(b"BDAT %d\r\n" % cut + body[:cut])
    code, text = c.reply()
    t.eq("BDAT: first chunk 250", code, 250)
    c.send(b"BDAT %d LAST\r\n" % (len(body) - cut) + body[cut:])
    code, text = c.reply()
    t.eq("BDAT LAST: 250", code, 250)
    qid = qid_of(text)
    t.ok("BDAT LAST: queued as QID", qid is not None, text)
    c.cmd("QUIT")
    c.close()
    raw = find_msg("bdat exact")
    if t.ok("BDAT: delivered", raw is not None):
        t.ok("BDAT: content byte-exact apart from CRLF -> LF",
             raw.endswith(body.replace(b"\r\n", b"\n")), repr(raw[-300:]))

    # SIZE before the data, and an oversize message after it.
    c, code, ehlo = session(P25)
    code, text = c.cmd("MAIL FROM:<big@example.test> SIZE=10240001")
    t.eq("SIZE over message_size_limit: 552", code, 552)
    t.has("SIZE over message_size_limit: 5.3.4", text, "5.3.4")
    t.eq("SIZE within the limit: 250",
         c.cmd("MAIL FROM:<big@example.test> SIZE=1000")[0], 250)
    c.close()
    c, code, ehlo = session(PBAD)
    t.has("message_size_limit from -o is advertised", ehlo, "SIZE 100000")
    c.cmd("MAIL FROM:<oversize@example.test>")
    c.cmd("RCPT TO:<%s>" % RCPT)
    t.eq("oversize: DATA 354", c.cmd("DATA")[0], 354)
    c.send(message("oversize", "oversize@example.test",
                   body=("x" * 998 + "\r\n") * 150) + "\r\n.\r\n")
    code, text = c.reply()
    t.eq("oversize DATA: 552", code, 552)
    t.has("oversize DATA: 5.3.4", text, "5.3.4")
    t.eq("oversize: the session goes on", c.cmd("RSET")[0], 250)
    c.close()

    # 8BITMIME: an 8-bit body arrives intact.
    eight = b"caf\xc3\xa9 na\xefve \xff\xfe\x80 end"
    c, code, ehlo = session(P25)
    t.eq("BODY=8BITMIME accepted",
         c.cmd("MAIL FROM:<eight@example.test> BODY=8BITMIME")[0], 250)
    c.cmd("RCPT TO:<%s>" % RCPT)
    c.cmd("DATA")
    c.send(message("eight bit", "eight@example.test").encode() + eight +
           b"\r\n.\r\n")
    code, text = c.reply()
    t.eq("8-bit message queued", code, 250)
    code, text = c.cmd("MAIL FROM:<eight@example.test> BODY=BINARYMIME")
    t.ok("BODY=BINARYMIME is refused (not offered)", 500 <= code <= 599,
         text)
    c.close()
    raw = find_msg("eight bit")
    if t.ok("8-bit message delivered", raw is not None):
        t.ok("8-bit body intact", eight + b"\n" in raw, repr(raw[-200:]))

    # SMTPUTF8: a UTF-8 sender and an alias with a UTF-8 local part.
    utf_from = "j\u00f6e@example.test".encode()
    utf_to = "j\u00f6s\u00e9@example.test".encode()
    c, code, ehlo = session(P25)
    code, text = c.cmd(b"MAIL FROM:<" + utf_from + b"> SMTPUTF8")
    t.eq("SMTPUTF8: UTF-8 sender accepted", code, 250)
    code, text = c.cmd(b"RCPT TO:<" + utf_to + b">")
    t.ok("SMTPUTF8: UTF-8 alias accepted", code == 250, text)
    code = c.cmd("DATA")[0] if code == 250 else code
    if code == 354:
        c.send(message("utf8 mail", "joe@example.test",
                       body="Gr\u00fc\u00dfe\r\n").encode() + b"\r\n.\r\n")
        code, text = c.reply()
    t.eq("SMTPUTF8: queued", code, 250)
    c.close()
    raw = find_msg("utf8 mail") if code == 250 else None
    if t.ok("SMTPUTF8: delivered through the UTF-8 alias", raw is not None,
            inst.logtext()[-1000:]):
        t.has("SMTPUTF8: Return-Path keeps the UTF-8 sender",
              raw.decode("utf-8", "replace"),
              "Return-Path: <j\u00f6e@example.test>")
        t.has("SMTPUTF8: Received: says with UTF8SMTP (RFC 6531)",
              received(raw), "with UTF8SMTP id ")
    c, code, ehlo = session(P25)
    code, text = c.cmd(b"MAIL FROM:<" + utf_from + b">")
    t.ok("UTF-8 sender without SMTPUTF8: 553 or 501", code in (553, 501),
         text)
    c.cmd("RSET")
    c.cmd("MAIL FROM:<ascii@example.test>")
    code, text = c.cmd(b"RCPT TO:<" + utf_to + b">")
    t.ok("UTF-8 recipient without SMTPUTF8: 553 or 501", code in (553, 501),
         text)
    c.close()

    # DSN: RET, ENVID, NOTIFY, ORCPT kept in the queue file.  A trusted
    # client relays to a remote domain; with no smtp transport running, the
    # message stays queued where terncat can read it.
    c, code, ehlo = session(P25)
    code, text = c.cmd("MAIL FROM:<dsn@example.test> RET=HDRS "
                       "ENVID=tern+2Benvid-1")
    t.eq("DSN: MAIL with RET and ENVID", code, 250)
    code, text = c.cmd("RCPT TO:<dsnrcpt@remote.example> "
                       "NOTIFY=SUCCESS,FAILURE "
                       "ORCPT=rfc822;dsnrcpt+40remote.example")
    t.eq("DSN: RCPT with NOTIFY and ORCPT", code, 250)
    code, text = c.cmd("RCPT TO:<dsnrcpt2@remote.example> NOTIFY=NEVER,DELAY")
    t.ok("DSN: NOTIFY=NEVER combined is refused 501", code == 501, text)
    code, text = c.cmd("RCPT TO:<dsnrcpt2@remote.example> FOO=bar")
    t.ok("unknown RCPT parameter: 555 5.5.4",
         code == 555 and "5.5.4" in text, text)
    c.cmd("DATA")
    c.send(message("dsn params", "dsn@example.test") + "\r\n.\r\n")
    code, text = c.reply()
    t.eq("DSN: queued", code, 250)
    qid = qid_of(text)
    c.close()
    out = ""
    if qid:
        def cat():
            p = inst.run("terncat", "-e", "-q", qid)
            return p.stdout.decode(errors="replace") if p.returncode == 0 \
                else None
        out = wait_for(cat, 10) or ""
    t.has("DSN: ENVID in the queue file", out, "envid=tern+2Benvid-1")
    t.has("DSN: RET in the queue file", out, "ret=HDRS")
    t.has("DSN: NOTIFY and ORCPT in the queue file", out,
          "notify: SUCCESS,FAILURE, orcpt: rfc822;dsnrcpt+40remote.example")


# 3. TLS -------------------------------------------------------------------

def swaks_tls():
    rc, out = swaks(P25, "--tls", "--tls-verify", "--tls-ca-path", CAFILE,
                    "--from", "swtls@example.test", "--to", RCPT,
                    "--header", "Subject: swaks starttls")
    t.eq("swaks --tls --tls-verify: exit 0", rc, 0)
    qid = qid_of(out)
    check_delivered("swaks STARTTLS", "swaks starttls", qid,
                    "swtls@example.test", "ESMTPS", tls=True)
    rc, out = swaks(P25, "--tls", "--tls-verify", "--tls-ca-path",
                    OTHER_CAFILE, "--from", "swbad@example.test", "--to",
                    RCPT, "--header", "Subject: swaks wrong ca")
    t.ok("swaks with the wrong CA fails", rc != 0, out)
    t.ok("swaks with the wrong CA: nothing queued", qid_of(out) is None, out)


def swaks_auth():
    for method in ("PLAIN", "LOGIN"):
        subj = "swaks auth " + method.lower()
        rc, out = swaks(PSUB, "--tls", "--tls-verify", "--tls-ca-path",
                        CAFILE, "-a", method, "-au", "alice@example.test",
                        "-ap", "alice-secret", "--from",
                        "alice@example.test", "--to", RCPT,
                        "--header", "Subject: " + subj)
        t.eq("swaks -a %s: exit 0" % method, rc, 0)
        t.has("swaks -a %s: 235 2.7.0" % method, out, "235 2.7.0")
        check_delivered("swaks -a " + method, subj, qid_of(out),
                        "alice@example.test", "ESMTPSA", tls=True)
    rc, out = swaks(PSUB, "--tls", "--tls-verify", "--tls-ca-path", CAFILE,
                    "-a", "PLAIN", "-au", "alice@example.test", "-ap",
                    "wrong", "--from", "alice@example.test", "--to", RCPT)
    t.ok("swaks wrong password: fails with 535 5.7.8",
         rc != 0 and "535 5.7.8" in out, out[-600:])
    rc, out = swaks(PSUBS, "--tlsc", "--tls-verify", "--tls-ca-path",
                    CAFILE, "-a", "PLAIN", "-au", "alice@example.test",
                    "-ap", "alice-secret", "--from", "alice@example.test",
                    "--to", RCPT, "--header", "Subject: swaks tlsc")
    t.eq("swaks --tlsc: exit 0", rc, 0)
    t.ok("swaks --tlsc: delivered",
         qid_of(out) is not None and find_msg("swaks tlsc") is not None)


def tls():
    if SWAKS_TLS:
        swaks_tls()

    s = smtplib.SMTP("127.0.0.1", P25, local_hostname="py.example.test",
                     timeout=15)
    s.ehlo()
    t.eq("smtplib STARTTLS", s.starttls(context=TLS_OK)[0], 220)
    s.ehlo()
    t.ok("after STARTTLS, STARTTLS is no longer offered",
         not s.has_extn("starttls"))
    s.mail("pytls@example.test")
    s.rcpt(RCPT)
    code, resp = s.data(message("smtplib starttls", "pytls@example.test"))
    s.quit()
    t.eq("smtplib STARTTLS: queued", code, 250)
    check_delivered("smtplib STARTTLS", "smtplib starttls",
                    qid_of(resp.decode()), "pytls@example.test", "ESMTPS",
                    helo="py.example.test", tls=True)
    s = smtplib.SMTP("127.0.0.1", P25, timeout=15)
    err = None
    try:
        s.starttls(context=TLS_WRONG)
    except ssl.SSLCertVerificationError as e:
        err = e
    except (ssl.SSLError, OSError, smtplib.SMTPException) as e:
        err = "other: %r" % e
    s.close()
    t.ok("smtplib with the wrong CA: certificate verification fails",
         isinstance(err, ssl.SSLCertVerificationError), repr(err))

    path = write_file("curltls.eml", message("curl starttls",
                                             "curltls@example.test"))
    rc, out = curl("smtp://127.0.0.1:%d" % P25, "--ssl-reqd", "--cacert",
                   CAFILE, "--mail-from", "curltls@example.test",
                   "--mail-rcpt", RCPT, "-T", path)
    t.eq("curl smtp:// --ssl-reqd exits 0", rc, 0)
    raw = find_msg("curl starttls")
    if t.ok("curl STARTTLS: delivered", raw is not None):
        t.has("curl STARTTLS: with ESMTPS", received(raw), "with ESMTPS")

    # TLS 1.1 refused (the client allows it with OPENSSL_CONF=/dev/null
    # and security level 0); TLS 1.2 through the same command works.
    env = dict(os.environ, OPENSSL_CONF="/dev/null")

    def s_client(proto):
        p = subprocess.run(["openssl", "s_client", "-connect",
                            "127.0.0.1:%d" % PSUBS, proto, "-cipher",
                            "ALL@SECLEVEL=0", "-CAfile", CAFILE],
                           input=b"QUIT\r\n", capture_output=True,
                           timeout=20, env=env)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")
    rc, out = s_client("-tls1_2")
    t.ok("openssl s_client -tls1_2 handshakes", rc == 0 and
         "Cipher is (NONE)" not in out and "Protocol  : TLSv1.2" in out,
         out[-800:])
    t.has("openssl s_client verifies against the test CA", out,
          "Verify return code: 0 (ok)")
    rc, out = s_client("-tls1_1")
    if "no protocols available" in out:
        print("note: this OpenSSL cannot offer TLS 1.1; not tested",
              file=sys.stderr)
    else:
        t.ok("TLS 1.1 is refused", rc != 0 or "Cipher is (NONE)" in out,
             out[-800:])

    # Commands pipelined behind STARTTLS are discarded, not answered in
    # plaintext or inside TLS.
    c, code, ehlo = session(P25, ehlo="inject.example.test")
    c.send("STARTTLS\r\nRSET\r\n")
    code, text = c.reply()
    t.eq("STARTTLS+RSET: 220", code, 220)
    t.eq("STARTTLS+RSET: no plaintext reply to the RSET", c.pending(), b"")
    c.sock = TLS_OK.wrap_socket(c.sock, server_hostname="127.0.0.1")
    code, text = c.cmd("EHLO inject.example.test")
    t.eq("STARTTLS+RSET: the first reply in TLS is EHLO's",
         text.splitlines()[0] if text else "", "250-mail.example.test")
    code, text = c.cmd("NOOP")
    t.eq("STARTTLS+RSET: NOOP answered once", code, 250)
    t.eq("STARTTLS+RSET: nothing else pending", c.pending(), b"")
    c.close()


# 4. AUTH on submission and submissions -------------------------------------

def auth_login(port, user, pw, method="PLAIN", wrapper=False):
    """Logs in with smtplib; returns (smtp, code, text, seconds)."""
    if wrapper:
        s = smtplib.SMTP_SSL("127.0.0.1", port, context=TLS_OK, timeout=20,
                             local_hostname="sub.example.test")
    else:
        s = smtplib.SMTP("127.0.0.1", port, timeout=20,
                         local_hostname="sub.example.test")
        s.starttls(context=TLS_OK)
    s.ehlo()
    s.user, s.password = user, pw
    t0 = time.monotonic()
    try:
        code, text = s.auth(method, s.auth_plain if method == "PLAIN"
                            else s.auth_login)
    except smtplib.SMTPAuthenticationError as e:
        code, text = e.smtp_code, e.smtp_error
    return s, code, text.decode(errors="replace"), time.monotonic() - t0


def users():
    def tern_user(*args, input=None):
        p = inst.run("tern", "-c", inst.etc, "user", *args, input=input)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")
    ok = True
    for name, pw in (("alice@example.test", "alice-secret"),
                     ("bob@example.test", "bob-old"),
                     ("carol@example.test", "carol-secret")):
        rc, out = tern_user("add", name, input=pw + "\n")
        ok = t.eq("tern user add %s" % name, rc, 0) and ok
    if not ok or not os.path.exists(USERS):
        # Let the AUTH checks run anyway: the file in its documented
        # format, with SHA512-CRYPT hashes.
        with open(USERS, "w") as f:
            for name, pw in (("alice@example.test", "alice-secret"),
                             ("bob@example.test", "bob-old"),
                             ("carol@example.test", "carol-secret")):
                h = subprocess.run(["openssl", "passwd", "-6", pw],
                                   capture_output=True, text=True).stdout
                f.write("%s:{SHA512-CRYPT}%s::::::\n" % (name, h.strip()))
        os.chmod(USERS, 0o640)
        if IS_ROOT:
            os.chown(USERS, 0, pwd.getpwnam(inst.owner).pw_gid)
        return tern_user
    with open(USERS) as f:
        text = f.read()
    t.ok("the users file holds no clear-text password",
         "alice-secret" not in text and "bob-old" not in text)
    mode = os.stat(USERS).st_mode
    t.ok("the users file is not readable by others",
         not mode & stat.S_IROTH, oct(mode))
    return tern_user


def submission(tern_user):
    # Before STARTTLS: no AUTH, no MAIL.
    c, code, ehlo = session(PSUB)
    t.eq("submission greets", code, 220)
    t.has("submission offers STARTTLS", ehlo, "STARTTLS")
    t.ok("submission: no AUTH before STARTTLS", "AUTH" not in ehlo, ehlo)
    code, text = c.cmd("AUTH PLAIN " + b64("\0alice@example.test\0"
                                           "alice-secret"))
    t.ok("submission: AUTH before STARTTLS refused (503/530/538)",
         code in (503, 530, 538), text)
    code, text = c.cmd("MAIL FROM:<alice@example.test>")
    t.ok("submission: MAIL before STARTTLS: 530 5.7.0",
         code == 530 and "5.7.0" in text, text)
    t.eq("submission: STARTTLS", c.starttls(TLS_OK)[0], 220)
    code, ehlo = c.cmd("EHLO sub.example.test")
    t.ok("submission: AUTH PLAIN LOGIN offered inside TLS",
         re.search(r"250[ -]AUTH\b.*\bPLAIN\b", ehlo) and "LOGIN" in ehlo,
         ehlo)
    # Inside TLS but not authenticated: no mail, no relay.
    code, text = c.cmd("MAIL FROM:<alice@example.test>")
    code2, text2 = (c.cmd("RCPT TO:<%s>" % RCPT) if code == 250
                    else (code, text))
    t.ok("submission: mail without AUTH refused (530/554 at MAIL or RCPT)",
         code in (530, 554) or code2 in (530, 554), text + " / " + text2)
    c.cmd("RSET")
    c.cmd("MAIL FROM:<alice@example.test>")
    code, text = c.cmd("RCPT TO:<someone@remote.example>")
    t.ok("submission: relay without AUTH refused", 400 <= code <= 599, text)
    c.close()

    if SWAKS_TLS:
        swaks_auth()

    # smtplib: wrong password (LOGIN) with the failure delay; right one.
    s, code, text, secs = auth_login(PSUB, "alice@example.test", "wrong",
                                     "LOGIN")
    t.eq("smtplib LOGIN wrong password: 535", code, 535)
    t.has("smtplib LOGIN wrong password: 5.7.8", text, "5.7.8")
    t.ok("failure answered after authd_failure_delay (1s)", secs >= 0.95,
         "%.2fs" % secs)
    s.close()
    s, code, text, secs = auth_login(PSUB, "alice@example.test",
                                     "alice-secret", "LOGIN")
    t.eq("smtplib LOGIN: 235", code, 235)
    t.ok("a good password is answered without the failure delay",
         secs < 0.9, "%.2fs" % secs)
    # reject_sender_login_mismatch: alice as bob is refused.
    code, text = s.mail("bob@example.test")
    if code == 250:
        code, text = s.rcpt(RCPT)
    t.ok("alice sending as bob: 553 5.7.1",
         code == 553 and b"5.7.1" in text, repr((code, text)))
    s.rset()
    # Authenticated relay: queued for the smtp transport, not delivered.
    t.eq("alice as alice: MAIL", s.mail("alice@example.test")[0], 250)
    t.eq("authenticated relay: RCPT accepted",
         s.rcpt("relayed@remote.example")[0], 250)
    code, resp = s.data(message("auth relay", "alice@example.test",
                                "relayed@remote.example"))
    t.eq("authenticated relay: queued", code, 250)
    s.quit()
    t.has("AUTH LOGIN logged with the user and the queue ID",
          inst.logtext(), "%s: client=unknown[127.0.0.1], sasl_method=LOGIN, "
          "sasl_username=alice@example.test" % qid_of(resp.decode()))
    t.ok("authenticated relay: in the queue for the remote recipient",
         wait_for(lambda: "relayed@remote.example" in queued_recipients(),
                  10), str(queue_json()))
    t.ok("authenticated relay: not delivered",
         "to=<relayed@remote.example>" not in inst.logtext() or
         "status=sent" not in "".join(
             ln for ln in inst.logtext().splitlines()
             if "to=<relayed@remote.example>" in ln))

    # submissions: implicit TLS with smtplib, swaks and curl.
    s, code, text, secs = auth_login(PSUBS, "alice@example.test",
                                     "alice-secret", "PLAIN", wrapper=True)
    t.eq("SMTP_SSL login: 235", code, 235)
    s.mail("alice@example.test")
    s.rcpt(RCPT)
    code, resp = s.data(message("smtps smtplib", "alice@example.test"))
    s.quit()
    t.eq("SMTP_SSL: queued", code, 250)
    qid = qid_of(resp.decode())
    check_delivered("SMTP_SSL", "smtps smtplib", qid,
                    "alice@example.test", "ESMTPSA",
                    helo="sub.example.test", tls=True)
    t.has("AUTH PLAIN logged with the user and the queue ID",
          inst.logtext(), "%s: client=unknown[127.0.0.1], sasl_method=PLAIN, "
          "sasl_username=alice@example.test" % qid)
    path = write_file("curlsmtps.eml", message("curl smtps",
                                               "alice@example.test"))
    rc, out = curl("smtps://127.0.0.1:%d" % PSUBS, "--cacert", CAFILE,
                   "--user", "alice@example.test:alice-secret",
                   "--mail-from", "alice@example.test", "--mail-rcpt", RCPT,
                   "-T", path)
    t.eq("curl smtps:// with AUTH exits 0", rc, 0)
    t.ok("curl smtps://: delivered", find_msg("curl smtps") is not None)
    rc, out = curl("smtps://127.0.0.1:%d" % PSUBS, "--cacert", OTHER_CAFILE,
                   "--user", "alice@example.test:alice-secret",
                   "--mail-from", "alice@example.test", "--mail-rcpt", RCPT,
                   "-T", path)
    t.eq("curl smtps:// with the wrong CA: exit 60", rc, 60)
    s = None
    err = None
    try:
        s = smtplib.SMTP_SSL("127.0.0.1", PSUBS, context=TLS_WRONG,
                             timeout=15)
    except ssl.SSLCertVerificationError as e:
        err = e
    except (ssl.SSLError, OSError) as e:
        err = "other: %r" % e
    if s:
        s.close()
    t.ok("SMTP_SSL with the wrong CA: verification fails",
         isinstance(err, ssl.SSLCertVerificationError), repr(err))

    # tern user passwd and del take effect.
    rc, out = tern_user("passwd", "bob@example.test", input="bob-new\n")
    t.eq("tern user passwd", rc, 0)
    s, code, text, _ = auth_login(PSUB, "bob@example.test", "bob-old")
    s.close()
    t.eq("bob's old password: 535", code, 535)
    s, code, text, _ = auth_login(PSUB, "bob@example.test", "bob-new")
    s.close()
    t.eq("bob's new password: 235", code, 235)
    rc, out = tern_user("del", "carol@example.test")
    t.eq("tern user del", rc, 0)
    s, code, text, _ = auth_login(PSUB, "carol@example.test", "carol-secret")
    s.close()
    t.eq("a deleted user cannot log in: 535", code, 535)

    if IS_ROOT:
        subprocess.run(["chpasswd"], input="%s:sys-secret\n" % U1,
                       text=True, check=True)
        s, code, text, _ = auth_login(PSUB, U1, "sys-secret")
        s.close()
        t.eq("authd_system_users: a system account logs in", code, 235)


# 5. Open-relay matrix from outside mynetworks -----------------------------

RELAY_TRICKS = [
    "relaytest@remote.example",
    "relaytest%remote.example@example.test",
    "remote.example!relaytest@example.test",
    "@example.test:relaytest@remote.example",
    '"relaytest@remote.example"@example.test',
    "relaytest@remote.example.",
    "relaytest@[192.0.2.1]",
    "relaytest@[IPv6:2001:db8::1]",
    "relaytest@REMOTE.EXAMPLE",
    "relaytest@sub.example.test",
    "postmaster@remote.example",
    "relaytest@remote.example@example.test",
    "relaytest@remote.example ",
]


def open_relay():
    c, code, ehlo = session(POUT, ehlo="outside.example.net")
    t.eq("outside: MAIL", c.cmd("MAIL FROM:<out@remote.example>")[0], 250)
    t.eq("outside: mail to a local user accepted",
         c.cmd("RCPT TO:<%s>" % RCPT)[0], 250)
    c.close()
    for sender in ("out@remote.example", ""):
        for rcpt in RELAY_TRICKS:
            c, code, ehlo = session(POUT, ehlo="outside.example.net")
            c.cmd("MAIL FROM:<%s>" % sender)
            code, text = c.cmd("RCPT TO:<%s>" % rcpt)
            t.ok("no relay from outside for <%s> (sender <%s>)"
                 % (rcpt, sender), 400 <= code <= 599, text)
            if code == 250:
                # A relay hole: finish the message so that the queue
                # check below sees it too.
                c.cmd("DATA")
                c.send(message("relay hole", sender or "x@x",
                               "relaytest@remote.example") + "\r\n.\r\n")
                c.reply()
            c.close()
    rcpts = queued_recipients()
    t.ok("after the matrix, no queued message for a matrix recipient",
         not any("relaytest" in r or r.startswith("postmaster@remote")
                 for r in rcpts), str(rcpts))
    bad = [ln for ln in inst.logtext().splitlines()
           if ("relaytest" in ln or "postmaster@remote" in ln)
           and ("relay=" in ln or "queue active" in ln)]
    t.eq("no log line relays or queues a matrix recipient", bad, [])


# 6. Smuggling --------------------------------------------------------------

SMUGGLE = [("LF.LF", b"\n.\n"), ("CR.CR", b"\r.\r"),
           ("CRLF.LF", b"\r\n.\n"), ("LF.CRLF", b"\n.\r\n"),
           ("CR.CRLF", b"\r.\r\n")]


def smuggle_payload(i):
    return (b"Subject: smuggle %d\r\n\r\ntext" % i + SMUGGLE[i][1] +
            b"MAIL FROM:<evil@x>\r\nRCPT TO:<victim@example.test>\r\n"
            b"DATA\r\nsmuggled\r\n.\r\n")


def smuggling():
    for i, (name, _) in enumerate(SMUGGLE):
        sender = "smug%d@example.test" % i
        c, code, ehlo = session(P25, ehlo="smuggler.example.test")
        c.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (sender, RCPT))
        codes = [c.reply()[0] for _ in range(3)]
        t.eq("smuggle %s: MAIL RCPT DATA" % name, codes, [250, 250, 354])
        c.send(smuggle_payload(i))
        code, text = c.reply()
        c.send("QUIT\r\n")
        rest = c.wait_closed(10)
        rest = (rest or b"").decode(errors="replace")
        c.close()
        allr = text + "\n" + rest
        t.eq("smuggle %s: exactly one 'queued as' in the session" % name,
             len(QID_RE.findall(allr)), 1)
        t.ok("smuggle %s: no second 354" % name, "354" not in allr, allr)
        t.ok("smuggle %s: QUIT answered 221" % name, "221" in rest, allr)
        raw = find_msg("smuggle %d" % i)
        if t.ok("smuggle %s: the one message is delivered" % name,
                raw is not None):
            t.ok("smuggle %s: the fake commands are its text" % name,
                 b"MAIL FROM:<evil@x>" in raw and b"smuggled" in raw,
                 repr(raw[-200:]))
        t.eq("smuggle %s: one message queued (log)" % name,
             len(queued_lines(sender)), 1)
    time.sleep(1)
    t.ok("no message from evil@x was ever queued",
         "from=<evil@x>" not in inst.logtext())
    t.eq("victim@ got only the carrier messages",
         sum(count_msgs("smuggle %d" % i) for i in range(len(SMUGGLE))),
         len(SMUGGLE))

    # smtpd_forbid_bare_newline = reject.
    for i, (name, _) in enumerate(SMUGGLE):
        sender = "smugr%d@example.test" % i
        c, code, ehlo = session(PBARE, ehlo="smuggler.example.test")
        c.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (sender, RCPT))
        [c.reply() for _ in range(3)]
        c.send(smuggle_payload(i))
        code, text = c.reply()
        rest = (c.wait_closed(10) or b"").decode(errors="replace")
        c.close()
        t.ok("bare newline %s with reject: 550 5.5.2" % name,
             code == 550 and "5.5.2" in text, text)
        t.ok("bare newline %s with reject: nothing queued" % name,
             QID_RE.search(text + rest) is None, text + rest)
    time.sleep(1)
    for i, (name, _) in enumerate(SMUGGLE):
        t.eq("bare newline %s with reject: no queue entry" % name,
             queued_lines("smugr%d@example.test" % i), [])


# 7. Hostile input ----------------------------------------------------------

def vmrss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def hostile():
    c, code, ehlo = session(PBAD)
    pids = inst.service_pids("127.0.0.1:%d" % PBAD)
    t.eq("the hostile-input service has one smtpd", len(pids), 1)
    before = vmrss(pids[0]) if pids else None
    try:
        c.send(b"NOOP " + b"A" * (10 * 1024 * 1024) + b"\r\n")
        code, text = c.reply()
    except OSError as e:
        code, text = -1, repr(e)
    t.ok("10 MB command line: 500 5.5.2", code == 500 and "5.5.2" in text,
         text[:300])
    t.eq("10 MB command line: the session survives", c.cmd("NOOP")[0], 250)
    after = vmrss(pids[0]) if pids else None
    print("10 MB line: smtpd VmRSS %s kB before, %s kB after"
          % (before, after), file=sys.stderr)
    t.ok("10 MB command line: smtpd's memory stays bounded (< 4 MB more)",
         before is not None and after is not None and after - before < 4096,
         "VmRSS %s kB -> %s kB" % (before, after))
    c.close()

    c, code, ehlo = session(PBAD)
    code, text = c.cmd(b"MAIL FROM:<nul\x00byte@example.test>")
    t.ok("NUL in MAIL FROM: refused 5xx", 500 <= code <= 599, text)
    code, text = c.cmd(b"NO\x00OP")
    t.ok("NUL in a verb: refused 5xx", 500 <= code <= 599, text)
    code, text = c.cmd(b"NO\xc3\x96P")
    t.ok("non-ASCII verb: 500/502 5.5.2",
         code in (500, 502) and "5.5.2" in text, text)
    code, text = c.cmd(b"\xff\xfe\xfd")
    t.ok("binary junk line: 500/502 5.5.2",
         code in (500, 502) and "5.5.2" in text, text)
    code, text = c.cmd(b"MAIL FROM:<j\xe9@example.test>")
    t.ok("Latin-1 address without SMTPUTF8: refused 5xx", 500 <= code <= 599,
         text)
    t.eq("after hostile commands the session goes on", c.cmd("NOOP")[0], 250)
    c.close()

    # Disconnects mid-DATA and mid-BDAT leave nothing behind.
    c, code, ehlo = session(P25)
    c.cmd("MAIL FROM:<cut-data@example.test>")
    c.cmd("RCPT TO:<%s>" % RCPT)
    t.eq("mid-DATA: 354", c.cmd("DATA")[0], 354)
    c.send("Subject: cut data\r\n\r\npartial line\r\nand more")
    time.sleep(0.3)
    c.close()
    c, code, ehlo = session(P25)
    c.cmd("MAIL FROM:<cut-bdat@example.test>")
    c.cmd("RCPT TO:<%s>" % RCPT)
    c.send("BDAT 5000\r\nSubject: cut bdat\r\n\r\n" + "y" * 100)
    time.sleep(0.3)
    c.close()
    t.ok("disconnect mid-DATA: logged as lost connection",
         inst.wait_log("lost connection after DATA", timeout=5))
    t.ok("disconnect mid-BDAT: logged as lost connection",
         inst.wait_log("lost connection after BDAT", timeout=5))
    t.ok("after the disconnects incoming/ is empty (temporary files too)",
         wait_for(lambda: queue_files("incoming", dotfiles=True) == [], 5),
         str(queue_files("incoming", dotfiles=True)))
    t.eq("disconnect mid-DATA: nothing queued",
         queued_lines("cut-data@example.test"), [])
    t.eq("disconnect mid-BDAT: nothing queued",
         queued_lines("cut-bdat@example.test"), [])


def slow_connections():
    want = 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want + 200:
        soft = want + 200 if hard == resource.RLIM_INFINITY or \
            hard >= want + 200 else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    n = min(want, soft - 150)
    if n < want:
        print("note: open file limit %d: %d idle connections instead of %d"
              % (soft, n, want), file=sys.stderr)
    n_timeouts = inst.logtext().count("timeout after")
    sel = selectors.DefaultSelector()
    data, closed = {}, {}
    start = time.monotonic()
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", PSLOW))
        data[s] = b""
        sel.register(s, selectors.EVENT_READ)

    def pump(done, deadline):
        while not done() and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.2):
                s = key.fileobj
                try:
                    chunk = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if chunk:
                    data[s] += chunk
                else:
                    closed[s] = time.monotonic() - start
                    sel.unregister(s)

    def greeted():
        return sum(1 for v in data.values() if v.startswith(b"220 "))
    pump(lambda: greeted() + len(closed) >= n, start + 15)
    t.eq("idle: every connection is greeted", greeted(), n)

    t0 = time.monotonic()
    try:
        s = smtplib.SMTP("127.0.0.1", PSLOW, timeout=10)
        s.sendmail("busy@example.test", [RCPT],
                   message("while busy", "busy@example.test"))
        s.quit()
        sent = True
    except (smtplib.SMTPException, OSError) as e:
        sent = repr(e)
    secs = time.monotonic() - t0
    t.ok("idle: a normal client still gets mail through quickly",
         sent is True and secs < 3, "%r after %.2fs" % (sent, secs))
    t.ok("idle: that message is delivered", find_msg("while busy"))

    pump(lambda: len(closed) >= n, start + 25)
    n421 = sum(1 for v in data.values() if b"421 4.4.2" in v)
    t.eq("idle: every idle connection gets 421 4.4.2 and is closed",
         (n421, len(closed)), (n, n))
    last = max(closed.values()) if closed else None
    print("idle: %d connections, %d greeted, %d got 421 4.4.2, last closed "
          "after %s s; a normal message took %.2f s"
          % (n, greeted(), n421, "%.1f" % last if last else None, secs),
          file=sys.stderr)
    t.ok("idle: all closed within ~10 s of connecting",
         last is not None and last < 12, "last after %s s" % last)
    for s in data:
        s.close()
    t.ok("idle: one 'timeout after' log line each",
         wait_for(lambda: inst.logtext().count("timeout after") -
                  n_timeouts >= n, 10),
         "%d lines" % (inst.logtext().count("timeout after") - n_timeouts))


# 8. Limits -----------------------------------------------------------------

def greets(port, source):
    """Does a new connection from source get the 220 greeting?"""
    try:
        c = SmtpRaw(port, source=source)
    except OSError:
        return False
    code = c.reply()[0]
    c.close()
    return code == 220


def limits():
    conns = []
    for i in range(3):
        c = SmtpRaw(PLIM, source="127.0.0.3")
        conns.append((c, c.reply()))
    t.eq("connection limit 2: first two greeted",
         [r[0] for _, r in conns[:2]], [220, 220])
    t.ok("connection limit 2: the third gets 421 4.7.0",
         conns[2][1][0] == 421 and "4.7.0" in conns[2][1][1], conns[2][1][1])
    for c, _ in conns:
        c.close()
    ok = wait_for(lambda: greets(PLIM, "127.0.0.3"), 5, step=0.3)
    t.ok("connection limit: a slot frees when a client leaves", ok)

    conns = []
    for i in range(3):
        c = SmtpRaw(PEXEMPT, source="127.0.0.5")
        conns.append((c, c.reply()))
    t.eq("connection limit: mynetworks clients are exempt",
         [r[0] for _, r in conns], [220, 220, 220])
    for c, _ in conns:
        c.close()

    c, code, ehlo = session(PRATE, source="127.0.0.4")
    codes = []
    for i in range(3):
        code, text = c.cmd("MAIL FROM:<rate@example.test>")
        codes.append(code)
        c.cmd("RSET")
    t.eq("message rate limit 2: two MAILs accepted", codes[:2], [250, 250])
    t.ok("message rate limit 2: the third MAIL gets a 4xx (421/450)",
         codes[2] in (421, 450), "%r %s" % (codes, text))
    c.close()

    # reject_unknown_sender_domain through the test's DNS data.
    c, code, ehlo = session(PDNS)
    c.cmd("MAIL FROM:<someone@nxdomain.test>")
    code, text = c.cmd("RCPT TO:<%s>" % RCPT)
    t.ok("reject_unknown_sender_domain: unknown domain 450 4.1.8",
         code == 450 and "4.1.8" in text, text)
    c.cmd("RSET")
    c.cmd("MAIL FROM:<someone@example.test>")
    code, text = c.cmd("RCPT TO:<%s>" % RCPT)
    t.eq("reject_unknown_sender_domain: a domain with MX passes", code, 250)
    c.cmd("RSET")
    c.cmd("MAIL FROM:<someone@exists.test>")
    code, text = c.cmd("RCPT TO:<%s>" % RCPT)
    t.eq("reject_unknown_sender_domain: a domain with only A passes", code,
         250)
    c.close()


# 9. Privilege separation ---------------------------------------------------

def privileges():
    owner = pwd.getpwnam(inst.owner).pw_uid
    for svc in ("127.0.0.1:%d" % P25, "127.0.0.1:%d" % PSUB, "authd",
                "anvil"):
        pids = inst.service_pids(svc)
        t.ok("%s is running" % svc, len(pids) >= 1)
        for pid in pids:
            t.eq("%s runs as mail_owner (real, effective, saved, fs)" % svc,
                 proc_uids(pid), [owner] * 4)
    st = os.stat(KEY)
    t.ok("the TLS key is root's, mode 0600",
         st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600,
         "uid %d mode %o" % (st.st_uid, stat.S_IMODE(st.st_mode)))
    s = smtplib.SMTP("127.0.0.1", P25, timeout=15)
    code = s.starttls(context=TLS_OK)[0]
    s.quit()
    t.eq("smtpd serves TLS with a key only root can read", code, 220)
    st = os.stat(os.path.join(MAILDIR, "new"))
    t.eq("the Maildir belongs to the recipient", st.st_uid,
         pwd.getpwnam(U1).pw_uid)


def section(name, fn, *args):
    try:
        fn(*args)
    except Exception as e:
        t.ok("%s: ran to the end" % name, False, "%s\n%s" % (
            e, "".join(traceback.format_exc().splitlines(True)[-6:])))


try:
    if IS_ROOT:
        os.chown(KEY, 0, 0)
    tern_user = users()
    p = inst.run("ternalias")
    t.eq("ternalias builds the alias database", p.returncode, 0)
    rc, out, err = inst.tern("start")
    t.eq("tern start", rc, 0)
    if rc != 0:
        print(err, file=sys.stderr)
        raise SystemExit(t.finish())
    section("delivery", delivery)
    section("esmtp", esmtp)
    section("tls", tls)
    section("submission", submission, tern_user)
    section("open relay", open_relay)
    section("smuggling", smuggling)
    section("hostile input", hostile)
    section("limits", limits)
    section("idle connections", slow_connections)
    if IS_ROOT:
        section("privileges", privileges)
    rc, out, err = inst.tern("stop")
    t.eq("tern stop", rc, 0)
    t.eq("nothing left in incoming/", queue_files("incoming", True), [])
    panics = [ln for ln in inst.logtext().splitlines()
              if "panic:" in ln or "fatal:" in ln]
    t.eq("no panic or fatal in the log", panics, [])
finally:
    inst.cleanup()
raise SystemExit(t.finish())
