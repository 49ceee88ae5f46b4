"""More tasks: date formats, echo and arithmetic, seq, uname, jq over arrays of objects, git
inspection, archive inspection, csv/column pipelines, file housekeeping."""

import gen_pools as P
from gen_core import Val, expand_groups, q, sq
from tasks_files import FILE, DIR, ext_val, dloc

TASKS = []


def T(name, reqs, cmd, weight=1.0, **slots):
    TASKS.append(dict(name=name, reqs=reqs, cmd=cmd, slots=slots, weight=weight))


TXT = lambda r: P.file_val(r, r.choice(["txt", "txt", "log", "csv", "md", "conf"]))
CSV = lambda r: P.path_val(r, "csv")
NUMS = lambda r: P.path_val(r, r.choice(["txt", "dat", "log"]))
JSON = lambda r: P.path_val(r, "json")
COL = lambda r: P.num_val(r, (1, 2, 2, 3, 3, 4, 5, 6))
ORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth"}

# ---------------------------------------------------------------- date formats
DATE_FMT = [("[current |this |]year", "+%Y"), ("[current |this |]month[ number|]", "+%m"), ("[current |this |]month's name", "+%B"),
            ("name of the [current |]month", "+%B"), ("day of the week", "+%A"), ("weekday [name|]", "+%A"), ("day of the month", "+%d"),
            ("current hour", "+%H"), ("[current |]time [as|in] HH:MM", "+%H:%M"), ("[current |]time [as|in] HH:MM:SS", "+%T"),
            ("week number", "+%V"), ("day of the year", "+%j"), ("date and time as YYYY-MM-DD HH:MM:SS", "+'%F %T'"),
            ("[today's |the |]date as DD/MM/YYYY", "+%d/%m/%Y"), ("[today's |the |]date as MM/DD/YYYY", "+%m/%d/%Y")]
DF = lambda r: (lambda d: Val(expand_groups(d[0], r), d[1]))(r.choice(DATE_FMT))
T("date_fmt", ["[print|show|what is|tell me|display] the {d}", "what {d} is it[ today| now|]", "{d}"], lambda s, c: f"date {s.d}", d=DF, weight=3.0)

# ---------------------------------------------------------------- echo, arithmetic, seq
TEXTS = lambda r: (lambda t: Val(r.choice([t, f'"{t}"', f"'{t}'"]), t))(r.choice(["Build finished", "hello world", "done", "Hello, World!", "deploy complete",
                                                                               "all tests passed", "ok", "starting backup", P.rand_word(r), P.rand_word(r) + " " + P.rand_word(r)]))
T("echo", ["[print|echo|say|output|display|write] {t}", "[print|echo] {t} [to the terminal|on screen|to stdout]", "show the text {t}"],
  lambda s, c: f"echo {sq(s.t)}", t=TEXTS, weight=2.0)
OPS = [("times", "*"), ("multiplied by", "*"), ("x", "*"), ("*", "*"), ("plus", "+"), ("+", "+"), ("minus", "-"), ("-", "-"),
       ("divided by", "/"), ("/", "/"), ("to the power of", "**"), ("modulo", "%"), ("mod", "%")]


def arith(r):
    a, b = r.randrange(1, 1000), r.randrange(1, 100)
    w, op = r.choice(OPS)
    return Val(f"{a} {w} {b}", f"{a} {op} {b}")


T("arith", ["[calculate|compute|what is|what's|evaluate|work out] {e}", "{e} = ?", "do the math: {e}", "how much is {e}"],
  lambda s, c: f"math '{s.e.replace('**', '^')}'" if c.fish else f"echo $(({s.e}))", e=arith, weight=2.0)
T("seq", ["[print|list|show|count] [the numbers |]from {a} to {b}", "[numbers|integers] {a} to {b}[ one per line|]", "seq {a} {b}"],
  lambda s, c: f"seq {s.a} {s.b}", a=lambda r: str(r.choice([0, 1, 1, 5, 10])), b=lambda r: str(r.randrange(11, 200)))
