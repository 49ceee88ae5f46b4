#!/usr/bin/env python3
"""Evaluate `pensieve cmd` by executing what it answers.

For every request in requests.txt the model's command and the hand-written reference command run
in two fresh copies of one fixture tree (fixture.py), each in its own mount and network namespace
(`unshare -n -m`: no network, everything outside the copy read-only) under a time limit, and the
two runs are compared by what they print (normalised: paths relative to the tree, whitespace
collapsed, lines sorted unless order matters) and what they leave in the tree (a snapshot of every
file's type, mode, size, content hash and whether its time changed, plus the git repository's
state), never by the command's text; archives by what they hold (names, modes, contents), not
their bytes. A command the validator rates blocked, or one that names a path outside the tree,
is not run and fails. Output goes to files capped at MAX_FILE; stdin is a terminal holding EOF.

  eval.py [--model FILE] [--binary build/pensieve] [--category C] [--verbose] [--json-out F]
  eval.py --self-check    the references against themselves (must all pass), and each reference
                          against doing nothing and against a wrong command (must fail)
"""

import argparse
import gzip
import hashlib
import json
import os
import pty
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fixture  # noqa: E402

TIMEOUT_S = 10
MAX_OUTPUT = 1 << 20   # bytes of output compared
MAX_FILE = 32 << 20    # bytes any file (the output too) may reach
# Absolute paths a command may name although they are outside the tree.
ALLOWED_ABSOLUTE = ("/dev/null", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/zero", "/dev/urandom",
                    "/bin/", "/usr/bin/", "/usr/local/bin/")
# Comparison modes (a request's optional third field):
#   lines    the printed lines as a sorted list (default)   ordered  the printed lines in order
#   set      the distinct printed lines                      count    the first integer printed
#   state    only what the command changed in the tree (its output is not compared)
MODES = ("lines", "ordered", "set", "count", "state")


def load_requests(path):
    """requests.txt: `[category]` or `[category cwd=DIR]` headers (DIR: where in the tree the
    commands run), then `request :: reference [:: mode]` lines."""
    out, category, cwd = [], None, ""
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.fullmatch(r"\[([a-z_0-9]+)(?: cwd=([\w./-]+))?\]", line.strip())
            if m:
                category, cwd = m.group(1), m.group(2) or ""
                continue
            parts = [p.strip() for p in line.split(" :: ")]
            if category is None or len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in MODES):
                raise SystemExit(f"{path}:{n}: expected `request :: reference [:: mode]` under a [category]")
            out.append(dict(id=len(out) + 1, line=n, category=category, request=parts[0], reference=parts[1],
                            mode=parts[2] if len(parts) == 3 else "lines", cwd=cwd))
    return out


