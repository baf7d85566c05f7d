# Shared helpers for the benchmarks in bench/: which tern build to use, a
# private Postfix instance (its own config_directory, queue_directory,
# data_directory and maillog_file, started as root), process inspection
# through /proc (RSS, CPU time, children by name), and result formatting.
#
# Lessons kept here so every benchmark gets them:
#  - Postfix's master must start as root; postfix -c DIR start returns
#    before every service is up, so give it a moment.
#  - data_directory must belong to mail_owner (postfix), or postfix start
#    fails; the instance's top directory must be readable by postfix.
#  - maillog_file must lie under a maillog_file_prefixes directory, and
#    needs the postlog service of Debian's master.cf.
#  - Debian's master.cf listens on port 25: its inet services are always
#    commented out here; a benchmark adds its own on a free port.
#  - smtp-sink refuses to run as root without -u USER; its -c counters go
#    to stdout, one "sess=S quit=Q mesg=M" record per update, ended by a
#    carriage return, flushed at once even into a pipe.
#  - On ext4 without a journal, every file creation skips, one by one, the
#    free inodes of its block group deleted in the last few minutes
#    (ext4's find_inode_bit/recently_deleted; journaled ext4 does not):
#    after a few thousand deletions each creation costs about 0.5 ms of
#    kernel time under the directory's lock, for any server.  QueueFs
#    gives the queues a fresh journaled ext4 instead.
import os
import re
import socket
import threading
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def use_build(builddir=None):
    """Points tests/ternlib.py at a tern build directory (builddir, else
    $top_builddir, else build/) and returns the ternlib module.  Exits
    with a message when the build is missing: benchmarks build nothing."""
    if builddir is None:
        builddir = os.environ.get("top_builddir") or os.path.join(TOP,
                                                                  "build")
    builddir = os.path.abspath(builddir)
    os.environ["top_builddir"] = builddir
    sys.path.insert(0, os.path.join(TOP, "tests"))
    sys.dont_write_bytecode = True
    import ternlib
    return ternlib


def need_programs(ternlib, *daemons):
    """Exits when one of the named tern daemons is not built."""
    missing = [ternlib.DAEMONS[d] for d in daemons
               if not os.path.exists(ternlib.DAEMONS[d])]
    if missing:
        raise SystemExit("tern build incomplete (missing %s); build it "
                         "first: make BUILD=%s" % (
                             ", ".join(missing),
                             os.path.relpath(ternlib.TOP_BUILDDIR, TOP)))


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    if hard != resource.RLIM_INFINITY and hard < want:
        if os.geteuid() == 0:
            hard = want
        else:
            want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


# ---- /proc ---------------------------------------------------------------

def proc_stat(pid):
    """(comm, state, ppid, utime+stime, cutime+cstime) in ticks, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    f = stat[stat.rindex(")") + 2:].split()
    # f[0] is field 3 (state); utime is field 14, cutime field 16.
    return (comm, f[0], int(f[1]), int(f[11]) + int(f[12]),
            int(f[13]) + int(f[14]))


def proc_status_kib(pid, key):
    """A "kB" line of /proc/PID/status (VmRSS, VmHWM...), or 0."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_pss_kib(pid):
    """Proportional set size (shared pages divided among their users)."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(ppid, comm=None):
    """Live children of ppid, only those whose command name is comm when
    given."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        s = proc_stat(int(d))
        if s and s[2] == ppid and s[1] != "Z" and \
                (comm is None or s[0] == comm):
            out.append(int(d))
    return out


def tree_cpu_ticks(root):
    """CPU ticks of root, its live descendants, and the children they
    have reaped: a server's whole CPU use so far."""
    total = 0
    kids = {}
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            s = proc_stat(int(d))
            if s:
                stats[int(d)] = s
                kids.setdefault(s[2], []).append(int(d))
    todo = [root]
    while todo:
        pid = todo.pop()
        s = stats.get(pid)
        if not s:
            continue
        total += s[3] + s[4]
        todo.extend(kids.get(pid, []))
    return total


# ---- sockets, queues -------------------------------------------------------