T("seq_step", ["[print|list|show] [the numbers |]from {a} to {b} in steps of {k}", "count from {a} to {b} by {k}[s|]", "every {k}th number from {a} to {b}"],
  lambda s, c: f"seq {s.a} {s.k} {s.b}", a=lambda r: str(r.choice([0, 1, 2, 5, 10])), b=lambda r: str(r.randrange(20, 500)), k=lambda r: str(r.choice([2, 3, 5, 10, 25])))
T("seq_even", ["[print|list|show] the even numbers [from|between] {a} [to|and] {b}"], lambda s, c: f"seq {s.a} 2 {s.b}",
  a=lambda r: r.choice(["2", "0"]), b=lambda r: str(r.randrange(10, 200, 2)))
T("seq_odd", ["[print|list|show] the odd numbers [from|between] 1 [to|and] {b}"], lambda s, c: f"seq 1 2 {s.b}", b=lambda r: str(r.randrange(9, 200, 2)))
T("uname_s", ["[show|print|what is] the kernel name", "which kernel is this (just the name)", "operating system name"], lambda s, c: "uname -s")
T("uname_m", ["[show|print|what is] the [machine |cpu |]architecture", "is this x86_64 or arm", "which architecture is this machine"], lambda s, c: "uname -m")
T("echo_var", ["which [value|timezone|editor|shell|path] is set in {v}", "[print|show] the value of {v}", "what is {v} set to"],
  lambda s, c: f"echo ${s.v}" if c.fish else f"echo \"${s.v}\"", v=lambda r: P.env_var(r))

# ---------------------------------------------------------------- jq over arrays of objects
FIELD = lambda r: r.choice(["name", "email", "id", "title", "city", "username", "role", "status", "url", "age", "price"])
T("jq_arr_names", ["[print|list|show|get] the {k}s of all [the |][users|items|entries|records|objects] in {f}", "{k} of every [entry|object|element] in {f}",
                   "all {k} values [in|from] {f}"],
  lambda s, c: f"jq -r '.[].{s.k}' {q(s.f)}", k=FIELD, f=JSON, weight=1.5)
T("jq_sel_bool", ["[print|show|list] the {k} of the {b} [users|entries|items] in {f}", "{k}s of [all |]{b} [records|entries] [in|from] {f}"],
  lambda s, c: f"jq -r '.[] | select(.{s.b}) | .{s.k}' {q(s.f)}", k=FIELD, b=lambda r: r.choice(["active", "enabled", "admin", "verified", "done", "published"]), f=JSON)
T("jq_sel_not", ["[print|show] the {k} of the [entries|users|items] in {f} that are not {b}"],
  lambda s, c: f"jq -r '.[] | select(.{s.b} | not) | .{s.k}' {q(s.f)}", k=FIELD, b=lambda r: r.choice(["active", "enabled", "verified", "done"]), f=JSON, weight=0.6)
T("jq_sel_cmp", ["[print|show|list] the {k}s of the [entries|users|items|records] in {f} with {n} [over|greater than|above|more than] {v}",
                 "{k} of [everyone|every entry] in {f} whose {n} is [over|above] {v}"],
  lambda s, c: f"jq -r '.[] | select(.{s.n} > {s.v}) | .{s.k}' {q(s.f)}", k=FIELD, n=lambda r: r.choice(["age", "price", "count", "score", "size"]), v=lambda r: str(r.randrange(1, 200)), f=JSON)
T("jq_sel_eq", ["[print|show|list] the {k}s of the [entries|users|items] in {f} whose {n} is {v}", "{k} of the {v} [users|entries] in {f}"],
  lambda s, c: f"jq -r '.[] | select(.{s.n} == \"{s.v}\") | .{s.k}' {q(s.f)}", k=FIELD, n=lambda r: r.choice(["role", "status", "type", "city", "team"]),
  v=lambda r: r.choice(["admin", "dev", "open", "closed", "paris", "london", P.rand_word(r).lower()]), f=JSON)