def sandbox_works():
    """Whether this user may make the namespaces and remount / read-only inside them (root)."""
    try:
        r = subprocess.run(["unshare", "-n", "-m", "--", "/bin/sh", "-c", "mount -o remount,bind,ro /"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# Runs inside the new namespaces: the work folder stays writable, everything else becomes read-only.
SANDBOX_SCRIPT = ('mount --bind "$1" "$1" && mount -o remount,bind,ro / && cd "$1/tree/$4" && '
                  'exec timeout -k 1 "$3" bash -c "$2"')


class Runner:
    def __init__(self, base, isolate):
        self.base = base
        self.isolate = isolate
        self.pristine = os.path.join(base, "pristine")
        fixture.build(self.pristine)
        self.original_mtimes = {rel: st.st_mtime_ns for rel, st in walk(self.pristine)}

    def run(self, command, cwd=""):
        """Runs `command` in a fresh copy (in its folder `cwd`): stdout, exit code, timed out, snapshot, root."""
        work = tempfile.mkdtemp(dir=self.base, prefix="run-")
        root = os.path.join(work, "tree")
        subprocess.run(["cp", "-a", self.pristine, root], check=True)
        os.makedirs(os.path.join(work, "tmp"))
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": root, "TMPDIR": os.path.join(work, "tmp"),
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC", "TERM": "dumb", "USER": "eval",
               "SHELL": "/bin/bash", "PWD": os.path.join(root, cwd), **fixture.GIT_ENV,
               "GIT_AUTHOR_DATE": "2026-02-01T12:00:00+00:00", "GIT_COMMITTER_DATE": "2026-02-01T12:00:00+00:00"}
        if self.isolate:
            argv = ["unshare", "-n", "-m", "--", "/bin/sh", "-c", SANDBOX_SCRIPT, "sh", work, command, str(TIMEOUT_S),
                    cwd]
        else:
            argv = ["timeout", "-k", "1", str(TIMEOUT_S), "bash", "-c", command]
        # stdin is a terminal, as where a user types the command (git shortlog, for one, reads
        # stdin instead of the repository when it is not), holding one end-of-file (^D), so a
        # command that reads stdin gets EOF instead of waiting.
        master, slave = pty.openpty()
        os.write(master, b"\x04")
        # Output goes to files beside the tree, and no file may grow past MAX_FILE (`yes` or
        # `cat /dev/zero` end with SIGXFSZ instead of filling memory or the disk).
        out_path, err_path = os.path.join(work, "stdout"), os.path.join(work, "stderr")
        limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE, MAX_FILE))  # noqa: E731
        t0 = time.time()
        try:
            with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
                p = subprocess.run(argv, cwd=os.path.join(root, cwd), env=env, stdin=slave, stdout=fo, stderr=fe,
                                   timeout=TIMEOUT_S + 20, preexec_fn=limit)
        finally:
            os.close(slave)
            os.close(master)
        timed_out = p.returncode in (124, 137) and time.time() - t0 >= TIMEOUT_S - 0.5
        with open(out_path, "rb") as f:
            out = f.read(MAX_OUTPUT).decode("utf-8", errors="replace")
        with open(err_path, "rb") as f:
            err = f.read(2000).decode("utf-8", errors="replace")
        snap = snapshot(root, self.original_mtimes)
        shutil.rmtree(work, ignore_errors=True)
        return dict(stdout=out, rc=p.returncode, timed_out=timed_out, state=snap, root=root,
                    stderr=err)


def walk(root):
    """(relative path, lstat) of everything under root, the git internals excluded."""
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir.split(os.sep)[-1] == ".git" or f"{os.sep}.git{os.sep}" in f"{os.sep}{rel_dir}{os.sep}":
            dirnames[:] = []
            continue
        for name in sorted(dirnames) + sorted(filenames):
            p = os.path.join(dirpath, name)
            yield os.path.normpath(os.path.join(rel_dir, name)), os.lstat(p)


def git_dir_digest(repo):
    """A hash of the repository's .git folder without its index (whose stat data differs per copy)."""
    h = hashlib.sha256()
    git = os.path.join(repo, ".git")
    for dirpath, dirnames, filenames in os.walk(git):
        dirnames.sort()
        for name in sorted(filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, git)
            if rel == "index":
                continue
            h.update(rel.encode() + b"\0")
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    h.update(f.read())
    return h.hexdigest()


_git_state_cache = {}


