"""The directory tree every evaluated command runs in (a fresh copy each time).

Built deterministically: the same names, contents, permissions and ages on every run. Ages are
relative to the time it is built (a file "changed 2 hours ago" must be so whenever the evaluation
runs), and every path's mtime is set, so `find -mtime`, `ls -t` and `du` see the same tree each
time. The git repository's commits have fixed authors and dates, so their hashes never change.
"""

import gzip
import io
import os
import subprocess
import tarfile
import time
import zipfile

HOUR = 3600
DAY = 24 * HOUR

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
}


def _lines(prefix, n):
    return "".join(f"{prefix} {i}\n" for i in range(1, n + 1))


def _bytes(n, seed):
    """n pseudo-random bytes (a linear congruential generator: stable everywhere)."""
    out = bytearray(n)
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 0xFF
    return bytes(out)


def _big(n, seed):
    block = _bytes(4096, seed)
    return (block * (n // 4096 + 1))[:n]


SALES = "date,region,product,amount\n" + "".join(
    f"2026-{m:02d}-{d:02d},{r},{p},{a}\n"
    for (m, d, r, p, a) in [
        (1, 5, "north", "widget", 120), (1, 9, "south", "gadget", 80), (1, 17, "east", "widget", 45),
        (2, 2, "west", "gizmo", 300), (2, 11, "north", "gadget", 75), (2, 20, "south", "widget", 60),
        (3, 1, "east", "gizmo", 210), (3, 8, "west", "widget", 95), (3, 15, "north", "gizmo", 150),
        (3, 22, "south", "gadget", 40), (4, 3, "east", "gadget", 130), (4, 12, "west", "gizmo", 55),
        (4, 19, "north", "widget", 220), (5, 6, "south", "gizmo", 175), (5, 14, "east", "widget", 90),
        (5, 28, "west", "gadget", 65), (6, 2, "north", "gadget", 110), (6, 18, "south", "widget", 85),
    ])

USERS = """[
  {"name": "alice", "age": 34, "email": "alice@example.com", "active": true, "role": "admin"},
  {"name": "bob", "age": 27, "email": "bob@example.org", "active": false, "role": "dev"},
  {"name": "carol", "age": 45, "email": "carol@example.com", "active": true, "role": "dev"},
  {"name": "dave", "age": 19, "email": "dave@example.net", "active": true, "role": "intern"},
  {"name": "erin", "age": 52, "email": "erin@example.com", "active": false, "role": "admin"}
]
"""

PACKAGE = """{
  "name": "demo-app",
  "version": "1.4.2",
  "scripts": {"build": "make all", "test": "make test"},
  "dependencies": {"left-pad": "1.3.0", "lodash": "4.17.21", "express": "4.18.2"}
}
"""

ACCESS_PATHS = ["/", "/index.html", "/login", "/api/items", "/api/items/7", "/static/app.js", "/missing"]
ACCESS_IPS = ["10.0.0.1", "10.0.0.2", "192.168.1.20", "172.16.5.4", "10.0.0.1", "192.168.1.20"]
ACCESS = "".join(
    f'{ACCESS_IPS[i % 6]} - - [01/Nov/2026:10:{i:02d}:00 +0000] "GET {ACCESS_PATHS[(i * 3) % 7]} HTTP/1.1" '
    f'{[200, 200, 404, 200, 500, 301, 200][(i * 5) % 7]} {100 + (i * 37) % 900}\n'
    for i in range(40))

APP_LOG = "".join(
    f"2026-11-20 0{h}:{m:02d}:00 {lvl} {msg}\n"
    for h, m, lvl, msg in [
        (8, 1, "INFO", "server started on port 8080"), (8, 5, "INFO", "connected to database"),
        (8, 12, "WARN", "slow query took 2300 ms"), (8, 30, "ERROR", "failed to send email to bob@example.org"),
        (8, 31, "INFO", "retrying email"), (8, 45, "ERROR", "timeout while calling payment service"),
        (9, 2, "INFO", "user alice logged in"), (9, 10, "WARN", "disk usage at 85%"),
        (9, 15, "ERROR", "failed to send email to dave@example.net"), (9, 40, "INFO", "user carol logged in"),
        (9, 41, "DEBUG", "cache hit ratio 0.93"), (9, 59, "INFO", "shutting down"),
    ])

NOTES = """Shopping: milk, eggs, bread
TODO: call the plumber
Meeting with Sam on Friday
TODO: renew passport
the quick brown fox jumps over the lazy dog
Remember to water the plants
todo: lowercase reminder
Password hints are not stored here
Last line of the notes
"""

MAIN_PY = """import os
import sys


def main():
    # TODO: parse arguments properly
    print("hello from main")
    return 0


if __name__ == "__main__":
    sys.exit(main())
"""

UTILS_PY = """def helper(x):
    return x * 2


def unused_function():
    # TODO: remove this
    pass
"""

APP_JS = """const express = require('express');
const app = express();
// TODO: add authentication
app.get('/', (req, res) => res.send('hello'));
console.log('listening');
app.listen(3000);
"""

README = """# Demo project

A small project used to evaluate shell commands.

## Usage

Run `make` to build, then `./scripts/deploy.sh` to deploy.

## License

MIT
"""

NUMBERS = "".join(f"{n}\n" for n in [42, 7, 19, 7, 100, 3, 58, 42, 23, 7, 91, 15])
WORDS = "".join(f"{w}\n" for w in
                ["apple", "banana", "cherry", "apple", "date", "banana", "apple", "elderberry", "fig", "cherry"])


def _write(root, rel, content, age, mode=0o644):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(content.encode() if isinstance(content, str) else content)
    os.chmod(p, mode)
    return p, age


def _git(repo, *args, date):
    env = dict(os.environ, **GIT_ENV, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _tar_gz(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1767225600  # 2026-01-01
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    # gzip's header carries a time: rewrite it to a fixed one.
    raw = buf.getvalue()
    return gzip.compress(gzip.decompress(raw), mtime=1767225600)


def _zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def build(root):
    """Creates the tree under `root` (which must not exist yet)."""
    os.makedirs(root)
    now = time.time()
    # An hour past the whole day: `find -mtime -N` counts whole days, and a file exactly N days old
    # sits on the boundary (a copy that rounds its time up, or a second's difference between two
    # runs, flips it; the self-check once saw `-mtime -2` disagree with itself).
    days = lambda n: now - n * DAY - 3600  # noqa: E731
    files = [
        _write(root, "README.md", README, days(10)),
        _write(root, "notes.txt", NOTES, now - 2 * HOUR),
        _write(root, "todo list.txt", "buy stamps\nfix the bike\nTODO: book flights\n", days(3)),
        _write(root, "meeting notes 2026.txt", _lines("agenda item", 6), days(20)),
        _write(root, ".env", "API_KEY=abc123\nDEBUG=true\nPORT=8080\n", days(30)),
        _write(root, ".gitignore", "*.o\n*.tmp\nbuild/\n", days(30)),
        _write(root, "Makefile", "all:\n\tcc -o app src/main.c\n\ntest:\n\t./app --test\n", days(15)),
        _write(root, "src/main.py", MAIN_PY, now - 3 * HOUR),
        _write(root, "src/utils.py", UTILS_PY, now - 30 * HOUR),
        _write(root, "src/config.py", "DEBUG = True\nPORT = 8080\nHOST = 'localhost'\n", days(8)),
        _write(root, "src/app.js", APP_JS, days(2)),
        _write(root, "src/style.css", "body { margin: 0; }\n.header { color: red; }\n", days(12)),
        _write(root, "src/main.c", '#include <stdio.h>\nint main(void) { printf("hi\\n"); return 0; }\n', days(5)),
        _write(root, "src/lib/__init__.py", "", days(60)),
        _write(root, "src/lib/helpers.py", "def greet(name):\n    return f'hello {name}'\n", days(4)),
        _write(root, "src/lib/math_utils.py", "def add(a, b):\n    return a + b\n# TODO: more math\n", days(9)),
        _write(root, "src/old/legacy.py", "print 'python 2 code'\n", days(400)),
        _write(root, "docs/guide.md", "# Guide\n\nStep one.\nStep two.\n", now - 5 * HOUR),
        _write(root, "docs/api.md", "# API\n\nGET /api/items\nPOST /api/items\n", days(25)),
        _write(root, "docs/release notes.md", "v1.4.2: bug fixes\nv1.4.1: faster startup\n", days(7)),
        _write(root, "docs/images/logo.png", b"\x89PNG\r\n\x1a\n" + _bytes(5000, 1), days(90)),
        _write(root, "docs/images/banner.jpg", b"\xff\xd8\xff\xe0" + _bytes(12000, 2), days(90)),
        _write(root, "data/sales.csv", SALES, now - 1 * HOUR),
        _write(root, "data/users.json", USERS, days(6)),
        _write(root, "data/package.json", PACKAGE, days(6)),
        _write(root, "data/access.log", ACCESS, days(1.5)),
        _write(root, "data/numbers.txt", NUMBERS, days(14)),
        _write(root, "data/words.txt", WORDS, days(14)),
        _write(root, "data/empty.txt", "", days(14)),
        _write(root, "data/config.yaml", "server:\n  port: 8080\n  host: 0.0.0.0\ndebug: false\n", days(14)),
        _write(root, "logs/app.log", APP_LOG, now - 20 * 60),
        _write(root, "logs/error.log", "".join(l for l in APP_LOG.splitlines(True) if " ERROR " in l), days(1.2)),
        _write(root, "logs/old/app-2025-01-01.log", _lines("old entry", 30), days(330)),
        _write(root, "logs/old/app-2025-02-01.log", _lines("older entry", 25), days(300)),
        _write(root, "logs/archive.log.gz", gzip.compress(_lines("archived line", 50).encode(), mtime=1767225600),
               days(45)),
        _write(root, "build/main.o", _bytes(3000, 3), days(2)),
        _write(root, "build/app.tmp", "temporary\n", days(2)),
        _write(root, "build/cache/a.tmp", "cache a\n", days(40)),
        _write(root, "build/cache/b.tmp", "cache b\n", days(41)),
        _write(root, "build/cache/keep.dat", _bytes(800, 4), days(41)),
        _write(root, "media/large.bin", _big(1_500_000, 5), days(16)),
        _write(root, "media/medium.bin", _big(200_000, 6), days(16)),
        _write(root, "media/small.bin", _bytes(2000, 7), days(16)),
        _write(root, "media/movie clip.mp4", _big(1_100_000, 8), days(50)),
        _write(root, "photos/IMG_0001.jpg", b"\xff\xd8\xff\xe0" + _bytes(9000, 9), days(100)),
        _write(root, "photos/IMG_0002.jpg", b"\xff\xd8\xff\xe0" + _bytes(7000, 10), days(99)),
        _write(root, "photos/holiday photo.JPG", b"\xff\xd8\xff\xe0" + _bytes(8000, 11), days(98)),
        _write(root, "photos/Summer Trip/beach.png", b"\x89PNG\r\n\x1a\n" + _bytes(6000, 12), days(97)),
        _write(root, "photos/Summer Trip/sunset.png", b"\x89PNG\r\n\x1a\n" + _bytes(6500, 13), days(97)),
        _write(root, "scripts/deploy.sh", "#!/bin/sh\necho deploying\n", days(11), 0o755),
        _write(root, "scripts/build.sh", "#!/bin/sh\necho building\n", days(11), 0o644),
        _write(root, "scripts/cleanup.sh", "#!/bin/sh\necho cleaning\n", days(11), 0o755),
        _write(root, "archives/backup.tar.gz",
               _tar_gz([("backup/notes.txt", NOTES.encode()), ("backup/todo.txt", b"old todo\n"),
                        ("backup/config/settings.ini", b"[main]\nx=1\n")]), days(35)),
        _write(root, "archives/site.zip",
               _zip([("site/index.html", b"<h1>hi</h1>\n"), ("site/about.html", b"<p>about</p>\n"),
                     ("site/css/main.css", b"p { }\n")]), days(35)),
    ]
    os.makedirs(os.path.join(root, "empty_dir"))

    repo = os.path.join(root, "repo")
    os.makedirs(repo)
    _git(repo, "init", "-q", "-b", "main", date="2026-01-01T10:00:00+00:00")
    for rel, content, msg, date in [
        ("parser.py", "def parse(s):\n    return s.split()\n", "initial commit", "2026-01-02T10:00:00+00:00"),
        ("README.md", "# repo\n", "add readme", "2026-01-03T10:00:00+00:00"),
        ("parser.py", "def parse(s):\n    return s.strip().split()\n", "fix bug in parser", "2026-01-04T10:00:00+00:00"),
    ]:
        with open(os.path.join(repo, rel), "w") as f:
            f.write(content)
        _git(repo, "add", rel, date=date)
        _git(repo, "commit", "-q", "-m", msg, date=date)
    _git(repo, "tag", "v1.0", date="2026-01-04T10:00:00+00:00")
    _git(repo, "branch", "feature/login", date="2026-01-04T10:00:00+00:00")
    _git(repo, "branch", "experiment", date="2026-01-04T10:00:00+00:00")
    with open(os.path.join(repo, "README.md"), "a") as f:
        f.write("more text\n")  # a modified tracked file
    with open(os.path.join(repo, "scratch.txt"), "w") as f:
        f.write("untracked\n")  # an untracked file

    for p, age in files:
        os.utime(p, (age, age))
    # Directories last (writing their files changed their times): all 10 days old.
    for dirpath, dirnames, _ in os.walk(root, topdown=False):
        if "/.git" in dirpath:
            continue
        os.utime(dirpath, (days(10), days(10)))
