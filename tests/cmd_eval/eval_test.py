#!/usr/bin/env python3
"""Unit tests of the cmd evaluation harness (eval.py): what it refuses to run, how it compares
outputs, and that the sandbox holds. Run by ctest (cmd_eval_unit) with the built binary in
PENSIEVE_BIN; the self-check (cmd_eval_selfcheck) covers the references themselves."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval as harness  # noqa: E402

BIN = os.environ.get("PENSIEVE_BIN", os.path.join(HERE, "..", "..", "build", "pensieve"))


class PathsOutsideTheTree(unittest.TestCase):
    ROOT = "/tmp/x/run-1/tree"

    def test_absolute_paths_outside_are_named(self):
        self.assertEqual(harness.outside_paths("cat /etc/passwd", self.ROOT), ["/etc/passwd"])
        self.assertEqual(harness.outside_paths("touch /tmp/escape", self.ROOT), ["/tmp/escape"])
        self.assertEqual(harness.outside_paths("ls /", self.ROOT), ["/"])
        self.assertEqual(harness.outside_paths("tar -xf a.tar --directory=/usr", self.ROOT), ["--directory=/usr"])

    def test_dot_dot_escapes_are_named(self):
        self.assertEqual(harness.outside_paths("rm ../../x", self.ROOT), ["../../x"])
        self.assertEqual(harness.outside_paths("cat ../tree/notes.txt", self.ROOT), [])
        self.assertEqual(harness.outside_paths("cat ../notes.txt", self.ROOT, "repo"), [])

    def test_inside_and_allowed_paths_pass(self):
        for ok in ["find . -name '*.py'", "grep x src > /dev/null", "ls ~/src", "/usr/bin/env ls",
                   "sed '/^#/d' notes.txt", "awk '/ERROR/ {print}' logs/app.log", "cat " + self.ROOT + "/notes.txt"]:
            self.assertEqual(harness.outside_paths(ok, self.ROOT), [], ok)


class Normalise(unittest.TestCase):
    def test_paths_are_made_relative_and_whitespace_collapsed(self):
        out = "/r/tree/src/a.py\n./src/b.py\nsrc/c/\n  12   total\n"
        self.assertEqual(harness.normalise(out, "/r/tree", "ordered"), ["src/a.py", "src/b.py", "src/c", "12 total"])

    def test_modes(self):
        out = "b\na\nb\n.\n..\n"
        self.assertEqual(harness.normalise(out, "/r", "lines"), ["a", "b", "b"])
        self.assertEqual(harness.normalise(out, "/r", "ordered"), ["b", "a", "b"])
        self.assertEqual(harness.normalise(out, "/r", "set"), ["a", "b"])
        self.assertEqual(harness.normalise("9 notes.txt\n", "/r", "count"), "9")
        self.assertEqual(harness.normalise("   9\n", "/r", "count"), "9")
        self.assertIsNone(harness.normalise("anything", "/r", "state"))

    def test_inside_a_subfolder_the_tree_root_is_not_mistaken_for_it(self):
        self.assertEqual(harness.normalise("/r/tree/repo/a\n/r/tree/b\n", "/r/tree", "ordered", "repo"),
                         ["a", "<tree>/b"])


class RequestFile(unittest.TestCase):
    def write(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_categories_modes_and_cwd(self):
        reqs = harness.load_requests(self.write("# c\n[find]\na :: find . :: set\n[git cwd=repo]\nb :: git log\n"))
        self.assertEqual([(r["category"], r["mode"], r["cwd"]) for r in reqs],
                         [("find", "set", ""), ("git", "lines", "repo")])

    def test_malformed_lines_are_refused(self):
        for bad in ["a :: b\n", "[x]\nno separator\n", "[x]\na :: b :: sideways\n"]:
            with self.assertRaises(SystemExit):
                harness.load_requests(self.write(bad))


@unittest.skipUnless(os.access(BIN, os.X_OK) or os.environ.get("CI"), "no pensieve binary (set PENSIEVE_BIN)")
class Judge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="pensieve-cmd-eval-test-")
        cls.runner = harness.Runner(cls.base, harness.sandbox_works())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.base, ignore_errors=True)

    def judge(self, reference, command, mode="lines", cwd=""):
        req = dict(reference=reference, mode=mode, cwd=cwd)
        return harness.judge(self.runner, os.path.abspath(BIN), req, command)

    def test_same_effect_passes_whatever_the_text(self):
        self.assertEqual(self.judge("find src -name '*.py'", "find ./src -type f -name \"*.py\""), (True, ""))
        self.assertEqual(self.judge("wc -l < notes.txt", "cat notes.txt | wc -l", "count"), (True, ""))
        self.assertEqual(self.judge("mkdir -p a/b", "mkdir a && mkdir a/b", "state"), (True, ""))

    def test_different_output_or_tree_fails(self):
        ok, why = self.judge("head -n 5 notes.txt", "head -n 4 notes.txt", "ordered")
        self.assertFalse(ok)
        self.assertIn("output differs", why)
        ok, why = self.judge("rm data/empty.txt", "rm data/words.txt", "state")
        self.assertFalse(ok)
        self.assertIn("tree differs", why)

    def test_archives_are_compared_by_what_they_hold(self):
        self.assertEqual(self.judge("zip -qr s.zip scripts", "zip -9 -qr s.zip scripts/", "state"), (True, ""))
        self.assertEqual(self.judge("tar -czf d.tar.gz docs", "tar -cf - docs | gzip -9 > d.tar.gz", "state"),
                         (True, ""))
        ok, why = self.judge("zip -qr s.zip scripts", "zip -qr s.zip scripts/deploy.sh", "state")
        self.assertFalse(ok)
        self.assertIn("s.zip", why)

    def test_blocked_and_outside_commands_do_not_run(self):
        ok, why = self.judge("ls", "rm -rf /")
        self.assertEqual((ok, why), (False, "blocked by the validator"))
        ok, why = self.judge("ls", "touch /tmp/pensieve-eval-escape && ls")
        self.assertFalse(ok)
        self.assertIn("outside the tree", why)
        self.assertFalse(os.path.exists("/tmp/pensieve-eval-escape"))

    def test_the_sandbox_has_no_network_and_a_read_only_world(self):
        if not harness.sandbox_works():
            if os.environ.get("CI"):
                self.fail("unshare -n -m does not work here (run as root)")
            self.skipTest("unshare -n -m is not available")
        # Spelled so that the static path check lets them through: the sandbox must stop them.
        got = self.runner.run('d=/; touch "${d}tmp/pensieve-eval-escape-2" 2>&1; echo rc=$?')
        self.assertIn("Read-only file system", got["stdout"])
        self.assertFalse(os.path.exists("/tmp/pensieve-eval-escape-2"))
        # Network interfaces other than loopback: none inside, some outside.
        count = "tail -n +3 /proc/net/dev | grep -vc '^ *lo:'; true"
        self.assertEqual(self.runner.run(count)["stdout"].strip(), "0")
        outside = subprocess.run(["sh", "-c", count], stdout=subprocess.PIPE, text=True).stdout
        self.assertNotEqual(outside.strip(), "0")

    def test_endless_output_is_cut_off(self):
        t0 = time.time()
        got = self.runner.run("yes")
        self.assertLess(time.time() - t0, harness.TIMEOUT_S)  # SIGXFSZ, not the time limit
        self.assertEqual(len(got["stdout"]), harness.MAX_OUTPUT)
        ok, why = self.judge("ls", "yes")
        self.assertFalse(ok)

    def test_a_command_that_runs_too_long_times_out(self):
        old = harness.TIMEOUT_S
        harness.TIMEOUT_S = 2
        try:
            ok, why = self.judge("true", "sleep 30")
        finally:
            harness.TIMEOUT_S = old
        self.assertEqual((ok, why), (False, "timed out"))


if __name__ == "__main__":
    unittest.main()
