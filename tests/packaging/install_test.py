"""`cmake --install` into temporary prefixes: every file where it belongs, the installed binary
runs, the systemd unit passes `systemd-analyze verify` and its ExecStart line (with the example
settings file) really serves; the Dockerfile installs only packages scripts/setup.sh installs and
its runtime stage has every shared library the binary links.

Run by ctest (packaging_install) with PENSIEVE_BUILD_DIR, PENSIEVE_SOURCE_DIR and
PENSIEVE_SHARED_DIR set. A missing prerequisite skips, or fails when CI is set."""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

BUILD = os.environ.get("PENSIEVE_BUILD_DIR", "")
SOURCE = os.environ.get("PENSIEVE_SOURCE_DIR", "")
SHARED = os.environ.get("PENSIEVE_SHARED_DIR", "")
IN_CI = os.environ.get("CI", "") not in ("", "0", "false")
# What debian:bookworm-slim already has: the runtime stage need not install these.
SLIM_BASE = {"libc6", "libstdc++6", "libgcc-s1"}
COMPLETIONS = {"bash": "share/bash-completion/completions/pensieve",
               "zsh": "share/zsh/site-functions/_pensieve",
               "fish": "share/fish/vendor_completions.d/pensieve.fish"}


def need(condition, why):
    if condition:
        return
    if IN_CI:
        raise AssertionError("%s (CI is set: nothing may skip)" % why)
    raise unittest.SkipTest("SKIP: " + why)


