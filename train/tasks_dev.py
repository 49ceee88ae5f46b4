"""Developer tasks: git, docker, curl/wget, ssh/scp/rsync."""

import gen_pools as P
from gen_core import Val, q, sq
from tasks_files import FILE, PATH, DIR

TASKS = []


def uh(s):
    return f"{s.u}@{s.h}" if s.u else s.h


def T(name, reqs, cmd, weight=1.0, **slots):
    TASKS.append(dict(name=name, reqs=reqs, cmd=cmd, slots=slots, weight=weight))


BR = lambda r: P.branch(r)
REM = lambda r: r.choice(P.REMOTES)
MSG = lambda r: (lambda m: Val(r.choice([f'"{m}"', f"'{m}'", m]), m))(r.choice(P.COMMIT_MSGS))
CODE = lambda r: P.file_val(r, r.choice(P.CODE_EXTS + ["md", "json", "yaml"]), spaces=0.02)
NUMC = lambda r: P.num_val(r, (1, 2, 3, 5, 10, 20, 5, 10))
REPO = lambda r: r.choice(["https://github.com/user/repo.git", "git@github.com:acme/api.git", "https://github.com/torvalds/linux.git",
                           "https://gitlab.com/group/project.git", "git@github.com:me/dotfiles.git", "https://github.com/facebook/react"])
G = "[git |]"

# ---------------------------------------------------------------- git
T("git_status", ["[show|check] [the |]git status", "what [files |]changed [in the repo|since the last commit]", "which files are modified", "git status", "what's changed"],
  lambda s, c: "git status")
T("git_status_s", ["[show|print] the [short|compact|brief] git status", "git status in short format", "short status of the repo"], lambda s, c: "git status --short")
T("git_add_all", ["stage all [changes|files|modified files]", "git add everything", "add all files to [the |]git[ staging area|]"], lambda s, c: "git add -A")
T("git_add", ["stage {f}", "git add {f}", "add {f} to [the |]git[ index| staging area|]"], lambda s, c: f"git add {q(s.f)}", f=CODE)
T("git_commit", ["commit [the staged changes |my changes |]with [the |a |]message {m}", "git commit {m}", "commit with message {m}", "make a commit [saying|called] {m}"],
  lambda s, c: f"git commit -m {sq(s.m)}", m=MSG)
T("git_add_commit", ["stage everything[ including untracked files|, untracked files too,|] and commit [it |]with [the message |]{m}", "add all files and commit [them |]with {m}"],
  lambda s, c: f"git add -A{c.and_()}git commit -m {sq(s.m)}", m=MSG)
T("git_commit_all", ["[stage and commit|commit all changes|add and commit] [everything |]with [the |]message {m}", "commit all [tracked |modified |]files with {m}"],
  lambda s, c: f"git commit -am {sq(s.m)}", m=MSG)
T("git_push", ["push [my |the |][changes|commits][ to the remote|]", "git push", "upload my commits"], lambda s, c: "git push")
T("git_push_b", ["push [the |]{b} [branch |]to {r}", "push {b} to {r}", "git push {r} {b}"], lambda s, c: f"git push {s.r} {s.b}", b=BR, r=REM)
T("git_push_u", ["push [the |my |]new branch {b} [and set [the |]upstream|and track it|to origin for the first time]", "publish [the |]branch {b}"],
  lambda s, c: f"git push -u origin {s.b}", b=BR)
T("git_pull", ["pull [the latest changes|from the remote|latest]", "git pull", "update [my |the |]local [repo|branch] [from the remote|]", "get the latest code"],
  lambda s, c: "git pull")
T("git_pull_rebase", ["pull with rebase", "git pull [and |]rebase"], lambda s, c: "git pull --rebase", weight=0.5)
T("git_pull_b", ["pull {b} from {r}", "git pull {r} {b}"], lambda s, c: f"git pull {s.r} {s.b}", b=BR, r=REM, weight=0.5)
T("git_fetch", ["fetch [all |][changes|branches|updates] [from the remote|from all remotes|]", "git fetch[ all|]"], lambda s, c: "git fetch --all")
T("git_new_branch", ["[create|make|start] a [new |]branch [called|named] {b} and switch to it", "[create and switch to|create and check out|check out] a new branch {b}",
                      "checkout a new branch {b}", "git checkout -b {b}", "start working on a new branch {b}"],
  lambda s, c: f"git checkout -b {s.b}", b=BR)
T("git_branch_create", ["[create|make|add] a [new |]branch [called|named] {b}", "new branch {b}[ without switching|]", "git branch {b}",
                        "[create|make] [the |a |]branch {b} but stay on this one"],
  lambda s, c: f"git branch {s.b}", b=BR)