def git_state(repo, files_key):
    """The repository as git sees it: status, commits, branches, tags, stashes, config. Asking git
    takes six processes, so an unchanged repository (same .git, same files) reuses the answer."""
    if not os.path.isdir(os.path.join(repo, ".git")):
        return None
    key = (git_dir_digest(repo), files_key)
    if key in _git_state_cache:
        return _git_state_cache[key]
    env = dict(os.environ, **fixture.GIT_ENV)
    out = []
    for args in (["status", "--porcelain=v1", "-b"], ["log", "--all", "--format=%H %s"], ["branch", "-a"],
                 ["tag"], ["stash", "list"], ["config", "--local", "--list"]):
        p = subprocess.run(["git", *args], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out.append(p.stdout.decode("utf-8", errors="replace"))
    _git_state_cache[key] = out
    return out


def _member_name(name):
    return re.sub(r"^(\./)+", "", name).rstrip("/")


def archive_digest(path):
    """What an archive holds (member names, types, modes, contents), not its bytes: zip stores
    access times and compressors differ in their output, so two archives of the same files may
    differ byte for byte. None when `path` is not an archive this reads."""
    name = path.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(path) as z:
                members = sorted((_member_name(i.filename), i.is_dir(), hashlib.sha256(z.read(i)).hexdigest())
                                 for i in z.infolist())
        elif re.search(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz)$", name):
            with tarfile.open(path, "r:*") as t:
                members = []
                for m in t.getmembers():
                    data = t.extractfile(m).read() if m.isfile() else b""
                    members.append((_member_name(m.name), m.type.decode(), m.mode & 0o777, m.linkname,
                                    hashlib.sha256(data).hexdigest()))
                members.sort()
        elif name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                members = [hashlib.sha256(f.read()).hexdigest()]
        else:
            return None
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, KeyError):
        return None
    return hashlib.sha256(repr(members).encode()).hexdigest()


def snapshot(root, original_mtimes):
    state = {}
    for rel, st in walk(root):
        p = os.path.join(root, rel)
        mode = st.st_mode & 0o7777
        if os.path.islink(p):
            state[rel] = ("link", os.readlink(p))
        elif os.path.isdir(p):
            state[rel] = ("dir", mode)
        else:
            touched = rel in original_mtimes and original_mtimes[rel] != st.st_mtime_ns
            archive = archive_digest(p)
            if archive is not None:
                state[rel] = ("archive", mode, archive, touched)
                continue
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            state[rel] = ("file", mode, st.st_size, h.hexdigest(), touched)
    repo_files = tuple(sorted((k, v) for k, v in state.items() if k == "repo" or k.startswith("repo/")))
    state["<git repo>"] = git_state(os.path.join(root, "repo"), repo_files)
    return state


def normalise(out, root, mode, cwd=""):
    here = os.path.join(root, cwd).rstrip("/")
    text = out.replace(here + "/", "").replace(here, ".").replace(root, "<tree>")
    lines = []
    for line in text.splitlines():
        line = re.sub(r"\s+", " ", line.strip())
        line = re.sub(r"(^| )\./", r"\1", line)           # ./src/x and src/x are the same path
        line = re.sub(r"(?<=[^ /])/(?= |$)", "", line)      # so are src/ and src
        if line and line not in (".", ".."):  # ls -a and find . list these; ls -A does not
            lines.append(line)
    if mode == "ordered":
        return lines
    if mode == "set":
        return sorted(set(lines))
    if mode == "count":
        m = re.search(r"-?\d+(\.\d+)?", " ".join(lines))
        return m.group(0) if m else None
    if mode == "state":
        return None
    return sorted(lines)


def state_diff(a, b, limit=6):
    keys = sorted(set(a) | set(b))
    diffs = [f"{k}: {a.get(k)!r} vs {b.get(k)!r}" for k in keys if a.get(k) != b.get(k)]
    return diffs[:limit]