def wait_listening(port, timeout=10):
    """Waits until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on 127.0.0.1:%d" % port)


def queue_files(d):
    """Files under d, dot files (temporary ones) left out."""
    n = 0
    for _, _, files in os.walk(d):
        n += sum(1 for f in files if not f.startswith("."))
    return n


# ---- smtp-sink ----------------------------------------------------------------

SMTP_SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
SMTP_SOURCE = shutil.which("smtp-source") or "/usr/sbin/smtp-source"


class Sink:
    """Postfix's smtp-sink on 127.0.0.1:port, throwing every message away
    and counting them: .mesg is the number of DATA transactions it has
    completed ("." received and answered), read from its -c counters as
    they come; wait_mesg() returns the time the count reached a figure."""

    def __init__(self, port=None, backlog=1024, maxconn=256):
        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.port = port
        argv = [SMTP_SINK, "-4", "-c", "-m", str(maxconn)]
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]
        argv += ["127.0.0.1:%d" % port, str(backlog)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.mesg = 0
        self.sess = 0
        self.cond = threading.Condition()
        self.reached = {}       # count -> monotonic time first seen
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            wait_listening(port)
        except RuntimeError:
            self.stop()
            raise RuntimeError("smtp-sink did not start: %s" %
                               self.proc.stderr.read().decode(
                                   errors="replace").strip())

    def _read(self):
        pat = re.compile(rb"sess=(\d+) quit=\d+ mesg=(\d+)")
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(65536)
            if not chunk:
                break
            now = time.monotonic()
            buf += chunk
            *recs, buf = re.split(rb"[\r\n]", buf)
            for rec in recs:
                m = pat.search(rec)
                if not m:
                    continue
                with self.cond:
                    self.sess = int(m.group(1))
                    n = int(m.group(2))
                    if n > self.mesg:
                        for k in range(self.mesg + 1, n + 1):
                            self.reached[k] = now
                        self.mesg = n
                    self.cond.notify_all()

    def count(self):
        with self.cond:
            return self.mesg

    def wait_mesg(self, n, timeout):
        """The monotonic time the count first reached n, or None when it
        did not within timeout seconds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.mesg < n:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.cond.wait(min(left, 1))
            t = self.reached.get(n)
            # Drop what the caller will not ask again.
            self.reached = {k: v for k, v in self.reached.items() if k > n}
            return t

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def smtp_source(port, n, sessions=20, size=2048, domain="bench.test",
                rcpt_domain=None, timeout=3600):
    """Postfix's smtp-source: n messages of size bytes over sessions
    parallel connections, one message per connection (no -d), from
    from@domain to to@rcpt_domain."""
    return subprocess.run(
        [SMTP_SOURCE, "-4", "-s", str(sessions), "-l", str(size),
         "-m", str(n), "-M", domain, "-f", "from@" + domain,
         "-t", "to@" + (rcpt_domain or domain), "127.0.0.1:%d" % port],
        capture_output=True, text=True, timeout=timeout)


class PidSampler(threading.Thread):
    """Samples the children of master_pid() named comm every 50 ms:
    .seen is every such process seen, .most the most alive at once."""

    def __init__(self, master_pid, comm):
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.comm = comm
        self.seen = set()
        self.most = 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            mpid = self.master_pid()
            pids = children(mpid, self.comm) if mpid else []
            self.seen.update(pids)
            self.most = max(self.most, len(pids))
            self.stopping.wait(0.05)

    def stop(self):
        self.stopping.set()
        self.join()


# ---- a private Postfix instance -------------------------------------------

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTFIX_MASTER_CF = "/etc/postfix/master.cf"


