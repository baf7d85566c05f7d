# Shared helpers for the Python integration tests: a tern instance in a
# temporary directory (its own main.cf, master.cf, queue, log and daemon
# directory of symlinks to the built programs), free loopback ports, a
# throwaway system user when run as root, process inspection through
# /proc, a raw SMTP client, a test CA and server certificates made with
# openssl, and the "N passed, M failed" tally that lib.sh also prints.
import email
import email.policy
import os
import pwd
import grp
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), ".."))
TOP_BUILDDIR = os.environ.get("top_builddir") or os.path.join(
    TOP_SRCDIR, "build")
COMMANDS = os.path.join(TOP_BUILDDIR, "src", "commands")
DAEMONS = {
    "master": os.path.join(TOP_BUILDDIR, "src", "master", "master"),
    "echod": os.path.join(TOP_BUILDDIR, "src", "echod", "echod"),
    "qmgr": os.path.join(TOP_BUILDDIR, "src", "qmgr", "qmgr"),
    "local": os.path.join(TOP_BUILDDIR, "src", "local", "local"),
    "pickup": os.path.join(TOP_BUILDDIR, "src", "pickup", "pickup"),
    "showq": os.path.join(TOP_BUILDDIR, "src", "showq", "showq"),
    "smtpd": os.path.join(TOP_BUILDDIR, "src", "smtpd", "smtpd"),
    "authd": os.path.join(TOP_BUILDDIR, "src", "authd", "authd"),
    "anvil": os.path.join(TOP_BUILDDIR, "src", "anvil", "anvil"),
    # One program under two names: the name it is run as decides.
    "smtp": os.path.join(TOP_BUILDDIR, "src", "smtp", "smtp"),
    "lmtp": os.path.join(TOP_BUILDDIR, "src", "smtp", "lmtp"),
}
# Commands an instance gets in its own command_directory; the setgid ones
# are copies (chgrp'd to the instance's setgid_group when root).
COMMAND_NAMES = ["sendmail", "ternqueue", "ternsuper", "terncat", "ternalias",
                 "ternconf", "ternmap", "tern"]
SETGID_COMMANDS = ["terndrop", "ternqueue"]
# The mail pipeline's services, as a master.cf would list them.
PIPELINE_MASTER_CF = """\
pickup    unix  n       -       n       60      1       pickup
qmgr      unix  n       -       n       300     1       qmgr
showq     unix  n       -       n       -       -       showq
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       local
"""
IS_ROOT = os.geteuid() == 0


class Tally:
    def __init__(self):
        self.checks = 0
        self.failures = 0

    def fail(self, msg):
        print("FAIL: " + msg, file=sys.stderr, flush=True)
        self.failures += 1

    def ok(self, what, cond, detail=""):
        self.checks += 1
        if not cond:
            self.fail(what + (": " + detail if detail else ""))
        return cond

    def eq(self, what, got, want):
        return self.ok(what, got == want, "got %r, want %r" % (got, want))

    def has(self, what, text, needle):
        return self.ok(what, needle in text,
                       "%r not in %r" % (needle, text[-2000:]))

    def finish(self):
        print("%d passed, %d failed" % (self.checks - self.failures,
                                        self.failures), flush=True)
        sys.exit(1 if self.failures else 0)


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def maildir_files(maildir):
    """The raw messages of a Maildir (new/ and cur/), in name order."""
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for n in names:
            try:
                with open(os.path.join(d, n), "rb") as f:
                    out.append(f.read())
            except OSError:
                pass
    return out


def headers(raw):
    """The header section of a raw message, parsed."""
    head = raw.split(b"\n\n", 1)[0] + b"\n\n"
    return email.message_from_bytes(head, policy=email.policy.compat32)


