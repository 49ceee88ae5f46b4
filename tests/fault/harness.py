"""Shared pieces of the fault suite: the real `pensieve serve` on a free loopback port, a test
model made once, and raw HTTP over sockets (so requests can be malformed, slow or half-sent).

Environment (set by CMake's add_test): PENSIEVE_BIN, PENSIEVE_SHARED_DIR, PENSIEVE_FAULT_WORK.
"""
import fcntl
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import unittest

BIN = os.environ.get("PENSIEVE_BIN", "")
SHARED = os.environ.get("PENSIEVE_SHARED_DIR", "")
WORK = os.environ.get("PENSIEVE_FAULT_WORK", "/tmp/pensieve-fault")
PYTHON = "/usr/bin/python3"  # Debian's, which has python3-numpy for gen_model.py


def raise_fd_limit(want=8192):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, want), hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def test_model():
    """The tiny random-weight qwen2 model with a real chat template, generated once per build."""
    os.makedirs(WORK, exist_ok=True)
    path = os.path.join(WORK, "tiny-qwen2.gguf")
    with open(os.path.join(WORK, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(path):
            tmpl = os.path.join(SHARED, "fixtures/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja")
            subprocess.run([PYTHON, os.path.join(SHARED, "tools/gen_model.py"), "--shape", "tiny-qwen2",
                            "--ctx", "8192", "--chat-template", tmpl, "--out", path + ".tmp", "--quiet"], check=True)
            os.rename(path + ".tmp", path)
    return path


def require_env(case):
    if not BIN or not os.access(BIN, os.X_OK):
        raise unittest.SkipTest("SKIP: PENSIEVE_BIN not set (run through ctest)")
    if not os.path.isdir(os.path.join(SHARED, "fixtures")):
        raise unittest.SkipTest("SKIP: fixtures not found at %s" % SHARED)


class Server:
    """`pensieve serve` on 127.0.0.1; stderr is kept for assertions."""

    def __init__(self, args=(), port=0, wait_ready=True):
        os.makedirs(WORK, exist_ok=True)
        self.log_path = os.path.join(WORK, "server-%d-%d.log" % (os.getpid(), time.monotonic_ns()))
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BIN, "serve", "-m", test_model(), "--port", str(port), *args],
                                     stdout=subprocess.DEVNULL, stderr=self.log_file)
        # The server logs everything on stderr, the "listening on" line first.
        deadline = time.monotonic() + 30
        m = None
        while m is None and time.monotonic() < deadline and self.proc.poll() is None:
            m = re.search(r"listening on http://([0-9.]+):(\d+)", self.log())
            if m is None:
                time.sleep(0.02)
        if not m:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(10)
            raise RuntimeError("server did not start: %s" % self.log())
        self.host, self.port = m.group(1), int(m.group(2))
        if wait_ready:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if request(self.port, "GET", "/health", timeout=2)[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.05)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(sock, limit=64 << 20):
    """Reads one HTTP/1.1 response; returns (status, headers(lower-case dict), body bytes)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head: %r" % buf[:200])
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                chunk = sock.recv(65536)
                if not chunk:
                    return status, headers, body
                rest += chunk
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    return status, headers, body + rest
                rest += chunk
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                return status, headers, body
    n = int(headers.get("content-length", "-1"))
    if n < 0:  # until close
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return status, headers, rest
            rest += chunk
            if len(rest) > limit:
                raise ValueError("response too large")
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:n]


def raw(port, data, timeout=10):
    """Sends raw bytes on a fresh connection; returns the parsed response."""
    with connect(port, timeout) as s:
        s.sendall(data)
        return read_response(s)


def request(port, method, path, body=None, headers=None, timeout=10):
    """A well-formed request with Connection: close; body may be bytes, str or a JSON value."""
    hdrs = {"Host": "127.0.0.1:%d" % port, "Connection": "close"}
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs["Content-Type"] = "application/json"
    if isinstance(body, str):
        body = body.encode()
    hdrs.update(headers or {})
    if body is not None:
        hdrs["Content-Length"] = str(len(body))
    head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n"
    return raw(port, head.encode("latin-1") + (body or b""), timeout)


def json_body(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def is_anthropic_error(body, type_=None):
    j = json_body(body)
    ok = isinstance(j, dict) and j.get("type") == "error" and isinstance(j.get("error"), dict) \
        and isinstance(j["error"].get("type"), str) and isinstance(j["error"].get("message"), str)
    return ok and (type_ is None or j["error"]["type"] == type_)


def is_openai_error(body, type_=None):
    j = json_body(body)
    ok = isinstance(j, dict) and isinstance(j.get("error"), dict) and "type" not in j \
        and isinstance(j["error"].get("message"), str)
    return ok and (type_ is None or j["error"].get("type") == type_)


def sse_events(body):
    """[(event name or None, data string)] of an SSE body."""
    out = []
    for block in body.decode(errors="replace").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if name is not None or data:
            out.append((name, "\n".join(data)))
    return out


def anthropic_message(**extra):
    body = {"model": "m", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}
    body.update(extra)
    return body


def openai_chat(**extra):
    body = {"model": "m", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}
    body.update(extra)
    return body


def main():
    raise_fd_limit()
    unittest.main(verbosity=2)


if __name__ == "__main__":
    sys.exit("import this module")