T("jq_count_sel", ["how many [entries|users|items] in {f} are {b}", "count the {b} [entries|users|items] in {f}"],
  lambda s, c: f"jq '[.[] | select(.{s.b})] | length' {q(s.f)}", b=lambda r: r.choice(["active", "enabled", "admin", "verified", "done"]), f=JSON, weight=0.6)
T("jq_keys_of", ["[list|show|print] the [names of the |]keys [of|in] [the |]{k} [object |section |]in {f}", "[list|show] the {k} names in {f}"],
  lambda s, c: f"jq -r '.{s.k} | keys[]' {q(s.f)}", k=lambda r: r.choice(["dependencies", "devDependencies", "scripts", "config", "settings", "env"]), f=JSON)
T("jq_nested_r", ["[print|show|get] the {b} [entry |value |][from|of] {a} in {f}", "which {b} does {f} [list|have|want] under {a}"],
  lambda s, c: f"jq -r '.{s.a}.{s.b}' {q(s.f)}", a=lambda r: r.choice(["scripts", "dependencies", "config", "server", "database"]),
  b=lambda r: r.choice(["build", "test", "start", "express", "react", "port", "host", "lodash", P.rand_word(r).lower()]), f=JSON)
T("jq_sort_by", ["[print|list] the {k}s in {f} sorted by {n}", "sort the entries of {f} by {n} and print their {k}s"],
  lambda s, c: f"jq -r 'sort_by(.{s.n}) | .[].{s.k}' {q(s.f)}", k=FIELD, n=lambda r: r.choice(["age", "price", "name", "date", "score"]), f=JSON)
T("jq_max_by", ["[print|show|who is] the {k} of the [entry|user|item] with the [highest|largest|biggest] {n} in {f}", "{k} of the [oldest|most expensive] entry in {f} by {n}"],
  lambda s, c: f"jq -r 'max_by(.{s.n}).{s.k}' {q(s.f)}", k=FIELD, n=lambda r: r.choice(["age", "price", "score", "size"]), f=JSON, weight=0.6)
T("jq_min_by", ["[print|show] the {k} of the [entry|user|item] with the [lowest|smallest] {n} in {f}"],
  lambda s, c: f"jq -r 'min_by(.{s.n}).{s.k}' {q(s.f)}", k=FIELD, n=lambda r: r.choice(["age", "price", "score", "size"]), f=JSON, weight=0.5)
T("jq_avg", ["[what is the |compute the |]average {n} [of the entries |of the users |]in {f}", "mean {n} in {f}"],
  lambda s, c: f"jq '[.[].{s.n}] | add / length' {q(s.f)}", n=lambda r: r.choice(["age", "price", "score", "size"]), f=JSON, weight=0.6)
T("jq_sum", ["[sum|total|add up] the {n} [of all entries |values |]in {f}"], lambda s, c: f"jq '[.[].{s.n}] | add' {q(s.f)}", n=lambda r: r.choice(["price", "count", "amount", "size"]), f=JSON, weight=0.5)
T("jq_group_count", ["count the [entries|users|items] per {n} in {f}", "how many [entries|users] [are there |]for each {n} in {f}"],
  lambda s, c: f"jq -r '.[].{s.n}' {q(s.f)} | sort | uniq -c", n=lambda r: r.choice(["role", "status", "type", "city", "team"]), f=JSON)

# ---------------------------------------------------------------- git inspection
T("git_last_msg", ["[show|print] the message of the [last|latest|most recent] commit", "what was the last commit message"], lambda s, c: "git log -1 --format=%s")
T("git_tags", ["[list|show] [the |all |][git |]tags", "which tags exist[ in this repo|]"], lambda s, c: "git tag")
T("git_ls_files", ["[list|show] the files [tracked by|in] git", "which files does git track", "git ls-files"], lambda s, c: "git ls-files")
T("git_head", ["[print|show] the [full |]hash of the current commit", "current commit [hash|sha|id]"], lambda s, c: "git rev-parse HEAD")
T("git_head_short", ["[print|show] the short hash of the current commit"], lambda s, c: "git rev-parse --short HEAD", weight=0.5)
T("git_stat", ["[show|print] the diff stat of the last commit", "how many lines did the last commit change"], lambda s, c: "git show --stat --format= HEAD")
T("git_last_files", ["[which|list the] files changed in the [last|latest|most recent] commit", "names of the files [touched|modified] by the last commit"],
  lambda s, c: "git show --name-only --format= HEAD")
