"""Tasks: ls, du/df, cp/mv/rm, mkdir, touch, ln, chmod/chown, stat/file, archives (tar, gzip, zip)."""

import gen_pools as P
from gen_core import Val, q
from tasks_files import DIR, FILE, PATH, NUM, DEPTH, USER, GROUP, MODE, ext_val, dloc

TASKS = []


def T(name, reqs, cmd, weight=1.0, **slots):
    TASKS.append(dict(name=name, reqs=reqs, cmd=cmd, slots=slots, weight=weight))


def odir(r):
    """An optional directory argument for ls-like commands: '' (none) or ' DIR'."""
    if r.random() < 0.5:
        return Val(r.choice(["", "", " here", " in the current directory", " in this folder"]), "")
    v = P.dir_val(r)
    return Val(r.choice([" in ", " of ", " in ", " inside "]) + v.req, " " + q(v.cmd))


NEWDIR = lambda r: P.new_dir(r) if r.random() < 0.8 else r.choice(P.SIMPLE_DIRS[:20] + ["my folder", "New Project"])
FILE2 = lambda r: P.file_val(r)
ARCH = lambda r: P.archive_name(r)

# ---------------------------------------------------------------- ls
T("ls_all", ["list [all |]files[ including hidden ones| with hidden files|, hidden too]{o}", "show hidden files{o}",
             "ls with hidden files{o}", "list everything{o} including dotfiles", "show all files{o} in long format"],
  lambda s, c: f"ls -A{s.o}", o=odir)
T("ls_all_long", ["list all files{o} including hidden ones with details", "long listing{o} with hidden files", "ls -la{o}"],
  lambda s, c: f"ls -la{s.o}", o=odir)
T("ls_long", ["list files{o} [with details|in long format|with permissions and sizes]", "detailed listing{o}", "long listing{o}"],
  lambda s, c: f"ls -l{s.o}", o=odir)
T("ls_plain", ["list [the |]files{o}", "what files are{o}", "show [me |]the files{o}", "what's{o}", "show [the |]contents of{o}"],
  lambda s, c: f"ls{s.o}" if s.o else None, o=odir)
T("ls_here", ["list [the |]files [here|in the current directory|in this directory]", "what's in this folder", "show files in cwd"],
  lambda s, c: "ls")
T("ls_size", ["list files{o} sorted by size", "sort files{o} by size", "list files{o} [biggest|largest] first", "ls sorted by size{o}"],
  lambda s, c: f"ls -S{s.o}", o=odir)
T("ls_size_l", ["list files{o} sorted by size with details", "long listing{o} sorted by size"], lambda s, c: f"ls -lS{s.o}", o=odir)
T("ls_size_h", ["list files{o} sorted by size [with human readable sizes|in human-readable format]"],
  lambda s, c: f"ls -lhS{s.o}", o=odir)
T("ls_time", ["list files{o} sorted by [date|time|modification time]", "list files{o} newest first", "sort files{o} by date",
              "show most recently modified files first{o}"],
  lambda s, c: f"ls -t{s.o}", o=odir)
T("ls_time_l", ["list files{o} sorted by [date|time] with details", "long listing{o} newest first"], lambda s, c: f"ls -lt{s.o}", o=odir)
T("ls_time_rev", ["list files{o} [oldest first|sorted by date in reverse|by time, oldest at the top]", "list files{o} by date with newest at the bottom"],
  lambda s, c: f"ls -tr{s.o}", o=odir)
T("ls_rev", ["list files{o} in reverse [alphabetical |name |]order", "ls{o} sorted z to a", "reverse sorted listing{o}"], lambda s, c: f"ls -r{s.o}", o=odir)
T("ls_human", ["list files{o} with human[-| ]readable sizes", "show file sizes{o} in KB/MB", "ls -l but readable sizes{o}"],
  lambda s, c: f"ls -lh{s.o}", o=odir)
T("ls_dirs", ["list only [the |]directories{o}", "show only folders{o}", "list [the |]subdirectories{o}", "which folders are{o}"],
  lambda s, c: f"ls -d {s.o.strip().rstrip('/') + '/' if s.o else ''}*/", o=odir)
