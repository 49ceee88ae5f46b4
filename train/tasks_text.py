"""Tasks over text: grep, sed, awk, cut, sort/uniq, wc, head/tail, cat, tr, diff, jq, xargs, split."""

import gen_pools as P
from gen_core import Val, q, sq
from tasks_files import FILE, PATH, DIR, NUM, ext_val, dloc

TASKS = []


def T(name, reqs, cmd, weight=1.0, **slots):
    TASKS.append(dict(name=name, reqs=reqs, cmd=cmd, slots=slots, weight=weight))


def pat(r):
    p = P.pattern_word(r)
    x = r.random()
    if x < 0.3 or " " in p and x < 0.6:
        return Val(f"'{p}'", p)
    if x < 0.45:
        return Val(f'"{p}"', p)
    return Val(p, p)


def word(r):
    p = r.choice([w for w in P.PATTERNS if " " not in w and w.isalnum()]) if r.random() < 0.5 else P.rand_word(r)
    return Val(p, p)


TXT = lambda r: P.file_val(r, r.choice(P.TEXT_EXTS + ["log", "log", "txt", "py", "conf"]))
LOG = lambda r: P.file_val(r, r.choice(["log", "log", "txt", "out"]))
CSV = lambda r: P.file_val(r, r.choice(["csv", "csv", "tsv", "txt", "dat"]))
_LAST = {}


def OLDNEW(r):
    """The old word; NEW (sampled right after it) is its replacement."""
    p = P.old_new(r)
    _LAST["new"] = p[1]
    if r.random() < 0.2:
        return Val(f"'{p[0]}'", p[0], new=p[1])
    return Val(p[0], p[0], new=p[1])


def NEW(r):
    return _LAST["new"]


ORDS = {1: ["first", "1st"], 2: ["second", "2nd"], 3: ["third", "3rd"], 4: ["fourth", "4th"], 5: ["fifth", "5th"], 6: ["sixth", "6th"]}


def ORD(r):
    k = r.choice([1, 2, 2, 3, 3, 4, 5, 6])
    return Val(r.choice(ORDS[k]), str(k))
COL = lambda r: P.num_val(r, (1, 2, 2, 3, 3, 4, 5, 6))
LINES = lambda r: P.num_val(r, (5, 10, 10, 20, 50, 100, 1, 3, 15, 200, 25, 30, 500, 1000))
IN = "[in|inside|within|from]"
SEARCH = "[search for|search|look for|find|grep for|grep|find lines with|show lines containing|show lines with]"

# ---------------------------------------------------------------- grep
T("grep_file", [SEARCH + " {p} " + IN + " {f}", "[which|what] lines [in|of] {f} [contain|mention|have] {p}", "grep {p} {f}",
                "does {f} contain {p}", "[print|show] [all |]lines [in|of] {f} [that contain|containing|matching|with] {p}"],
  lambda s, c: f"grep {sq(s.p)} {q(s.f)}", p=pat, f=TXT)
T("grep_i", [SEARCH + " {p} " + IN + " {f} [ignoring case|case-insensitively|case insensitive|regardless of case]",
             SEARCH + " the word {p} in {f} [ignoring case|case-insensitively]", "[in|inside] {f}, " + SEARCH + " {p} [ignoring case|in any case]",
             "case[-| ]insensitive [search|grep] for {p} in {f}"],
  lambda s, c: f"grep -i {sq(s.p)} {q(s.f)}", p=pat, f=TXT)
T("grep_r", [SEARCH + " {p} [in all files |in every file |recursively |across all files |]{dl}", "recursively " + SEARCH + " {p}{dl}",
             "[which|what] files [contain|mention|reference] {p}[ and where|]{dl}", "grep -r {p}{dl}", "find [the text |the string |]{p} in [all |]files{dl}"],
  lambda s, c: f"grep -r {sq(s.p)} {s.dl}", p=pat, dl=dloc)
T("grep_rn", [SEARCH + " {p} recursively{dl} with line numbers", "[show|find] every [occurrence|line] of {p}{dl} with [file names and |]line numbers"],
  lambda s, c: f"grep -rn {sq(s.p)} {s.dl}", p=pat, dl=dloc)
T("grep_ri", ["[recursively |]" + SEARCH + " {p}{dl} [ignoring case|case-insensitively]"],
  lambda s, c: f"grep -ri {sq(s.p)} {s.dl}", p=pat, dl=dloc)
T("grep_l", ["[list|show|which are] [the |only the |]files [that contain|containing|mentioning|with] {p}{dl}", "only [print|show] [the |]file names [that|which] [contain|match] {p}{dl}",
             "which files [mention|contain|have] {p}{dl}", "which files{dl} [mention|contain|reference|use] {p}", "[list|show] files{dl} [that mention|containing|with] {p}"],
  lambda s, c: f"grep -rl {sq(s.p)} {s.dl}", p=pat, dl=dloc)
T("grep_L", ["[list|show] files [that do not|that don't|which don't|not] contain[ing|] {p}{dl}", "which files are missing {p}{dl}"],
  lambda s, c: f"grep -rL {sq(s.p)} {s.dl}", p=pat, dl=dloc, weight=0.5)
T("grep_incl", [SEARCH + " {p} [in|only in|across] [all |]{e} files{dl}", "grep {p} in {e} files{dl}", "[which|where do] {e} files [contain|mention|use] {p}{dl}"],
  lambda s, c: f"grep -r --include='*.{s.e}' {sq(s.p)} {s.dl}", p=pat, e=ext_val, dl=dloc)