T("git_diff_names", ["[show|list] the names of [the |]files with unstaged changes", "which files have [unstaged |uncommitted |]changes (names only)"],
  lambda s, c: "git diff --name-only")
T("git_log_p", ["[show|view] the last {n} commits with their [patches|diffs|changes]"], lambda s, c: f"git log -p -{s.n}", n=lambda r: str(r.choice([1, 2, 3, 5])))
T("git_log_dates", ["[show|list] the commits with their dates[ as YYYY-MM-DD|]", "commit log with short dates"],
  lambda s, c: "git log --format='%h %ad %s' --date=short")
T("git_first_author", ["who [wrote|made] the first commit", "author of the [first|initial] commit"], lambda s, c: "git log --reverse --format=%an | head -n 1")
T("git_authors", ["how many commits has each author made", "commit count per author", "who committed the most"], lambda s, c: "git shortlog -sn HEAD")
T("git_log_grep", ["[find|show] commits whose message mentions {p}", "search commit messages for {p}"], lambda s, c: f"git log --oneline --grep={sq(s.p)}",
  p=lambda r: r.choice(["fix", "bug", "parser", "readme", P.rand_word(r).lower()]))

# ---------------------------------------------------------------- archive inspection
TGZ = lambda r: P.path_val(r, "tar.gz")
ZIP = lambda r: P.path_val(r, "zip")
GZ = lambda r: P.path_val(r, r.choice(["log.gz", "txt.gz", "csv.gz"]))
T("zcat_wc", ["count the lines [in|of] [the compressed |]{f}", "how many lines are in {f}"], lambda s, c: f"zcat {q(s.f)} | wc -l", f=GZ)
T("zcat_head", ["[show|print] the first {n} lines of [the compressed |]{f}"], lambda s, c: f"zcat {q(s.f)} | head -n {s.n}", f=GZ, n=lambda r: str(r.choice([5, 10, 20])))
T("gunzip_k", ["[decompress|gunzip|unzip] {f} [but keep|keeping] the .gz[ file|]", "extract {f} and keep the original"], lambda s, c: f"gunzip -k {q(s.f)}", f=GZ)
T("gzip_t", ["[test|check] [whether|if] {f} is [intact|valid|corrupt]"], lambda s, c: f"gzip -t {q(s.f)}", f=GZ, weight=0.5)
T("unzip_names", ["list just the file names [inside|in] {a}", "only the names of the files in {a}"], lambda s, c: f"unzip -Z1 {q(s.a)}", a=ZIP)
T("unzip_t", ["[test|check] [whether|if] {a} is [intact|ok|corrupt|valid]", "verify the zip {a}"], lambda s, c: f"unzip -tq {q(s.a)}", a=ZIP)
T("tar_count", ["how many files are in {a}", "count the [files|entries] in {a}"], lambda s, c: f"tar -tzf {q(s.a)} | wc -l", a=TGZ)
T("tar_one", ["extract only {p} from {a}", "[pull|get] just {p} out of {a}"], lambda s, c: f"tar -xzf {q(s.a)} {q(s.p)}", a=TGZ,
  p=lambda r: r.choice(["backup/notes.txt", "config/app.yml", "src/main.py", "README.md", P.rand_word(r).lower() + "/" + P.filename(r, spaces=0)]))
T("tar_cat", ["print {p} from {a} without extracting [anything|it]", "[show|cat] {p} [inside|from] {a}"], lambda s, c: f"tar -xzOf {q(s.a)} {q(s.p)}", a=TGZ,
  p=lambda r: r.choice(["backup/notes.txt", "config/settings.ini", "src/main.py", "README.md", P.rand_word(r).lower() + "/" + P.filename(r, spaces=0)]))