def wait_for(pred, timeout=10.0, step=0.05):
    """Polls pred() until it returns something true; returns that or None."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(step)


def proc_children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == ppid and fields[0] != "Z":
            out.append(int(d))
    return out


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode(errors="replace")
                    for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def proc_uids(pid):
    """The real, effective, saved and filesystem uids of pid."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def procs_matching(needle):
    """Pids (other than ours) whose command line mentions needle."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            if any(needle in a for a in proc_cmdline(int(d))):
                out.append(int(d))
    return out


class LineClient:
    """A line-oriented TCP or UNIX-socket client with timeouts."""

    def __init__(self, addr, timeout=10.0):
        if isinstance(addr, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(addr)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode(errors="replace")

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def ask(self, text):
        self.send(text)
        return self.line()

    def close(self):
        self.sock.close()


class Instance:
    """A tern instance under a temporary directory."""

    def __init__(self, tally, name="tern-test", tag=""):
        """tag tells apart the mail_owner accounts (root only) of two
        instances in one test."""
        self.t = tally
        self.dir = tempfile.mkdtemp(prefix=name + ".")
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        self.libexec = os.path.join(self.dir, "libexec")
        self.log = os.path.join(self.dir, "maillog")
        os.mkdir(self.etc)
        os.mkdir(self.libexec)
        os.chmod(self.libexec, 0o755)
        for name, path in DAEMONS.items():
            os.symlink(path, os.path.join(self.libexec, name))
        self.user = None
        self.group = None
        self.extra_users = []
        if IS_ROOT:
            self.user = "terntest%d%s" % (os.getpid(), tag)
            self.group = self.user
            subprocess.run(["groupadd", "-r", self.group], check=True)
            subprocess.run(["useradd", "-r", "-M", "-g", self.group,
                            "-d", "/nonexistent", "-s", "/usr/sbin/nologin",
                            self.user], check=True)
            self.owner = self.user
        else:
            self.owner = pwd.getpwuid(os.getuid()).pw_name
            self.group = grp.getgrgid(os.getgid()).gr_name
        self.owner_uid = pwd.getpwnam(self.owner).pw_uid
        self.params = {
            "queue_directory": self.spool,
            "data_directory": self.data,
            "daemon_directory": self.libexec,
            "command_directory": COMMANDS,
            "mail_owner": self.owner,
            "setgid_group": self.group,
            "maillog_file": self.log,
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "one.example",
            "mydomain": "example",
            "import_environment": "MAIL_CONFIG TZ LANG=C ASAN_OPTIONS "
                                  "UBSAN_OPTIONS",
        }

    def add_user(self, name):
        """Root only: a throwaway login user with a home directory under
        the instance; returns its pwd entry."""
        home = os.path.join(self.dir, "home", name)
        os.makedirs(os.path.dirname(home), exist_ok=True)
        os.chmod(os.path.dirname(home), 0o755)
        subprocess.run(["useradd", "-m", "-d", home, "-s", "/bin/sh",
                        "-K", "MAIL_DIR=/nonexistent", name], check=True,
                       capture_output=True)
        self.extra_users.append(name)
        return pwd.getpwnam(name)

    def setup_commands(self):
        """Gives the instance its own command_directory: symlinks to the
        built commands, and copies of the setgid ones (setgid to the
        instance's group when root, as an installation would make them)."""
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        os.chmod(self.bin, 0o755)
        for name in COMMAND_NAMES + SETGID_COMMANDS:
            src = os.path.join(COMMANDS, name)
            dst = os.path.join(self.bin, name)
            if os.path.exists(dst):
                os.unlink(dst)
            if name in SETGID_COMMANDS:
                shutil.copy(src, dst)
                if IS_ROOT:
                    os.chown(dst, 0, grp.getgrnam(self.group).gr_gid)
                    os.chmod(dst, 0o2755)
            else:
                os.symlink(src, dst)
        self.params["command_directory"] = self.bin

    def run(self, prog, *args, user=None, input=None, timeout=60,
            env=None):
        """Runs a command of the instance's command_directory, as user
        (a name; root only) when given; returns the CompletedProcess
        (bytes)."""
        argv = [os.path.join(self.bin, prog)] + list(args)
        e = dict(os.environ)
        e["MAIL_CONFIG"] = self.etc
        if env:
            e.update(env)
        pre = None
        if user is not None and IS_ROOT:
            pw = pwd.getpwnam(user)

            def pre():
                os.setgroups([])
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
            e["HOME"] = pw.pw_dir
            e["USER"] = e["LOGNAME"] = user
        if isinstance(input, str):
            input = input.encode()
        return subprocess.run(argv, input=input, capture_output=True,
                              timeout=timeout, env=e, preexec_fn=pre,
                              cwd="/")

    def write_main(self, **extra):
        self.params.update(extra)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in self.params.items():
                f.write("%s = %s\n" % (k, v))

    def write_master(self, text):
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(text)

    def cmd(self, prog, *args, timeout=60):
        """Runs a tern command; returns (exit status, stdout, stderr)."""
        p = subprocess.run([os.path.join(COMMANDS, prog), "-c", self.etc]
                           + list(args), capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def tern(self, *args, timeout=60):
        return self.cmd("tern", *args, timeout=timeout)

    def logtext(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, needle, timeout=10.0, count=1):
        return wait_for(lambda: self.logtext().count(needle) >= count,
                        timeout)

    def master_pid(self):
        path = os.path.join(self.spool, "pid", "master.pid")
        try:
            with open(path) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def service_pids(self, service):
        """Pids of master's children started for service (the -n value)."""
        mpid = self.master_pid()
        if mpid is None:
            return []
        out = []
        for pid in proc_children(mpid):
            argv = proc_cmdline(pid)
            for i, a in enumerate(argv[:-1]):
                if a == "-n" and argv[i + 1] == service:
                    out.append(pid)
        return out

    def instance_procs(self):
        """Every process whose command line names this instance."""
        return procs_matching(self.dir)

    def cleanup(self):
        if self.master_pid() is not None:
            subprocess.run([os.path.join(COMMANDS, "tern"), "-c", self.etc,
                            "abort"], capture_output=True, timeout=30)
        for pid in self.instance_procs():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if os.environ.get("TERN_TEST_KEEP"):
            print("kept " + self.dir, file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        for name in self.extra_users:
            subprocess.run(["userdel", name], capture_output=True)
        if IS_ROOT and self.user:
            subprocess.run(["userdel", self.user], capture_output=True)
            subprocess.run(["groupdel", self.group], capture_output=True)


class SmtpRaw:
    """An SMTP client that sends exactly the bytes it is given (for
    pipelining, smuggling and hostile input) and reads whole replies.
    source binds the client to a local address (127.0.0.2 ...) so that
    per-client limits can be tested apart from other sessions."""

    def __init__(self, port, host="127.0.0.1", source=None, timeout=10.0,
                 tls=None):
        self.host = host
        self.sock = socket.create_connection(
            (host, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname=host)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def reply(self):
        """The next reply as (code, text): text is its lines joined with
        newlines; code is -1 when the connection closed or timed out
        first (text then says so)."""
        lines = []
        try:
            while True:
                line = self._line()
                lines.append(line.decode(errors="replace"))
                if len(line) < 4 or line[3:4] != b"-":
                    break
        except (EOFError, OSError) as e:
            return -1, "\n".join(lines + ["(%s)" % (e or type(e).__name__)])
        last = lines[-1]
        return (int(last[:3]) if last[:3].isdigit() else -1), "\n".join(lines)

    def cmd(self, line):
        """Sends one command line (CRLF added) and returns its reply."""
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.reply()

    def starttls(self, ctx):
        """STARTTLS and, on 220, the handshake; returns the reply."""
        code, text = self.cmd("STARTTLS")
        if code == 220:
            self.sock = ctx.wrap_socket(self.sock, server_hostname=self.host)
        return code, text

    def pending(self, wait=0.3):
        """Bytes the server sent that no reply() has read yet, after
        waiting a moment; they stay for the next reply()."""
        time.sleep(wait)
        self.sock.setblocking(False)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError:
            pass
        finally:
            self.sock.settimeout(10.0)
        return self.buf

    def wait_closed(self, timeout=10.0):
        """Reads until the server closes; returns what it sent meanwhile,
        or None when it kept the connection open past timeout."""
        self.sock.settimeout(timeout)
        got = self.buf
        self.buf = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return got
                got += chunk
        except ConnectionResetError:
            return got
        except OSError:
            return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def make_ca(directory, name):
    """A self-signed test CA in directory: returns (cert, key) paths."""
    key = os.path.join(directory, name + ".key")
    pem = os.path.join(directory, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", pem, "-days", "2", "-subj", "/CN=tern test " + name,
                    "-addext", "basicConstraints=critical,CA:true",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                   check=True, capture_output=True)
    return pem, key


def make_cert(directory, name, ca, dns_names, ips=()):
    """A server certificate signed by ca (a make_ca result) for the given
    DNS names and IP addresses: returns (cert, key) paths."""
    key = os.path.join(directory, name + ".key")
    csr = os.path.join(directory, name + ".csr")
    pem = os.path.join(directory, name + ".pem")
    ext = os.path.join(directory, name + ".ext")
    sans = ["DNS:" + n for n in dns_names] + ["IP:" + a for a in ips]
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:false\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid,issuer\n"
                "subjectAltName=%s\n" % ",".join(sans))
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", csr, "-subj", "/CN=" + dns_names[0]],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca[0],
                    "-CAkey", ca[1], "-CAcreateserial", "-out", pem,
                    "-days", "2", "-extfile", ext],
                   check=True, capture_output=True)
    return pem, key


# Servers for outbound delivery tests ---------------------------------------

class SmtpSink:
    """Postfix's smtp-sink(1) on a loopback address and port, with its
    options (-r, -f, -q, -W ...); every transaction is dumped to a file
    of its own under dump_dir (one file per message: -d)."""

    PATH = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"

    def __init__(self, host, port, *opts, directory):
        self.host, self.port = host, port
        self.dump_dir = tempfile.mkdtemp(prefix="sink.", dir=directory)
        os.chmod(self.dump_dir, 0o777)
        argv = [self.PATH, "-4", "-d", self.dump_dir + "/%H%M%S."]
        if IS_ROOT:
            argv += ["-u", "nobody"]
        argv += list(opts) + ["%s:%d" % (host, port), "64"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for(self._listening, 10)

    @staticmethod
    def available():
        return os.access(SmtpSink.PATH, os.X_OK)

    def _listening(self):
        try:
            with socket.create_connection((self.host, self.port), 1) as s:
                s.recv(512)
            return True
        except OSError:
            return False

    def dumps(self):
        """The dumped transactions (bytes), oldest first."""
        out = []
        for root, _, files in os.walk(self.dump_dir):
            for n in sorted(files):
                try:
                    with open(os.path.join(root, n), "rb") as f:
                        out.append(f.read())
                except OSError:
                    pass
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ScriptedSmtpServer:
    """A small threaded SMTP (or LMTP, RFC 2033) server whose replies the
    test decides: rcpt(addr) and, for LMTP, after_dot(addr) return a
    reply line ("250 2.1.5 Ok"); delays maps a command verb (EHLO, MAIL,
    RCPT, DATA, ".") to seconds to wait before replying; drop_first
    closes the first N connections right after the DATA content instead
    of replying.  It counts connections and keeps every accepted message
    as (mail from, [recipients], content bytes)."""

    def __init__(self, addr, lmtp=False, rcpt=None, after_dot=None,
                 delays=None, drop_first=0, name="scripted.test"):
        import threading
        self.lmtp = lmtp
        self.rcpt = rcpt or (lambda a: "250 2.1.5 Ok")
        self.after_dot = after_dot or (lambda a: "250 2.0.0 Ok")
        self.delays = delays or {}
        self.drop_first = drop_first
        self.name = name
        self.connections = 0
        self.messages = []
        self.commands = []
        self.lock = threading.Lock()
        if isinstance(addr, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(addr)
            os.chmod(addr, 0o777)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(addr)
        self.sock.listen(64)
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        import threading
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                n = self.connections
            threading.Thread(target=self._serve, args=(c, n),
                             daemon=True).start()

    def _serve(self, c, n):
        c.settimeout(60)
        f = c.makefile("rb")

        def say(line, verb=None):
            if verb and verb in self.delays:
                time.sleep(self.delays[verb])
            c.sendall(line.encode() + b"\r\n")
        try:
            say("220 %s ESMTP scripted" % self.name, "CONNECT")
            mail, rcpts = None, []
            while True:
                raw = f.readline()
                if not raw:
                    return
                line = raw.rstrip(b"\r\n").decode(errors="replace")
                verb = line.split(" ", 1)[0].upper()
                with self.lock:
                    self.commands.append(line)
                if verb in ("EHLO", "LHLO") or (verb == "HELO"
                                                and not self.lmtp):
                    if self.lmtp and verb != "LHLO":
                        say("500 5.5.1 LHLO please")
                        continue
                    say("250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                        "250 ENHANCEDSTATUSCODES" % self.name, verb)
                elif verb == "MAIL":
                    mail, rcpts = line[10:].split(" ")[0].strip("<>"), []
                    say("250 2.1.0 Ok", verb)
                elif verb == "RCPT":
                    a = line[8:].split(" ")[0].strip("<>")
                    r = self.rcpt(a)
                    if r.startswith("2"):
                        rcpts.append(a)
                    say(r, verb)
                elif verb == "DATA":
                    if not rcpts:
                        say("554 5.5.1 No valid recipients", verb)
                        continue
                    say("354 End data with <CR><LF>.<CR><LF>", verb)
                    data = b""
                    while True:
                        dl = f.readline()
                        if not dl:
                            return
                        if dl == b".\r\n":
                            break
                        if dl.startswith(b"."):
                            dl = dl[1:]
                        data += dl
                    if n <= self.drop_first:
                        return
                    if self.lmtp:
                        ok = [a for a in rcpts
                              if self.after_dot(a).startswith("2")]
                        if ok:
                            with self.lock:
                                self.messages.append((mail, ok, data))
                        for i, a in enumerate(rcpts):
                            say(self.after_dot(a), "." if i == 0 else None)
                    else:
                        with self.lock:
                            self.messages.append((mail, rcpts, data))
                        say("250 2.0.0 Ok: queued as SCRIPTED%d"
                            % len(self.messages), ".")
                    mail, rcpts = None, []
                elif verb == "RSET":
                    mail, rcpts = None, []
                    say("250 2.0.0 Ok", verb)
                elif verb == "NOOP":
                    say("250 2.0.0 Ok", verb)
                elif verb == "QUIT":
                    say("221 2.0.0 Bye", verb)
                    return
                else:
                    say("502 5.5.2 Command not recognized")
        except OSError:
            return
        finally:
            try:
                c.close()
            except OSError:
                pass

    def received_for(self, needle):
        """The accepted messages whose content contains needle."""
        with self.lock:
            return [m for m in self.messages
                    if needle.encode() in m[2]]

    def stop(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass


class ServfailDns:
    """A UDP DNS server on a loopback port that answers every query with
    SERVFAIL (RFC 1035 §4.1.1 RCODE 2), for stub zones whose lookups
    must fail temporarily."""

    def __init__(self, host="127.0.0.1", port=None):
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port or 0))
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                q, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            if len(q) < 12:
                continue
            self.queries += 1
            # Header: same ID, QR=1, opcode and RD copied, RA=1, RCODE=2;
            # the question section echoed, no records.
            flags = 0x8000 | (q[2] << 8 & 0x7900) | 0x0080 | 2
            qd = int.from_bytes(q[4:6], "big")
            i = 12
            for _ in range(qd):
                while i < len(q) and q[i] != 0:
                    i += 1 + q[i]
                i += 5
            i = min(i, len(q))
            resp = (q[:2] + flags.to_bytes(2, "big") + q[4:6] +
                    b"\0\0\0\0\0\0" + q[12:i])
            try:
                self.sock.sendto(resp, peer)
            except OSError:
                pass

    def stop(self):
        self.sock.close()


def spki_sha256(cert_pem):
    """The hex SHA-256 of a certificate's SubjectPublicKeyInfo: the data
    of a TLSA 3 1 1 record (RFC 6698 §2.1)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_pem, "-noout",
                          "-pubkey"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pub, check=True, capture_output=True).stdout
    import hashlib
    return hashlib.sha256(der).hexdigest()


class SignedZone:
    """A DNSSEC-signed zone (ldns-keygen + ldns-signzone, ECDSA P-256)
    served by nsd on 127.0.0.1:port; trust_anchor is the zone's DNSKEY
    line for an unbound trust-anchor: clause.  records are zone-file
    lines relative to the origin."""

    NSD = shutil.which("nsd") or "/usr/sbin/nsd"

    @staticmethod
    def available():
        return (os.access(SignedZone.NSD, os.X_OK)
                and shutil.which("ldns-signzone") is not None
                and shutil.which("ldns-keygen") is not None)

    def __init__(self, directory, origin, records, port):
        self.dir = os.path.join(directory, "nsd")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.origin = origin.rstrip(".") + "."
        self.port = port
        zone = os.path.join(self.dir, "zone")
        with open(zone, "w") as f:
            f.write("$ORIGIN %s\n$TTL 60\n" % self.origin)
            f.write("@ IN SOA ns.%s hostmaster.%s 1 3600 600 86400 60\n"
                    % (self.origin, self.origin))
            f.write("@ IN NS ns.%s\nns IN A 127.0.0.1\n" % self.origin)
            for r in records:
                f.write(r + "\n")
        base = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k",
                               self.origin], cwd=self.dir, check=True,
                              capture_output=True, text=True).stdout.strip()
        with open(os.path.join(self.dir, base + ".key")) as f:
            self.trust_anchor = " ".join(
                ln for ln in f.read().splitlines()
                if ln and not ln.startswith(";")).split(";")[0].strip()
        subprocess.run(["ldns-signzone", "-n", zone, base], cwd=self.dir,
                       check=True, capture_output=True)
        conf = os.path.join(self.dir, "nsd.conf")
        with open(conf, "w") as f:
            f.write('server:\n  ip-address: 127.0.0.1@%d\n  port: %d\n'
                    '  do-ip6: no\n  server-count: 1\n'
                    '  username: ""\n  chroot: ""\n'
                    '  zonesdir: "%s"\n  database: ""\n'
                    '  zonelistfile: "%s/zone.list"\n'
                    '  xfrdfile: "%s/xfrd.state"\n'
                    '  xfrdir: "%s"\n'
                    '  pidfile: "%s/nsd.pid"\n  logfile: "%s/nsd.log"\n'
                    '  verbosity: 1\nremote-control:\n'
                    '  control-enable: no\n'
                    'zone:\n  name: "%s"\n  zonefile: "%s.signed"\n'
                    % (port, port, self.dir, self.dir, self.dir, self.dir,
                       self.dir, self.dir, self.origin, zone))
        self.proc = subprocess.Popen([self.NSD, "-d", "-c", conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for(self._answers, 10)

    def _answers(self):
        # A bare SOA query over UDP; any reply means nsd is serving.
        q = (b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00" +
             b"".join(bytes([len(p)]) + p.encode()
                      for p in self.origin.rstrip(".").split(".")) +
             b"\x00\x00\x06\x00\x01")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.5)
            try:
                s.sendto(q, ("127.0.0.1", self.port))
                return s.recv(4096)[:2] == b"\x12\x34"
            except OSError:
                return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