def postfix_usable():
    """Why Postfix cannot be measured here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root (Postfix's master starts as root)"
    if not os.path.exists(POSTFIX) or not os.path.exists(POSTFIX_MASTER_CF):
        return "Postfix is not installed (apt-get install postfix)"
    try:
        import pwd
        pwd.getpwnam("postfix")
    except KeyError:
        return "no postfix user"
    return None


def postfix_version():
    p = subprocess.run(["postconf", "-d", "-h", "mail_version"],
                       capture_output=True, text=True)
    return p.stdout.strip() or "unknown"


class Postfix:
    """A Postfix instance under a temporary directory.

    main: extra main.cf lines as (name, value) pairs, in order, after the
    base ones ({d} in a value is the instance directory).  master.cf is
    Debian's with its inet services commented out, the services named in
    omit commented out too (with their -o lines), every chroot column set
    to n when nochroot, and extra_master appended."""

    BASE_MAIN = [
        ("queue_directory", "{d}/spool"),
        ("data_directory", "{d}/data"),
        ("mail_owner", "postfix"),
        ("setgid_group", "postdrop"),
    ]
    TAIL_MAIN = [
        ("compatibility_level", "3.6"),
        ("maillog_file_prefixes", "{tmp}"),
        ("maillog_file", "{d}/log"),
    ]

    def __init__(self, main, omit=(), nochroot=False, extra_master="",
                 owned_dirs=()):
        import pwd
        self.pw = pwd.getpwnam("postfix")
        self.dir = tempfile.mkdtemp(prefix="pf-bench.")
        os.chmod(self.dir, 0o755)
        self.spool = os.path.join(self.dir, "spool")
        self.log = os.path.join(self.dir, "log")
        for sub in ("spool", "data") + tuple(owned_dirs):
            os.makedirs(os.path.join(self.dir, sub))
        for sub in ("data",) + tuple(owned_dirs):
            os.chown(os.path.join(self.dir, sub), self.pw.pw_uid,
                     self.pw.pw_gid)
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            for k, v in self.BASE_MAIN + list(main) + self.TAIL_MAIN:
                f.write("%s = %s\n" % (k, v.replace("{d}", self.dir).replace(
                    "{tmp}", tempfile.gettempdir())))
        with open(POSTFIX_MASTER_CF) as src, \
                open(os.path.join(self.dir, "master.cf"), "w") as dst:
            skipping = False
            for line in src:
                f = line.split()
                if line[:1].isspace() and f:
                    if skipping:
                        line = "#" + line
                    dst.write(line)
                    continue
                skipping = False
                if len(f) >= 8 and not line.startswith("#"):
                    if f[1] == "inet" or f[0] in omit:
                        skipping = True
                        line = "#" + line
                    elif nochroot and f[4] != "n":
                        f[4] = "n"
                        line = " ".join(f[:8]) + \
                            (" " + " ".join(f[8:]) if f[8:] else "") + "\n"
                dst.write(line)
            dst.write(extra_master)
        self.env = dict(os.environ, MAIL_CONFIG=self.dir)

    def postfix(self, *args):
        return subprocess.run([POSTFIX, "-c", self.dir] + list(args),
                              capture_output=True, text=True)

    def start(self):
        r = self.postfix("start")
        time.sleep(1)
        if r.returncode != 0:
            raise RuntimeError("postfix start failed: " + r.stderr.strip())

    def stop(self):
        self.postfix("stop")
        time.sleep(1)

    def cleanup(self):
        if self.master_pid():
            self.stop()
        if os.environ.get("TERN_TEST_KEEP"):
            print("kept " + self.dir, file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def master_pid(self):
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if os.path.exists("/proc/%d" % pid) else None

    def logtext(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


# ---- where the queues live ------------------------------------------------

def add_queue_fs_option(ap):
    ap.add_argument("--queue-fs", choices=("ext4", "tmpdir"), default="ext4",
                    help="ext4 (the default): the instances live on a fresh "
                    "ext4 with mkfs.ext4's defaults, journal included, on a "
                    "loop device (root only); tmpdir: on the file system of "
                    "$TMPDIR as it is")


def describe_fs(path):
    """'ext4 with a journal', 'ext4 without a journal', 'tmpfs'..."""
    dev = os.stat(path).st_dev
    best = None
    with open("/proc/self/mounts") as f:
        for line in f:
            src, mnt, fstype = line.split()[:3]
            try:
                if os.stat(mnt).st_dev == dev and (
                        best is None or len(mnt) > len(best[1])):
                    best = (src, mnt, fstype)
            except OSError:
                pass
    if best is None:
        return "?"
    src, mnt, fstype = best
    if fstype != "ext4":
        return "%s on %s" % (fstype, mnt)
    try:
        with open("/sys/fs/ext4/%s/journal_task"
                  % os.path.basename(os.path.realpath(src))) as f:
            journal = f.read().strip() != "<none>"
    except OSError:
        return "ext4 on %s" % mnt
    return "ext4 %s a journal on %s" % ("with" if journal else "without",
                                        mnt)


class QueueFs:
    """With kind "ext4", makes a fresh ext4 (mkfs.ext4's defaults) in a
    sparse image under /var/tmp, loop-mounts it and points tempfile there,
    so that every instance made afterwards lives on it; cleanup unmounts
    and removes it.  Falls back to $TMPDIR, saying why, when that cannot
    be done."""

    def __init__(self, kind, size="8G"):
        self.mnt = self.image = None
        self.why = None
        if kind == "ext4":
            self.why = self._make(size)
        self.desc = describe_fs(tempfile.gettempdir())

    def _make(self, size):
        if os.geteuid() != 0:
            return "mounting needs root"
        if not shutil.which("mkfs.ext4"):
            return "no mkfs.ext4"
        fd, self.image = tempfile.mkstemp(prefix="tern-bench-fs.",
                                          suffix=".img", dir="/var/tmp")
        os.close(fd)
        mnt = tempfile.mkdtemp(prefix="tern-bench-fs.")
        for cmd in (["truncate", "-s", size, self.image],
                    ["mkfs.ext4", "-q", "-F", self.image],
                    ["mount", "-o", "loop", self.image, mnt]):
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                os.rmdir(mnt)
                os.unlink(self.image)
                self.image = None
                return "%s: %s" % (cmd[0], r.stderr.strip())
        os.chmod(mnt, 0o1777)
        self.mnt = mnt
        tempfile.tempdir = mnt
        return None

    def cleanup(self):
        if self.mnt:
            tempfile.tempdir = None
            if subprocess.run(["umount", self.mnt]).returncode != 0:
                subprocess.run(["umount", "-l", self.mnt])
            os.rmdir(self.mnt)
            self.mnt = None
        if self.image:
            os.unlink(self.image)
            self.image = None

    def line(self):
        if self.why:
            return "queues: %s (no fresh ext4: %s)" % (self.desc, self.why)
        return "queues: %s" % self.desc


# ---- results --------------------------------------------------------------

def median(xs):
    return statistics.median(xs) if xs else None


def machine():
    """One line describing where the figures come from."""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), "?")
    except OSError:
        model = "?"
    return "%d CPUs (%s), Linux %s" % (os.cpu_count(), model,
                                       os.uname().release)