T("grep_excl_ext", [SEARCH + " {p}{dl} [but skip|excluding|ignoring|except] [the |]{e} files", "grep {p}{dl} [except in|but not in] {e} files"],
  lambda s, c: f"grep -r --exclude='*.{s.e}' {sq(s.p)} {s.dl}", p=pat, e=ext_val, dl=dloc)
T("grep_rc", ["count [the |]{p} [lines|matches] in each {e} file{dl}", "how many [lines with |times ]{p} [per|in each] {e} file{dl}"],
  lambda s, c: f"grep -rc --include='*.{s.e}' {sq(s.p)} {s.dl}", p=pat, e=ext_val, dl=dloc, weight=0.5)
T("grep_L_ext", ["[list|which] {e} files{dl} [do not|don't] contain {p}", "{e} files{dl} without {p} in them"],
  lambda s, c: f"grep -rL --include='*.{s.e}' {sq(s.p)} {s.dl}", p=pat, e=ext_val, dl=dloc, weight=0.6)
T("grep_excl_dir", [SEARCH + " {p}{dl} [but skip|excluding|ignoring|except] [the |]{x}[ folder| directory|]"],
  lambda s, c: f"grep -r --exclude-dir={s.x} {sq(s.p)} {s.dl}", p=pat, dl=dloc, x=lambda r: r.choice(["node_modules", ".git", "build", "vendor", "dist", "venv", "target"]))
T("grep_n", [SEARCH + " {p} in {f} [with|and show] line numbers", "[on|at] which line[s|] [does|is] {p} [appear |]in {f}", "line numbers of {p} in {f}"],
  lambda s, c: f"grep -n {sq(s.p)} {q(s.f)}", p=pat, f=TXT)
T("grep_c", ["[count|how many] lines [in {f} |]contain {p}[ in {f}|]", "count [the |]lines [matching|with] {p} in {f}",
             "how many times does {p} appear in {f}", "number of lines with {p} in {f}"],
  lambda s, c: f"grep -c {sq(s.p)} {q(s.f)}", p=pat, f=TXT)
T("grep_c2", ["how many lines [of|in] {f} [say|mention|contain|have|include] {p}", "in {f}, how many lines [mention|contain] {p}"],
  lambda s, c: f"grep -c {sq(s.p)} {q(s.f)}", p=pat, f=TXT)
T("grep_show", ["[show|print|display] the lines [of|in] {f} [about|mentioning|that mention|with] {p}", "[show|find] {p} in {f}",
                "is {p} [mentioned|in] {f}? show the line[s|]", "[show|print] the {p} [line|lines|setting|entry] [in|from] {f}"],
  lambda s, c: f"grep {sq(s.p)} {q(s.f)}", p=pat, f=TXT)
T("grep_count_occ", ["count [all |total |]occurrences of [the word |]{p} in {f}[ (not lines)| even several per line|]", "how many times does {p} occur in {f} in total"],
  lambda s, c: f"grep -o {sq(s.p)} {q(s.f)} | wc -l", p=pat, f=TXT, weight=0.6)
T("grep_v", ["[show|print] [all |the |]lines [in|of|from] {f} that [don't|do not] [contain|have|match] {p}", "[exclude|filter out|remove|hide] lines [with|containing|matching] {p} [from|in] {f}",
             "grep -v {p} {f}", "everything in {f} except lines with {p}"],
  lambda s, c: f"grep -v {sq(s.p)} {q(s.f)}", p=pat, f=TXT)
T("grep_w", [SEARCH + " the [whole |exact |]word {p} in {f}", "match {p} as a whole word in {f}"],
  lambda s, c: f"grep -w {sq(s.p)} {q(s.f)}", p=word, f=TXT)
T("grep_ctx", [SEARCH + " {p} in {f} [with|and show] {n} lines [of context|around each match|before and after]"],
  lambda s, c: f"grep -C {s.n} {sq(s.p)} {q(s.f)}", p=pat, f=TXT, n=lambda r: P.num_val(r, (1, 2, 3, 5, 10)))
T("grep_after", [SEARCH + " {p} in {f} and show {n} lines after [each match|it]", "[print|show] {n} lines after {p} in {f}"],
  lambda s, c: f"grep -A {s.n} {sq(s.p)} {q(s.f)}", p=pat, f=TXT, n=lambda r: P.num_val(r, (1, 2, 3, 5, 10)))
T("grep_before", [SEARCH + " {p} in {f} and show {n} lines before [each match|it]"],
  lambda s, c: f"grep -B {s.n} {sq(s.p)} {q(s.f)}", p=pat, f=TXT, n=lambda r: P.num_val(r, (1, 2, 3, 5)))
T("grep_or", [SEARCH + " {a} or {b} in {f}", "lines [in {f} |]containing either {a} or {b}[ in {f}|]", "grep for {a} and {b} in {f}"],
  lambda s, c: f"grep -E {sq(s.a + '|' + s.b)} {q(s.f)}", a=word, b=word, f=TXT)
T("grep_and", ["lines in {f} [that contain|with] both {a} and {b}", "show lines of {f} with {a} and also {b}"],
  lambda s, c: f"grep {sq(s.a)} {q(s.f)} | grep {sq(s.b)}", a=word, b=word, f=TXT, weight=0.5)
T("grep_start", ["[show|find|print] lines [in|of] {f} [that start|starting|beginning] with {p}", "lines beginning with {p} in {f}"],
  lambda s, c: f"grep {sq('^' + s.p)} {q(s.f)}", p=word, f=TXT)