T("git_switch", ["[switch|change|go|move] to [the |]{b} branch", "checkout [the |]{b}[ branch|]", "git checkout {b}"], lambda s, c: f"git checkout {s.b}", b=BR)
T("git_branches", ["[list|show] [all |][local |]branches", "what branches [are there|do i have]", "git branch"], lambda s, c: "git branch")
T("git_branches_all", ["[list|show] [all |]branches including remote[ ones|]", "show remote branches too"], lambda s, c: "git branch -a")
T("git_cur_branch", ["[what|which] branch am i on", "[show|print] the current branch[ name|]", "current git branch"], lambda s, c: "git branch --show-current")
T("git_del_branch", ["delete [the |]{b} branch[ locally|]", "remove [local |]branch {b}", "git delete branch {b}"], lambda s, c: f"git branch -d {s.b}", b=BR)
T("git_del_branch_f", ["force delete [the |]branch {b}", "delete {b} [even if|though] it's not merged"], lambda s, c: f"git branch -D {s.b}", b=BR, weight=0.5)
T("git_del_remote", ["delete [the |]remote branch {b}", "remove {b} from {r}", "delete branch {b} on {r}"], lambda s, c: f"git push {s.r} --delete {s.b}", b=BR, r=REM)
T("git_rename_branch", ["rename [the current |this |]branch to {b}", "change [the |]branch name to {b}"], lambda s, c: f"git branch -m {s.b}", b=BR, weight=0.5)
T("git_rename_branch2", ["rename [the |]branch {a} to {b}", "change the name of branch {a} to {b}"], lambda s, c: f"git branch -m {s.a} {s.b}", a=BR, b=BR, weight=0.6)
T("git_merge", ["merge {b} into [the current branch|this branch|my branch]", "merge [the |]{b} branch", "git merge {b}"], lambda s, c: f"git merge {s.b}", b=BR)
T("git_rebase", ["rebase [my branch |this branch |]on[to|] {b}", "git rebase {b}"], lambda s, c: f"git rebase {s.b}", b=BR)
T("git_log", ["[show|view] [the |]commit history", "git log", "[show|list] [the |]commits"], lambda s, c: "git log")
T("git_log_oneline", ["[show|view] [the |]commit history [in one line each|compactly|one line per commit]", "git log oneline", "short log"], lambda s, c: "git log --oneline")
T("git_log_n", ["[show|list] the last {n} commits", "[last|latest|most recent] {n} commits", "git log [of |]{n} commits"], lambda s, c: f"git log -n {s.n} --oneline", n=NUMC)
T("git_log_graph", ["[show|draw] [the |]git [history|log] [as a graph|with a graph|with branches]", "commit graph"], lambda s, c: "git log --oneline --graph --all", weight=0.6)
T("git_log_file", ["[show|view] the [commit |]history of {f}", "which commits changed {f}", "git log for {f}"], lambda s, c: f"git log --oneline -- {q(s.f)}", f=CODE)
T("git_log_author", ["[show|list] commits by {u}", "what did {u} commit"], lambda s, c: f"git log --author={q(s.u)}", u=lambda r: r.choice(["alice", "bob", "John Smith", "maria", "dev@company.io"]))
T("git_log_since", ["[show|list] commits from the last {t}", "what was committed in the last {t}", "commits since {t} ago"],
  lambda s, c: f"git log --since='{s.t} ago'", t=lambda r: r.choice(["2 weeks", "week", "3 days", "month", "24 hours", "2 days"]))
T("git_diff", ["[show|what are] [my |the |]unstaged changes", "git diff", "what did i change[ so far|]", "show the diff"], lambda s, c: "git diff")
T("git_diff_staged", ["[show|what are] [the |]staged changes", "diff of what's staged", "git diff [--cached|staged]"], lambda s, c: "git diff --staged")
T("git_diff_file", ["[show|what are] [the |]changes [to|in] {f}", "git diff {f}", "what changed in {f}"], lambda s, c: f"git diff {q(s.f)}", f=CODE)
T("git_diff_branch", ["[compare|diff] [this branch|my branch|the current branch] [with|to|against] {b}", "diff against {b}"], lambda s, c: f"git diff {s.b}", b=BR)
T("git_diff_names", ["[list|show] [the |]files changed [in the last commit|by the last commit]", "which files did the last commit touch"],
  lambda s, c: "git show --name-only HEAD", weight=0.6)
T("git_stash", ["stash [my |the |]changes", "git stash", "[save|put away|shelve] [my |]uncommitted changes [for later|temporarily]"], lambda s, c: "git stash")
T("git_stash_pop", ["[apply|restore|pop|get back] [the |my |]stash[ed changes|]", "git stash pop", "bring back [my |the |]stashed changes"], lambda s, c: "git stash pop")
T("git_stash_list", ["[list|show] [the |my |]stashes", "git stash list"], lambda s, c: "git stash list", weight=0.5)
T("git_undo_commit", ["undo [my |the |]last commit[ but keep the changes| and keep my changes| keeping the changes|]", "uncommit [the last commit|]",
                      "revert the last commit but keep [my |the |]files", "reset to the previous commit [softly|keeping changes]"],
  lambda s, c: "git reset --soft HEAD~1")
