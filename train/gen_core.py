"""Template machinery of the corpus generator: slot values, phrase expansion, request noise.

A task has request templates and a command builder. Templates use
  [a|b|c]   pick one alternative (may be empty, may nest),
  {name}    a slot value, copied verbatim into the request (never lowercased or typo'd).
A slot sampler returns either a plain string (same text in request and command) or a Val
whose request text differs from what the command needs (e.g. "100 MB" -> "+100M").
"""

import re

INNER_GROUP = re.compile(r"\[([^\[\]]*)\]")
SLOT = re.compile(r"\{(\w+)\}")
SAFE_WORD = re.compile(r"^[A-Za-z0-9_./~+@%:,=-]+$")


class Val:
    """A slot value: `req` goes in the request, `cmd` (and any extra fields) to the command."""

    def __init__(self, req, cmd=None, **extra):
        self.req = req
        self.cmd = req if cmd is None else cmd
        self.__dict__.update(extra)

    def __str__(self):
        return str(self.cmd)


class Slots:
    """Attribute access to the command side of the sampled slots (s.f, s.n, ...)."""

    def __init__(self, vals):
        self._vals = vals
        for k, v in vals.items():
            setattr(self, k, v.cmd if isinstance(v, Val) else v)

    def val(self, name):
        return self._vals[name]


class Ctx:
    """The conditioning of one example: target shell and OS, with helpers for their syntax."""

    def __init__(self, shell, os):
        self.shell = shell
        self.os = os
        self.fish = shell == "fish"
        self.mac = os == "macos"

    def sub(self, cmd):
        return f"({cmd})" if self.fish else f"$({cmd})"

    def qsub(self, cmd):
        return f"({cmd})" if self.fish else f'"$({cmd})"'

    def and_(self):
        return "; and " if self.fish else " && "

    def or_(self):
        return "; or " if self.fish else " || "

    def export(self, var, val):
        return f"set -gx {var} {val}" if self.fish else f"export {var}={val}"

    def setvar(self, var, val):
        return f"set {var} {val}" if self.fish else f"{var}={val}"

    def sed_i(self):
        return "sed -i ''" if self.mac else "sed -i"

    def loop(self, var, items, body):
        if self.fish:
            return f"for {var} in {items}; {body}; end"
        return f"for {var} in {items}; do {body}; done"


def q(s):
    """Quote a word for the shell only when it needs it (the canonical, readable form)."""
    s = str(s)
    if SAFE_WORD.match(s):
        return s
    if s.startswith("~/") and SAFE_WORD.match(s[2:].replace(" ", "_")) and " " in s:
        return "~/" + q(s[2:])
    if "'" not in s:
        return "'" + s + "'"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`") + '"'


def sq(s):
    """Always single-quote (patterns, scripts), the usual style for grep/sed/awk arguments."""
    s = str(s)
    if "'" not in s:
        return "'" + s + "'"
    return "'" + s.replace("'", "'\\''") + "'"


def expand_groups(tpl, rng):
    while True:
        m = INNER_GROUP.search(tpl)
        if not m:
            return tpl
        tpl = tpl[: m.start()] + rng.choice(m.group(1).split("|")) + tpl[m.end():]


# ------------------------------------------------------------------ request noise

KEY_NEIGHBORS = {
    "a": "sqwz", "b": "vgn", "c": "xdv", "d": "sfe", "e": "wrd", "f": "dgr", "g": "fht", "h": "gjy",
    "i": "uok", "j": "hku", "k": "jli", "l": "ko", "m": "nj", "n": "bmh", "o": "ipl", "p": "ol",
    "q": "wa", "r": "etf", "s": "adw", "t": "ryg", "u": "yij", "v": "cbf", "w": "qes", "x": "zsc",
    "y": "tuh", "z": "xa",
}


def typo(word, rng):
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:  # swap
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:  # drop
        return word[:i] + word[i + 1:]
    if kind == 2:  # double
        return word[:i] + word[i] + word[i:]
    c = word[i].lower()
    return word[:i] + rng.choice(KEY_NEIGHBORS.get(c, c)) + word[i + 1:]


def add_typos(text, rng, n):
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    for i in rng.sample(idx, min(n, len(idx))):
        words[i] = typo(words[i], rng)
    return " ".join(words)


PREFIXES = [
    ("", 30), ("please ", 4), ("can you ", 3), ("could you ", 2), ("can u ", 1), ("pls ", 1),
    ("how do i ", 5), ("how do I ", 3), ("how can i ", 2), ("how to ", 4), ("how would I ", 1),
    ("i want to ", 3), ("I want to ", 2), ("i need to ", 3), ("I'd like to ", 1), ("help me ", 1),
    ("command to ", 2), ("what's the command to ", 2), ("what is the command to ", 1),
    ("shell command to ", 1), ("give me a command to ", 1), ("show me how to ", 1), ("cmd to ", 1),
    ("is there a way to ", 1), ("what command will ", 1), ("bash: ", 1), ("linux: ", 1),
    ("quick question: how do i ", 1), ("hey, ", 1), ("ok so ", 1), ("now ", 1), ("just ", 1),
    ("i wanna ", 1), ("let's ", 1), ("one-liner to ", 1), ("terminal command to ", 1),
]
QUESTION_TEMPLATES = ("where", "what", "which", "how", "is ", "am i", "who", "when", "why", "do i", "does", "are ")
QUESTION_PREFIXES = ("how ", "what", "can ", "could ", "is there", "quick question")
SUFFIXES = [
    ("", 40), (" please", 3), (" thanks", 2), (" thx", 1), (" for me", 2), (" pls", 1),
    (" in the terminal", 1), (" from the command line", 1), (" using the shell", 1), (" quickly", 1),
    (" real quick", 1), (", thanks!", 1), (" (one command)", 1), (" in one line", 1), (" asap", 1),
]


def weighted(rng, items):
    total = sum(w for _, w in items)
    r = rng.random() * total
    for v, w in items:
        r -= w
        if r < 0:
            return v
    return items[-1][0]


def render_request(tpl, vals, rng, style):
    """Fill a template (groups already expanded) with slot values, noising only the literal text."""
    is_question = tpl.lower().startswith(QUESTION_TEMPLATES)
    pre = weighted(rng, PREFIXES) if style.get("prefix", True) and not is_question else ""
    suf = weighted(rng, SUFFIXES) if style.get("suffix", True) else ""
    question = is_question or pre.lower().startswith(QUESTION_PREFIXES)
    parts = SLOT.split(pre + tpl + suf)  # even: literal text, odd: slot names
    lower = rng.random() < 0.35
    n_typos = 0
    r = rng.random()
    if r < 0.12:
        n_typos = 1
    elif r < 0.16:
        n_typos = 2
    out = []
    for i, p in enumerate(parts):
        if i % 2 == 1:
            v = vals[p]
            out.append(v.req if isinstance(v, Val) else str(v))
            continue
        if lower:
            p = p.lower()
        if n_typos:
            p = add_typos(p, rng, n_typos)
        out.append(p)
    text = "".join(out)
    text = re.sub(r"  +", " ", text).strip()
    if not text:
        return text
    if not lower and rng.random() < 0.5 and text[0].isalpha() and text[0].islower() and not parts[0] == "":
        text = text[0].upper() + text[1:]
    end = rng.random()
    if question and end < 0.6 and not text.endswith(("?", "!", ".")):
        text += "?"
    elif not question and end < 0.15 and not text.endswith(("?", "!", ".")):
        text += "."
    return text