T("ls_one", ["list files{o} one per line", "ls one file per line{o}"], lambda s, c: f"ls -1{s.o}", o=odir)
T("ls_rec", ["list [all |]files{o} recursively", "recursive listing{o}", "list everything{o} including subfolders"],
  lambda s, c: f"ls -R{s.o}", o=odir)
T("ls_count", ["how many [files|entries|items] are{o}", "count [the |]files{o} (not recursive)", "count entries{o}"],
  lambda s, c: f"ls{s.o} | wc -l" if s.o else "ls | wc -l", o=odir)
T("ls_newest", ["[what is|show|find] the [newest|most recent|latest] file{o}", "which file was modified last{o}"],
  lambda s, c: f"ls -t{s.o} | head -n 1", o=odir)
T("ls_ext", ["list [all |the |]{e} files{o}", "show {e} files{o}", "which {e} files are{o}"],
  lambda s, c: f"ls {s.o.strip() + '/' if s.o else ''}*.{s.e}", e=ext_val, o=odir)
T("tree", ["show [the |]directory tree{o}", "show the folder structure{o}", "tree view{o}"],
  lambda s, c: f"tree{s.o}", o=odir, weight=0.5)
T("tree_depth", ["show [the |]directory tree{o} [down to|up to|limited to] {n} levels", "tree{o} with depth {n}"],
  lambda s, c: f"tree -L {s.n}{s.o}", o=odir, n=DEPTH, weight=0.5)
T("pwd", ["[what|which] directory am i in", "print [the |]current [working |]directory", "where am i", "show [the |my |]current path", "pwd",
            "what's my current [directory|folder|path|working directory]", "[show|tell me] [the |]current directory", "[full |]path of [this|the current] folder"],
  lambda s, c: "pwd")
T("cd_home", ["go [to|back to] [my |the |]home directory", "cd home"], lambda s, c: "cd ~", weight=0.3)
T("cd_dir", ["[go to|change to|cd into|enter|switch to|open] [the |]{d}[ directory| folder|]", "change directory to {d}"],
  lambda s, c: f"cd {q(s.d)}", d=DIR, weight=0.5)
T("cd_back", ["go [back|up] one [directory|level|folder]", "go to the parent directory"], lambda s, c: "cd ..", weight=0.3)
T("cd_prev", ["go back to the previous directory", "return to the last directory i was in"], lambda s, c: "cd -", weight=0.3)

# ---------------------------------------------------------------- du / df
T("du_dir", ["[how big is|what is the size of|size of|show the size of|how much space does] {d}[ take| use| take up|]",
             "[disk usage|total size] of {d}", "check [the |]size of [the |]{d} [folder|directory]"],
  lambda s, c: f"du -sh {q(s.d)}", d=DIR)
T("du_here", ["how big is [this|the current] [folder|directory]", "total size of [the current directory|this dir]", "size of everything here"],
  lambda s, c: "du -sh .")
T("du_sub", ["[show|list] [the |]size of each [subdirectory|folder|subfolder]{o}", "disk usage [per|of each] [folder|directory]{o}",
             "how big is each folder{o}", "sizes of [the |]directories{o}"],
  lambda s, c: f"du -h -d 1{s.o}" if c.mac else f"du -h --max-depth=1{s.o}", o=odir)
T("du_sorted", ["[show|list] [folders|directories|subdirectories]{o} sorted by size", "which [folders|directories] take the most space{o}",
                "what is using [the most|all the] [disk |]space{o}", "[biggest|largest] [folders|directories]{o}"],
  lambda s, c: f"du -sh {s.o.strip() + '/' if s.o else ''}* | sort -rh", o=odir)
T("du_top", ["[show|find|list] the {n} [biggest|largest] [folders|directories|items]{o}", "top {n} [space hogs|largest dirs]{o}"],
  lambda s, c: f"du -sh {s.o.strip() + '/' if s.o else ''}* | sort -rh | head -n {s.n}", o=odir, n=NUM)