T("git_undo_hard", ["[throw away|discard|drop] the last commit [completely|and its changes]", "undo the last commit and [discard|lose|throw away] [the|its|my] changes"],
  lambda s, c: "git reset --hard HEAD~1", weight=0.6)
T("git_discard_all", ["discard all [local |uncommitted |]changes", "[reset|revert] [everything|all files] to the last commit", "throw away [all |]my local changes"],
  lambda s, c: "git reset --hard HEAD")
T("git_reset_remote", ["reset [my |the |]branch to [match |]{r}/{b}", "make my local {b} match the remote[ exactly|]"], lambda s, c: f"git reset --hard {s.r}/{s.b}", r=lambda r: "origin", b=BR, weight=0.5)
T("git_discard_file", ["discard [the |my |]changes [to|in] {f}", "[restore|revert] {f} [to the last commit|to how it was]", "undo [my |the |]changes [to|in] {f}"],
  lambda s, c: f"git restore {q(s.f)}", f=CODE)
T("git_unstage", ["unstage {f}", "remove {f} from the staging area", "undo git add [of|for] {f}"], lambda s, c: f"git restore --staged {q(s.f)}", f=CODE)
T("git_revert", ["revert commit {h}", "undo commit {h} with a new commit", "git revert {h}"], lambda s, c: f"git revert {s.h}", h=lambda r: r.choice(["a1b2c3d", "HEAD", "4f9e2c1", "9fceb02", "e83c516"]))
T("git_cherry", ["cherry[-| ]pick [commit |]{h}", "apply commit {h} [onto|to] this branch"], lambda s, c: f"git cherry-pick {s.h}", h=lambda r: r.choice(["a1b2c3d", "4f9e2c1", "9fceb02", "e83c516", "7d3f0aa"]))
T("git_amend", ["[change|fix|edit|amend] the last commit message to {m}", "amend [the last commit|my commit] with message {m}"], lambda s, c: f"git commit --amend -m {sq(s.m)}", m=MSG)
T("git_amend_noedit", ["add [the staged changes|these changes|this] to the last commit[ without changing the message|]", "amend without editing the message"],
  lambda s, c: "git commit --amend --no-edit", weight=0.6)
T("git_clone", ["clone {u}", "git clone {u}", "[download|get] [a copy of |]the repo {u}", "clone the repository {u}"], lambda s, c: f"git clone {s.u}", u=REPO)
T("git_clone_dir", ["clone {u} into {d}", "clone {u} [to|in] [the folder |]{d}"], lambda s, c: f"git clone {s.u} {q(s.d)}", u=REPO, d=lambda r: r.choice(["myrepo", "src", "project", "app", "linux"]))
T("git_clone_shallow", ["[shallow clone|clone only the latest commit of|clone with depth 1] {u}"], lambda s, c: f"git clone --depth 1 {s.u}", u=REPO, weight=0.5)
T("git_init", ["[initialize|init|create|start] a [new |]git repo[sitory|][ here| in this folder|]", "git init", "turn this folder into a git repo"], lambda s, c: "git init")
T("git_remote_add", ["add [a |the |]remote [called|named] {r} [with url|pointing to|at] {u}", "git remote add {r} {u}", "set {r} to {u}"],
  lambda s, c: f"git remote add {s.r} {s.u}", r=REM, u=REPO)
T("git_remote_v", ["[list|show] [the |]remotes", "what remotes [are configured|do i have]", "show the remote url[s|]", "git remote -v"], lambda s, c: "git remote -v")
T("git_remote_url", ["change the [remote |]url of {r} to {u}", "set the {r} url to {u}"], lambda s, c: f"git remote set-url {s.r} {s.u}", r=REM, u=REPO, weight=0.5)
T("git_tag", ["[create|make|add] a tag [called|named|] {t}", "tag [this|the current] commit [as|with] {t}", "git tag {t}"],
  lambda s, c: f"git tag {s.t}", t=lambda r: r.choice(["v1.0.0", "v2.1", "release-2024", "v0.3.1", "v1.2.0", "beta"]))