T("tar_glob", ["[make|create] a tar.gz of [all |]the {e} files in {d} [named|called] {a}", "archive every {e} file in {d} into {a}"],
  lambda s, c: f"tar -czf {q(s.a)} {q(s.d)}/*.{s.e}", e=ext_val, d=lambda r: P.dir_val(r, simple=True), a=lambda r: P.archive_name(r) + ".tar.gz")

# ---------------------------------------------------------------- csv / column pipelines
T("col_distinct", ["[list|show] the distinct values of column {n} in {f}[, without the header|, skipping the header| (no header)]", "unique values in column {n} of {f} without the header"],
  lambda s, c: f"tail -n +2 {q(s.f)} | cut -d, -f{s.n} | sort -u", n=COL, f=CSV)
T("csv_sum_hdr", ["add up [the values in |]column {n} of {f} [skipping|ignoring] the header", "total of column {n} in {f} (it has a header row)"],
  lambda s, c: f"awk -F, 'NR > 1 {{ s += ${s.n} }} END {{ print s }}' {q(s.f)}", n=COL, f=CSV)
T("csv_filter", ["[show|print] the rows of {f} where column {n} is [over|greater than|above] {v}", "rows in {f} with column {n} > {v}, without the header"],
  lambda s, c: f"awk -F, 'NR > 1 && ${s.n} > {s.v}' {q(s.f)}", n=COL, v=lambda r: str(r.randrange(0, 1000)), f=CSV)
T("csv_header", ["[print|show] the header [row|line] of {f}", "what are the column names of {f}"], lambda s, c: f"head -n 1 {q(s.f)}", f=CSV)
T("field_unique", ["[list|show] the unique [values of the |]first [field|column|word] [of|in] {f}", "distinct first words of the lines of {f}"],
  lambda s, c: f"cut -d' ' -f1 {q(s.f)} | sort -u", f=TXT)
T("field_unique_n", ["count the unique [values of the |]first [field|column|word] [of|in] {f}", "how many distinct first fields in {f}"],
  lambda s, c: f"cut -d' ' -f1 {q(s.f)} | sort -u | wc -l", f=TXT)
T("field_counts", ["count [the lines|the entries] per value of field {n} in {f}", "how many times does each value of column {n} appear in {f}"],
  lambda s, c: f"awk '{{ print ${s.n} }}' {q(s.f)} | sort | uniq -c", n=COL, f=TXT)
T("even_lines", ["[print|show] only the even numbers [from|in] {f}", "which numbers in {f} are even"], lambda s, c: f"awk '$1 % 2 == 0' {q(s.f)}", f=NUMS)
T("odd_lines", ["[print|show] only the odd numbers [from|in] {f}"], lambda s, c: f"awk '$1 % 2 == 1' {q(s.f)}", f=NUMS, weight=0.5)
T("num_max", ["[show|print|find] the [largest|biggest|highest|maximum] number in {f}", "max value in {f}"], lambda s, c: f"sort -n {q(s.f)} | tail -n 1", f=NUMS)
T("num_min", ["[show|print|find] the [smallest|lowest|minimum] number in {f}", "min value in {f}"], lambda s, c: f"sort -n {q(s.f)} | head -n 1", f=NUMS)
T("num_total", ["[print|compute] the [total|sum] of [all |]the numbers in {f}", "add up the numbers in {f}"], lambda s, c: f"awk '{{ s += $1 }} END {{ print s }}' {q(s.f)}", f=NUMS)
T("paste_join", ["join the lines of {f} into one [comma-separated |]line", "[merge|put] all lines of {f} on one line separated by commas"],
  lambda s, c: f"paste -sd, {q(s.f)}", f=TXT)
T("words_per_line", ["split the first line of {f} into one word per line", "[print|show] the words of the first line of {f} one per line"],
  lambda s, c: f"head -n 1 {q(s.f)} | tr ' ' '\\n'", f=TXT, weight=0.6)
