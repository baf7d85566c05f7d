#!/usr/bin/python3
# master and the tern command, end to end on a real instance: services come
# up and answer; a killed service process is restarted with a log line; a
# crash-looping service is throttled; "tern reload" after "ternconf -e"
# changes new sessions while an open one is undisturbed, and adds and
# removes listeners; a second start is refused; a broken main.cf fails with
# file and line; stop is graceful and leaves nothing running; abort and
# start-fg work.  As root: master runs as root, every service as mail_owner
# (a throwaway user), and a chroot = y service sees only its jail.
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ternlib import (COMMANDS, IS_ROOT, Instance, LineClient, Tally, free_port,
                     proc_uids, wait_for)

t = Tally()
inst = Instance(t)
p1, p2, p3 = free_port(), free_port(), free_port()
inst.write_main(service_throttle_time="3s", master_stop_timeout="10s")
MASTER_CF = """\
# service type private unpriv chroot wakeup maxproc command
127.0.0.1:%d inet n - n - 4 echod
127.0.0.1:%d inet n - y - 1 echod -o max_use=2
echo unix - - n 1 1 echod
""" % (p1, p2)
inst.write_master(MASTER_CF)
crashy = os.path.join(inst.dir, "crashy")
with open(crashy, "w") as f:
    f.write("#!/bin/sh\nkill -SEGV $$\n")
os.chmod(crashy, 0o755)


def greet(port):
    c = LineClient(("127.0.0.1", port))
    return c, c.line()


def connect_fails(port):
    try:
        c = LineClient(("127.0.0.1", port), timeout=2)
    except OSError:
        return True
    c.close()
    return False


