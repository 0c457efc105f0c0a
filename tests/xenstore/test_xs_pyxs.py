#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Debian's python3-pyxs against xgnt-xenstored, with the server learning
its domains from a fake xgntd (SOCK_SEQPACKET, src/daemon/proto.h).

Usage: test_xs_pyxs.py path/to/xgnt-xenstored
"""
import errno
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

try:
    from pyxs import Client, PyXSError
except ImportError:
    print("FAIL: pyxs missing: install python3-pyxs (scripts/deps.sh)")
    sys.exit(1)

XSD = sys.argv[1]
LOG = None
HDR = struct.Struct("<IIiHH")            # struct xgntd_hdr
HELLO = struct.Struct("<5I")             # struct xgntd_hello
DOMINFO = struct.Struct("<6IQ6I3Q")      # struct xgntd_domain_info
XGNTD_MAGIC, XGNTD_VERSION = 0x746e6778, 1
T_HELLO, T_WATCH_DOMAINS, T_EVENT_DOMAIN = 1, 68, 69
KIND_CTL = 4


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class FakeDaemon(threading.Thread):
    """Accepts the server's ctl link, checks HELLO and WATCH_DOMAINS, then
    reports domains as told."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind(path)
        self.sock.listen(1)
        self.conn = None
        self.ready = threading.Event()
        self.error = None

    def domain(self, domid, alive, priv=0):
        info = DOMINFO.pack(domid, 0, priv, 1, alive, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        self.conn.send(HDR.pack(T_EVENT_DOMAIN, len(info), 0, 0, 0) + info)

    def run(self):
        try:
            self.conn, _ = self.sock.accept()
            msg = self.conn.recv(4096)
            t, ln, _, seq, _ = HDR.unpack_from(msg)
            magic, ver, kind, domid, _ = HELLO.unpack_from(msg, HDR.size)
            check(t == T_HELLO and ln == HELLO.size and magic == XGNTD_MAGIC
                  and ver == XGNTD_VERSION and kind == KIND_CTL and domid == 0,
                  "bad HELLO")
            self.conn.send(HDR.pack(T_HELLO, 144, 0, seq, 0) + bytes(144))
            msg = self.conn.recv(4096)
            t, ln, _, seq, _ = HDR.unpack_from(msg)
            check(t == T_WATCH_DOMAINS and ln == 0, "bad WATCH_DOMAINS")
            self.conn.send(HDR.pack(T_WATCH_DOMAINS, 0, 0, seq, 0))
            self.domain(0, 1, 1)
            self.domain(5, 1)
            self.ready.set()
        except Exception as e:          # reported by the main thread
            self.error = e
            self.ready.set()


def wait_socket(path):
    for _ in range(200):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    raise AssertionError("server did not come up")


def expect_errno(fn, err, what):
    try:
        fn()
    except PyXSError as e:
        check(e.args[0] == err, "%s: errno %r, want %d" % (what, e.args, err))
        return
    raise AssertionError("%s: no error" % what)


def next_event(m, timeout=5.0):
    """First event from a monitor, or fail (pyxs's wait() blocks forever)."""
    box = []
    th = threading.Thread(target=lambda: box.append(next(m.wait())), daemon=True)
    th.start()
    th.join(timeout)
    check(box, "no watch event within %.0fs" % timeout)
    return box[0]


def domu(sock, domid, code):
    """Runs code in a python process acting for domid (XGNT_DOMID)."""
    env = dict(os.environ, XGNT_DOMID=str(domid))
    prog = ("import sys\nfrom pyxs import Client, PyXSError\n"
            "c = Client(unix_socket_path=%r)\nc.connect()\n%s\nc.close()\n" % (sock, code))
    r = subprocess.run(["/usr/bin/python3", "-c", prog], env=env,
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 0, "domU %d: %s%s" % (domid, r.stdout, r.stderr))
    return r.stdout


def main():
    tmp = tempfile.mkdtemp(prefix="xgnt-xs-pyxs.")
    xs_sock, d_sock = os.path.join(tmp, "xs.sock"), os.path.join(tmp, "xgntd.sock")
    daemon = FakeDaemon(d_sock)
    daemon.start()
    global LOG
    LOG = os.path.join(tmp, "log")
    log = open(LOG, "w+")
    srv = subprocess.Popen([XSD, "--socket", xs_sock, "--xgnt-socket", d_sock, "-v"],
                           stderr=log)
    try:
        check(daemon.ready.wait(10), "server never talked to the daemon")
        if daemon.error:
            raise daemon.error
        wait_socket(xs_sock)
        run(xs_sock, daemon)
        out_of_fds(tmp)
        srv.send_signal(signal.SIGTERM)
        check(srv.wait(10) == 0, "exit status after SIGTERM")
        check(not os.path.exists(xs_sock), "socket left behind")
        print("PASS: pyxs against xgnt-xenstored")
    except BaseException:
        log.seek(0)
        sys.stdout.write("server log:\n" + log.read())
        raise
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)