T("du_file", ["[how big is|what is the size of|size of|file size of] {f}", "how large is [the file |]{f}"],
  lambda s, c: f"du -h {q(s.f)}", f=PATH)
T("stat_bytes", ["[exact |]size of {f} in bytes", "how many bytes is {f}", "print the byte size of {f}"],
  lambda s, c: f"stat -f %z {q(s.f)}" if c.mac else f"stat -c %s {q(s.f)}", f=PATH)
T("df", ["[show|check] [free |available |]disk space", "how much [disk |free |]space [is left|do i have|is available]",
         "disk usage of [all |the |]filesystems", "df", "is my disk full", "show mounted drives and free space"],
  lambda s, c: "df -h")
T("df_path", ["how much space is left on the [partition|filesystem|disk] [of|holding|with] {d}", "free space [on|for] {d}"],
  lambda s, c: f"df -h {q(s.d)}", d=DIR)
T("df_inodes", ["[show|check] inode usage", "am i out of inodes", "how many inodes are [used|free]"], lambda s, c: "df -i", weight=0.4)

# ---------------------------------------------------------------- cp / mv / rm / mkdir / touch
T("cp_file", ["copy {f} to {t}", "[make|create] a copy of {f} [called|named] {t}", "duplicate {f} as {t}", "cp {f} {t}"],
  lambda s, c: f"cp {q(s.f)} {q(s.t)}", f=FILE, t=FILE2)
T("cp_into", ["copy {f} [to|into] [the |]{d}[ folder| directory|]", "put a copy of {f} in {d}"],
  lambda s, c: f"cp {q(s.f)} {q(s.d)}/", f=PATH, d=DIR)
T("cp_dir", ["copy [the |]{d} [folder|directory|dir] to {t}", "copy [the |]directory {d} [and everything in it |recursively |]to {t}",
             "recursively copy {d} to {t}", "duplicate the {d} folder as {t}"],
  lambda s, c: f"cp -r {q(s.d)} {q(s.t)}", d=DIR, t=NEWDIR)
T("cp_preserve", ["copy {d} to {t} preserving [permissions|timestamps|attributes]", "archive copy of {d} to {t}"],
  lambda s, c: f"cp -a {q(s.d)} {q(s.t)}", d=DIR, t=NEWDIR, weight=0.5)
T("cp_backup", ["[make|create] a backup [copy |]of {f}", "back up {f} [to|as] {f}.bak", "backup {f} before editing"],
  lambda s, c: f"cp {q(s.f)} {q(s.f + '.bak')}", f=FILE)
T("cp_ext", ["copy [all |every |]{e} files [to|into] {d}", "copy *.{e} to {d}"],
  lambda s, c: f"cp *.{s.e} {q(s.d)}/", e=ext_val, d=DIR)
T("mv_rename", ["rename {f} to {t}", "change the name of {f} to {t}", "mv {f} {t}", "rename [the file |]{f} as {t}"],
  lambda s, c: f"mv {q(s.f)} {q(s.t)}", f=FILE, t=FILE2)
T("mv_into", ["move {f} [to|into] [the |]{d}[ folder| directory|]", "put {f} in {d}", "relocate {f} to {d}"],
  lambda s, c: f"mv {q(s.f)} {q(s.d)}/", f=PATH, d=DIR)
T("mv_ext", ["move [all |every |the |]{e} files [to|into] {d}", "move *.{e} into {d}"],
  lambda s, c: f"mv *.{s.e} {q(s.d)}/", e=ext_val, d=DIR)
T("mv_dir", ["rename [the |]{d} [folder|directory] to {t}", "rename directory {d} to {t}"],
  lambda s, c: f"mv {q(s.d)} {q(s.t)}", d=DIR, t=NEWDIR)
T("rm_file", ["[delete|remove|erase|rm] {f}", "[delete|remove] the file {f}", "get rid of {f}", "[delete|remove] {f} please"],
  lambda s, c: f"rm {q(s.f)}", f=PATH, weight=2.0)
T("rm_files2", ["[delete|remove] {f} and {g}"], lambda s, c: f"rm {q(s.f)} {q(s.g)}", f=FILE, g=FILE2)
T("rm_force", ["force [delete|remove] {f}", "[delete|remove] {f} without [asking|prompting|confirmation]"],
  lambda s, c: f"rm -f {q(s.f)}", f=PATH)