T("git_push_tags", ["push [all |the |my |]tags[ to the remote|]", "git push tags"], lambda s, c: "git push --tags", weight=0.6)
T("git_blame", ["[show|who] [wrote|changed|last modified] each line of {f}", "git blame {f}", "who changed {f} line by line"], lambda s, c: f"git blame {q(s.f)}", f=CODE)
T("git_show", ["[show|view] [the |]last commit", "what was in the last commit", "git show"], lambda s, c: "git show")
T("git_rm_cached", ["[stop tracking|untrack] {f}[ but keep it on disk| without deleting it|]", "remove {f} from git but keep the file"], lambda s, c: f"git rm --cached {q(s.f)}", f=CODE)
T("git_rm", ["[delete|remove] {f} [from the repo|and stage the removal|with git]", "git rm {f}"], lambda s, c: f"git rm {q(s.f)}", f=CODE, weight=0.5)
T("git_mv", ["rename {f} to {g} in git", "git mv {f} {g}", "move {f} to {g} [keeping|preserving] git history"], lambda s, c: f"git mv {q(s.f)} {q(s.g)}", f=CODE, g=CODE, weight=0.6)
T("git_clean", ["[delete|remove] [all |]untracked files[ and directories|]", "git clean", "clean the working tree of untracked files"], lambda s, c: "git clean -fd")
T("git_grep", ["[search|grep] [the repo|the repository|tracked files|the code] for {p}", "git grep {p}"], lambda s, c: f"git grep {sq(s.p)}", p=lambda r: P.pattern_word(r))
T("git_shortlog", ["[who|which people] contributed [the most |]to [this|the] repo", "[count|number of] commits per author", "list contributors[ by number of commits|]"],
  lambda s, c: "git shortlog -sn")
T("git_count", ["how many commits [are there|does this repo have|on this branch]", "count [the |]commits"], lambda s, c: "git rev-list --count HEAD", weight=0.6)
T("git_config_name", ["set [my |the |]git [user |]name to {n}", "configure git [user |]name {n}"], lambda s, c: f"git config --global user.name {q(s.n)}",
  n=lambda r: r.choice([Val('"Alice Smith"', "Alice Smith"), Val("John Doe"), Val("bob"), Val("'Maria Garcia'", "Maria Garcia")]))
T("git_config_email", ["set [my |the |]git [user |]email to {e}", "configure git email {e}"], lambda s, c: f"git config --global user.email {s.e}",
  e=lambda r: r.choice(["alice@example.com", "john@doe.dev", "me@company.io", "bob@work.org"]))
T("git_submodule", ["[initialize|init|update|pull] [the |all |]submodules", "clone the submodules too"], lambda s, c: "git submodule update --init --recursive", weight=0.5)
T("git_abort_merge", ["abort the merge", "cancel [this|the] merge"], lambda s, c: "git merge --abort", weight=0.4)
T("git_conflicts", ["[list|show] [the |]files with [merge |]conflicts", "which files have conflicts"], lambda s, c: "git diff --name-only --diff-filter=U", weight=0.4)

# ---------------------------------------------------------------- docker
CT = lambda r: P.container(r)
IMG = lambda r: P.image(r)
T("docker_ps", ["[list|show] [the |]running containers", "what containers are running", "docker ps", "which docker containers are up"], lambda s, c: "docker ps")
T("docker_ps_a", ["[list|show] all containers[ including stopped ones| even stopped|]", "docker ps -a", "show stopped containers too"], lambda s, c: "docker ps -a")
T("docker_images", ["[list|show] [all |the |my |]docker images", "what images do i have", "docker images"], lambda s, c: "docker images")
T("docker_pull", ["pull [the |]{i} image", "download the {i} [docker |]image", "docker pull {i}"], lambda s, c: f"docker pull {s.i}", i=IMG)
T("docker_run", ["run [a |an |the |]{i} container", "start a container from {i}", "docker run {i}"], lambda s, c: f"docker run {s.i}", i=IMG, weight=0.5)
T("docker_run_d", ["run {i} in the background [as|named|called] {n}", "start a detached {i} container named {n}"], lambda s, c: f"docker run -d --name {s.n} {s.i}", i=IMG, n=CT)
T("docker_run_p", ["run {i} [and map|mapping|exposing|publishing] port {p}[ to the host|]", "start {i} [on|with] port {p} [published|exposed|open]",
                   "run a {i} container [listening |]on port {p}"],
  lambda s, c: f"docker run -d -p {s.p}:{s.p} {s.i}", i=IMG, p=lambda r: P.port(r) if r.random() < 0.5 else r.choice(P.PORTS[3:]))
T("docker_run_p2", ["run {i} mapping host port {h} to container port {p}", "run {i} with port {h} forwarded to {p} inside"],
  lambda s, c: f"docker run -d -p {s.h}:{s.p} {s.i}", i=IMG, h=lambda r: r.choice(["8080", "8000", "3000", "9000", "5433", "8081"]), p=lambda r: r.choice(["80", "5432", "3000", "8000", "6379", "443"]))