def outside_paths(command, root, cwd=""):
    """Words of the command that name places outside the tree (absolute paths, ~ or .. escapes)."""
    try:
        lex = shlex.shlex(command, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        words = list(lex)
    except ValueError:
        words = command.split()
    bad = []
    for w in words:
        for cand in [w] + re.findall(r"[=:](/[^\s:]*)", w):
            if cand.startswith("~"):
                cand = root + cand[1:]
            if cand.startswith("/"):
                if cand.startswith(root) or any(cand == a.rstrip("/") or cand.startswith(a) for a in ALLOWED_ABSOLUTE):
                    continue
                first = cand.split("/")[1] if len(cand) > 1 else ""
                if cand == "/" or os.path.exists("/" + first):  # /^#/d (a sed address) is not a path
                    bad.append(w)
            elif ".." in cand.split("/"):
                if not os.path.normpath(os.path.join(root, cwd, cand)).startswith(root):
                    bad.append(w)
    return bad


def rate(binary, command, root, cwd=""):
    # Rated as if the tree were a project folder inside the home directory (a delete of the whole
    # tree is then not a delete of the home directory, which the validator blocks).
    p = subprocess.run([binary, "check-command", "--json", "--cwd", os.path.join(root, cwd), "--home",
                        os.path.dirname(root), command],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        return json.loads(p.stdout)["risk"]
    except (ValueError, KeyError):
        return "unknown"


def ask_model(binary, model, request):
    argv = [binary, "cmd", "--json", "--shell", "bash", "--os", "linux", request]
    if model:
        argv[2:2] = ["-m", model]
    t0 = time.time()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    wall = (time.time() - t0) * 1000
    if p.returncode not in (0, 3):
        return None, f"pensieve cmd exit {p.returncode}: {p.stderr.decode(errors='replace').strip()[-300:]}", wall
    j = json.loads(p.stdout)
    return j["command"], None, wall


def judge(runner, binary, req, command, ref=None):
    """(passed, why) for `command` against the request's reference (`ref`: its run, when known)."""
    probe_root = os.path.join(runner.base, "run-xxxxxxxx", "tree")
    if rate(binary, command, probe_root, req["cwd"]) == "blocked":
        return False, "blocked by the validator"
    bad = outside_paths(command, probe_root, req["cwd"])
    if bad:
        return False, f"names paths outside the tree: {bad}"
    ref = ref or runner.run(req["reference"], req["cwd"])
    got = runner.run(command, req["cwd"])
    if got["timed_out"]:
        return False, "timed out"
    if (ref["rc"] == 0) != (got["rc"] == 0):
        return False, f"exit {got['rc']} vs reference {ref['rc']}: {got['stderr'].strip()[:200]}"
    want_out = normalise(ref["stdout"], ref["root"], req["mode"], req["cwd"])
    got_out = normalise(got["stdout"], got["root"], req["mode"], req["cwd"])
    if want_out != got_out:
        return False, f"output differs: got {str(got_out)[:300]} want {str(want_out)[:300]}"
    if ref["state"] != got["state"]:
        return False, "tree differs: " + "; ".join(state_diff(got["state"], ref["state"]))
    return True, ""


def report(results, out=sys.stdout):
    cats = {}
    for r in results:
        c = cats.setdefault(r["category"], [0, 0])
        c[0] += r["passed"]
        c[1] += 1
    print(f"{'category':<12} {'passed':>7} {'total':>6} {'rate':>7}", file=out)
    for name in sorted(cats):
        p, t = cats[name]
        print(f"{name:<12} {p:>7} {t:>6} {100.0 * p / t:>6.1f}%", file=out)
    p = sum(r["passed"] for r in results)
    t = len(results)
    print(f"{'overall':<12} {p:>7} {t:>6} {100.0 * p / max(t, 1):>6.1f}%", file=out)
    return p / max(t, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="GGUF model for pensieve cmd (default: the shipped model)")
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "..", "build", "pensieve"))
    ap.add_argument("--requests", default=os.path.join(HERE, "requests.txt"))
    ap.add_argument("--category", action="append", help="only these categories")
    ap.add_argument("--limit", type=int, default=0, help="only the first N requests")
    ap.add_argument("--self-check", action="store_true", help="check the harness and the references instead")
    ap.add_argument("--min-rate", type=float, default=0.0, help="exit 1 below this pass rate (0..1)")
    ap.add_argument("--json-out", help="write every request's command and verdict here")
    ap.add_argument("--verbose", "-v", action="store_true", help="print each failure and why")
    ap.add_argument("--require-shipped-model", action="store_true",
                    help="without --model: exit 77 (skip) when the shipped model is missing, 1 under CI")
    args = ap.parse_args()

    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"eval: no pensieve binary at {binary} (build it, or --binary)")
    if args.require_shipped_model and not args.model:
        path = os.environ.get("PENSIEVE_CMD_MODEL") or os.path.join(HERE, "..", "..", "models", "pensieve-cmd.gguf")
        if not os.path.isfile(path):
            if os.environ.get("CI"):
                print(f"eval: FAILED: the shipped model {os.path.normpath(path)} is missing", file=sys.stderr)
                return 1
            print(f"skipped: the shipped model {os.path.normpath(path)} is missing")
            return 77
    reqs = load_requests(args.requests)
    if args.category:
        reqs = [r for r in reqs if r["category"] in args.category]
    if args.limit:
        reqs = reqs[:args.limit]
    isolate = sandbox_works()
    if not isolate:
        if os.environ.get("CI"):
            raise SystemExit("eval: `unshare -n -m` does not work here (CI needs the sandbox: run as root)")
        print("eval: warning: `unshare -n -m` does not work here: commands run without the network/read-only "
              "sandbox (only the validator, the path check and the time limit guard them)", file=sys.stderr)
    # Not under /dev/shm: the validator counts /dev as a system directory.
    base = tempfile.mkdtemp(prefix="pensieve-cmd-eval-")
    try:
        runner = Runner(base, isolate)
        if args.self_check:
            return self_check(runner, binary, reqs, args.verbose)
        results = []
        t0 = time.time()
        for req in reqs:
            command, err, wall = ask_model(binary, args.model, req["request"])
            if err:
                passed, why = False, err
            else:
                passed, why = judge(runner, binary, req, command)
            results.append(dict(req, command=command, passed=passed, why=why, cmd_ms=round(wall, 1)))
            if args.verbose and not passed:
                print(f"FAIL #{req['id']} [{req['category']}] {req['request']}\n  got:  {command}\n"
                      f"  want: {req['reference']}\n  why:  {why}", file=sys.stderr)
        rate_ = report(results)
        print(f"({len(results)} requests in {time.time() - t0:.0f} s; model: {args.model or 'shipped'}; "
              f"sandbox: {'unshare -n -m' if isolate else 'none'})")
        if args.json_out:
            with open(args.json_out, "w") as f:
                json.dump(results, f, indent=1)
        return 0 if rate_ >= args.min_rate else 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


