#!/usr/bin/python3
# Crash safety: while 1,000 messages flow from sendmail to a Maildir,
# qmgr and local are killed with SIGKILL at random moments, several times.
# Afterwards every message must have been delivered; a message may be
# delivered twice only if it was in flight at a kill, so duplicates are
# counted, reported, and bounded by kills x the concurrency limit.
import grp
import os
import random
import re
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ternlib import IS_ROOT, PIPELINE_MASTER_CF, Instance, Tally, wait_for

N = int(os.environ.get("CRASH_MESSAGES", "1000"))
CONCURRENCY = 4

t = Tally()
inst = Instance(t, "tern-crash")
inst.setup_commands()
VMAIL = os.path.join(inst.dir, "vmail")
os.mkdir(VMAIL)
uid, gid = os.getuid(), os.getgid()
if IS_ROOT:
    uid, gid = inst.owner_uid, grp.getgrnam(inst.group).gr_gid
    os.chown(VMAIL, uid, gid)
inst.write_main(
    mydestination="one.example", myorigin="one.example",
    alias_maps="", virtual_mailbox_domains="virt.example",
    virtual_mailbox_maps="inline:{ v1@virt.example=v1/ }",
    virtual_mailbox_base=VMAIL, virtual_uid_maps="static:%d" % uid,
    virtual_gid_maps="static:%d" % gid, virtual_minimum_uid="0",
    default_destination_concurrency_limit=str(CONCURRENCY),
    minimal_backoff_time="1s", maximal_backoff_time="1s",
    queue_run_delay="1s", service_throttle_time="1s")
inst.write_master(PIPELINE_MASTER_CF)
NEW = os.path.join(VMAIL, "v1", "new")


def delivered():
    """Message number -> times delivered."""
    seen = {}
    try:
        names = os.listdir(NEW)
    except OSError:
        return seen
    for n in names:
        try:
            with open(os.path.join(NEW, n), "rb") as f:
                m = re.search(rb"^Subject: crash (\d+)$", f.read(4096), re.M)
        except OSError:
            continue
        if m:
            k = int(m.group(1))
            seen[k] = seen.get(k, 0) + 1
    return seen


failed_inject = []


def inject():
    for i in range(N):
        p = inst.run("sendmail", "-i", "v1@virt.example",
                     input="Subject: crash %d\n\nmessage %d\n" % (i, i))
        if p.returncode != 0:
            failed_inject.append((i, p.returncode, p.stderr[:200]))


try:
    rc, out, err = inst.tern("start")
    t.eq("tern start", rc, 0)
    start = time.time()
    th = threading.Thread(target=inject)
    th.start()
    kills = 0
    rng = random.Random(os.getpid())
    while th.is_alive() and kills < 12:
        time.sleep(rng.uniform(0.2, 1.0))
        for svc in ("qmgr", "local", "virtual"):
            if rng.random() < 0.6:
                for pid in inst.service_pids(svc):
                    try:
                        os.kill(pid, signal.SIGKILL)
                        kills += 1
                    except OSError:
                        pass
    th.join()
    t.eq("every sendmail succeeded", failed_inject, [])
    t.ok("processes were killed during the flow", kills >= 3, str(kills))
    ok = wait_for(lambda: len(delivered()) >= N, 180, step=0.5)
    seen = delivered()
    missing = [i for i in range(N) if i not in seen]
    dups = sum(c - 1 for c in seen.values() if c > 1)
    print("crash: %d messages, %d kills, %d delivered, %d missing, "
          "%d delivered twice, %.1f s" % (N, kills, len(seen), len(missing),
                                         dups, time.time() - start))
    t.ok("every message delivered", ok and not missing, str(missing[:20]))
    t.ok("duplicates only from messages in flight (<= kills x %d)"
         % CONCURRENCY, dups <= kills * CONCURRENCY, str(dups))
    t.has("the kills were noticed", inst.logtext(), "killed by signal 9")
    rc, out, err = inst.tern("stop")
    t.eq("tern stop", rc, 0)
    left = [(q, os.listdir(os.path.join(inst.spool, q))) for q in
            ("incoming", "active", "deferred", "maildrop", "corrupt")]
    t.ok("queue empty afterwards", all(not x for _, x in left), str(left))
finally:
    inst.cleanup()
raise SystemExit(t.finish())