T("docker_run_it", ["[start|run|open] an interactive [shell in a new |bash in a |]{i} container", "run {i} interactively with a shell", "get a shell in a fresh {i} container"],
  lambda s, c: f"docker run -it --rm {s.i} {'sh' if 'alpine' in s.i or 'busybox' in s.i else 'bash'}", i=IMG)
T("docker_run_v", ["run {i} with the current directory mounted [at|to|as] {m}", "mount [this folder|the current dir] into a {i} container at {m}"],
  lambda s, c: f"docker run -it --rm -v {'(pwd)' if c.fish else '$(pwd)'}:{s.m} {s.i}", i=IMG, m=lambda r: r.choice(["/app", "/data", "/work", "/src"]), weight=0.5)
T("docker_exec", ["[open|get|start] a shell [in|inside] [the |]{n}[ container|]", "exec into [the |]{n}[ container|]", "[connect|attach] to the {n} container with bash", "docker exec bash in {n}"],
  lambda s, c: f"docker exec -it {s.n} bash", n=CT)
T("docker_exec_sh", ["open a sh shell in {n}", "exec sh in the {n} container"], lambda s, c: f"docker exec -it {s.n} sh", n=CT, weight=0.4)
T("docker_exec_cmd", ["run {x} [in|inside] the {n} container", "execute {x} in {n}"], lambda s, c: f"docker exec {s.n} {s.x}", n=CT, x=lambda r: r.choice(["ls /app", "env", "ps aux", "cat /etc/hosts", "nginx -t", "df -h"]))
T("docker_logs", ["[show|view|see|print|get] [the |]logs [of|for|from] [the |]{n}[ container|]", "docker logs {n}", "what did [the |]{n}[ container|] log"], lambda s, c: f"docker logs {s.n}", n=CT)
T("docker_logs_f", ["[follow|tail|stream|watch] [the |]logs [of|for] [the |]{n}[ container|]", "live logs of {n}", "docker logs -f {n}"], lambda s, c: f"docker logs -f {s.n}", n=CT)
T("docker_logs_n", ["[show|get] the last {k} lines of [the |]{n}[ container's|] logs", "last {k} log lines from {n}"], lambda s, c: f"docker logs --tail {s.k} {s.n}", n=CT, k=lambda r: r.choice(["50", "100", "20", "200"]))
T("docker_stop", ["stop [the |]{n}[ container|]", "docker stop {n}", "shut down the {n} container"], lambda s, c: f"docker stop {s.n}", n=CT)
T("docker_start", ["start [the |]{n} container[ again|]", "docker start {n}"], lambda s, c: f"docker start {s.n}", n=CT, weight=0.6)
T("docker_restart", ["restart [the |]{n}[ container|]", "docker restart {n}"], lambda s, c: f"docker restart {s.n}", n=CT)
T("docker_rm", ["[remove|delete] [the |]{n} container", "docker rm {n}"], lambda s, c: f"docker rm {s.n}", n=CT)
T("docker_rm_f", ["force [remove|delete] [the |]{n} container", "[stop and remove|kill and delete] [the |]{n}[ container|]"], lambda s, c: f"docker rm -f {s.n}", n=CT)
T("docker_rmi", ["[remove|delete] the {i} image", "docker rmi {i}"], lambda s, c: f"docker rmi {s.i}", i=IMG)
T("docker_stop_all", ["stop all [running |]containers", "stop every docker container"], lambda s, c: f"docker stop {c.sub('docker ps -q')}")
T("docker_rm_all", ["[remove|delete] all [stopped |]containers", "clean up [all |]stopped containers"], lambda s, c: "docker container prune")
T("docker_prune", ["[clean up|free up space used by|prune] docker[ (unused images, containers, networks)|]", "remove [all |]unused docker [data|images and containers]", "docker system prune"],
  lambda s, c: "docker system prune")
T("docker_prune_img", ["[remove|delete] [all |]unused [docker |]images", "prune [dangling |]images"], lambda s, c: "docker image prune", weight=0.6)
T("docker_build", ["build [a |the |]docker image [called|named|tagged] {t}[ from the Dockerfile here| from this directory|]", "docker build -t {t}", "build an image {t} from the current folder"],
  lambda s, c: f"docker build -t {s.t} .", t=lambda r: r.choice(["myapp", "myapp:latest", "api:v2", "web", "backend:dev", "my-image", "app:1.0"]))