T("rm_i", ["[delete|remove] {f} but ask [first|before deleting]", "interactively remove {f}"], lambda s, c: f"rm -i {q(s.f)}", f=FILE, weight=0.2)
T("rm_dir", ["[delete|remove] [the |]{d} [folder|directory|dir][ and everything in it| and its contents| recursively|]",
             "[delete|remove] the directory {d}"],
  lambda s, c: f"rm -r {q(s.d)}", d=NEWDIR)
T("rm_dir_force", ["force [delete|remove] [the |]{d} [folder|directory]", "rm -rf {d}", "[delete|nuke|wipe] {d} [folder |]without prompting"],
  lambda s, c: f"rm -rf {q(s.d)}", d=NEWDIR)
T("rmdir", ["[delete|remove] [the |]empty [folder|directory] {d}"], lambda s, c: f"rmdir {q(s.d)}", d=NEWDIR)
T("rm_ext_here", ["[delete|remove] [all |]{e} files [here|in this folder|in the current directory] [but not in subfolders|only|]", "rm all *.{e}"],
  lambda s, c: f"rm *.{s.e}", e=ext_val)
T("mkdir", ["[create|make] [a |the |]directory {d}", "mkdir {d}", "new folder [called|named] {d}",
            "[create|make] a [folder|directory] [called|named] {d}"],
  lambda s, c: f"mkdir -p {q(s.d)}" if "/" in s.d else f"mkdir {q(s.d)}", d=NEWDIR)
T("mkdir_p", ["[create|make] [the |]nested [directories|folders] {d}", "[create|make] {d} [including|and any missing] parent [directories|folders]",
              "mkdir -p {d}"],
  lambda s, c: f"mkdir -p {q(s.d)}", d=lambda r: r.choice([x for x in P.NEW_DIRS if "/" in x] + ["a/b/c", "src/main/java", "x/y/z"]) if r.random() < 0.4 else "/".join(P.rand_word(r).lower() for _ in range(r.choice([2, 2, 3, 4]))))
T("mkdir_cd", ["[create|make] [a |the |]{d} [directory|folder] and [go into|cd into|enter|switch to] it", "mkdir {d} and cd into it"],
  lambda s, c: f"mkdir -p {q(s.d)}{c.and_()}cd {q(s.d)}", d=NEWDIR)
T("mkdir_many", ["[create|make] [folders|directories] {a}, {b} and {c}", "make three dirs: {a} {b} {c}"],
  lambda s, c: f"mkdir {s.a} {s.b} {s.c}", a=lambda r: r.choice(["src", "docs", "tests", "bin", "lib", "data"]),
  b=lambda r: r.choice(["build", "out", "assets", "config", "logs"]), c=lambda r: r.choice(["tmp", "scripts", "images", "notes", "vendor"]))
T("touch", ["[create|make] [an |a new |]empty file [called|named|] {f}", "touch {f}", "new empty file {f}", "create {f}"],
  lambda s, c: f"touch {q(s.f)}", f=FILE)
T("touch_update", ["update the [modification |]timestamp of {f}", "change the modified time of {f} to now"],
  lambda s, c: f"touch {q(s.f)}", f=FILE, weight=0.4)
T("ln_s", ["create a [symlink|symbolic link|soft link] [to|pointing to|for] {t} [called|named] {l}",
           "[symlink|link] {t} [to|as] {l}", "make {l} a symlink to {t}"],
  lambda s, c: f"ln -s {q(s.t)} {q(s.l)}", t=PATH, l=lambda r: r.choice(["current", "latest", "link", "config", "app", "mylink", "bin/tool", "latest.log"]))
T("ln_sf", ["[update|replace|overwrite] the symlink {l} to point to {t}", "repoint [the link |]{l} to {t}"],
  lambda s, c: f"ln -sfn {q(s.t)} {q(s.l)}", t=PATH, l=lambda r: r.choice(["current", "latest", "link", "config"]), weight=0.5)
