# Shared helpers for the Python integration tests: a tern instance in a
# temporary directory (its own main.cf, master.cf, queue, log and daemon
# directory of symlinks to the built programs), free loopback ports, a
# throwaway system user when run as root, process inspection through
# /proc, a raw SMTP client, a test CA and server certificates made with
# openssl, and the "N passed, M failed" tally that lib.sh also prints.
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

    def __init__(self, tally, name="tern-test"):
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
            self.user = "terntest%d" % os.getpid()
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