T("grep_end", ["[show|find|print] lines [in|of] {f} [that end|ending] with {p}"],
  lambda s, c: f"grep {sq(s.p + '$')} {q(s.f)}", p=word, f=TXT, weight=0.5)
T("grep_F", [SEARCH + " the [literal|exact|fixed] string {p} in {f}", "search {f} for {p} literally[ (no regex)|]"],
  lambda s, c: f"grep -F {sq(s.p)} {q(s.f)}", p=lambda r: r.choice([Val("'a.b'", "a.b"), Val("[ERROR]"), Val("'*.txt'", "*.txt"), Val("$HOME"), Val("1+1"), Val("(foo)"), Val("?")]), f=TXT, weight=0.5)
T("grep_ip", ["[extract|list|find|pull out] [all |]ip addresses [from|in] {f}", "get every IP [address |]in {f}"],
  lambda s, c: f"grep -oE '[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+' {q(s.f)}", f=LOG, weight=0.6)
T("grep_email", ["[extract|list|find] [all |]email addresses [from|in] {f}"],
  lambda s, c: f"grep -oE '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]+' {q(s.f)}", f=TXT, weight=0.4)
T("grep_empty", ["[remove|delete|strip|drop] [all |]empty lines from {f}[ and print the rest|]", "show {f} without [the |]blank lines"],
  lambda s, c: f"grep -v '^$' {q(s.f)}", f=TXT)
T("grep_comments", ["show {f} without [the |]comments", "[strip|hide] comment lines [in|from] {f}", "print non-comment lines of {f}"],
  lambda s, c: f"grep -v '^#' {q(s.f)}", f=lambda r: P.file_val(r, r.choice(["conf", "sh", "ini", "cfg", "yaml", "env"])), weight=0.6)
T("grep_ps", ["is {p} running", "check if {p} is running", "[find|show] the {p} process[es|]"],
  lambda s, c: f"pgrep -fl {s.p}" if c.mac else f"pgrep -a {s.p}", p=P.proc_val)

# ---------------------------------------------------------------- sed
T("sed_inplace", ["replace [all occurrences of |every |each |]{o} with {n} in {f}", "change [every |all |]{o} to {n} in {f}", "substitute {o} [with|by] {n} in {f}",
                  "in {f}, replace {o} with {n}", "swap {o} for {n} [in|throughout] {f}", "find and replace {o} with {n} in {f}",
                  "sed replace {o} by {n} in {f}", "[rename|update] {o} to {n} everywhere in {f}"],
  lambda s, c: f"{c.sed_i()} {sq('s/' + s.o + '/' + s.val('o').new + '/g')} {q(s.f)}", o=OLDNEW, n=NEW, f=TXT)
T("sed_stdout", ["[print|show] {f} with {o} replaced by {n}[ without changing the file| (don't modify the file)|]",
                 "replace {o} with {n} in {f} [but just print|and print|but output] the result[ to stdout|]"],
  lambda s, c: f"sed {sq('s/' + s.o + '/' + s.val('o').new + '/g')} {q(s.f)}", o=OLDNEW, n=NEW, f=TXT)
T("sed_first", ["replace [only |just |]the first {o} [on|in] each line with {n} in {f}"],
  lambda s, c: f"{c.sed_i()} {sq('s/' + s.o + '/' + s.val('o').new + '/')} {q(s.f)}", o=OLDNEW, n=NEW, f=TXT, weight=0.4)
T("sed_backup", ["replace {o} with {n} in {f} [and keep a backup|but keep a .bak copy|saving a backup]"],
  lambda s, c: f"sed -i.bak {sq('s/' + s.o + '/' + s.val('o').new + '/g')} {q(s.f)}", o=OLDNEW, n=NEW, f=TXT, weight=0.5)