def self_check(runner, binary, reqs, verbose):
    """Every reference passes against itself; doing nothing and another request's reference fail."""
    problems = 0
    by_cat = {}
    for r in reqs:
        by_cat.setdefault(r["category"], []).append(r)
    wrong_passed = 0
    for req in reqs:
        ref = runner.run(req["reference"], req["cwd"])
        ok, why = judge(runner, binary, req, req["reference"], ref)
        if not ok:
            problems += 1
            print(f"SELF-CHECK FAIL #{req['id']} (line {req['line']}) {req['reference']}: {why}")
        nothing_ok, _ = judge(runner, binary, req, "true", ref)
        if nothing_ok:
            problems += 1
            print(f"NOT DISCRIMINATIVE #{req['id']} (line {req['line']}): doing nothing passes: {req['reference']}")
        peers = by_cat[req["category"]]
        other = peers[(peers.index(req) + 1) % len(peers)]
        if other["reference"] != req["reference"]:
            wrong_ok, _ = judge(runner, binary, req, other["reference"], ref)
            if wrong_ok:
                wrong_passed += 1
                if verbose:
                    print(f"note: #{req['id']} also passes with #{other['id']}'s reference {other['reference']!r}")
    print(f"self-check: {len(reqs)} requests, {problems} problems; another request's reference passed "
          f"{wrong_passed} times (commands that do the same thing)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