T("ln_hard", ["create a hard link [to|for] {t} [called|named] {l}"], lambda s, c: f"ln {q(s.t)} {q(s.l)}", t=FILE, l=FILE2, weight=0.4)
T("readlink", ["where does [the symlink |the link |]{l} point[ to|]", "resolve [the symlink |]{l}", "show the target of [the link |]{l}",
               "full [absolute |]path of {l}"],
  lambda s, c: f"readlink -f {q(s.l)}", l=PATH, weight=0.6)

# ---------------------------------------------------------------- permissions
T("chmod_x", ["make {f} executable", "[add|give] execute permission[s|] [to|on] {f}", "chmod +x {f}", "allow {f} to be executed",
              "let me run {f}"],
  lambda s, c: f"chmod +x {q(s.f)}", f=lambda r: P.file_val(r, r.choice(["sh", "sh", "py", "pl", "", "run"])))
T("chmod_mode", ["[set|change] [the |]permissions [of|on] {f} to {m}", "chmod {f} to {m}", "chmod {m} {f}", "give {f} {m} permissions"],
  lambda s, c: f"chmod {s.m} {q(s.f)}", f=PATH, m=MODE)
T("chmod_R", ["[recursively |]set permissions of {d} [and everything in it |recursively |]to {m}", "chmod -R {m} {d}",
              "change permissions to {m} for everything in {d}"],
  lambda s, c: f"chmod -R {s.m} {q(s.d)}", d=DIR, m=MODE)
T("chmod_private", ["make {f} [readable|accessible] only by me", "[make|set] {f} private", "only the owner should read and write {f}"],
  lambda s, c: f"chmod 600 {q(s.f)}", f=PATH)
T("chmod_ro", ["make {f} read[-| ]only", "remove write permission[s|] from {f}", "[prevent|stop] anyone from [writing to|editing] {f}"],
  lambda s, c: f"chmod a-w {q(s.f)}", f=PATH)
T("chmod_gw", ["[let|allow] the group [write|edit|modify] {f}", "add group write permission [to|on] {f}"],
  lambda s, c: f"chmod g+w {q(s.f)}", f=PATH, weight=0.5)
T("chmod_ow", ["remove [write access|write permission] for others [on|from] {f}"], lambda s, c: f"chmod o-w {q(s.f)}", f=PATH, weight=0.4)
T("chown", ["[change|set] [the |]owner of {f} to {u}", "make {u} the owner of {f}", "chown {f} to {u}", "give ownership of {f} to {u}"],
  lambda s, c: f"chown {s.u} {q(s.f)}", f=PATH, u=USER)
T("chown_ug", ["[change|set] [the |]owner of {f} to {u} and [the |]group [to |]{g}", "chown {f} to {u}:{g}"],
  lambda s, c: f"chown {s.u}:{s.g} {q(s.f)}", f=PATH, u=USER, g=GROUP)
T("chown_R", ["[recursively |]change [the |]owner of {d} [and everything in it |recursively |]to {u}", "chown -R {d} to {u}",
              "make {u} own everything in {d}"],
  lambda s, c: f"chown -R {s.u} {q(s.d)}", d=DIR, u=USER)
T("chown_R_ug", ["recursively change ownership of {d} to {u}:{g}", "give {u} and group {g} ownership of {d} recursively"],
  lambda s, c: f"chown -R {s.u}:{s.g} {q(s.d)}", d=DIR, u=USER, g=GROUP)
T("chown_sudo", ["[use sudo to|as root,] change the owner of {f} to {u}", "sudo chown {f} to {u}"],
  lambda s, c: f"sudo chown {s.u} {q(s.f)}", f=PATH, u=USER, weight=0.4)
T("chgrp", ["change the group of {f} to {g}", "set group ownership of {f} to {g}"], lambda s, c: f"chgrp {s.g} {q(s.f)}", f=PATH, g=GROUP)
T("perms_show", ["[show|what are|check] [the |]permissions [of|on] {f}", "who can read {f}", "ls -l {f}"],
  lambda s, c: f"ls -l {q(s.f)}", f=PATH)
