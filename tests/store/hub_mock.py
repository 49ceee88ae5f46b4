#!/usr/bin/env python3
"""A local stand-in for the Hugging Face hub's API and file routes, for the pull tests.

usage: hub_mock.py CONFIG.json   (prints the port it listens on, then serves until killed)

CONFIG: {"repos": {"OWNER/REPO": [{"path": "m-Q4_K_M.gguf", "local": "/abs/file",
                                    "sha256": "...optional override (a wrong checksum)"}]},
         "drop_after": {"m-Q4_K_M.gguf": 4096},   # the first download of that file is cut off
         "ignore_range": false,                   # answer range requests with the whole file
         "token": "hf_x"}                         # when set, /api needs "Bearer hf_x"
Routes (as the hub): GET /api/models/OWNER/REPO/tree/REV?recursive=true -> file list with
lfs.oid (sha256) and size; GET /OWNER/REPO/resolve/REV/PATH -> 302 to /cdn/OWNER/REPO/PATH
on the host name localhost (the hub's redirect to its CDN), which serves the bytes with Range support.
GET /_log -> every request seen so far (method, path, range, authorization).
"""
import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

CONFIG = json.load(open(sys.argv[1]))
LOG = []
LOCK = threading.Lock()
DROPPED = set()


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find(repo, path):
    for f in CONFIG["repos"].get(repo, []):
        if f["path"] == path:
            return f
    return None


class Hub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        with LOCK:
            LOG.append({"path": url.path, "range": self.headers.get("Range"),
                        "authorization": self.headers.get("Authorization")})
        parts = url.path.strip("/").split("/")
        if url.path == "/_log":
            with LOCK:
                return self.send_json(200, LOG)
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "tree":
            token = CONFIG.get("token")
            if token and self.headers.get("Authorization") != "Bearer " + token:
                return self.send_json(401, {"error": "Invalid credentials"})
            repo = parts[2] + "/" + parts[3]
            if repo not in CONFIG["repos"]:
                return self.send_json(404, {"error": "Repository not found"})
            out = [{"type": "file", "path": "README.md", "size": 10, "oid": "0" * 40}]
            for f in CONFIG["repos"][repo]:
                size = __import__("os").path.getsize(f["local"])
                out.append({"type": "file", "path": f["path"], "size": size, "oid": "1" * 40,
                            "lfs": {"oid": f.get("sha256") or sha256_of(f["local"]), "size": size,
                                    "pointerSize": 134}})
            return self.send_json(200, out)
        if len(parts) >= 5 and parts[2] == "resolve":
            repo = parts[0] + "/" + parts[1]
            path = "/".join(parts[4:])
            if not find(repo, path):
                return self.send_json(404, {"error": "Entry not found"})
            # To another host name, as the hub sends downloads to its CDN: the client must not
            # carry the hub token there.
            self.send_response(302)
            self.send_header("Location", "http://localhost:%d/cdn/%s/%s" % (self.server.server_address[1], repo, path))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if parts[0] == "cdn" and len(parts) >= 4:
            f = find(parts[1] + "/" + parts[2], "/".join(parts[3:]))
            if not f:
                return self.send_json(404, {"error": "not found"})
            return self.serve_file(f)
        self.send_json(404, {"error": "no route " + url.path})

    def serve_file(self, f):
        data = open(f["local"], "rb").read()
        start = 0
        rng = self.headers.get("Range")
        if rng and not CONFIG.get("ignore_range"):
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        drop = CONFIG.get("drop_after", {}).get(f["path"])
        with LOCK:
            first = f["path"] not in DROPPED
            if drop is not None:
                DROPPED.add(f["path"])
        if drop is not None and first:
            # Half the file, then the connection dies: the client must resume with a Range.
            self.wfile.write(data[start:start + drop])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(data[start:])


server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
server.handle_error = lambda request, address: None  # dropped connections are on purpose
print(server.server_address[1], flush=True)
server.serve_forever()