T("sed_all_files", ["replace {o} with {n} in [all|every] {e} file[s|]{dl}", "change {o} to {n} across all {e} files{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -exec {c.sed_i()} {sq('s/' + s.o + '/' + s.val('o').new + '/g')} {{}} +",
  o=OLDNEW, n=NEW, e=ext_val, dl=dloc)
T("sed_del_match", ["[delete|remove] [all |every |]lines [containing|with|matching|that contain] {p} [from|in] {f}", "[remove|strip] the {p} lines from {f}"],
  lambda s, c: f"{c.sed_i()} {sq('/' + s.p + '/d')} {q(s.f)}", p=word, f=TXT)
T("sed_del_line", ["[delete|remove] line {n} [from|of|in] {f}", "[drop|remove] line number {n} of {f}"],
  lambda s, c: f"{c.sed_i()} '{s.n}d' {q(s.f)}", n=lambda r: str(r.choice([2, 3, 5, 10, 12, 42, 100, 7])), f=TXT)
T("sed_del_first", ["[delete|remove] the first line [of|from] {f}", "drop the header line from {f}"],
  lambda s, c: f"{c.sed_i()} '1d' {q(s.f)}", f=CSV)
T("sed_del_last", ["[delete|remove] the last line [of|from] {f}"], lambda s, c: f"{c.sed_i()} '$d' {q(s.f)}", f=TXT, weight=0.5)
T("sed_range", ["[print|show|display] lines {a} to {b} [of|from] {f}", "[show|get] lines {a}-{b} [of|in] {f}", "lines {a} through {b} of {f}"],
  lambda s, c: f"sed -n '{s.a},{s.b}p' {q(s.f)}", a=lambda r: str(r.choice([1, 2, 5, 10, 20, 50, 100])), b=lambda r: str(r.choice([120, 150, 200, 250, 300, 400])), f=TXT)
T("sed_line", ["[print|show|display|get] [only |just |]line {n} [of|from] {f}", "what is on line {n} of {f}"],
  lambda s, c: f"sed -n '{s.n}p' {q(s.f)}", n=lambda r: str(r.choice([1, 2, 3, 5, 7, 10, 12, 25, 42, 100, 250])), f=TXT)
T("sed_blank", ["[delete|remove] [all |the |][empty|blank] lines [from|in] {f}[ in place|]"],
  lambda s, c: f"{c.sed_i()} '/^$/d' {q(s.f)}", f=TXT)
T("sed_trailing", ["[remove|strip|delete|trim] trailing [whitespace|spaces] [from|in] {f}"],
  lambda s, c: f"{c.sed_i()} 's/[[:space:]]*$//' {q(s.f)}", f=TXT)
T("sed_prepend", ["[add|insert] [the line |a line |]{t} at the [top|beginning|start] of {f}", "prepend {t} to {f}"],
  lambda s, c: None if c.mac else f"sed -i {sq('1i ' + s.t)} {q(s.f)}", t=lambda r: r.choice(["#!/bin/bash", "# header", "id,name,email", "TODO", "---"]), f=TXT, weight=0.5)
T("crlf", ["convert {f} from [windows|dos|CRLF] [line endings |]to [unix|LF][ line endings|]", "remove [carriage returns|\\r|^M characters] from {f}", "dos2unix {f}"],
  lambda s, c: f"{c.sed_i()} 's/\\r$//' {q(s.f)}", f=TXT, weight=0.6)

# ---------------------------------------------------------------- append / write
T("append", ["append {t} to {f}", "add [the line |a line |]{t} [to the end of|at the end of|to] {f}", "write {t} at the bottom of {f}"],
  lambda s, c: f"echo {sq(s.t)} >> {q(s.f)}", t=lambda r: r.choice(["hello world", "export PATH=$PATH:~/bin", "done", "node_modules/", "*.log", "127.0.0.1 myapp.local", "alias ll='ls -la'", "DEBUG=1", "new line"]), f=TXT)
T("write", ["write {t} [to|into] {f}[ (overwrite it)|]", "[create|make] {f} containing {t}", "put [the text |]{t} in[to|] {f}"],
  lambda s, c: f"echo {sq(s.t)} > {q(s.f)}", t=lambda r: r.choice(["hello world", "test", "hello", "1.0.0", "OK", "hello from the shell", "foo bar"]), f=TXT)
T("gitignore_add", ["add {t} to [the |].gitignore", "ignore {t} in git", "make git ignore {t}"],
  lambda s, c: f"echo {sq(s.t)} >> .gitignore", t=lambda r: r.choice(["node_modules/", "*.log", ".env", "build/", "dist/", "__pycache__/", ".DS_Store", "*.pyc", "venv/", "target/"]))
T("truncate", ["[empty|clear|truncate|wipe the contents of] {f}[ without deleting it|]", "make {f} empty"],
  lambda s, c: f"> {q(s.f)}" if c.shell != "fish" else f"truncate -s 0 {q(s.f)}", f=LOG)

# ---------------------------------------------------------------- awk / cut
DELIM = lambda r: (lambda d: Val(d[1] if r.random() < 0.7 else repr(d[0]) if d[0] != "\t" else "tab", d[0]))(r.choice(P.DELIMS[:5]))


def fs(d):
    return "-F'\\t'" if d == "\t" else f"-F{sq(d)}"


def cut_d(d):
    return "" if d == "\t" else f" -d{sq(d)}"


T("awk_col", ["[print|show] column {n} of {f}", "get field {n} from each line of {f}", "awk print column {n} of {f}"],
  lambda s, c: f"awk '{{print ${s.n}}}' {q(s.f)}", n=COL, f=TXT)
T("awk_col_ord", ["[print|show|get|extract] the {n} [column|field|word] [of|from|in] {f}", "[print|show] the {n} column of each line in {f}"],
  lambda s, c: f"awk '{{print ${s.n}}}' {q(s.f)}", n=ORD, f=TXT)
T("cut_col", ["[print|show|get|extract] [the |]column {n} of {f} [split|separated|delimited] by {d}", "[extract|cut] field {n} from {f} using {d} as [the |]delimiter",
              "get field {n} of {f} where fields are separated by {d}"],
  lambda s, c: f"cut{cut_d(s.d)} -f{s.n} {q(s.f)}", n=COL, d=DELIM, f=CSV)
T("cut_csv", ["[print|get|show|extract] the {n} column of [the csv |]{f}", "get the {n} field from [the csv |]{f}"],
  lambda s, c: f"cut -d',' -f{s.n} {q(s.f)}", n=ORD, f=lambda r: P.file_val(r, "csv"))
T("cut_csv_num", ["[print|get|show|extract] column {n} of [the csv |]{f}", "column {n} of the csv {f}"],
  lambda s, c: f"cut -d',' -f{s.n} {q(s.f)}", n=COL, f=lambda r: P.file_val(r, "csv"))
T("cut_cols", ["[print|get|extract] columns {a} and {b} [of|from] {f}"],
  lambda s, c: f"awk '{{print ${s.a}, ${s.b}}}' {q(s.f)}", a=lambda r: str(r.choice([1, 2])), b=lambda r: str(r.choice([3, 4, 5])), f=TXT)
T("cut_chars", ["[print|show|get] [the |]first {n} characters of each line [of|in] {f}", "cut each line of {f} to {n} characters"],
  lambda s, c: f"cut -c1-{s.n} {q(s.f)}", n=lambda r: P.num_val(r, (5, 8, 10, 20, 40, 80)), f=TXT)
T("awk_last", ["[print|show|get] the last [column|field|word] of each line [of|in] {f}"], lambda s, c: f"awk '{{print $NF}}' {q(s.f)}", f=TXT)
T("awk_sum", ["[sum|add up|total] [the values in |the numbers in |]column {n} [of|in] {f}", "what is the sum of column {n} in {f}", "total of column {n} of {f}"],
  lambda s, c: f"awk '{{sum += ${s.n}}} END {{print sum}}' {q(s.f)}", n=COL, f=CSV)
T("awk_sum_csv", ["sum column {n} of [the csv |]{f}", "add up column {n} of the comma-separated file {f}"],
  lambda s, c: f"awk -F',' '{{sum += ${s.n}}} END {{print sum}}' {q(s.f)}", n=COL, f=lambda r: P.file_val(r, "csv"))
T("awk_avg", ["[average|mean] of column {n} [in|of] {f}", "compute the average of column {n} of {f}"],
  lambda s, c: f"awk '{{sum += ${s.n}}} END {{print sum / NR}}' {q(s.f)}", n=COL, f=CSV, weight=0.6)
T("awk_gt", ["[print|show] lines [of|in] {f} where [column|field] {n} is [greater|more|bigger] than {v}", "rows of {f} with column {n} > {v}"],
  lambda s, c: f"awk '${s.n} > {s.v}' {q(s.f)}", n=COL, v=lambda r: str(r.choice([0, 10, 50, 100, 1000, 500, 5])), f=CSV)
T("awk_long", ["[print|show|find] lines [in|of] {f} [longer|with more] than {n} characters", "which lines of {f} are longer than {n} chars"],
  lambda s, c: f"awk 'length > {s.n}' {q(s.f)}", n=lambda r: str(r.choice([80, 100, 120, 72, 200])), f=TXT, weight=0.6)
T("awk_nf", ["[print|count] the number of [fields|columns|words] on each line of {f}"], lambda s, c: f"awk '{{print NF}}' {q(s.f)}", f=TXT, weight=0.3)
T("column_t", ["[show|display|format|pretty print] {f} as a [table|aligned columns]", "align the columns of {f}"],
  lambda s, c: f"column -t -s, {q(s.f)}" if s.f.endswith(".csv") else f"column -t {q(s.f)}", f=CSV, weight=0.6)

# ---------------------------------------------------------------- sort / uniq
T("sort", ["sort [the lines of |the lines in |]{f}", "sort {f} alphabetically", "[print|show] {f} sorted"], lambda s, c: f"sort {q(s.f)}", f=TXT)
T("sort_r", ["sort {f} in reverse[ order|]", "sort {f} [descending|z to a|in reverse alphabetical order]"], lambda s, c: f"sort -r {q(s.f)}", f=TXT)
T("sort_n", ["sort {f} numerically", "sort the numbers in {f}", "numeric sort of {f}"], lambda s, c: f"sort -n {q(s.f)}", f=TXT)
T("sort_nr", ["sort {f} numerically [in reverse|descending|from largest to smallest|biggest first]"], lambda s, c: f"sort -nr {q(s.f)}", f=TXT)
T("sort_u", ["sort {f} and remove duplicates", "[unique|distinct] [sorted |]lines [of|in] {f}", "sort {f} unique", "remove duplicate lines from {f} (order doesn't matter)"],
  lambda s, c: f"sort -u {q(s.f)}", f=TXT)
T("sort_k", ["sort {f} by column {n}", "sort the lines of {f} on field {n}"],
  lambda s, c: f"sort -k{s.n} {q(s.f)}", n=COL, f=TXT)
T("sort_k_ord", ["sort {f} by [the |]{n} [column|field]"], lambda s, c: f"sort -k{s.n} {q(s.f)}", n=ORD, f=TXT)
T("sort_kn", ["sort {f} [numerically |]by column {n} [numerically|as numbers]", "numeric sort of {f} on field {n}"],
  lambda s, c: f"sort -k{s.n} -n {q(s.f)}", n=COL, f=TXT)
T("sort_csv", ["sort [the csv |]{f} by [the |]column {n}", "sort {f} on comma-separated field {n}"],
  lambda s, c: f"sort -t',' -k{s.n} {q(s.f)}", n=COL, f=lambda r: P.file_val(r, "csv"))
T("uniq_c", ["count [how many times each line appears|duplicate lines|occurrences of each line] in {f}", "[frequency|histogram] of lines in {f}",
             "[show|list] the most common lines in {f}", "count unique lines in {f} sorted by frequency"],
  lambda s, c: f"sort {q(s.f)} | uniq -c | sort -rn", f=TXT)
T("uniq_d", ["[show|print|list] [only |][the |]duplicate[d|] lines in {f}", "which lines appear more than once in {f}"],
  lambda s, c: f"sort {q(s.f)} | uniq -d", f=TXT)
T("uniq_keep_order", ["remove duplicate lines from {f} [keeping|preserving] the [original |]order", "dedupe {f} without sorting"],
  lambda s, c: f"awk '!seen[$0]++' {q(s.f)}", f=TXT)
T("uniq_count", ["how many unique lines [are in|does] {f}[ have|]", "count [the |]distinct lines in {f}"],
  lambda s, c: f"sort -u {q(s.f)} | wc -l", f=TXT)
T("top_col_values", ["[most common|top] {n} values in column {k} of {f}", "count occurrences of each value in column {k} of {f}"],
  lambda s, c: f"awk '{{print ${s.k}}}' {q(s.f)} | sort | uniq -c | sort -rn | head -n {s.n}", n=lambda r: P.num_val(r, (5, 10, 10, 20, 3)), k=COL, f=LOG, weight=0.6)
T("top_ips", ["[top|most frequent] {n} ip addresses in {f}", "which ips [hit|appear] the most in {f}"],
  lambda s, c: f"awk '{{print $1}}' {q(s.f)} | sort | uniq -c | sort -rn | head -n {s.n}", n=lambda r: P.num_val(r, (5, 10, 10, 20)), f=lambda r: P.file_val(r, "log"), weight=0.5)
T("shuf", ["shuffle [the lines of |]{f}", "randomize [the order of |]lines in {f}"], lambda s, c: f"shuf {q(s.f)}", f=TXT, weight=0.4)
T("shuf_n", ["[pick|print|get] {n} random line[s|] from {f}"], lambda s, c: f"shuf -n {s.n} {q(s.f)}", n=lambda r: P.num_val(r, (1, 1, 5, 10)), f=TXT, weight=0.4)

# ---------------------------------------------------------------- wc / head / tail / cat
T("wc_l", ["[count|how many] lines [are |]in {f}", "count [the |]lines [of|in] {f}", "number of lines in {f}", "line count [of|for] {f}", "how long is {f} in lines",
           "how many lines does {f} have"],
  lambda s, c: f"wc -l {q(s.f)}", f=TXT)
T("wc_w", ["[count|how many] words [are |]in {f}", "word count [of|for] {f}", "number of words in {f}"], lambda s, c: f"wc -w {q(s.f)}", f=TXT)
T("wc_c", ["[count|how many] [characters|chars] [are |]in {f}", "character count of {f}"], lambda s, c: f"wc -m {q(s.f)}", f=TXT, weight=0.6)
T("wc_ext", ["count [all |the total |]lines [of code |]in [all |]{e} files{dl}", "how many lines of {e} [code |]are there{dl}", "total line count of {e} files{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -exec cat {{}} + | wc -l", e=ext_val, dl=dloc)
T("wc_each", ["line count of each {e} file{dl}", "count lines in every {e} file{dl}"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -exec wc -l {{}} +", e=ext_val, dl=dloc, weight=0.6)
T("head", ["[show|print|display|view|output] the first {n} lines [of|from|in] {f}", "[first|top] {n} lines [of|in] {f}", "head {f} {n} lines", "head -n {n} {f}"],
  lambda s, c: f"head -n {s.n} {q(s.f)}", n=LINES, f=TXT)
T("head_default", ["[show|print] the [beginning|start|top] of {f}", "peek at {f}", "head of {f}"], lambda s, c: f"head {q(s.f)}", f=TXT)
T("tail", ["[show|print|display|view] the last {n} lines [of|from|in] {f}", "[last|bottom] {n} lines [of|in] {f}", "tail {n} lines of {f}"],
  lambda s, c: f"tail -n {s.n} {q(s.f)}", n=LINES, f=TXT)
T("tail_default", ["[show|print] the end of {f}", "tail {f}"], lambda s, c: f"tail {q(s.f)}", f=TXT)
T("tail_f", ["[follow|watch|monitor|stream] {f}[ in real time| live| as it grows|]", "tail -f {f}", "keep printing new lines [of|added to] {f}",
             "live view of {f}", "watch the log {f}"],
  lambda s, c: f"tail -f {q(s.f)}", f=LOG)
T("tail_nf", ["[show|print] the last {n} lines of {f} and [keep following|follow|keep watching] it", "follow {f} starting from the last {n} lines"],
  lambda s, c: f"tail -n {s.n} -f {q(s.f)}", n=LINES, f=LOG)
T("tail_skip", ["[show|print] {f} [without|skipping|except] the first line", "skip the header [line |]of {f}", "everything but the first line of {f}"],
  lambda s, c: f"tail -n +2 {q(s.f)}", f=CSV)
T("cat", ["[show|print|display|view|output|read] [the contents of |the content of |the file |]{f}", "cat {f}", "what's in {f}", "open {f} in the terminal"],
  lambda s, c: f"cat {q(s.f)}", f=PATH)
T("cat_n", ["[show|print|display] {f} with line numbers", "number the lines of {f}", "cat {f} with line numbers"], lambda s, c: f"cat -n {q(s.f)}", f=TXT)
T("cat_join", ["[combine|concatenate|merge|join] {a} and {b} into {o}", "cat {a} and {b} into {o}", "put {a} and {b} together in {o}"],
  lambda s, c: f"cat {q(s.a)} {q(s.b)} > {q(s.o)}", a=TXT, b=TXT, o=TXT)
T("cat_glob", ["[combine|concatenate|merge] all {e} files into {o}", "cat every {e} file into {o}"],
  lambda s, c: f"cat *.{s.e} > {q(s.o)}", e=lambda r: r.choice(["txt", "log", "csv", "md", "sql"]), o=TXT)
T("cat_append", ["append [the contents of |]{a} to {b}", "add everything from {a} to the end of {b}"],
  lambda s, c: f"cat {q(s.a)} >> {q(s.b)}", a=TXT, b=TXT)
T("less", ["[page through|scroll through|open|view] {f} [one page at a time|with a pager|page by page]", "less {f}"],
  lambda s, c: f"less {q(s.f)}", f=LOG, weight=0.6)
T("tac", ["[print|show] {f} [in reverse order|backwards|last line first]", "reverse the lines of {f}"],
  lambda s, c: f"tail -r {q(s.f)}" if c.mac else f"tac {q(s.f)}", f=TXT, weight=0.6)
T("rev", ["reverse each line of {f} [character by character|]"], lambda s, c: f"rev {q(s.f)}", f=TXT, weight=0.3)
T("tee", ["run {x} and [save|write] the output to {f} [while|and also] [showing|printing] it", "show the output of {x} and save it to {f}"],
  lambda s, c: f"{s.x} | tee {q(s.f)}", x=lambda r: r.choice(["ls -la", "df -h", "make", "npm test", "ps aux", "pytest", "./build.sh", "date"]), f=LOG, weight=0.6)
T("redirect", ["[save|write|redirect|put|send] the output of {x} [to|into] {f}", "run {x} and save [the output|it] to {f}", "{x} > {f}"],
  lambda s, c: f"{s.x} > {q(s.f)}", x=lambda r: r.choice(["ls -la", "df -h", "ps aux", "env", "history", "date", "pip freeze", "ls", "du -sh *", "uname -a"]), f=TXT)
T("redirect_err", ["run {x} and [save|send|write] [both |]stdout and stderr to {f}", "[save|log] all output including errors of {x} to {f}"],
  lambda s, c: f"{s.x} > {q(s.f)} 2>&1" if c.shell != "fish" else f"{s.x} &> {q(s.f)}", x=lambda r: r.choice(["make", "./build.sh", "npm install", "python main.py", "cargo build", "./run.sh"]), f=LOG, weight=0.6)
T("discard", ["run {x} [and hide|discarding|without] [all |its |]output", "run {x} silently"],
  lambda s, c: f"{s.x} > /dev/null 2>&1" if c.shell != "fish" else f"{s.x} &> /dev/null", x=lambda r: r.choice(["make", "./build.sh", "npm install", "python main.py", "./run.sh", "ls"]), weight=0.4)

# ---------------------------------------------------------------- tr / diff / jq / xargs / split
T("tr_upper", ["convert {f} to [uppercase|upper case|all caps]", "make [all |]the text in {f} uppercase", "[print|show] {f} in uppercase"],
  lambda s, c: f"tr '[:lower:]' '[:upper:]' < {q(s.f)}", f=TXT)
T("tr_lower", ["convert {f} to [lowercase|lower case]", "make [all |]the text in {f} lowercase", "[print|show] {f} in lowercase"],
  lambda s, c: f"tr '[:upper:]' '[:lower:]' < {q(s.f)}", f=TXT)
T("tr_delete", ["[delete|remove|strip] [all |every |]{ch} from {f}", "remove every {ch} in {f} and print it"],
  lambda s, c: f"tr -d {sq(s.ch)} < {q(s.f)}", ch=lambda r: r.choice([Val("digits", "0-9"), Val("commas", ","), Val("spaces", " "), Val("newlines", "\\n"), Val("quotes", '"'), Val("semicolons", ";")]), f=TXT, weight=0.6)
T("tr_replace", ["replace [all |every |]{a} with {b} in {f} and print[ it|]", "convert {a} to {b} in {f}"],
  lambda s, c: f"tr {sq(s.a)} {sq(s.b)} < {q(s.f)}", a=lambda r: r.choice([Val("commas", ","), Val("tabs", "\\t"), Val("spaces", " "), Val("semicolons", ";")]),
  b=lambda r: r.choice([Val("newlines", "\\n"), Val("tabs", "\\t"), Val("commas", ","), Val("underscores", "_")]), f=TXT, weight=0.6)
T("tr_squeeze", ["[squeeze|collapse] [repeated|multiple] spaces [in|of] {f}[ into one|]", "replace runs of spaces with a single space in {f}"],
  lambda s, c: f"tr -s ' ' < {q(s.f)}", f=TXT, weight=0.4)
T("diff", ["[compare|diff] {a} and {b}", "[show|what are] the differences between {a} and {b}", "what changed between {a} and {b}", "diff {a} {b}"],
  lambda s, c: f"diff {q(s.a)} {q(s.b)}", a=TXT, b=TXT)
T("diff_u", ["[show a |]unified diff [of|between] {a} and {b}", "diff {a} and {b} in unified format"], lambda s, c: f"diff -u {q(s.a)} {q(s.b)}", a=TXT, b=TXT)
T("diff_y", ["compare {a} and {b} side by side"], lambda s, c: f"diff -y {q(s.a)} {q(s.b)}", a=TXT, b=TXT, weight=0.4)
T("diff_q", ["[check|tell me] [if|whether] {a} and {b} are [identical|the same|different]", "are {a} and {b} the same"],
  lambda s, c: f"cmp {q(s.a)} {q(s.b)}", a=FILE, b=FILE, weight=0.6)
T("diff_r", ["compare [the |]directories {a} and {b}", "[diff|compare] [the folders |]{a} and {b} recursively", "what files differ between {a} and {b}"],
  lambda s, c: f"diff -rq {q(s.a)} {q(s.b)}", a=DIR, b=DIR)
T("comm", ["[show|print] lines [that are |][common to|in both] {a} and {b}", "lines present in both {a} and {b}"],
  lambda s, c: f"comm -12 <(sort {q(s.a)}) <(sort {q(s.b)})" if c.shell in ("bash", "zsh") else f"grep -Fxf {q(s.a)} {q(s.b)}", a=TXT, b=TXT, weight=0.5)
JSON = lambda r: P.file_val(r, "json", spaces=0.03)
KEY = lambda r: r.choice(P.JSON_KEYS)
T("jq_pretty", ["pretty[-| ]print {f}", "format {f} [nicely|as readable json]", "[show|view] {f} formatted", "prettify the json in {f}"],
  lambda s, c: f"jq . {q(s.f)}", f=JSON)
T("jq_key", ["[get|extract|print|show|read] [the |]{k} [field|key|value|property] [from|of|in] {f}", "what is the {k} in {f}", "jq {k} from {f}"],
  lambda s, c: f"jq -r '.{s.k}' {q(s.f)}", k=KEY, f=JSON)
T("jq_key_json", ["[get|extract|print] the {k} [field|key] from {f} as json"], lambda s, c: f"jq '.{s.k}' {q(s.f)}", k=KEY, f=JSON, weight=0.4)
T("jq_raw", ["[get|print] the {k} [field |value |]from {f} [as raw text|without quotes]"], lambda s, c: f"jq -r '.{s.k}' {q(s.f)}", k=KEY, f=JSON)
T("jq_nested", ["[get|extract|print] {a}.{b} from {f}", "[print|show] the {b} of {a} in {f}"],
  lambda s, c: f"jq -r '.{s.a}.{s.b}' {q(s.f)}", a=lambda r: r.choice(["user", "config", "data", "server", "database", "meta"]), b=lambda r: r.choice(["name", "id", "port", "host", "email", "version"]), f=JSON)
T("jq_arr", ["[get|list|print] the {k} of every [item|element|object] in {f}", "extract {k} from each entry in the array in {f}"],
  lambda s, c: f"jq -r '.[].{s.k}' {q(s.f)}", k=KEY, f=JSON)
T("jq_len", ["[count|how many] [items|elements|entries] [are |]in [the json array in |]{f}", "length of the array in {f}"],
  lambda s, c: f"jq 'length' {q(s.f)}", f=JSON)
T("jq_keys", ["[list|show] [the |all |][top-level |]keys [of|in] {f}"], lambda s, c: f"jq 'keys' {q(s.f)}", f=JSON, weight=0.6)
T("jq_select", ["[show|get|filter] [the |][items|objects|entries] in {f} where {k} is {v}", "select entries of {f} with {k} equal to {v}"],
  lambda s, c: f"jq '.[] | select(.{s.k} == \"{s.v}\")' {q(s.f)}", k=lambda r: r.choice(["status", "type", "name", "role", "state"]), v=lambda r: r.choice(["active", "admin", "done", "open", "error", "alice"]), f=JSON, weight=0.6)
T("jq_compact", ["[minify|compact] {f}", "print {f} on one line"], lambda s, c: f"jq -c . {q(s.f)}", f=JSON, weight=0.4)
T("jq_curl", ["[fetch|get|download] {u} and pretty[-| ]print the json", "pretty print the json [response |]from {u}"],
  lambda s, c: f"curl -s {q(s.u)} | jq .", u=lambda r: r.choice([u for u in P.URLS if "json" in u or "api" in u or "get" in u or "health" in u]) if r.random() < 0.5 else P.url(r))
T("xargs_rm", ["delete [all |]the files listed in {f}", "remove every file named in {f}"], lambda s, c: f"xargs rm < {q(s.f)}", f=TXT, weight=0.5)
T("xargs_grep", ["[search|grep] for {p} in the files listed in {f}"], lambda s, c: f"xargs grep {sq(s.p)} < {q(s.f)}", p=pat, f=TXT, weight=0.3)
T("xargs_print0", ["[delete|remove] {e} files{dl}, handling names with spaces, using xargs", "find {e} files{dl} and delete them with xargs"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -print0 | xargs -0 rm", e=ext_val, dl=dloc, weight=0.5)
T("xargs_grep_find", ["find {e} files{dl} and grep them for {p} using xargs"],
  lambda s, c: f"find {s.dl} -type f -name '*.{s.e}' -print0 | xargs -0 grep -l {sq(s.p)}", e=ext_val, dl=dloc, p=pat, weight=0.4)
T("split_lines", ["split {f} into [files|chunks|pieces] of {n} lines[ each|]", "break {f} into {n}-line [parts|files]"],
  lambda s, c: f"split -l {s.n} {q(s.f)}", n=lambda r: str(r.choice([100, 500, 1000, 5000, 10000, 50])), f=CSV, weight=0.6)
T("split_bytes", ["split {f} into [chunks|pieces|parts] of {sz}", "break {f} into {sz} [files|pieces]"],
  lambda s, c: f"split -b {s.sz} {q(s.f)}", sz=lambda r: (lambda n, u: Val(f"{n}{r.choice([u, u + 'B', ' ' + u + 'B'])}", f"{n}{u}"))(r.choice([10, 50, 100, 500, 1]), r.choice(["M", "M", "G", "K"])),
  f=lambda r: P.file_val(r, r.choice(["iso", "tar.gz", "zip", "mp4", "bin", "log"])), weight=0.5)