T("stat", ["show [all |][details|metadata|info|information] [about|for|of] {f}", "stat {f}", "when was {f} [last |]modified",
           "file details [for|of] {f}"],
  lambda s, c: f"stat {q(s.f)}", f=PATH)
T("filetype", ["what [kind|type] of file is {f}", "[detect|check|show] [the |]file type of {f}", "is {f} a text or binary file"],
  lambda s, c: f"file {q(s.f)}", f=PATH)
T("basename", ["get the file name [from|of] [the path |]{p}", "strip the directory from {p}", "basename of {p}"],
  lambda s, c: f"basename {q(s.p)}", p=lambda r: r.choice(P.SIMPLE_DIRS) + "/" + P.filename(r, spaces=0), weight=0.5)
T("dirname", ["get the directory [part |]of [the path |]{p}", "dirname of {p}", "parent directory of {p}"],
  lambda s, c: f"dirname {q(s.p)}", p=lambda r: r.choice(P.SIMPLE_DIRS) + "/" + P.filename(r, spaces=0), weight=0.5)
T("realpath", ["[absolute|full] path of {f}", "get the absolute path [of|to|for] {f}"], lambda s, c: f"realpath {q(s.f)}", f=FILE, weight=0.5)
T("checksum", ["[compute|calculate|get|show] [the |]sha256 [checksum|hash|sum] of {f}", "sha256sum {f}", "sha256 of {f}"],
  lambda s, c: f"shasum -a 256 {q(s.f)}" if c.mac else f"sha256sum {q(s.f)}", f=FILE)
T("md5", ["[compute|calculate|get] [the |]md5 [checksum|hash|sum] of {f}", "md5 of {f}"],
  lambda s, c: f"md5 {q(s.f)}" if c.mac else f"md5sum {q(s.f)}", f=FILE)

# ---------------------------------------------------------------- archives
TGZ = lambda r: Val(*(lambda a: (a, a))(P.archive_name(r).replace(" ", "_") + ".tar.gz"))
T("tar_create", ["[create|make] a [tar.gz|tarball|gzipped tar|compressed tar] [archive |file |]of {d}[ called {a}| named {a}|]",
                 "[compress|archive|pack] [the |]{d} [folder|directory|dir] into {a}", "tar[ and gzip|] {d} [into|as] {a}",
                 "[backup|back up] {d} [to|into] {a}"],
  lambda s, c: f"tar -czf {q(s.a)} {q(s.d)}", d=DIR, a=TGZ)
T("tar_create_auto", ["[compress|tar up|zip up|archive] [the |]{d} [folder|directory] [as a tarball|to a tar.gz|into a .tar.gz]"],
  lambda s, c: f"tar -czf {q(s.d.rstrip('/').split('/')[-1].lstrip('.~') + '.tar.gz')} {q(s.d)}", d=lambda r: P.dir_val(r, simple=True))
T("tar_extract", ["[extract|unpack|untar|decompress|open|unzip] {a}", "tar xzf {a}", "[extract|unpack] the [tarball|archive] {a}",
                  "how to untar {a}"],
  lambda s, c: f"tar -xzf {q(s.a)}", a=TGZ)
T("tar_extract_to", ["[extract|unpack|untar] {a} [into|to|in] {d}", "extract {a} into the {d} [folder|directory]"],
  lambda s, c: f"tar -xzf {q(s.a)} -C {q(s.d)}", a=TGZ, d=DIR)
T("tar_list", ["[list|show|view] [the |]contents of {a}[ without extracting|]", "what['s| is] in {a}", "list files in the tarball {a}"],
  lambda s, c: f"tar -tzf {q(s.a)}", a=TGZ)
T("tar_plain", ["[create|make] a [plain |uncompressed |]tar [archive |file |]of {d} [called|named] {a}"],
  lambda s, c: f"tar -cf {q(s.a)} {q(s.d)}", d=DIR, a=lambda r: P.archive_name(r).replace(" ", "_") + ".tar")