def install(prefix, destdir=None):
    env = dict(os.environ)
    env.pop("DESTDIR", None)
    if destdir:
        env["DESTDIR"] = destdir
    p = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def files_under(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def unit_settings(unit_text):
    """(Environment defaults, EnvironmentFile path, ExecStart, KillSignal) of a unit file."""
    env, env_file, exec_start, kill = {}, None, None, None
    for line in unit_text.splitlines():
        if line.startswith("Environment="):
            for word in shlex.split(line[len("Environment="):]):
                k, _, v = word.partition("=")
                env[k] = v
        elif line.startswith("EnvironmentFile="):
            env_file = line.split("=", 1)[1]
        elif line.startswith("ExecStart="):
            exec_start = line.split("=", 1)[1]
        elif line.startswith("KillSignal="):
            kill = line.split("=", 1)[1]
    return env, env_file, exec_start, kill


def read_env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                env[k] = v
    return env


def expand_exec(exec_start, env):
    """systemd's rules: ${VAR} is one word, $VAR splits on whitespace."""
    words = []
    for word in exec_start.split():
        m = re.fullmatch(r"\$\{(\w+)\}", word)
        if m:
            words.append(env.get(m.group(1), ""))
            continue
        m = re.fullmatch(r"\$(\w+)", word)
        if m:
            words.extend(env.get(m.group(1), "").split())
            continue
        words.append(word)
    return words


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.headers, r.read()


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need(BUILD and os.path.isfile(os.path.join(BUILD, "cmake_install.cmake")), "PENSIEVE_BUILD_DIR not set (run through ctest)")
        cls.tmp = tempfile.mkdtemp(prefix="pensieve-install-")
        cls.prefix = os.path.join(cls.tmp, "usr")
        cls.log = install(cls.prefix)
        # Whether this build's binary generates completions (another part of the CLI adds them).
        cls.completions = {}
        for shell in COMPLETIONS:
            p = subprocess.run([os.path.join(BUILD, "pensieve"), "completions", shell], capture_output=True, text=True)
            if p.returncode == 0 and p.stdout:
                cls.completions[shell] = p.stdout

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_files_land_where_they_belong(self):
        expected = {"bin/pensieve", "share/doc/pensieve/README.md", "share/doc/pensieve/examples/pensieve.env",
                    "share/doc/pensieve/examples/Dockerfile", "lib/systemd/system/pensieve.service"}
        expected |= {COMPLETIONS[s] for s in self.completions}
        # The shipped model, where the installed `pensieve cmd` finds it (in the repository since issue 11).
        if os.path.exists(os.path.join(SOURCE, "models/pensieve-cmd.gguf")):
            expected.add("share/pensieve/models/pensieve-cmd.gguf")
        self.assertEqual(files_under(self.prefix), expected, self.log)
        self.assertTrue(os.access(os.path.join(self.prefix, "bin/pensieve"), os.X_OK))
        for shell, text in self.completions.items():
            with open(os.path.join(self.prefix, COMPLETIONS[shell])) as f:
                self.assertEqual(f.read(), text)
        for shell in set(COMPLETIONS) - set(self.completions):
            self.assertIn("no %s completion installed" % shell, self.log)
        with open(os.path.join(SOURCE, "README.md")) as a, open(os.path.join(self.prefix, "share/doc/pensieve/README.md")) as b:
            self.assertEqual(a.read(), b.read())

    def test_installed_binary_runs(self):
        p = subprocess.run([os.path.join(self.prefix, "bin/pensieve"), "--version"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("pensieve "), p.stdout)

    def test_unit_names_the_installed_binary_and_verifies(self):
        with open(os.path.join(self.prefix, "lib/systemd/system/pensieve.service")) as f:
            unit = f.read()
        self.assertNotIn("@", unit.replace("@PENSIEVE", ""), "every @VAR@ is configured")
        _, env_file, exec_start, _ = unit_settings(unit)
        self.assertEqual(env_file, "/etc/default/pensieve")
        self.assertTrue(exec_start.startswith(os.path.join(self.prefix, "bin/pensieve") + " serve "), exec_start)
        self.assertIn("Documentation=file://%s/share/doc/pensieve/README.md" % self.prefix, unit)
        analyze = shutil.which("systemd-analyze")
        need(analyze, "systemd-analyze not found (scripts/setup.sh installs systemd)")
        p = subprocess.run([analyze, "verify", os.path.join(self.prefix, "lib/systemd/system/pensieve.service")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # No warnings either (an unknown or misspelt key is only a warning there).
        self.assertEqual([l for l in p.stderr.splitlines() if "pensieve.service" in l], [], p.stderr)

    def test_unit_command_line_serves_with_the_example_settings(self):
        need(os.path.isfile(os.path.join(SHARED, "fixtures/models/stories260K.gguf")), "fixtures not found at %s" % SHARED)
        with open(os.path.join(self.prefix, "lib/systemd/system/pensieve.service")) as f:
            env, _, exec_start, kill = unit_settings(f.read())
        env.update(read_env_file(os.path.join(self.prefix, "share/doc/pensieve/examples/pensieve.env")))
        self.assertEqual(env["PENSIEVE_HOST"], "127.0.0.1")
        env["PENSIEVE_MODEL"] = os.path.join(SHARED, "fixtures/models/stories260K.gguf")
        env["PENSIEVE_PORT"] = "0"  # a free port
        argv = expand_exec(exec_start, env)
        log_path = os.path.join(self.tmp, "service.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 30
            url = None
            while url is None and time.monotonic() < deadline and proc.poll() is None:
                with open(log_path) as f:
                    m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", f.read())
                url = m.group(1) if m else None
                time.sleep(0.05)
            if url is None:
                with open(log_path) as f:
                    self.fail("the service did not start: " + f.read())
            status = 0
            while status != 200 and time.monotonic() < deadline:
                try:
                    status = get(url + "/health")[0]
                except OSError:
                    time.sleep(0.05)
            self.assertEqual(status, 200)
            status, headers, body = get(url + "/")
            self.assertEqual(status, 200)
            self.assertIn(b"<title>pensieve</title>", body)
        finally:
            proc.send_signal(getattr(signal, kill or "SIGTERM"))
            rc = proc.wait(20)
        self.assertEqual(rc, 0)
        with open(log_path) as f:
            lines = [json.loads(l) for l in f.read().splitlines()]  # --log-format json: all JSON
        ready = [l for l in lines if l.get("event") == "ready"]
        self.assertEqual(len(ready), 1, lines)
        self.assertEqual(ready[0]["parallel"], 4)  # PENSIEVE_ARGS of the example file


class InstallWithDestdir(unittest.TestCase):
    def test_staged_install_keeps_the_final_paths(self):
        need(BUILD and os.path.isfile(os.path.join(BUILD, "cmake_install.cmake")), "PENSIEVE_BUILD_DIR not set (run through ctest)")
        tmp = tempfile.mkdtemp(prefix="pensieve-destdir-")
        try:
            install("/usr/local", destdir=tmp)
            files = files_under(tmp)
            self.assertIn("usr/local/bin/pensieve", files)
            self.assertIn("usr/local/lib/systemd/system/pensieve.service", files)
            with open(os.path.join(tmp, "usr/local/lib/systemd/system/pensieve.service")) as f:
                _, _, exec_start, _ = unit_settings(f.read())
            self.assertTrue(exec_start.startswith("/usr/local/bin/pensieve serve "), exec_start)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def setup_sh_packages():
    with open(os.path.join(SOURCE, "scripts/setup.sh")) as f:
        text = f.read()
    block = text[text.index("PACKAGES=(") + len("PACKAGES=("):]
    block = block[:block.index("\n)")]
    return {w for line in block.splitlines() for w in line.split("#")[0].split()}


def dockerfile_stages():
    """Packages apt-get installs in each stage, in order."""
    with open(os.path.join(SOURCE, "packaging/Dockerfile")) as f:
        text = f.read().replace("\\\n", " ")
    stages = []
    for line in text.splitlines():
        if line.startswith("FROM "):
            stages.append(set())
        m = re.search(r"apt-get install ([^&]*)", line)
        if m:
            stages[-1] |= {w for w in m.group(1).split() if not w.startswith("-")}
    return text, stages


class Dockerfile(unittest.TestCase):
    def test_builds_from_the_packages_setup_sh_installs(self):
        need(SOURCE, "PENSIEVE_SOURCE_DIR not set (run through ctest)")
        text, stages = dockerfile_stages()
        self.assertEqual(len(stages), 2)
        self.assertTrue(stages[0])
        self.assertEqual(stages[0] - setup_sh_packages(), set())
        # Everything it copies exists.
        for m in re.finditer(r"^COPY (?!--from)(.*) \S+$", text, re.M):
            for path in m.group(1).split():
                self.assertTrue(os.path.exists(os.path.join(SOURCE, path)), path)
        # The flags of its entry point are serve's.
        entry = json.loads(re.search(r"^ENTRYPOINT (.*)$", text, re.M).group(1))
        self.assertEqual(entry[:2], ["/usr/local/bin/pensieve", "serve"])
        need(BUILD, "PENSIEVE_BUILD_DIR not set (run through ctest)")
        help_text = subprocess.run([os.path.join(BUILD, "pensieve"), "serve", "--help"], capture_output=True,
                                   text=True).stdout
        for flag in entry[2:]:
            if flag.startswith("--"):
                self.assertIn(flag, help_text)

    def test_runtime_stage_has_every_library_the_binary_links(self):
        need(BUILD and SOURCE, "PENSIEVE_BUILD_DIR / PENSIEVE_SOURCE_DIR not set (run through ctest)")
        need(shutil.which("ldd") and shutil.which("dpkg"), "ldd/dpkg not found")
        _, stages = dockerfile_stages()
        ldd = subprocess.run(["ldd", os.path.join(BUILD, "pensieve")], capture_output=True, text=True).stdout
        # The libraries the binary itself names (NEEDED); apt installs what those depend on.
        need(shutil.which("readelf"), "readelf not found")
        dynamic = subprocess.run(["readelf", "-d", os.path.join(BUILD, "pensieve")], capture_output=True, text=True).stdout
        needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic))
        checked = 0
        for m in re.finditer(r"^\s*(\S+) => (/\S+)", ldd, re.M):
            if m.group(1) not in needed:
                continue
            path = m.group(2)
            if re.search(r"/libcuda|/libcudart|/libcublas", path):
                continue  # this build's CUDA runtime; the image is built with PENSIEVE_CUDA=OFF
            owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            if owner.returncode != 0:  # /lib -> /usr/lib (merged /usr): ask for the other spelling
                other = path[4:] if path.startswith("/usr/") else "/usr" + path
                owner = subprocess.run(["dpkg", "-S", other], capture_output=True, text=True)
            self.assertEqual(owner.returncode, 0, path + owner.stderr)
            package = owner.stdout.split(":")[0]
            self.assertIn(package, stages[1] | SLIM_BASE, path)
            checked += 1
        self.assertGreaterEqual(checked, 3, ldd)


if __name__ == "__main__":
    unittest.main(verbosity=2)