try:
    # A broken main.cf is refused with its file and line.
    with open(os.path.join(inst.etc, "main.cf"), "a") as f:
        f.write("max_use = lots\n")
    rc, out, err = inst.tern("start")
    t.ok("start with a broken main.cf fails", rc != 0, "exit %d" % rc)
    t.has("the error names file and line", err,
          "main.cf, line %d:" % (len(inst.params) + 1))
    t.eq("nothing was started", inst.instance_procs(), [])
    inst.write_main()

    # Start.
    rc, out, err = inst.tern("start")
    t.eq("tern start exit", rc, 0)
    t.has("tern start says so", err, "starting the mail system")
    t.ok("master wrote its log line", inst.wait_log("daemon started"))
    mpid = inst.master_pid()
    rc, out, err = inst.tern("status")
    t.eq("tern status exit", rc, 0)
    t.has("tern status names the pid", err, "PID: %s" % mpid)

    # Services come up and answer.
    c, g = greet(p1)
    t.eq("echod greeting", g, "+OK one.example echod ready")
    t.eq("echod echo", c.ask("hello there"), "+OK hello there")
    t.eq("echod quit", c.ask("QUIT"), "+OK bye")
    c.close()
    u = LineClient(os.path.join(inst.spool, "private", "echo"))
    t.eq("unix service greeting", u.line(), "+OK one.example echod ready")
    u.close()
    t.ok("the wakeup timer reaches the unix service",
         inst.wait_log("wakeup", timeout=10))
    pids = wait_for(lambda: inst.service_pids("127.0.0.1:%d" % p1))
    t.ok("a process serves the inet service", pids)
    jailed = wait_for(lambda: inst.service_pids("127.0.0.1:%d" % p2))
    t.ok("a process serves the chrooted service", jailed)

    # Privilege separation (root only): master is root, services are
    # mail_owner, and chroot = y jails the process in queue_directory.
    if IS_ROOT:
        t.eq("master runs as root", proc_uids(mpid), [0, 0, 0, 0])
        for pid in (pids or []) + (jailed or []) + inst.service_pids("echo"):
            t.eq("service pid %d runs as mail_owner" % pid, proc_uids(pid),
                 [inst.owner_uid] * 4)
        for pid in jailed or []:
            root = os.readlink("/proc/%d/root" % pid)
            t.eq("chrooted service's root", root, inst.spool)
            t.ok("/etc/passwd is invisible in the jail",
                 not os.path.exists("/proc/%d/root/etc/passwd" % pid))
        for pid in pids or []:
            t.eq("unjailed service's root", os.readlink("/proc/%d/root" % pid),
                 "/")
        c, g = greet(p2)
        t.eq("the chrooted service answers", g, "+OK one.example echod ready")
        c.close()

    # The pool grows with concurrent sessions but never beyond maxproc (4),
    # and every session is served.
    sessions = [greet(p1) for _ in range(10)]
    t.eq("10 concurrent sessions are greeted",
         sum(1 for c, g in sessions if g.startswith("+OK")), 10)
    t.eq("and all of them answer",
         sum(1 for c, g in sessions if c.ask("n") == "+OK n"), 10)
    n = len(inst.service_pids("127.0.0.1:%d" % p1))
    t.ok("the pool stays within maxproc", 1 <= n <= 4, "%d processes" % n)
    for c, g in sessions:
        c.close()

    # -o max_use=2: a process exits after two sessions and is replaced.
    if jailed:
        for _ in range(2):
            c, g = greet(p2)
            c.ask("quit")
            c.close()
        t.ok("the process exits after max_use sessions", wait_for(
            lambda: jailed[0] not in inst.service_pids("127.0.0.1:%d" % p2)))
        t.ok("and a new one takes its place", wait_for(
            lambda: inst.service_pids("127.0.0.1:%d" % p2)))

    # kill -9 of a service process: a log line and a new process.
    if pids:
        victim = pids[0]
        os.kill(victim, signal.SIGKILL)
        t.ok("the kill is logged",
             inst.wait_log("pid %d killed by signal 9" % victim))
        new = wait_for(lambda: [p for p in inst.service_pids(
            "127.0.0.1:%d" % p1) if p != victim])
        t.ok("a new process replaces the killed one", new)
        c, g = greet(p1)
        t.eq("the service answers after the restart", g,
             "+OK one.example echod ready")
        c.close()

    # A second start on the same queue is refused, by tern and by master.
    rc, out, err = inst.tern("start")
    t.ok("second tern start fails", rc != 0, "exit %d" % rc)
    t.has("second start says why", err, "already running")
    p = subprocess.run([os.path.join(inst.libexec, "master"), "-c", inst.etc],
                       capture_output=True, text=True, timeout=30)
    t.ok("a second master refuses", p.returncode != 0)
    t.has("the second master says why", p.stderr, "already running")
    t.eq("the first master is unharmed", inst.master_pid(), mpid)

    # Reload: new sessions see the new main.cf, an open one is undisturbed;
    # a new listener appears and a removed one goes away.
    old, g = greet(p1)
    t.eq("session before reload", g, "+OK one.example echod ready")
    rc, out, err = inst.cmd("ternconf", "-e", "myhostname = two.example")
    t.eq("ternconf -e exit", rc, 0)
    inst.params["myhostname"] = "two.example"
    inst.write_master(MASTER_CF.replace(
        "127.0.0.1:%d inet n - y - 1 echod -o max_use=2\n" % p2,
        "127.0.0.1:%d inet n - n - 2 echod\n" % p3))
    rc, out, err = inst.tern("reload")
    t.eq("tern reload exit", rc, 0)
    t.has("tern reload says so", err, "refreshing the mail system")
    t.ok("master logs the reload", inst.wait_log("reload -- configuration"))


    def new_greeting():
        c, g = greet(p1)
        c.close()
        return g if "two.example" in g else None
    t.eq("a new session sees the new myhostname", wait_for(new_greeting),
         "+OK two.example echod ready")
    t.eq("the open session still answers", old.ask("still here"),
         "+OK still here")
    t.eq("the open session ends normally", old.ask("quit"), "+OK bye")
    old.close()
    t.ok("the added listener answers",
         wait_for(lambda: not connect_fails(p3)))
    t.ok("the removed listener is gone", wait_for(lambda: connect_fails(p2)))
    c, g = greet(p3)
    t.eq("greeting on the added listener", g, "+OK two.example echod ready")
    c.close()

    # A broken master.cf is refused by tern reload; the master keeps going.
    inst.write_master(MASTER_CF + "bad inet n - n - x echod\n")
    rc, out, err = inst.tern("reload")
    t.ok("reload with a broken master.cf fails", rc != 0)
    t.has("the error names master.cf and the line", err, "master.cf, line 5:")
    c, g = greet(p1)
    t.eq("still serving after the refused reload", g,
         "+OK two.example echod ready")
    c.close()

    # A crash-looping service is throttled, not restarted in a tight loop.
    inst.write_master(MASTER_CF + "crashy unix - - n - 1 %s\n" % crashy)
    inst.tern("reload")
    t.ok("crashes are logged with the signal",
         inst.wait_log("killed by signal 11", timeout=15))
    t.ok("the crashing service is throttled",
         inst.wait_log("crashes in a row; throttling", timeout=20))
    n0 = inst.logtext().count("killed by signal 11")
    time.sleep(5)
    n1 = inst.logtext().count("killed by signal 11")
    t.ok("at most two restarts in 5 s while throttled (3 s)", n1 - n0 <= 2,
         "%d crashes" % (n1 - n0))
    t.ok("but it is tried again after the pause", n1 - n0 >= 1,
         "%d crashes" % (n1 - n0))
    inst.write_master(MASTER_CF)
    inst.tern("reload")
    t.ok("second reload logged", inst.wait_log("reload -- configuration",
                                               count=3))

    # Graceful stop: an open session may finish, then nothing is left.
    c, g = greet(p1)
    stop = subprocess.Popen([os.path.join(COMMANDS, "tern"), "-c", inst.etc,
                             "stop"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    t.ok("master logs the stop", inst.wait_log("terminating on signal 15"))
    t.ok("the new listener refuses during the stop",
         wait_for(lambda: connect_fails(p1)))
    t.eq("an open session may finish during the stop", c.ask("last words"),
         "+OK last words")
    t.eq("and end normally", c.ask("quit"), "+OK bye")
    c.close()
    out, err = stop.communicate(timeout=30)
    t.eq("tern stop exit", stop.returncode, 0)
    t.has("tern stop says so", err, "stopping the mail system")
    t.eq("no process of the instance is left", inst.instance_procs(), [])
    rc, out, err = inst.tern("status")
    t.eq("tern status when stopped", rc, 1)
    t.has("tern status says not running", err, "not running")
    rc, out, err = inst.tern("stop")
    t.ok("tern stop when stopped fails", rc != 0)

    # abort ends at once, even with a session open.
    rc, out, err = inst.tern("start")
    t.eq("restart exit", rc, 0)
    t.ok("serving again", wait_for(lambda: not connect_fails(p1)))
    c, g = greet(p1)
    rc, out, err = inst.tern("abort")
    t.eq("tern abort exit", rc, 0)
    t.eq("abort leaves nothing running", inst.instance_procs(), [])
    try:
        c.sock.settimeout(5)
        closed = c.sock.recv(100) == b""
    except OSError:
        closed = True
    t.ok("abort ends open sessions", closed)
    c.close()

    # A stop waits for open sessions only up to master_stop_timeout.
    rc, out, err = inst.cmd("ternconf", "-e", "master_stop_timeout = 2s")
    rc, out, err = inst.tern("start")
    t.eq("start with master_stop_timeout = 2s", rc, 0)
    t.ok("serving again", wait_for(lambda: not connect_fails(p1)))
    c, g = greet(p1)
    began = time.monotonic()
    rc, out, err = inst.tern("stop")
    took = time.monotonic() - began
    t.eq("tern stop with a session left open", rc, 0)
    t.ok("it ends after the timeout, not before", 2 <= took < 10,
         "%.1f s" % took)
    t.has("master says it killed what was left", inst.logtext(),
          "still running after 2 seconds; killing them")
    t.eq("nothing is left after the bounded stop", inst.instance_procs(), [])
    c.close()

    # start-fg stays in the foreground; SIGTERM stops it.
    fg = subprocess.Popen([os.path.join(COMMANDS, "tern"), "-c", inst.etc,
                           "start-fg"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    t.eq("start-fg's master is the foreground process",
         wait_for(lambda: inst.master_pid() == fg.pid and fg.pid), fg.pid)
    t.ok("start-fg serves", wait_for(lambda: not connect_fails(p1)))
    t.ok("start-fg's master is ready",
         inst.wait_log("daemon started", count=4))
    fg.send_signal(signal.SIGTERM)
    try:
        fg.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        fg.kill()
    t.eq("start-fg exits 0 on SIGTERM", fg.returncode, 0)
    t.eq("nothing is left after start-fg", inst.instance_procs(), [])
finally:
    if t.failures:
        sys.stderr.write("---- maillog\n" + inst.logtext()[-6000:])
    inst.cleanup()
t.finish()