T("docker_stats", ["[show|monitor] [the |]resource usage of [my |the |all |]containers", "docker stats", "how much cpu and memory are containers using"], lambda s, c: "docker stats", weight=0.6)
T("docker_inspect", ["inspect [the |]{n} container", "[show|get] [the |]details of [the |]{n}[ container|]"], lambda s, c: f"docker inspect {s.n}", n=CT, weight=0.6)
T("docker_ip", ["[what is|get|show] the ip [address |]of [the |]{n} container"], lambda s, c: f"docker inspect -f '{{{{range .NetworkSettings.Networks}}}}{{{{.IPAddress}}}}{{{{end}}}}' {s.n}", n=CT, weight=0.4)
T("docker_cp_out", ["copy {p} from [the |]{n} container to [the current directory|here]", "get {p} out of the {n} container"],
  lambda s, c: f"docker cp {s.n}:{s.p} .", n=CT, p=lambda r: r.choice(["/app/config.json", "/var/log/app.log", "/etc/nginx/nginx.conf", "/data/dump.sql", "/tmp/out.txt"]))
T("docker_cp_in", ["copy {f} [into|to] the {n} container [at|under|in] {p}"], lambda s, c: f"docker cp {q(s.f)} {s.n}:{s.p}", f=FILE, n=CT, p=lambda r: r.choice(["/app/", "/tmp/", "/data/", "/etc/nginx/"]), weight=0.6)
T("compose_up", ["[start|bring up|run] [the |all |][docker compose |compose |]services[ in the background| detached|]", "docker compose up", "start the [compose |docker-compose |]stack"],
  lambda s, c: "docker compose up -d")
T("compose_down", ["[stop|bring down|tear down|shut down] the [docker compose |compose |][services|stack|containers]", "docker compose down"], lambda s, c: "docker compose down")
T("compose_logs", ["[follow|show|tail] [the |]logs of [the |]compose [services|stack]", "docker compose logs"], lambda s, c: "docker compose logs -f", weight=0.6)
T("compose_build", ["rebuild and start the compose services", "docker compose up with a rebuild"], lambda s, c: "docker compose up -d --build", weight=0.5)
T("compose_ps", ["[list|show] compose [services|containers]", "docker compose ps"], lambda s, c: "docker compose ps", weight=0.4)

# ---------------------------------------------------------------- curl / wget
URL = lambda r: P.url(r)
DLURL = lambda r: P.dl_url(r)
T("curl_get", ["[fetch|get|request|curl] {u}", "[make|send] a GET request to {u}", "print the [contents|content|body] of {u}", "curl {u}"], lambda s, c: f"curl {s.u}", u=URL)
T("curl_O", ["download {u}", "[download|save|grab] {u} [to the current directory|here|with its original name]", "fetch {u} and save it", "curl -O {u}"],
  lambda s, c: f"curl -O {s.u}", u=DLURL)
T("wget", ["[download|fetch] {u} with wget", "wget {u}"], lambda s, c: f"wget {s.u}", u=DLURL)
T("curl_o", ["download {u} [and save it |]as {f}", "save {u} to {f}", "[fetch|get] {u} into {f}"], lambda s, c: f"curl -o {q(s.f)} {s.u}", u=DLURL, f=FILE)
T("wget_c", ["[resume|continue] [the |a |]download of {u}", "download {u} [and resume if interrupted|with resume]"], lambda s, c: f"wget -c {s.u}", u=DLURL, weight=0.5)
T("curl_I", ["[show|get|fetch|print] [only |just |]the [http |response |]headers [of|for|from] {u}", "curl -I {u}", "check the headers of {u}"], lambda s, c: f"curl -I {s.u}", u=URL)
T("curl_L", ["fetch {u} [following|and follow] redirects", "curl {u} with redirects"], lambda s, c: f"curl -L {s.u}", u=URL, weight=0.6)
T("curl_code", ["[get|check|print|show] [just |only |]the [http |]status code [of|for|from] {u}", "what status code does {u} return", "is {u} returning 200"],
  lambda s, c: f"curl -s -o /dev/null -w '%{{http_code}}' {s.u}", u=URL)
T("curl_post_json", ["[send|make] a POST request to {u} with [the |]json {j}", "post {j} to {u}", "POST json {j} to {u}"],
  lambda s, c: f"curl -X POST -H 'Content-Type: application/json' -d {sq(s.j)} {s.u}",
  u=lambda r: r.choice(["http://localhost:3000/api/users", "http://localhost:8080/login", "https://api.example.io/v1/items", "http://127.0.0.1:5000/predict"]),
  j=lambda r: r.choice(['{"name": "alice"}', '{"user": "bob", "pass": "secret"}', '{"id": 1}', '{"text": "hello"}', '{"email": "a@b.com"}']))
T("curl_post_form", ["post [the |]form data {d} to {u}", "send {d} as form data to {u}"], lambda s, c: f"curl -d {sq(s.d)} {s.u}",
  u=lambda r: r.choice(["http://localhost:8080/login", "https://example.com/form", "http://localhost:5000/submit"]), d=lambda r: r.choice(["user=alice&pass=secret", "name=bob", "q=test", "email=a@b.com"]), weight=0.5)
