"""Tasks over files and directories: find, ls, du/df, cp/mv/rm, mkdir, touch, ln, chmod/chown, stat."""

import gen_pools as P
from gen_core import Val, q

FILE = lambda r: P.file_val(r)
PATH = lambda r: P.path_val(r)
DIR = lambda r: P.dir_val(r)
NEWDIR = lambda r: P.new_dir(r)
SIZE = P.size_val
DAYS = P.days_val
MINS = P.mins_val
NUM = lambda r: P.num_val(r)
DEPTH = lambda r: P.num_val(r, (1, 1, 2, 2, 3, 4))
USER = lambda r: P.user(r)
GROUP = lambda r: P.group(r)
MODE = lambda r: r.choice(P.MODES)

LANG_EXTS = [  # request words -> extension
    ("python", "py"), ("Python", "py"), ("javascript", "js"), ("JavaScript", "js"), ("js", "js"),
    ("typescript", "ts"), ("TypeScript", "ts"), ("go", "go"), ("Go", "go"), ("rust", "rs"), ("java", "java"),
    ("C", "c"), ("C++", "cpp"), ("header", "h"), ("ruby", "rb"), ("php", "php"), ("shell", "sh"),
    ("bash", "sh"), ("markdown", "md"), ("text", "txt"), ("log", "log"), ("csv", "csv"), ("CSV", "csv"),
    ("json", "json"), ("JSON", "json"), ("yaml", "yaml"), ("YAML", "yml"), ("html", "html"), ("HTML", "html"),
    ("css", "css"), ("xml", "xml"), ("sql", "sql"), ("pdf", "pdf"), ("PDF", "pdf"), ("jpg", "jpg"),
    ("JPEG", "jpg"), ("png", "png"), ("PNG", "png"), ("mp3", "mp3"), ("mp4", "mp4"), ("backup", "bak"),
    ("temp", "tmp"), ("config", "conf"), ("swift", "swift"), ("kotlin", "kt"), ("lua", "lua"),
    ("perl", "pl"), ("zip", "zip"), ("ini", "ini"), ("toml", "toml"), ("svg", "svg"), ("gif", "gif"),
    ("word", "docx"), ("excel", "xlsx"), ("vue", "vue"), ("scala", "scala"), ("C#", "cs"), ("sqlite", "db"),
]


def ext_val(r):
    """'.py' / 'py' / 'python' -> py (the request names an extension or a file kind)."""
    if r.random() < 0.5:
        word, ext = r.choice(LANG_EXTS)
        return Val(word, ext, kind=True)
    ext = r.choice(P.EXTS + P.CODE_EXTS)
    return Val(r.choice([f".{ext}", f".{ext}", f"*.{ext}", ext]), ext, kind=False)


def ext_dot(r):
    """An extension as written after 'ending in': '.py' -> py."""
    ext = r.choice(P.EXTS + P.CODE_EXTS)
    return Val(r.choice([f".{ext}", f".{ext}", f"*.{ext}"]), ext)


def D(s, default="."):
    return q(s) if s else default


def in_dir(r):
    """A directory slot that is sometimes absent (then the command uses '.')."""
    if r.random() < 0.45:
        return Val("", "")
    return P.dir_val(r)


# Templates mention a directory via {dloc}: a phrase like " in src" or "" when absent.
def dloc(r):
    v = in_dir(r)
    if not v.cmd:
        word = r.choice(["", "", "", " here", " in the current directory", " in this folder", " in this dir",
                         " in the current dir", " under the current directory", " recursively"])
        return Val(word, ".")
    prep = r.choice([" in ", " in ", " under ", " inside ", " within ", " in the directory ", " in the folder ",
                     " from ", " in dir "])
    return Val(prep + v.req, q(v.cmd))


TASKS = []


def T(name, reqs, cmd, **slots):
    TASKS.append(dict(name=name, reqs=reqs, cmd=cmd, slots=slots))


