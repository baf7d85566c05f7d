#!/usr/bin/python3
# The mail pipeline end to end on a real instance: sendmail (through the
# setgid terndrop and pickup) as an unprivileged user delivers to an mbox
# and to a Maildir; -t takes recipients from the header and drops Bcc;
# aliases (addresses, files, commands) and .forward expand; an unknown
# user bounces with an RFC 3464 report; a command that exits 75 is
# deferred and retried; a message past maximal_queue_lifetime bounces;
# mailq, ternqueue -j and ternsuper -h/-H/-r/-d behave; sendmail -bs
# speaks SMTP; a malformed maildrop file is quarantined; as root, a full
# queue file system makes sendmail fail with a temporary error and loses
# nothing, and the privilege separation holds (pickup, qmgr, showq run as
# mail_owner, deliveries as the recipient).
import email
import email.policy
import json
import mailbox
import os
import pwd
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ternlib import (IS_ROOT, PIPELINE_MASTER_CF, Instance, Tally, proc_uids,
                     wait_for)

t = Tally()
inst = Instance(t, "tern-pipe")
inst.setup_commands()
D = inst.dir
MAIL = os.path.join(D, "mail")
VMAIL = os.path.join(D, "vmail")
FILES = os.path.join(D, "files")
for d, mode in ((MAIL, 0o1777), (VMAIL, 0o755), (FILES, 0o1777)):
    os.mkdir(d)
    os.chmod(d, mode)

if IS_ROOT:
    tag = str(os.getpid())[-6:]
    U1 = inst.add_user("ternua" + tag).pw_name
    U2 = inst.add_user("ternub" + tag).pw_name
    vuid = pwd.getpwnam(U1).pw_uid
    vgid = pwd.getpwnam(U1).pw_gid
    os.chown(VMAIL, vuid, vgid)
else:
    U1 = pwd.getpwuid(os.getuid()).pw_name
    U2 = None
    vuid, vgid = os.getuid(), os.getgid()

ALIASES = os.path.join(D, "aliases")
with open(ALIASES, "w") as f:
    f.write("team: %s, v1@virt.example\n" % U1)
    f.write("tofile: %s/tofile.mbox\n" % FILES)
    f.write("flaky: |%s/flaky.sh\n" % D)
    f.write("stuck: |%s/always75.sh\n" % D)
    f.write("postmaster: %s\n" % U1)
with open(os.path.join(D, "flaky.sh"), "w") as f:
    f.write("#!/bin/sh\nif [ -e %s/flaky.marker ]; then\n"
            "  cat > %s/flaky.out; exit 0\nfi\n"
            "touch %s/flaky.marker\necho 'try again later'\nexit 75\n"
            % (FILES, FILES, FILES))
with open(os.path.join(D, "always75.sh"), "w") as f:
    f.write("#!/bin/sh\necho 'still not ready'\nexit 75\n")
for s in ("flaky.sh", "always75.sh"):
    os.chmod(os.path.join(D, s), 0o755)

inst.write_main(
    mydestination="one.example, localhost", myorigin="one.example",
    alias_maps="texthash:" + ALIASES, alias_database="texthash:" + ALIASES,
    mail_spool_directory=MAIL,
    virtual_mailbox_domains="virt.example",
    virtual_mailbox_maps="inline:{ v1@virt.example=v1/ }",
    virtual_mailbox_base=VMAIL,
    virtual_uid_maps="static:%d" % vuid, virtual_gid_maps="static:%d" % vgid,
    virtual_minimum_uid="100" if vuid >= 100 else "0",
    minimal_backoff_time="1s", maximal_backoff_time="2s",
    queue_run_delay="1s", maximal_queue_lifetime="1h")
inst.write_master(PIPELINE_MASTER_CF)


def send(rcpts, body, *opts, user=U1):
    """sendmail as user (as root: the throwaway user); returns the
    CompletedProcess."""
    return inst.run("sendmail", *opts, *rcpts, user=user if IS_ROOT else None,
                    input=body)


def mbox(path):
    """The messages of an mbox file (empty when missing)."""
    if not os.path.exists(path):
        return []
    return [m for m in mailbox.mbox(path, create=False)]