T("curl_auth", ["[fetch|get|curl] {u} [as|with] [user |basic auth |username ]{a}", "request {u} with basic auth {a}"], lambda s, c: f"curl -u {s.a} {s.u}", u=URL, a=lambda r: r.choice(["admin:secret", "alice:pass123", "user:password", "bob:hunter2"]), weight=0.5)
T("curl_header", ["[fetch|get|call] {u} with [the |an |]{h} header", "send a request to {u} with header {h}"], lambda s, c: f"curl -H {sq(s.h)} {s.u}", u=URL,
  h=lambda r: r.choice(["Authorization: Bearer TOKEN", "Accept: application/json", "X-Api-Key: abc123", "User-Agent: test"]), weight=0.5)
T("curl_delete", ["[send|make] a DELETE request to {u}", "DELETE {u}"], lambda s, c: f"curl -X DELETE {s.u}", u=lambda r: r.choice(["http://localhost:3000/api/users/1", "https://api.example.io/v1/items/42", "http://localhost:8080/jobs/7"]), weight=0.5)
T("curl_upload", ["upload {f} to {u}", "send {f} as a file upload to {u}"], lambda s, c: f"curl -F 'file=@{s.f}' {s.u}", f=lambda r: P.filename(r, spaces=0), u=lambda r: r.choice(["http://localhost:8080/upload", "https://example.com/upload"]), weight=0.5)
T("curl_time", ["how long does {u} take to respond", "measure the response time of {u}"], lambda s, c: f"curl -s -o /dev/null -w '%{{time_total}}\\n' {s.u}", u=URL, weight=0.4)
T("wget_mirror", ["download [the whole|an entire] website {u}", "mirror {u}"], lambda s, c: f"wget --mirror --convert-links --page-requisites --no-parent {s.u}", u=lambda r: r.choice(["https://example.com", "https://docs.example.org/"]), weight=0.3)
T("curl_sh", ["[download and run|run] the install script [from|at] {u}"], lambda s, c: f"curl -fsSL {s.u} | sh", u=lambda r: r.choice(["https://example.org/install.sh", "https://get.example.com/install.sh"]), weight=0.3)

# ---------------------------------------------------------------- ssh / scp / rsync
U = lambda r: P.user(r)
H = lambda r: P.host(r)
RPATH = lambda r: r.choice(["/tmp/", "~/", "/var/www/html/", "/home/deploy/", "/opt/app/", "~/backups/", "/srv/data/", "/data/"])
T("ssh", ["[ssh|connect|log in|login] [in|]to {h} as {u}", "ssh into {h} [as user|with user|as] {u}", "ssh {u}@{h}", "open a [remote |]shell on {h} as {u}", "connect to {u}@{h}"],
  lambda s, c: f"ssh {uh(s)}", u=U, h=H)
T("ssh_host", ["ssh [in|]to {h}", "connect to {h} over ssh", "log into {h}"], lambda s, c: f"ssh {s.h}", h=H)
T("ssh_p", ["ssh [in|]to {h} as {u} on port {p}", "connect to {u}@{h} [using|via|on] port {p}", "ssh {u}@{h} port {p}"], lambda s, c: f"ssh -p {s.p} {uh(s)}", u=U, h=H, p=lambda r: r.choice(["2222", "22022", "2200", "8022", "443", "2022"]))
T("ssh_i", ["ssh [in|]to {h} as {u} [using|with] the key {k}", "connect to {u}@{h} with [the |identity |key file ]{k}"], lambda s, c: f"ssh -i {s.k} {uh(s)}", u=U, h=H,
  k=lambda r: r.choice(["~/.ssh/id_ed25519", "~/.ssh/id_rsa", "key.pem", "~/keys/prod.pem", "~/.ssh/deploy_key", "mykey.pem"]))
T("ssh_cmd", ["run {x} on {h}[ as {u}|] over ssh", "execute {x} on [the server |the remote machine |]{h} as {u}", "ssh to {u}@{h} and run {x}"],
  lambda s, c: f"ssh {uh(s)} {sq(s.x)}", u=U, h=H, x=lambda r: r.choice(["uptime", "df -h", "ls -la", "sudo systemctl restart nginx", "free -h", "hostname", "docker ps", "tail -n 50 /var/log/syslog"]))
T("ssh_L", ["forward [local |]port {p} to {h} [over ssh|through ssh|via ssh]", "[create an |set up an |]ssh tunnel [from|for] local port {p} to port {p} on {h}", "port forward {p} from {h}"],
  lambda s, c: f"ssh -L {s.p}:localhost:{s.p} {s.h}", h=H, p=lambda r: r.choice(["8080", "5432", "3306", "6379", "8888", "9000", "3000"]))