T("tabs_for_commas", ["show {f} with tabs instead of commas", "convert the commas in {f} to tabs and print it"], lambda s, c: f"tr ',' '\\t' < {q(s.f)}", f=CSV)
T("grep_sort", ["[print|show] the lines of {f} [with|mentioning] {p}, sorted by column {n} [descending|from high to low]"],
  lambda s, c: f"grep {sq(s.p)} {q(s.f)} | sort -t, -k{s.n} -nr", p=lambda r: P.rand_word(r).lower(), n=COL, f=CSV, weight=0.6)
T("sha_dir", ["sha256 [sums|checksums] of every file in {d}", "checksum all files in [the |]{d}[ folder|]"],
  lambda s, c: f"shasum -a 256 {q(s.d)}/*" if c.mac else f"sha256sum {q(s.d)}/*", d=lambda r: P.dir_val(r, simple=True))

# ---------------------------------------------------------------- housekeeping
T("touch_in", ["create an empty file [named|called] {f} [inside|in] {d}", "touch {f} in [the |]{d}[ folder|]"],
  lambda s, c: f"touch {q(s.d)}/{q(s.f)}", f=lambda r: P.filename(r, spaces=0) if r.random() < 0.8 else r.choice([".keep", ".gitkeep", ".env"]), d=lambda r: P.dir_val(r, simple=True))
T("touch_many", ["create [three |the |]empty files {a}, {b} and {c}", "touch {a} {b} {c}"],
  lambda s, c: f"touch {q(s.a)} {q(s.b)} {q(s.c)}", a=lambda r: P.filename(r, spaces=0), b=lambda r: P.filename(r, spaces=0), c=lambda r: P.filename(r, spaces=0))
T("touch_date", ["[change|set] the [modification |modified |]date of {f} to {d}", "make {f} look [like it was |]modified on {d}"],
  lambda s, c: f"touch -d {s.d} {q(s.f)}", f=FILE, d=lambda r: f"{r.randrange(2015, 2031)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}")
T("chmod_minus_x", ["remove [the |]execute permission from {f}", "make {f} [no longer|not] executable"], lambda s, c: f"chmod -x {q(s.f)}", f=FILE)
T("chmod_minus_x_glob", ["remove [the |]execute permission from every {e} file in {d}"], lambda s, c: f"chmod -x {q(s.d)}/*.{s.e}",
  e=lambda r: r.choice(["sh", "py", "pl", "txt"]), d=lambda r: P.dir_val(r, simple=True))
T("chmod_x_glob", ["make every {e} file in {d} executable"], lambda s, c: f"chmod +x {q(s.d)}/*.{s.e}", e=lambda r: r.choice(["sh", "py", "pl"]), d=lambda r: P.dir_val(r, simple=True))
T("perm_rwx", ["[show|print] the permissions of {f} [in rwx form|as rwx|symbolically]", "rwx permissions of {f}"],
  lambda s, c: f"stat -f %Sp {q(s.f)}" if c.mac else f"stat -c %A {q(s.f)}", f=FILE)
T("perm_octal", ["[show|print] the permissions of {f} [in octal|as a number]", "octal mode of {f}"],
  lambda s, c: f"stat -f %Lp {q(s.f)}" if c.mac else f"stat -c %a {q(s.f)}", f=FILE)
T("rm_contents", ["delete every file in {d} but keep the folder", "empty the {d} [folder|directory]", "[remove|delete] everything inside {d}"],
  lambda s, c: f"rm {q(s.d)}/*", d=lambda r: P.dir_val(r, simple=True))
T("mv_contents", ["move everything from {a} [into|to] {b}", "move all files in {a} to {b}"], lambda s, c: f"mv {q(s.a)}/* {q(s.b)}/",
  a=lambda r: P.dir_val(r, simple=True), b=lambda r: P.dir_val(r, simple=True))
T("count_direct", ["how many files are directly in {d}", "count the files in {d} without subfolders", "number of files at the top level of {d}"],
  lambda s, c: f"find {q(s.d)} -maxdepth 1 -type f | wc -l", d=lambda r: P.dir_val(r, simple=True))
