"""Connection-level faults against the real binary: slow and idle clients, oversized chunked
bodies, shutdown with slow clients and streams in flight, one server per port, restart after
kill -9. Every test is bounded in time."""
import json
import os
import signal
import socket
import threading
import time
import unittest

from harness import (Server, anthropic_message, connect, is_anthropic_error, is_openai_error, json_body, main,
                     openai_chat, raise_fd_limit, read_response, request, require_env, sse_events)


def timed_request(port, *args, **kw):
    t0 = time.monotonic()
    status, headers, body = request(port, *args, **kw)
    return status, body, time.monotonic() - t0


def endless_stream(port, path, body):
    """Starts a streaming generation that runs until stopped; returns the socket after the head."""
    s = connect(port, timeout=30)
    data = json.dumps(body).encode()
    s.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
               "Connection: close\r\n\r\n" % (path, len(data))).encode() + data)
    return s


def read_all(sock, limit_s=15):
    sock.settimeout(limit_s)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data


class SlowAndIdleClients(unittest.TestCase):
    def test_slowloris_and_1000_idle_connections_do_not_starve_requests(self):
        require_env(self)
        raise_fd_limit(8192)
        with Server(["--header-timeout", "10"]) as server:
            idle = []
            for _ in range(1000):
                idle.append(connect(server.port))
            slow = []
            for _ in range(100):  # slowloris: a header byte now and then
                s = connect(server.port)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
                slow.append(s)
            stop = threading.Event()

            def drip():
                while not stop.is_set():
                    for s in slow:
                        try:
                            s.send(b"a")
                        except OSError:
                            pass
                    stop.wait(0.5)

            t = threading.Thread(target=drip)
            t.start()
            try:
                worst = 0.0
                for i in range(20):
                    status, body, dt = timed_request(server.port, "GET", "/health")
                    self.assertEqual(status, 200)
                    worst = max(worst, dt)
                    status, body, dt = timed_request(server.port, "POST", "/v1/messages", anthropic_message(max_tokens=2))
                    self.assertEqual(status, 200, body[:200])
                    worst = max(worst, dt)
                print("worst request latency with 1000 idle + 100 slowloris connections: %.3f s" % worst)
                self.assertLess(worst, 1.0)
            finally:
                stop.set()
                t.join()
                for s in idle + slow:
                    s.close()

    def test_header_deadline_closes_slowloris(self):
        require_env(self)
        with Server(["--header-timeout", "1"]) as server:
            s = connect(server.port)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            t0 = time.monotonic()
            closed = False
            s.settimeout(5)
            try:
                while time.monotonic() - t0 < 4:
                    s.send(b"X-b: 1\r\n")
                    time.sleep(0.2)
                    s.setblocking(False)
                    try:
                        if s.recv(4096) == b"":
                            closed = True
                            break
                    except BlockingIOError:
                        pass
                    finally:
                        s.setblocking(True)
            except OSError:
                closed = True
            self.assertTrue(closed, "a client dribbling headers was not cut off")
            self.assertLess(time.monotonic() - t0, 3.5)

    def test_connection_cap_answers_503(self):
        require_env(self)
        # Long deadlines: on a loaded machine the held, silent connections must not be cut off (and
        # their slots freed) before the 21st arrives.
        with Server(["--max-connections", "20", "--header-timeout", "60", "--idle-timeout", "60"]) as server:
            held = [connect(server.port) for _ in range(20)]
            time.sleep(0.3)
            with connect(server.port) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                status, headers, body = read_response(s)
            self.assertEqual(status, 503, "the 21st connection was served; server log:\n" + server.log()[-3000:])
            self.assertIn(b"connections", body)
            for h in held:
                h.close()
            time.sleep(0.3)
            self.assertEqual(request(server.port, "GET", "/health")[0], 200)


class ManyStreams(unittest.TestCase):
    def test_150_concurrent_sse_streams_all_open_at_once_and_complete(self):
        """150 streams on 150 connections, 64 of them batched by the engine at a time."""
        require_env(self)
        n = 150
        with Server(["--parallel", "64", "--ctx", "1024", "--max-queue", "256"]) as server:
            socks = []
            t0 = time.monotonic()
            for i in range(n):
                path, body = (("/v1/messages", anthropic_message(max_tokens=32, ignore_eos=True, stream=True)) if i % 2 else
                              ("/v1/chat/completions", openai_chat(max_tokens=32, ignore_eos=True, stream=True)))
                socks.append(endless_stream(server.port, path, body))
            # Every stream has its head and first event long before most generations ran.
            heads = 0
            for s in socks:
                s.settimeout(5)
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    heads += 1
            t_heads = time.monotonic() - t0
            status, _, dt = timed_request(server.port, "GET", "/health")
            self.assertEqual(status, 200)
            self.assertLess(dt, 1.0)
            complete = 0
            for i, s in enumerate(socks):
                data = read_all(s, 60)
                complete += (b"message_stop" in data) if i % 2 else (b"[DONE]" in data)
                s.close()
            print("%d SSE streams open at once (heads after %.2f s), %d complete in %.1f s" %
                  (heads, t_heads, complete, time.monotonic() - t0))
            self.assertEqual(heads, n)
            self.assertLess(t_heads, 3.0, "streams waited for a free thread instead of being held at once")
            self.assertEqual(complete, n)