T("ssh_copy_id", ["copy my [ssh |public ]key to {h}[ as {u}|]", "set up [passwordless|key-based] [ssh |login ][login |]to {u}@{h}", "ssh-copy-id {u}@{h}"],
  lambda s, c: f"ssh-copy-id {uh(s)}", u=U, h=H)
T("scp_to", ["[copy|upload|send|scp] {f} to {h}[ as {u}|] [in|into|at|under] {p}", "scp {f} to {u}@{h}:{p}", "upload {f} to {p} on {h}[ as {u}|]"],
  lambda s, c: f"scp {q(s.f)} {uh(s)}:{s.p}", f=FILE, u=U, h=H, p=RPATH)
T("scp_from", ["[copy|download|fetch|grab] {r} from {h}[ as {u}|] to [here|the current directory|my machine|this machine]", "scp {r} from {u}@{h}", "download {r} from {u}@{h}"],
  lambda s, c: f"scp {uh(s)}:{s.r} .", u=U, h=H, r=lambda r: r.choice(["/var/log/syslog", "~/backup.tar.gz", "/etc/nginx/nginx.conf", "/tmp/dump.sql", "~/notes.txt", "/opt/app/config.yml", "/data/report.csv"]))
T("scp_dir", ["[copy|upload] the [folder|directory] {d} to {h}[ as {u}|] [in|into|under] {p}", "scp [the |]{d} [folder |directory |]recursively to {u}@{h}:{p}"],
  lambda s, c: f"scp -r {q(s.d)} {uh(s)}:{s.p}", d=DIR, u=U, h=H, p=RPATH)
T("scp_p", ["copy {f} to {u}@{h}:{p} [using|on|over] port {port}"], lambda s, c: f"scp -P {s.port} {q(s.f)} {uh(s)}:{s.p}", f=FILE, u=U, h=H, p=RPATH, port=lambda r: r.choice(["2222", "2200", "22022"]), weight=0.5)
T("rsync", ["[sync|rsync|mirror|copy] {a} to {b}[ with rsync| preserving everything|]", "rsync [the |]{a} [folder |directory |]to {b}", "[back up|backup] {a} to {b} with rsync",
            "[synchronize|sync] [the |]directory {a} with {b}"],
  lambda s, c: f"rsync -av {q(s.a)}/ {q(s.b)}/", a=DIR, b=lambda r: P.new_dir(r) if r.random() < 0.7 else r.choice(["/mnt/backup", "/media/usb/backup", "~/backup"]))
T("rsync_delete", ["[sync|mirror] {a} to {b} [and delete|deleting] [files that no longer exist|extra files in the destination]", "make {b} an exact mirror of {a}"],
  lambda s, c: f"rsync -av --delete {q(s.a)}/ {q(s.b)}/", a=DIR, b=lambda r: r.choice(["/mnt/backup", "backup", "/media/usb/backup", "~/mirror"]))
T("rsync_remote", ["[sync|rsync|upload|copy] {a} to {h}[ as {u}|] [in|at|into] {p}[ with rsync|]", "rsync {a} to {u}@{h}:{p}", "[back up|deploy] {a} to {u}@{h}:{p}"],
  lambda s, c: f"rsync -avz {q(s.a)} {uh(s)}:{s.p}", a=DIR, u=U, h=H, p=RPATH)
T("rsync_from", ["[sync|rsync|download|pull] {r} from {u}@{h} to {d}", "rsync {u}@{h}:{r} to {d}"],
  lambda s, c: f"rsync -avz {uh(s)}:{s.r} {q(s.d)}", u=U, h=H, r=lambda r: r.choice(["/var/www/", "~/data/", "/backups/", "/srv/files/", "/home/deploy/logs/"]), d=DIR)
T("rsync_progress", ["copy {a} to {b} [with a progress bar|showing progress]", "copy a big file {a} to {b} with progress"],
  lambda s, c: f"rsync -ah --progress {q(s.a)} {q(s.b)}", a=PATH, b=DIR, weight=0.6)
T("rsync_dry", ["[dry run|preview|simulate] [an |a |]rsync [of|from] {a} to {b}", "show what rsync would copy from {a} to {b}"],
  lambda s, c: f"rsync -avn {q(s.a)}/ {q(s.b)}/", a=DIR, b=DIR, weight=0.4)
T("rsync_exclude", ["[sync|rsync|copy] {a} to {b} [excluding|but skip|without] {x}"], lambda s, c: f"rsync -av --exclude={q(s.x)} {q(s.a)}/ {q(s.b)}/", a=DIR, b=DIR,
  x=lambda r: r.choice(["node_modules", ".git", "*.log", "__pycache__", "*.tmp", "build"]), weight=0.6)