def with_subject(msgs, subject):
    return [m for m in msgs if m.get("Subject") == subject]


def maildir_msgs(path):
    out = []
    new = os.path.join(path, "new")
    if os.path.isdir(new):
        for n in sorted(os.listdir(new)):
            with open(os.path.join(new, n), "rb") as f:
                out.append(email.message_from_binary_file(f))
    return out


def wait_subject(get, subject, count=1, timeout=20):
    return wait_for(lambda: len(with_subject(get(), subject)) >= count,
                    timeout)


U1_MBOX = os.path.join(MAIL, U1)
V1_DIR = os.path.join(VMAIL, "v1")


def u1_msgs():
    return mbox(U1_MBOX)


def v1_msgs():
    return maildir_msgs(V1_DIR)


def queue_files(q):
    d = os.path.join(inst.spool, q)
    try:
        return [n for n in os.listdir(d) if not n.startswith(".")]
    except OSError:
        return []


try:
    rc, out, err = inst.tern("start")
    t.eq("tern start", rc, 0)
    if rc != 0:
        print(err, file=sys.stderr)
        raise SystemExit(t.finish())

    # 1. sendmail as an unprivileged user, into an mbox.
    p = send([U1], "Subject: first\n\nhello mbox\nFrom the start\n")
    t.ok("sendmail exits 0", p.returncode == 0, p.stderr.decode())
    t.ok("delivered to the mbox", wait_subject(u1_msgs, "first"),
         inst.logtext()[-2000:])
    m = with_subject(u1_msgs(), "first")
    if m:
        m = m[0]
        t.eq("Return-Path added", m.get("Return-Path"), "<%s@one.example>" % U1)
        t.eq("Delivered-To added", m.get("Delivered-To"), "%s@one.example" % U1)
        t.ok("From: added from the user", "%s@one.example" % U1 in
             (m.get("From") or ""), m.get("From"))
        t.ok("Date: and Message-ID: added",
             m.get("Date") is not None and m.get("Message-ID") is not None)
        t.ok("Received: added", m.get("Received") is not None)
        t.has("a body From line is quoted", m.get_payload(), ">From the start")
        t.ok("the From_ line names the sender",
             m.get_from().startswith("%s@one.example " % U1), m.get_from())
    log = inst.logtext()
    t.has("pickup logs uid and sender", log, "uid=")
    t.has("qmgr logs the message", log, "nrcpt=1 (queue active)")
    t.has("local logs the delivery", log,
          "to=<%s@one.example>, relay=local, delay=" % U1)
    t.has("status=sent to mailbox", log, "status=sent (delivered to mailbox)")
    t.has("the message is removed", log, ": removed")

    # 2. Into a Maildir (virtual mailbox).
    p = send(["v1@virt.example"], "Subject: second\n\nhello maildir\n")
    t.eq("sendmail to a virtual mailbox exits 0", p.returncode, 0)
    t.ok("delivered to the Maildir", wait_subject(v1_msgs, "second"))
    t.has("virtual delivery logged", inst.logtext(),
          "to=<v1@virt.example>, relay=virtual")
    if os.path.isdir(os.path.join(V1_DIR, "new")):
        names = os.listdir(os.path.join(V1_DIR, "new"))
        t.ok("Maildir file name carries S=size", all(",S=" in n for n in names),
             str(names))
        t.eq("Maildir tmp is empty", os.listdir(os.path.join(V1_DIR, "tmp")),
             [])
        if IS_ROOT:
            st = os.stat(os.path.join(V1_DIR, "new", names[0]))
            t.eq("Maildir file owned by the virtual uid", st.st_uid, vuid)

    # 3. -t: recipients from the header, Bcc removed.
    p = send([], "To: %s\nBcc: v1@virt.example\nSubject: third\n\nt\n" % U1,
             "-t")
    t.eq("sendmail -t exits 0", p.returncode, 0)
    t.ok("-t: To recipient got it", wait_subject(u1_msgs, "third"))
    t.ok("-t: Bcc recipient got it", wait_subject(v1_msgs, "third"))
    for m in with_subject(u1_msgs(), "third") + with_subject(v1_msgs(),
                                                              "third"):
        t.ok("-t: no Bcc header left", m.get("Bcc") is None)

    # 4. Aliases: a list, a file.
    send(["team"], "Subject: fourth\n\nto the team\n")
    t.ok("alias expands to the user", wait_subject(u1_msgs, "fourth"))
    t.ok("alias expands to the virtual mailbox", wait_subject(v1_msgs,
                                                             "fourth"))
    # The mailbox fills before local logs the delivery: wait for the line.
    t.ok("orig_to names the alias",
         inst.wait_log("orig_to=<team@one.example>"))
    send(["tofile"], "Subject: fifth\n\nto a file\n")
    t.ok("alias delivers to a file",
         wait_subject(lambda: mbox(os.path.join(FILES, "tofile.mbox")),
                      "fifth"))
    t.ok("file delivery logged", inst.wait_log("delivered to file"))

    # 5. .forward (needs a second login user: root only).
    if IS_ROOT:
        fwd = os.path.join(pwd.getpwnam(U2).pw_dir, ".forward")
        with open(fwd, "w") as f:
            f.write("%s\n" % U1)
        u2 = pwd.getpwnam(U2)
        os.chown(fwd, u2.pw_uid, u2.pw_gid)
        os.chmod(fwd, 0o644)
        send([U2], "Subject: sixth\n\nforwarded\n")
        t.ok(".forward sends it on", wait_subject(u1_msgs, "sixth"))
        # As above: the mailbox can fill before local logs the delivery.
        t.ok(".forward delivery names the original recipient",
             inst.wait_log("orig_to=<%s@one.example>" % U2),
             inst.logtext()[-1500:])
        t.ok("nothing landed in the forwarding user's mbox",
             not with_subject(mbox(os.path.join(MAIL, U2)), "sixth"))

    # 6. Unknown user: a bounce that parses as multipart/report.
    send(["nosuchuser"], "Subject: seventh\n\nnobody home\n")
    bounce_subject = "Undelivered Mail Returned to Sender"
    t.ok("a bounce comes back", wait_subject(u1_msgs, bounce_subject))
    t.has("unknown user logged", inst.logtext(),
          "status=bounced (unknown user")
    for m in with_subject(u1_msgs(), bounce_subject)[:1]:
        t.eq("bounce is multipart/report", m.get_content_type(),
             "multipart/report")
        t.eq("report-type", m.get_param("report-type"), "delivery-status")
        parts = m.get_payload()
        t.ok("three parts", isinstance(parts, list) and len(parts) == 3,
             str(len(parts) if isinstance(parts, list) else parts))
        if isinstance(parts, list) and len(parts) >= 2:
            t.eq("second part is message/delivery-status",
                 parts[1].get_content_type(), "message/delivery-status")
            text = parts[1].as_string()
            t.has("Final-Recipient", text,
                  "Final-Recipient: rfc822; nosuchuser@one.example")
            t.has("Action: failed", text, "Action: failed")
            t.has("Status: 5.1.1", text, "Status: 5.1.1")
            t.has("Reporting-MTA", text, "Reporting-MTA: dns; one.example")
        if isinstance(parts, list) and len(parts) == 3:
            t.has("the original is returned", parts[2].as_string(),
                  "Subject: seventh")
        t.eq("bounce has the null sender", m.get("Return-Path"), "<>")

    # 7. A command that exits 75 is deferred, then retried.
    send(["flaky"], "Subject: eighth\n\nsecond time lucky\n")
    t.ok("command exit 75 is deferred",
         inst.wait_log("status=deferred", timeout=20), inst.logtext()[-1500:])
    t.ok("and retried until delivered",
         wait_for(lambda: os.path.exists(os.path.join(FILES, "flaky.out")),
                  30))
    t.ok("the retry is logged as sent to the command",
         inst.wait_log("delivered to command", timeout=10))
    if os.path.exists(os.path.join(FILES, "flaky.out")):
        with open(os.path.join(FILES, "flaky.out")) as f:
            t.has("the command got the message", f.read(), "Subject: eighth")

    # 8. Past maximal_queue_lifetime: bounced with 4.4.7.
    inst.cmd("ternconf", "-e", "maximal_queue_lifetime=3s")
    inst.tern("reload")
    time.sleep(1)
    send(["stuck"], "Subject: ninth\n\nnever\n")
    t.ok("an expired message bounces",
         wait_for(lambda: any("ninth" in m.as_string() for m in
                              with_subject(u1_msgs(), bounce_subject)), 40),
         inst.logtext()[-1500:])
    t.has("expiry logged", inst.logtext(), "status=expired, returned to sender")
    for m in u1_msgs():
        if m.get("Subject") == bounce_subject and "ninth" in m.as_string():
            t.has("expired status 4.4.7", m.as_string(), "Status: 4.4.7")

    # 9. mailq, ternqueue -j, ternsuper.
    inst.cmd("ternconf", "-e", "maximal_queue_lifetime=1h",
             "minimal_backoff_time=3600s", "maximal_backoff_time=3600s",
             "queue_run_delay=3600s")
    inst.tern("reload")
    time.sleep(1)
    n_deferred = inst.logtext().count("status=deferred")
    send(["stuck"], "Subject: tenth\n\nwait\n")
    t.ok("deferred message reaches deferred/",
         wait_for(lambda: len(queue_files("deferred")) == 1, 20))
    qid = (queue_files("deferred") or ["?"])[0]
    p = inst.run("sendmail", "-bp", user=U1 if IS_ROOT else None)
    out = p.stdout.decode()
    t.eq("mailq exits 0", p.returncode, 0)
    t.has("mailq shows the header", out, "-Queue ID-")
    t.has("mailq shows the message", out, qid)
    t.has("mailq shows the recipient", out, "stuck@one.example")
    t.has("mailq shows the reason", out, "still not ready")
    t.has("mailq shows the total", out, "in 1 Request.")
    p = inst.run("ternqueue", "-j", user=U1 if IS_ROOT else None)
    try:
        js = [json.loads(line) for line in p.stdout.decode().splitlines()]
    except ValueError:
        js = []
    t.ok("ternqueue -j gives one JSON object", len(js) == 1, p.stdout[:300])
    if js:
        t.eq("JSON queue_name", js[0].get("queue_name"), "deferred")
        t.eq("JSON queue_id", js[0].get("queue_id"), qid)
        t.eq("JSON recipient", js[0]["recipients"][0].get("address"),
             "stuck@one.example")
    if IS_ROOT:
        p = inst.run("ternsuper", "-d", "ALL", user=U1)
        t.eq("ternsuper as an ordinary user: permission denied",
             p.returncode, 77)
        t.eq("... and nothing was deleted", len(queue_files("deferred")), 1)
    p = inst.run("ternsuper", "-h", qid)
    t.eq("ternsuper -h exits 0", p.returncode, 0)
    t.eq("message moved to hold/", queue_files("hold"), [qid])
    out = inst.run("ternqueue", "-p").stdout.decode()
    t.has("mailq marks held messages with !", out, qid + "!")
    p = inst.run("ternsuper", "-H", qid)
    t.eq("ternsuper -H exits 0", p.returncode, 0)
    t.eq("message released from hold", queue_files("hold"), [])
    p = inst.run("ternsuper", "-r", qid)
    t.eq("ternsuper -r exits 0", p.returncode, 0)
    t.ok("requeued message is tried again",
         wait_for(lambda: inst.logtext().count("status=deferred") >
                  n_deferred + 1, 20))
    t.ok("... and is back in deferred/",
         wait_for(lambda: queue_files("deferred") == [qid], 10))
    p = inst.run("ternsuper", "-d", qid)
    t.eq("ternsuper -d exits 0", p.returncode, 0)
    t.has("ternsuper -d reports it", p.stderr.decode(), "Deleted: 1 message")
    t.eq("nothing left in deferred/", queue_files("deferred"), [])
    out = inst.run("ternqueue", "-p").stdout.decode()
    t.has("mailq: empty", out, "Mail queue is empty")

    # 10. sendmail -bs speaks SMTP on stdin/stdout.
    dialog = ("EHLO client.example\r\nMAIL FROM:<%s@one.example>\r\n"
              "RCPT TO:<%s@one.example>\r\nDATA\r\nSubject: eleventh\r\n\r\n"
              "..dot-stuffed\r\n.\r\nQUIT\r\n" % (U1, U1))
    p = inst.run("sendmail", "-bs", user=U1 if IS_ROOT else None,
                 input=dialog)
    out = p.stdout.decode()
    t.has("-bs greets", out, "220 ")
    t.has("-bs queues", out, "250 2.0.0 Ok: queued")
    t.has("-bs says goodbye", out, "221 ")
    t.ok("-bs message delivered", wait_subject(u1_msgs, "eleventh"))
    for m in with_subject(u1_msgs(), "eleventh"):
        t.has("-bs dot-unstuffing", m.get_payload(), ".dot-stuffed")

    # 11. A malformed maildrop file is quarantined, never delivered.
    bad = os.path.join(inst.spool, "maildrop", "1MQ3K7F0A3C2B")
    with open(bad, "w") as f:
        f.write("TERNQ 1\nT 1.000000\nS x\nR - - - %s\nM\ngarbage\n" % U1)
    if IS_ROOT:
        os.chown(bad, pwd.getpwnam(U1).pw_uid, -1)
    send([U1], "Subject: twelfth\n\nwakes pickup\n")
    t.ok("malformed maildrop file quarantined",
         inst.wait_log("1MQ3K7F0A3C2B: moved to corrupt", timeout=20),
         inst.logtext()[-1500:])
    t.ok("... into corrupt/", "1MQ3K7F0A3C2B" in " ".join(
        queue_files("corrupt")), str(queue_files("corrupt")))
    t.ok("the good message still arrives", wait_subject(u1_msgs, "twelfth"))

    # 12. Bad usage and sysexits.
    p = send([], "Subject: x\n\n")
    t.eq("no recipients: EX_USAGE", p.returncode, 64)
    p = send([U1], "x", "-Z")
    t.eq("unknown option: EX_USAGE", p.returncode, 64)

    # 13. Privilege separation (root).
    if IS_ROOT:
        owner = pwd.getpwnam(inst.owner).pw_uid
        for svc in ("pickup", "qmgr"):
            pids = inst.service_pids(svc)
            t.ok("%s is running" % svc, len(pids) >= 1)
            for pid in pids:
                t.eq("%s runs as mail_owner" % svc, proc_uids(pid)[0], owner)
        st = os.stat(U1_MBOX)
        t.eq("the mbox belongs to its user", st.st_uid,
             pwd.getpwnam(U1).pw_uid)
        st = os.stat(os.path.join(FILES, "flaky.out"))
        t.eq("alias commands run as default_privs", st.st_uid,
             pwd.getpwnam("nobody").pw_uid)
        for q in ("incoming", "active", "deferred", "hold", "maildrop"):
            st = os.stat(os.path.join(inst.spool, q))
            t.eq("%s/ owned by mail_owner" % q, st.st_uid, owner)

    # 14. A full disk (root: a tiny file system for maildrop/) fails with a
    # temporary error and loses nothing.
    if IS_ROOT:
        md = os.path.join(inst.spool, "maildrop")
        st = os.stat(md)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            "size=512k,mode=1730,uid=%d,gid=%d"
                            % (st.st_uid, st.st_gid), "tmpfs", md],
                           capture_output=True)
        if r.returncode == 0:
            try:
                big = "Subject: huge\n\n" + ("x" * 999 + "\n") * 1024
                p = send([U1], big)
                t.eq("full disk: EX_TEMPFAIL", p.returncode, 75)
                t.has("full disk: the reason", p.stderr.decode(),
                      "No space left on device")
                t.eq("full disk: no file left behind", os.listdir(md), [])
                p = send([U1], "Subject: small\n\nfits\n")
                t.eq("a small message still fits", p.returncode, 0)
                t.ok("... and is delivered", wait_subject(u1_msgs, "small"))
            finally:
                subprocess.run(["umount", md], capture_output=True)
        else:
            print("skip: cannot mount tmpfs: %s" % r.stderr, file=sys.stderr)

    rc, out, err = inst.tern("stop")
    t.eq("tern stop", rc, 0)
    t.ok("nothing left in the queue",
         not any(queue_files(q) for q in ("incoming", "active", "deferred",
                                          "maildrop")),
         str([(q, queue_files(q)) for q in ("incoming", "active",
                                            "deferred", "maildrop")]))
finally:
    inst.cleanup()
raise SystemExit(t.finish())