class Backpressure(unittest.TestCase):
    def assert_served_within(self, server, seconds, after):
        """A one-token request is answered (200) within `seconds`: the engine is free again."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            if request(server.port, "POST", "/v1/messages", anthropic_message(max_tokens=1))[0] == 200:
                return
            time.sleep(0.05)
        self.fail("the engine was still busy %d s after %s" % (seconds, after))

    def test_queue_full_is_529_or_429_and_disconnects_free_the_engine(self):
        require_env(self)
        with Server(["--parallel", "1", "--max-queue", "0"]) as server:
            for _ in range(50):  # the queue's worker may not be waiting yet right after start-up
                busy = endless_stream(server.port, "/v1/messages",
                                      anthropic_message(max_tokens=60000, ignore_eos=True, stream=True))
                busy.settimeout(10)
                head = busy.recv(4096)
                if head.startswith(b"HTTP/1.1 200"):
                    break
                busy.close()
                time.sleep(0.1)
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:200])
            status, headers, body = request(server.port, "POST", "/v1/messages", anthropic_message(max_tokens=1))
            self.assertEqual(status, 529)
            self.assertTrue(is_anthropic_error(body, "overloaded_error"), body)
            self.assertIn("retry-after", headers)
            status, headers, body = request(server.port, "POST", "/v1/chat/completions", openai_chat(max_tokens=1))
            self.assertEqual(status, 429)
            self.assertTrue(is_openai_error(body), body)
            busy.close()  # the streaming client goes away: its generation must stop
            self.assert_served_within(server, 3, "the streaming client disconnected")
            # The same for a client waiting on a non-streaming reply.
            waiting = endless_stream(server.port, "/v1/chat/completions",
                                     openai_chat(max_tokens=60000, ignore_eos=True))
            t0 = time.monotonic()  # until its generation holds the engine (no probe may take it)
            # The engine's own gauge: the queue's can still count a finished probe for a moment.
            while b"pensieve_engine_running_sequences 1" not in request(server.port, "GET", "/metrics")[2]:
                self.assertLess(time.monotonic() - t0, 5, "the waiting request never took the engine")
                time.sleep(0.02)
            self.assertEqual(request(server.port, "POST", "/v1/messages", anthropic_message(max_tokens=1))[0], 529)
            waiting.close()
            self.assert_served_within(server, 3, "the waiting client disconnected")
            time.sleep(0.2)
            self.assertIn("cancelled: client disconnected", server.log())


class BodyLimits(unittest.TestCase):
    def test_chunked_body_over_limit_is_413_with_bounded_rss(self):
        require_env(self)
        with Server(["--max-body-mb", "1"]) as server:
            rss0 = server.rss_kib()
            s = connect(server.port, timeout=10)
            s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"a" * 65536
            sent = 0
            status = None
            try:
                while sent < (400 << 20):  # up to 400 MiB: the server must answer long before
                    s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
            except OSError:
                pass
            status, headers, body = read_response(s)
            s.close()
            print("chunked upload stopped after %.1f MiB; RSS %d -> %d KiB" % (sent / 2**20, rss0, server.rss_kib()))
            self.assertEqual(status, 413)
            self.assertTrue(is_anthropic_error(body, "request_too_large"), body)
            self.assertLess(sent, 64 << 20, "the server kept reading far past the limit")
            self.assertLess(server.rss_kib() - rss0, 64 * 1024)

    def test_declared_length_over_limit_is_413_at_once(self):
        require_env(self)
        with Server(["--max-body-mb", "1"]) as server:
            t0 = time.monotonic()
            with connect(server.port) as s:
                s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 1000000000\r\n\r\n{}")
                status, headers, body = read_response(s)
            self.assertEqual(status, 413)
            self.assertTrue(is_openai_error(body), body)
            self.assertLess(time.monotonic() - t0, 1.0)

    def test_chunked_body_within_limit_is_served(self):
        require_env(self)
        with Server() as server:
            data = json.dumps(anthropic_message(max_tokens=2)).encode()
            parts = [data[i:i + 7] for i in range(0, len(data), 7)]
            payload = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
            with connect(server.port) as s:
                s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + payload)
                status, headers, body = read_response(s)
            self.assertEqual(status, 200, body)
            self.assertEqual(json_body(body)["type"], "message")


class Shutdown(unittest.TestCase):
    def test_sigterm_with_slow_clients_and_streams_exits_0_within_5s(self):
        require_env(self)
        server = Server(["--parallel", "3"])
        try:
            slow = []
            for _ in range(20):
                s = connect(server.port)
                s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 100000\r\n\r\n{\"mod")
                slow.append(s)
            idle = [connect(server.port) for _ in range(20)]
            a = endless_stream(server.port, "/v1/messages",
                               anthropic_message(max_tokens=60000, ignore_eos=True, stream=True))
            o = endless_stream(server.port, "/v1/chat/completions",
                               openai_chat(max_tokens=60000, ignore_eos=True, stream=True))
            # A streaming client that never reads: its socket buffers fill and writes stall.
            stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            stalled.connect(("127.0.0.1", server.port))
            data = json.dumps(openai_chat(max_tokens=60000, ignore_eos=True, stream=True)).encode()
            stalled.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
            slow.append(stalled)
            time.sleep(0.5)
            t0 = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            code = server.proc.wait(10)
            elapsed = time.monotonic() - t0
            print("exit %d after %.2f s with 40 slow/idle clients and 2 streams" % (code, elapsed))
            self.assertEqual(code, 0)
            self.assertLess(elapsed, 5.0)
            # Honest endings: each stream's last event is an error, never a normal stop.
            a_events = sse_events(read_all(a).split(b"\r\n\r\n", 1)[1])
            names = [n for n, _ in a_events]
            self.assertIn("content_block_delta", names)
            self.assertEqual(names[-1], "error", names[-5:])
            self.assertEqual(json.loads(a_events[-1][1])["error"]["type"], "overloaded_error")
            self.assertNotIn("message_stop", names)
            self.assertNotIn('"end_turn"', " ".join(d for _, d in a_events))
            o_events = sse_events(read_all(o).split(b"\r\n\r\n", 1)[1])
            datas = [d for _, d in o_events]
            self.assertTrue(any('"error"' in d for d in datas), datas[-3:])
            self.assertFalse(any('"finish_reason":"stop"' in d or '"finish_reason": "stop"' in d for d in datas))
            for s in slow + idle + [a, o]:
                s.close()
        finally:
            server.stop(signal.SIGKILL)


class OnePortOneServer(unittest.TestCase):
    def test_busy_port_fails_with_exit_1(self):
        require_env(self)
        with Server() as first:
            from harness import BIN, test_model
            import subprocess
            p = subprocess.run([BIN, "serve", "-m", test_model(), "--port", str(first.port)],
                               capture_output=True, timeout=20)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(b"in use", p.stderr)
            self.assertNotIn(b"listening on", p.stderr)
            self.assertEqual(request(first.port, "GET", "/health")[0], 200)

    def test_kill_9_and_restart_on_the_same_port(self):
        require_env(self)
        first = Server()
        port = first.port
        # Leave connections in several states so the port has TIME_WAIT / orphaned sockets.
        held = [connect(port) for _ in range(5)]
        self.assertEqual(request(port, "GET", "/health")[0], 200)
        first.stop(signal.SIGKILL)
        for h in held:
            h.close()
        with Server(port=port) as second:
            self.assertEqual(second.port, port)
            self.assertEqual(request(port, "POST", "/v1/messages", anthropic_message(max_tokens=2))[0], 200)


class Logging(unittest.TestCase):
    def test_every_log_line_has_a_real_duration(self):
        require_env(self)
        with Server() as server:
            s = connect(server.port)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # abandoned half-way
            s.close()
            with connect(server.port) as s:
                s.sendall(b"BOGUS\r\n\r\n")
                try:
                    read_response(s)
                except ConnectionError:
                    pass
            request(server.port, "GET", "/health")
            request(server.port, "POST", "/v1/messages", b"{", {"Content-Type": "application/json"})
            time.sleep(0.2)
            import re
            durations = [float(m) for m in re.findall(r" (\d+(?:\.\d+)?)ms", server.log())]
            self.assertTrue(durations)
            self.assertLess(max(durations), 5000, server.log())


if __name__ == "__main__":
    main()