T("tar_x_plain", ["[extract|unpack|untar] {a}"], lambda s, c: f"tar -xf {q(s.a)}", a=lambda r: P.archive_name(r).replace(" ", "_") + r.choice([".tar", ".tar.xz", ".tar.bz2", ".tgz"]))
T("tar_bz2", ["[create|make] a [tar.bz2|bzip2 compressed tar|bzipped tarball] of {d} [called|named] {a}"],
  lambda s, c: f"tar -cjf {q(s.a)} {q(s.d)}", d=DIR, a=lambda r: P.archive_name(r).replace(" ", "_") + ".tar.bz2", weight=0.4)
T("tar_xz", ["[create|make] a [tar.xz|xz compressed tarball] of {d} [called|named] {a}"],
  lambda s, c: f"tar -cJf {q(s.a)} {q(s.d)}", d=DIR, a=lambda r: P.archive_name(r).replace(" ", "_") + ".tar.xz", weight=0.4)
T("tar_exclude", ["[create|make] a tar.gz of {d} [called|named] {a} excluding {x}", "archive {d} into {a} but skip {x}"],
  lambda s, c: f"tar -czf {q(s.a)} --exclude={q(s.x)} {q(s.d)}", d=DIR, a=TGZ, x=lambda r: r.choice(["node_modules", "*.log", ".git", "*.tmp", "build", "__pycache__"]), weight=0.5)
T("gzip", ["[gzip|compress] {f}", "compress {f} with gzip", "gzip the file {f}"], lambda s, c: f"gzip {q(s.f)}", f=FILE)
T("gzip_keep", ["[gzip|compress] {f} [but keep|and keep|keeping] the original", "gzip {f} without deleting it"],
  lambda s, c: f"gzip -k {q(s.f)}", f=FILE)
T("gunzip", ["[decompress|unzip|gunzip|uncompress|extract] {f}.gz", "ungzip {f}.gz"], lambda s, c: f"gunzip {q(s.f + '.gz')}", f=FILE)
T("zcat", ["[show|view|print|read] [the contents of |]{f}.gz without [decompressing|extracting|unzipping] [it|]"],
  lambda s, c: f"zcat {q(s.f + '.gz')}", f=lambda r: P.file_val(r, r.choice(["log", "txt", "csv"])))
T("zgrep", ["[search|grep] for {p} in {f}.gz", "find {p} in the compressed [file|log] {f}.gz"],
  lambda s, c: f"zgrep {sqp(s.p)} {q(s.f + '.gz')}", f=lambda r: P.file_val(r, "log"), p=lambda r: P.pattern_word(r))
T("zip_dir", ["zip [up |]{d} [into|as] {a}", "[create|make] a zip [file|archive] of {d}[ called {a}| named {a}|]", "compress {d} [to|into|as] {a}"],
  lambda s, c: f"zip -r {q(s.a)} {q(s.d)}", d=DIR, a=lambda r: P.archive_name(r).replace(" ", "_") + ".zip")
T("zip_files", ["zip {f} and {g} into {a}", "[create|make] {a} containing {f} and {g}"],
  lambda s, c: f"zip {q(s.a)} {q(s.f)} {q(s.g)}", f=FILE, g=FILE2, a=lambda r: P.archive_name(r).replace(" ", "_") + ".zip")
ZIP = lambda r: Val(*(lambda a: (a, a))(r.choice(P.ARCHIVE_NAMES + ["Archive", "download", "photos 2023"]) + ".zip"))
T("unzip", ["[unzip|extract|unpack|decompress|open] {a}", "extract [the zip file |the zip |]{a}", "unzip the archive {a}"],
  lambda s, c: f"unzip {q(s.a)}", a=ZIP)
T("unzip_to", ["[unzip|extract] {a} [into|to|in] {d}", "extract the zip {a} into the folder {d}"],
  lambda s, c: f"unzip {q(s.a)} -d {q(s.d)}", a=ZIP, d=DIR)
T("unzip_list", ["[list|show] [the |]contents of {a}", "what files are in {a}", "peek inside {a} [without extracting|]"],
  lambda s, c: f"unzip -l {q(s.a)}", a=ZIP)


def sqp(p):
    from gen_core import sq
    return sq(p)