def raw(xs_sock):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(xs_sock)
    s.settimeout(5)
    return s


def recv_all(s):
    """Everything until the server closes (fails after 5 s of silence)."""
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:   # closed with our requests unread
            return data
        if not chunk:
            return data
        data += chunk


def hostile(xs_sock):
    """Framing violations and a client that never reads, on raw sockets."""
    hdr = struct.Struct("<4I")   # struct xsd_sockmsg
    # a length over XENSTORE_PAYLOAD_MAX: dropped without a reply
    s = raw(xs_sock)
    s.sendall(hdr.pack(2, 1, 0, 4097))
    check(recv_all(s) == b"", "len > 4096 must close the connection")
    s.close()
    # garbage then a valid request: every complete message gets a reply
    s = raw(xs_sock)
    s.sendall(hdr.pack(999, 7, 0, 3) + b"a\0b" + hdr.pack(2, 8, 0, 6) + b"domid\0")
    got = b""
    while len(got) < 2 * hdr.size + 7 + 1:
        got += s.recv(4096)
    t, rid, _, ln = hdr.unpack_from(got)
    check((t, rid, got[hdr.size:hdr.size + ln]) == (16, 7, b"ENOSYS\0"), "unknown type")
    t, rid, _, ln = hdr.unpack_from(got, hdr.size + ln)
    check((t, rid) == (2, 8) and got.endswith(b"0"), "read after garbage")
    s.close()
    # a client that never reads: dropped once its queue passes the limit,
    # while another client is still served
    with Client(unix_socket_path=xs_sock) as c:
        c.write(b"/big", b"v" * 4000)
    s = raw(xs_sock)
    req = hdr.pack(2, 1, 0, 5) + b"/big\0"
    sent = 0
    try:
        for _ in range(3000):
            s.sendall(req)
            sent += 1
    except OSError:
        pass
    with Client(unix_socket_path=xs_sock) as c:
        check(c.read(b"/big") == b"v" * 4000, "others served meanwhile")
    data = recv_all(s)
    check(len(data) < sent * (hdr.size + 4000), "never-reading client was not cut off")
    s.close()
    with open(LOG) as f:
        log = f.read()
    check("payload length 4097, closing" in log, "log: oversized message")
    check("output queue over 1048576 bytes, closing" in log, "log: queue limit")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # utime + stime