FILES = "[files|files|file|documents]"
ALL = "[all |all the |every |the |]"
FIND = "[find|find|locate|search for|list|show|show me|get|look for|list out]"

# ---------------------------------------------------------------- find
T("find_ext", [FIND + " " + ALL + "{e} " + FILES + "{dl}",                FIND + " " + FILES + " with [the |]extension {e}{dl}", "where are [all |]my {e} " + FILES + "{dl}",
               "{e} " + FILES + "{dl}", "recursively " + FIND + " {e} " + FILES + "{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}'", e=ext_val, dl=dloc)
T("find_ext_dot", [FIND + " " + FILES + " ending in {e}{dl}", FIND + " " + ALL + "{e} files{dl}", "{e} files{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}'", e=lambda r: ext_dot(r), dl=dloc)
T("find_name", [FIND + " [the |a |]file [named|called] {f}{dl}", "where is {f}{dl}", "where's {f}",
                FIND + " {f}{dl}", "[find|locate] [the file |]{f} [anywhere |somewhere |]{dl}"],
  lambda s, c: f"find {s.dl} -name {q(s.f)}", f=FILE, dl=dloc)
T("find_iname", [FIND + " [files|the file] named {f} ignoring case{dl}",
                 "case[-| ]insensitive [search|find] for [a |the |]file [named |called |]{f}{dl}",
                 FIND + " {f} [regardless of|ignoring] [upper/lower case|case|capitalization]{dl}"],
  lambda s, c: f"find {s.dl} -iname {q(s.f)}", f=FILE, dl=dloc)
T("find_name_contains", [FIND + " " + FILES + " [whose name contains|with|named like|with names containing|that have] {w} [in the name|in their name|]{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*{s.w}*'", w=lambda r: P.rand_word(r), dl=dloc)
T("find_big", [FIND + " " + ALL + FILES + " [bigger|larger|greater] than {sz}{dl}", FIND + " " + FILES + " over {sz}{dl}",
               FIND + " " + FILES + " [that are |]more than {sz}[ in size|]{dl}", "which files are [bigger|larger] than {sz}{dl}",
               "[big|large|huge] files [over|above|>] {sz}{dl}", FIND + " " + FILES + " exceeding {sz}{dl}",
               FIND + " " + FILES + " with size [greater than|above|over] {sz}{dl}"],
  lambda s, c: f"find {s.dl} -type f -size +{s.sz}", sz=SIZE, dl=dloc)
T("find_small", [FIND + " " + ALL + FILES + " [smaller|less] than {sz}{dl}", FIND + " " + FILES + " under {sz}{dl}",
                 FIND + " files below {sz}[ in size|]{dl}"],
  lambda s, c: f"find {s.dl} -type f -size -{s.sz}", sz=SIZE, dl=dloc)
T("find_big_ext", [FIND + " {e} files [bigger|larger] than {sz}{dl}", FIND + " {e} files over {sz}{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -size +{s.sz}", e=ext_val, sz=SIZE, dl=dloc)
T("find_mtime_recent", [FIND + " " + ALL + FILES + " [modified|changed|edited|updated|touched] in the [last|past] {d}{dl}",
                        FIND + " " + FILES + " [modified|changed] within the [last|past] {d}{dl}",
                        "[which|what] files [changed|were modified|were edited] in the [last|past] {d}{dl}",
                        "recently [modified|changed] files (last {d}){dl}", FIND + " files newer than {d}{dl}"],
  lambda s, c: f"find {s.dl} -type f -mtime -{s.d}", d=DAYS, dl=dloc)
T("find_mtime_old", [FIND + " " + ALL + FILES + " older than {d}{dl}", FIND + " " + FILES + " [not modified|not touched|untouched|unchanged] [in|for] [the last |over |more than |]{d}{dl}",
                     FIND + " " + FILES + " [last modified|modified] more than {d} ago{dl}", "stale files (older than {d}){dl}"],
  lambda s, c: f"find {s.dl} -type f -mtime +{s.d}", d=DAYS, dl=dloc)
T("find_mmin", [FIND + " " + FILES + " [modified|changed|edited] in the [last|past] {m}{dl}",
                "what [changed|was modified] in the last {m}{dl}", FIND + " files touched within {m}{dl}"],
  lambda s, c: f"find {s.dl} -type f -mmin -{s.m}", m=MINS, dl=dloc)
T("find_ext_mtime", [FIND + " " + ALL + "{e} files [modified|changed|edited|updated] in the [last|past] {d}{dl}",
                     FIND + " {e} files [changed|touched] within the last {d}{dl}", "{e} files from the [last|past] {d}{dl}",
                     "which {e} files [changed|were modified] in the last {d}{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -mtime -{s.d}", e=ext_val, d=DAYS, dl=dloc)
T("find_ext_old", [FIND + " {e} files older than {d}{dl}", FIND + " {e} files not modified in {d}{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -mtime +{s.d}", e=ext_val, d=DAYS, dl=dloc)
T("find_empty_files", [FIND + " " + ALL + "empty files{dl}", FIND + " [zero-byte|0 byte|zero size] files{dl}"],
  lambda s, c: f"find {s.dl} -type f -empty", dl=dloc)
T("find_empty_dirs", [FIND + " " + ALL + "empty [directories|folders|dirs]{dl}"],
  lambda s, c: f"find {s.dl} -type d -empty", dl=dloc)
T("del_empty_dirs", ["[delete|remove] " + ALL + "empty [directories|folders|dirs]{dl}", "clean up empty folders{dl}"],
  lambda s, c: f"find {s.dl} -type d -empty -delete", dl=dloc)
T("del_empty_files", ["[delete|remove] " + ALL + "empty files{dl}"],
  lambda s, c: f"find {s.dl} -type f -empty -delete", dl=dloc)
T("del_ext", ["[delete|remove|get rid of|clean up|erase] " + ALL + "{e} files{dl}", 
              "recursively [delete|remove] {e} files{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -delete", e=ext_val, dl=dloc)
T("del_ext_dot", ["[delete|remove] every file ending in {e}{dl}", "[delete|remove|rm] [all |]{e} files{dl} recursively"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -delete", e=lambda r: ext_dot(r), dl=dloc)
T("del_old", ["[delete|remove|purge|clean up] " + FILES + " older than {d}{dl}", "[delete|remove] files not modified in {d}{dl}"],
  lambda s, c: f"find {s.dl} -type f -mtime +{s.d} -delete", d=DAYS, dl=dloc)
T("del_ext_old", ["[delete|remove|purge] {e} files older than {d}{dl}", "clean up {e} files [more than|over] {d} old{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -mtime +{s.d} -delete", e=ext_val, d=DAYS, dl=dloc)
T("find_dirs_named", [FIND + " " + ALL + "[directories|folders|dirs] [named|called] {n}{dl}", "where are the {n} [folders|directories]{dl}"],
  lambda s, c: f"find {s.dl} -type d -name {q(s.n)}", n=lambda r: r.choice(["node_modules", "build", "__pycache__", ".git", "dist", "target", "venv", "logs", "test", "tmp", "cache", ".idea", "vendor", "src"]), dl=dloc)
T("del_dirs_named", ["[delete|remove] " + ALL + "{n} [directories|folders|dirs]{dl}", "recursively [delete|remove] every {n} folder{dl}"],
  lambda s, c: f"find {s.dl} -type d -name {q(s.n)} -prune -exec rm -rf {{}} +", n=lambda r: r.choice(["node_modules", "__pycache__", "build", "dist", ".pytest_cache", "target", ".cache"]), dl=dloc)
T("list_dirs", ["list [only |just |all |]the [directories|folders|subdirectories|dirs]{dl}", "show [only |][subfolders|directories]{dl}"],
  lambda s, c: f"find {s.dl} -type d", dl=dloc)
T("find_maxdepth", [FIND + " {e} files{dl} [at most|no more than|up to] {n} level[s|] deep", FIND + " {e} files{dl} with max depth {n}",
                    FIND + " {e} files{dl} [without going deeper than|not deeper than] {n} level[s|]"],
  lambda s, c: f"find {s.dl} -maxdepth {s.n} -type f -name '*.{s.e}'", e=ext_val, n=DEPTH, dl=dloc)
T("find_nonrec", [FIND + " {e} files{dl} [but not in subdirectories|without recursing|non-recursively|only at the top level]"],
  lambda s, c: f"find {s.dl} -maxdepth 1 -type f -name '*.{s.e}'", e=ext_val, dl=dloc)
T("count_files", ["[count|how many] " + ALL + "files [are there |]{dl}", "count the number of files{dl}", "number of files{dl}",
                  "how many files [are|]{dl}[ recursively|]"],
  lambda s, c: f"find {s.dl} -type f | wc -l", dl=dloc)
T("count_ext", ["[count|how many] {e} files [are there |do I have |]{dl}", "count the {e} files{dl}", "number of {e} files{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' | wc -l", e=ext_val, dl=dloc)
T("count_dirs", ["[count|how many] [directories|folders|subdirectories] [are there |]{dl}"],
  lambda s, c: f"find {s.dl} -mindepth 1 -type d | wc -l", dl=dloc)
T("find_user", [FIND + " " + FILES + " owned by {u}{dl}", "which files belong to [user |]{u}{dl}", FIND + " files whose owner is {u}{dl}"],
  lambda s, c: f"find {s.dl} -user {s.u}", u=USER, dl=dloc)
T("find_perm", [FIND + " " + FILES + " with permission[s|] {m}{dl}", FIND + " files [that are |]chmod {m}{dl}"],
  lambda s, c: f"find {s.dl} -type f -perm {s.m}", m=MODE, dl=dloc)
T("find_exec", [FIND + " " + ALL + "executable files{dl}", "which files are executable{dl}"],
  lambda s, c: f"find {s.dl} -type f -perm -u+x" if c.mac else f"find {s.dl} -type f -executable", dl=dloc)
T("find_symlinks", [FIND + " " + ALL + "symlinks{dl}", FIND + " [symbolic links|soft links]{dl}"],
  lambda s, c: f"find {s.dl} -type l", dl=dloc)
T("find_broken_links", [FIND + " [broken|dangling|dead] [symlinks|links|symbolic links]{dl}"],
  lambda s, c: f"find -L {s.dl} -type l" if c.mac else f"find {s.dl} -xtype l", dl=dloc)
T("find_hidden", [FIND + " " + ALL + "hidden files{dl}", FIND + " dotfiles{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '.*'", dl=dloc)
T("find_not_ext", [FIND + " " + FILES + " that are not {e} files{dl}", FIND + " all files except {e} [ones|files]{dl}",],
  lambda s, c: f"find {s.dl} -type f ! -name '*.{s.e}'", e=ext_val, dl=dloc)
T("find_two_ext", [FIND + " " + ALL + "{e} and {e2} files{dl}", FIND + " files ending in .{e} or .{e2}{dl}"],
  lambda s, c: f"find {s.dl} -type f \\( -name '*.{s.e}' -o -name '*.{s.e2}' \\)", e=lambda r: r.choice(P.CODE_EXTS), e2=lambda r: r.choice(P.EXTS), dl=dloc)
T("find_newer", [FIND + " " + FILES + " newer than {f}{dl}", FIND + " files modified after {f}{dl}",
                 "which files changed since {f} was [modified|written]{dl}"],
  lambda s, c: f"find {s.dl} -type f -newer {q(s.f)}", f=FILE, dl=dloc)
T("chmod_x_ext", ["make " + ALL + "{e} files executable{dl}", "chmod +x every {e} file{dl}", "add execute permission to all {e} files{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -exec chmod +x {{}} +", e=lambda r: r.choice([Val("sh"), Val(".sh", "sh"), Val("shell", "sh"), Val("*.sh", "sh"), Val("py"), Val("python", "py"), Val(".pl", "pl")]), dl=dloc)
T("find_copy", ["copy " + ALL + "{e} files{dl} to {t}", "find {e} files{dl} and copy them [to|into] {t}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -exec cp {{}} {q(s.t)} \\;", e=ext_val, dl=dloc, t=DIR)
T("find_move", ["move " + ALL + "{e} files{dl} [to|into] {t}", "find {e} files{dl} and move them [to|into] {t}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -exec mv {{}} {q(s.t)} \\;", e=ext_val, dl=dloc, t=DIR)
T("find_grep_files", [FIND + " {e} files{dl} [that contain|containing|which contain|that mention|with] {p}",
                      "which {e} files [contain|mention|have] {p}{dl}", "list {e} files with {p} in them{dl}"],
  lambda s, c: f"grep -rl --include='*.{s.e}' {P_sq(s.p)} {s.dl}", e=ext_val, p=lambda r: P_pattern(r), dl=dloc)
T("largest_files", [FIND + " the {n} [largest|biggest] files{dl}", "top {n} [largest|biggest] files{dl}", "what are the {n} biggest files{dl}",
                    "[largest|biggest] {n} files{dl}"],
  lambda s, c: f"find {s.dl} -type f -exec du -h {{}} + | sort -rh | head -n {s.n}", n=NUM, dl=dloc)
T("largest_file", [FIND + " the [largest|biggest] file{dl}", "what is the biggest file{dl}", "which file is the largest{dl}"],
  lambda s, c: f"find {s.dl} -type f -exec du -h {{}} + | sort -rh | head -n 1", dl=dloc)
T("recent_files", [FIND + " the {n} most recently [modified|changed|edited] files{dl}", "{n} newest files{dl}", "latest {n} files{dl}"],
  lambda s, c: f"ls -t {s.dl} | head -n {s.n}", n=NUM, dl=dloc)
T("total_size_ext", ["total size of " + ALL + "{e} files{dl}", "how much space do [the |]{e} files [take|use]{dl}",
                     "[sum|add up] the size of {e} files{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -exec du -ch {{}} + | tail -n 1", e=ext_val, dl=dloc)
T("gzip_ext", ["[gzip|compress] " + ALL + "{e} files{dl}", "gzip every {e} file{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -exec gzip {{}} +", e=ext_val, dl=dloc)


def P_pattern(r):
    p = P.pattern_word(r)
    if r.random() < 0.3:
        return Val(f"'{p}'", p)
    if r.random() < 0.2:
        return Val(f'"{p}"', p)
    return Val(p, p)


def P_sq(p):
    from gen_core import sq
    return sq(p)

SPECIAL = lambda r: r.choice([".DS_Store", "Thumbs.db", "desktop.ini", "nohup.out", "core", ".env", "Dockerfile", "Makefile",
                              "package-lock.json", "yarn.lock", ".gitignore", "README.md", "__init__.py", "*.orig", "*~", "*.swp"])
T("del_named", ["[delete|remove|get rid of|clean up] [all |every |the |]{n} files{dl}", "recursively [delete|remove] [all |every |]{n}{dl}",
                "[delete|remove] every file named {n}{dl}"],
  lambda s, c: f"find {s.dl} -type f -name {sq_name(s.n)} -delete", n=SPECIAL, dl=dloc)
T("find_named", [FIND + " [all |every |the |]{n} files{dl}", FIND + " every file named {n}{dl}", "where are [all |]the {n} files{dl}"],
  lambda s, c: f"find {s.dl} -type f -name {sq_name(s.n)}", n=SPECIAL, dl=dloc)


def sq_name(n):
    return f"'{n}'" if any(ch in n for ch in "*?~") or n.startswith(".") else q(n)