T("ls_count_dir", ["how many entries does {d} have[ (not recursive)|]", "count the entries in {d}"], lambda s, c: f"ls {q(s.d)} | wc -l", d=lambda r: P.dir_val(r, simple=True))
T("du_items", ["disk usage of each item in {d}[, human readable|]", "size of everything inside {d}", "how big is each file and folder in {d}"],
  lambda s, c: f"du -sh {q(s.d)}/*", d=lambda r: P.dir_val(r, simple=True))
T("du_named", ["how big is the {d} folder[ in total|][, human readable|]", "total size of {d}"], lambda s, c: f"du -sh {q(s.d)}", d=lambda r: P.dir_val(r, simple=True))
T("ls_size_head", ["[show|list] the {n} largest files in {d}", "{n} biggest files directly in {d}"], lambda s, c: f"ls -S {q(s.d)} | head -n {s.n}",
  n=lambda r: str(r.choice([1, 3, 5, 10])), d=lambda r: P.dir_val(r, simple=True), weight=0.6)
T("largest_bytes", ["what is the single largest file [in the whole tree|here]? path and size in bytes", "largest file with its size in bytes"],
  lambda s, c: "find . -type f -exec stat -f '%z %N' {} + | sort -n | tail -n 1" if c.mac else "find . -type f -printf '%s %p\\n' | sort -n | tail -n 1", weight=0.5)
T("rename_ext_in", ["rename every {a} file in {d} to {b}", "change the extension of the {a} files in {d} to {b}"],
  lambda s, c: c.loop("f", f"{q(s.d)}/*.{s.a}", f"mv $f (string replace -r '\\.{s.a}$' .{s.b} $f)") if c.fish else f"for f in {q(s.d)}/*.{s.a}; do mv \"$f\" \"${{f%.{s.a}}}.{s.b}\"; done",
  a=lambda r: r.choice(["txt", "jpeg", "htm", "log", "md"]), b=lambda r: r.choice(["bak", "jpg", "html", "old", "txt"]), d=lambda r: P.dir_val(r, simple=True))
T("find_space_names", ["find files with [a space|spaces] in their name[s|]{dl}", "which files{dl} have spaces in the name"], lambda s, c: f"find {s.dl} -type f -name '* *'", dl=dloc)
T("find_prune", ["find [all |]{e} files but skip the {x} [folder|directory]", "{e} files{dl} excluding the {x} directory"],
  lambda s, c: f"find . -path ./{s.x} -prune -o -name '*.{s.e}' -print", e=ext_val, x=lambda r: r.choice(["node_modules", "repo", ".git", "vendor", "build"]), dl=lambda r: Val("", "."))
T("find_hours", ["find files modified in the last {h} hours{dl}", "files changed within the past {h} hours{dl}"], lambda s, c: f"find {s.dl} -type f -mmin -{int(s.h) * 60}",
  h=lambda r: str(r.choice([1, 2, 3, 6, 12, 24, 48])), dl=dloc)
T("find_bytes", ["find files{dl} smaller than {n} bytes", "files{dl} under {n} bytes"], lambda s, c: f"find {s.dl} -type f -size -{s.n}c", n=lambda r: str(r.choice([10, 50, 100, 512, 1000])), dl=dloc)
T("find_gz", ["find the [gzip|gzip-compressed|gzipped] files{dl}", "[list|where are] the .gz files{dl}"], lambda s, c: f"find {s.dl} -type f -name '*.gz'", dl=dloc)
T("find_exec_sh", ["find the executable [shell |]scripts{dl}", "which .sh files{dl} are executable"], lambda s, c: f"find {s.dl} -type f -name '*.sh' -perm -u+x", dl=dloc)
T("ln_s2", ["create a [symbolic link|symlink] {l} pointing to {t}", "make a symlink [named|called] {l} to {t}"],
  lambda s, c: f"ln -s {q(s.t)} {q(s.l)}", t=lambda r: P.path_val(r), l=lambda r: r.choice(["latest.log", "current", "link", "latest", P.filename(r, spaces=0)]))