def out_of_fds(tmp):
    """With its descriptors used up, the server neither spins nor stops:
    it accepts again when a client leaves."""
    path = os.path.join(tmp, "fd.sock")
    srv = subprocess.Popen(["/bin/sh", "-c", "ulimit -n 12; exec \"$0\" --socket \"$1\"",
                            XSD, path], stderr=subprocess.PIPE)
    held = []
    try:
        wait_socket(path)
        while True:                    # fill the table until a client
            s = raw(path)              # gets no answer: it waits in the
            s.settimeout(3)            # backlog (3 s: a loaded machine
                                       # may take over 1 s to answer)
            held.append(s)
            s.sendall(struct.pack("<4I", 2, 1, 0, 6) + b"domid\0")
            try:
                s.recv(64)
            except socket.timeout:
                break
            check(len(held) < 20, "descriptor limit never reached")
        waiting = held.pop()
        waiting.close()
        late = raw(path)
        late.sendall(struct.pack("<4I", 2, 2, 0, 6) + b"domid\0")
        t0 = cpu_ticks(srv.pid)
        time.sleep(1)
        spent = cpu_ticks(srv.pid) - t0
        check(spent < os.sysconf("SC_CLK_TCK") // 4, "server spins: %d ticks in 1 s" % spent)
        held.pop(0).close()            # one client leaves
        got = late.recv(64)
        check(got[:4] == struct.pack("<I", 2) and got.endswith(b"0"), "late client served")
        late.close()
    finally:
        for s in held:
            s.close()
        srv.send_signal(signal.SIGTERM)
        srv.wait(10)
    check(b"out of file descriptors" in srv.stderr.read(), "log: out of descriptors")


def run(xs_sock, daemon):
    hostile(xs_sock)
    with Client(unix_socket_path=xs_sock) as c, Client(unix_socket_path=xs_sock) as c2:
        # store
        c.write(b"/py/a", b"1")
        c.mkdir(b"/py/dir")
        check(c.read(b"/py/a") == b"1", "read")
        check(sorted(c.list(b"/py")) == [b"a", b"dir"], "list")
        check(c.exists(b"/py/a") and not c.exists(b"/py/zz"), "exists")
        c.delete(b"/py/a")
        expect_errno(lambda: c.read(b"/py/a"), errno.ENOENT, "read removed")
        expect_errno(lambda: c.delete(b"/py/no/such"), errno.ENOENT, "rm below missing")
        c.set_perms(b"/py/dir", [b"n0", b"r5"])
        check(c.get_perms(b"/py/dir") == [b"n0", b"r5"], "perms")
        # domains, learnt from the (fake) daemon
        check(c.get_domain_path(5) == b"/local/domain/5", "get_domain_path")
        check(c.read(b"/local/domain/5/domid") == b"5", "dom5 home from daemon")
        check(c.get_perms(b"/local/domain/5") == [b"n5"], "dom5 home perms")
        check(c.is_domain_introduced(5), "is_domain_introduced")
        # transactions: a racing write makes the commit fail (EAGAIN)
        c.write(b"/py/ctr", b"0")
        c.transaction()
        v = int(c.read(b"/py/ctr"))
        c2.write(b"/py/ctr", b"100")
        c.write(b"/py/ctr", str(v + 1).encode())
        check(c.commit() is False, "conflicting commit must fail")
        check(c2.read(b"/py/ctr") == b"100", "failed commit left no trace")
        c.transaction()
        c.write(b"/py/ctr", b"101")
        check(c2.read(b"/py/ctr") == b"100", "tx write visible outside")
        check(c.commit() is True, "commit")
        check(c2.read(b"/py/ctr") == b"101", "committed")
        # watches: once up front, then changes below
        m = c.monitor()
        m.watch(b"/py", b"tok")
        check(next_event(m) == (b"/py", b"tok"), "up-front event")
        c2.write(b"/py/dir/x", b"1")
        check(next_event(m) == (b"/py/dir/x", b"tok"), "change event")
        m.unwatch(b"/py", b"tok")
        # a process acting as dom5 (XGNT_DOMID=5)
        out = domu(xs_sock, 5, "print(c.read(b'/local/domain/5/domid').decode())\n"
                               "c.write(b'/local/domain/5/data/v', b'x')\n"
                               "print(c.read(b'/py/dir').decode() == '')\n"
                               "try:\n c.write(b'/py/dir/y', b'1')\n"
                               "except PyXSError as e:\n print('denied', e.args[0])\n")
        check(out.split() == ["5", "True", "denied", str(errno.EACCES)], "domU: %r" % out)
        check(c.get_perms(b"/local/domain/5/data/v") == [b"n5"], "domU owns its node")
        # the daemon destroys dom5: home removed, @releaseDomain fires
        m = c.monitor()
        m.watch(b"@releaseDomain", b"rel")
        check(next_event(m) == (b"@releaseDomain", b"rel"), "up-front @releaseDomain")
        daemon.domain(5, 0)
        check(next_event(m) == (b"@releaseDomain", b"rel"), "@releaseDomain on destroy")
        check(not c.exists(b"/local/domain/5"), "dom5 home removed")
        check(not c.is_domain_introduced(5), "dom5 forgotten")
        m.unwatch(b"@releaseDomain", b"rel")


if __name__ == "__main__":
    main()
