"""Tasks about the system: processes, ports, services and logs, date, environment, system info,
network checks, packages, users, cron, loops."""

import gen_pools as P
from gen_core import Val, q, sq
from tasks_files import FILE, DIR, NUM, ext_val

TASKS = []


def T(name, reqs, cmd, weight=1.0, **slots):
    TASKS.append(dict(name=name, reqs=reqs, cmd=cmd, slots=slots, weight=weight))


PROC = P.proc_val
PID = P.pid_val
PORT = lambda r: P.port(r)
SVC = lambda r: P.service(r)
USER = lambda r: P.user(r)
HOST = lambda r: P.host(r)
TOPN = lambda r: P.num_val(r, (5, 10, 10, 3, 20))
LINUX_ONLY = lambda f: (lambda s, c: None if c.mac else f(s, c))

# ---------------------------------------------------------------- processes
T("ps_all", ["[list|show] all [running |]processes", "what processes are running", "ps aux", "show everything that is running"],
  lambda s, c: "ps aux")
T("ps_grep", ["[find|show|list] [the |]{p} process[es|]", "is {p} running[ right now|]", "[show|find] processes [named|called|matching] {p}",
              "what is the pid of {p}", "get the process id of {p}"],
  lambda s, c: f"pgrep -fl {s.p}" if c.mac else f"pgrep -a {s.p}", p=PROC)
T("ps_grep2", ["ps aux [and |]grep {p}", "search the process list for {p}"], lambda s, c: f"ps aux | grep {s.p}", p=PROC, weight=0.5)
T("ps_mem1", ["[which|what] process[es|] [is|are] using the most memory", "[biggest|top] memory hogs", "sort processes by memory", "what is eating [all |]my ram"],
  lambda s, c: "ps aux -m | head" if c.mac else "ps aux --sort=-%mem | head")
T("ps_cpu1", ["[which|what] process[es|] [is|are] using the most cpu", "sort processes by cpu usage", "what is using [all |]my cpu"],
  lambda s, c: "ps aux -r | head" if c.mac else "ps aux --sort=-%cpu | head")
T("ps_mem", ["[show|list] [the |]top {n} processes by memory[ usage|]", "{n} processes using the most [memory|ram]"],
  lambda s, c: f"ps aux -m | head -n {int(s.n) + 1}" if c.mac else f"ps aux --sort=-%mem | head -n {int(s.n) + 1}", n=TOPN)
T("ps_cpu", ["[show|list] [the |]top {n} processes by cpu[ usage|]", "{n} processes using the most cpu"],
  lambda s, c: f"ps aux -r | head -n {int(s.n) + 1}" if c.mac else f"ps aux --sort=-%cpu | head -n {int(s.n) + 1}", n=TOPN)
T("ps_user", ["[list|show] [all |]processes [owned by|of|run by|belonging to] [user |]{u}", "what is {u} running"], lambda s, c: f"ps -u {s.u}", u=USER)
T("ps_tree", ["[show|display] [the |]process tree", "show processes as a tree"], lambda s, c: "pstree" if c.mac else "ps -ef --forest", weight=0.5)
T("top", ["[monitor|watch] [system resources|cpu and memory|processes] [live|in real time]", "open top", "interactive process viewer"],
  lambda s, c: "top", weight=0.5)
T("kill", ["kill [process |pid |the process with pid |]{i}", "[stop|terminate|end] process {i}", "send SIGTERM to {i}"], lambda s, c: f"kill {s.i}", i=PID)
T("kill9", ["[force kill|kill -9|forcefully kill|hard kill] [process |pid |]{i}", "kill process {i} [forcefully|with SIGKILL|no matter what]"],
  lambda s, c: f"kill -9 {s.i}", i=PID)
T("pkill", ["kill [all |every |the |]{p}[ process| processes|]", "[stop|terminate|end] [all |]{p} processes", "kill [all processes|everything] [named|called] {p}", "pkill {p}"],
  lambda s, c: f"pkill {s.p}", p=PROC)
T("pkill9", ["force kill [all |]{p}[ processes|]", "kill -9 [all |every |]{p}"], lambda s, c: f"pkill -9 {s.p}", p=PROC)
T("killall", ["killall {p}"], lambda s, c: f"killall {s.p}", p=PROC, weight=0.3)
T("kill_port", ["kill [the process|whatever is|what's] [running|listening] on port {p}", "free [up |]port {p}", "stop the [server|process] [using|on] port {p}",
                "kill the process [that is |]using port {p}"],
  lambda s, c: f"kill {c.sub('lsof -t -i :' + s.p)}", p=PORT)
T("port_who", ["[what|which process] is [using|listening on|running on] port {p}", "who is using port {p}", "check [what is on|if something listens on] port {p}",
               "[find|show] the process [on|using] port {p}"],
  lambda s, c: f"lsof -i :{s.p}", p=PORT)
T("ports_listen", ["[list|show] [all |]listening ports", "what ports are [open|listening|in use]", "show open ports and the programs using them", "which ports are in use"],
  lambda s, c: "lsof -iTCP -sTCP:LISTEN -n -P" if c.mac else "ss -tulpn")
T("bg_run", ["run {x} in the background", "start {x} in the background [and keep it running after logout|even after I log out]"],
  lambda s, c: f"nohup {s.x} > /dev/null 2>&1 &" if c.shell != "fish" else f"nohup {s.x} &> /dev/null &",
  x=lambda r: r.choice(["./server.sh", "python app.py", "node server.js", "./run.sh", "python3 train.py"]), weight=0.5)
T("watch", ["run {x} every {n} seconds", "[repeat|refresh] {x} every {n} seconds", "watch {x} every {n}s"],
  lambda s, c: f"watch -n {s.n} {s.x}", x=lambda r: r.choice(["df -h", "free -h", "ls -l", "date", "nvidia-smi", "uptime"]), n=lambda r: str(r.choice([1, 2, 5, 10, 30])), weight=0.6)
T("sleep", ["[wait|sleep|pause] [for |]{n} seconds", "sleep {n}"], lambda s, c: f"sleep {s.n}", n=lambda r: str(r.choice([1, 5, 10, 30, 60])), weight=0.3)
T("time", ["[time|measure how long] {x}[ takes| runs|]", "how long does {x} take"],
  lambda s, c: f"time {s.x}", x=lambda r: r.choice(["make", "./build.sh", "python main.py", "npm test", "ls -R /"]), weight=0.4)

# ---------------------------------------------------------------- services and logs (linux)
VERB = [("start", "start"), ("stop", "stop"), ("restart", "restart"), ("reload", "reload"), ("enable", "enable"), ("disable", "disable")]
T("svc_start", ["start [the |]{s}[ service| daemon|]", "[bring up|launch|turn on] {s}", "systemctl start {s}"],
  LINUX_ONLY(lambda s, c: f"sudo systemctl start {s.s}"), s=SVC)
T("svc_stop", ["stop [the |]{s}[ service| daemon|]", "[shut down|turn off|kill the] {s} service", "systemctl stop {s}"],
  LINUX_ONLY(lambda s, c: f"sudo systemctl stop {s.s}"), s=SVC)
T("svc_restart", ["restart [the |]{s}[ service| daemon| server|]", "[bounce|reboot the] {s} service", "systemctl restart {s}"],
  LINUX_ONLY(lambda s, c: f"sudo systemctl restart {s.s}"), s=SVC)
T("svc_reload", ["reload [the |]{s} [config|configuration|service]"], LINUX_ONLY(lambda s, c: f"sudo systemctl reload {s.s}"), s=SVC, weight=0.5)
T("svc_enable", ["[enable|make] {s} [to |]start [at|on] boot", "enable [the |]{s} service", "start {s} automatically on boot"],
  LINUX_ONLY(lambda s, c: f"sudo systemctl enable {s.s}"), s=SVC)
T("svc_enable_now", ["enable and start {s}[ now|]", "start {s} now and on every boot"], LINUX_ONLY(lambda s, c: f"sudo systemctl enable --now {s.s}"), s=SVC, weight=0.5)
T("svc_disable", ["disable [the |]{s}[ service|]", "stop {s} from starting [at|on] boot"], LINUX_ONLY(lambda s, c: f"sudo systemctl disable {s.s}"), s=SVC)
T("svc_status", ["[check |show |get |what is |]the status of {s}", "is {s} running", "[check|see] [if|whether] [the |]{s}[ service|] is [running|up|active]", "systemctl status {s}",
                 "how is {s} doing"],
  LINUX_ONLY(lambda s, c: f"systemctl status {s.s}"), s=SVC)
T("svc_list", ["[list|show] [all |]running services", "what services are running", "which systemd services are active"],
  LINUX_ONLY(lambda s, c: "systemctl list-units --type=service --state=running"))
T("svc_failed", ["[list|show] failed services", "which services failed"], LINUX_ONLY(lambda s, c: "systemctl --failed"), weight=0.5)
T("daemon_reload", ["reload systemd [unit files|after editing a unit|config]"], LINUX_ONLY(lambda s, c: "sudo systemctl daemon-reload"), weight=0.4)
T("journal_svc", ["[show|view|see|get] [the |]logs [of|for] [the |]{s}[ service|]", "journalctl for {s}", "what did {s} log"],
  LINUX_ONLY(lambda s, c: f"journalctl -u {s.s}"), s=SVC)
T("journal_follow", ["[follow|tail|stream|watch] [the |]logs [of|for] {s}[ live| in real time|]", "live logs of the {s} service"],
  LINUX_ONLY(lambda s, c: f"journalctl -u {s.s} -f"), s=SVC)
T("journal_n", ["[show|get] the last {n} [log lines|lines of logs|log entries] [of|for] {s}"], LINUX_ONLY(lambda s, c: f"journalctl -u {s.s} -n {s.n}"), s=SVC, n=lambda r: P.num_val(r, (20, 50, 100, 200)))
T("journal_since", ["[show|view] [system |]logs from the last {h}", "journal entries since {h} ago"],
  LINUX_ONLY(lambda s, c: f"journalctl --since '{s.h} ago'"), h=lambda r: r.choice(["1 hour", "2 hours", "30 minutes", "10 minutes", "1 day", "15 min"]))
T("journal_svc_since", ["[show|view] logs [of|for] {s} [from|since] the last {h}", "what did {s} log in the last {h}"],
  LINUX_ONLY(lambda s, c: f"journalctl -u {s.s} --since '{s.h} ago'"), s=SVC, h=lambda r: r.choice(["1 hour", "2 hours", "30 minutes", "10 minutes", "1 day"]))
T("journal_today", ["[show|view] [system |]logs from today", "today's logs"], LINUX_ONLY(lambda s, c: "journalctl --since today"), weight=0.5)
T("journal_boot", ["[show|view] logs [from|since] [the last |this |]boot", "boot logs"], LINUX_ONLY(lambda s, c: "journalctl -b"), weight=0.5)
T("journal_err", ["[show|list] [only |]errors [in|from] the [system |]log[s|]", "error messages since boot"], LINUX_ONLY(lambda s, c: "journalctl -p err -b"), weight=0.5)
T("journal_disk", ["how much disk space do [the |]journal logs use"], LINUX_ONLY(lambda s, c: "journalctl --disk-usage"), weight=0.3)
T("dmesg", ["[show|view] [the |]kernel [messages|log|ring buffer]", "dmesg"], LINUX_ONLY(lambda s, c: "sudo dmesg"), weight=0.4)
T("syslog", ["[show|view] the last {n} lines of the system log"], LINUX_ONLY(lambda s, c: f"tail -n {s.n} /var/log/syslog"), n=lambda r: P.num_val(r, (20, 50, 100)), weight=0.4)

# ---------------------------------------------------------------- date / time
T("date", ["[what is|show|print|tell me] the [current |]date[ and time|]", "what time is it", "today's date", "current time"], lambda s, c: "date")
T("date_iso", ["[print|show|get] [today's |the |the current |]date [as|in] [YYYY-MM-DD|ISO format|year-month-day]", "date in YYYY-MM-DD format"],
  lambda s, c: "date +%F")
T("date_ts", ["[print|get|show] the [current |]unix timestamp", "seconds since [the |]epoch", "current epoch time"], lambda s, c: "date +%s")
T("date_from_ts", ["convert [the |unix |]timestamp {t} to a [date|readable date|human readable date]", "what date is [epoch |timestamp |]{t}"],
  lambda s, c: f"date -r {s.t}" if c.mac else f"date -d @{s.t}", t=lambda r: str(r.choice([1700000000, 1609459200, 1234567890, 1718000000, 946684800, 1690000000])))
T("date_yday", ["[print|show|what was] yesterday's date", "date of yesterday [in YYYY-MM-DD|as YYYY-MM-DD]"],
  lambda s, c: "date -v-1d +%F" if c.mac else "date -d yesterday +%F")
T("date_ago", ["[print|show|what is|what was] the date {n} days ago", "date {n} days [ago|back]"],
  lambda s, c: f"date -v-{s.n}d +%F" if c.mac else f"date -d '{s.n} days ago' +%F", n=lambda r: str(r.choice([2, 3, 7, 10, 30, 90, 14])))
T("date_ahead", ["[print|show|what is|what will be] the date in {n} days", "date {n} days from now"],
  lambda s, c: f"date -v+{s.n}d +%F" if c.mac else f"date -d '+{s.n} days' +%F", n=lambda r: str(r.choice([1, 2, 3, 7, 10, 30, 90])), weight=0.6)
T("date_utc", ["[show|print|what is] the [current |]time in UTC", "UTC date and time"], lambda s, c: "date -u")
T("date_tz", ["what time is it in {z}", "[show|print] the [current |]time in {z}"],
  lambda s, c: f"env TZ={s.z} date" if c.fish else f"TZ={s.z} date", z=lambda r: r.choice(P.TIMEZONES))
T("cal", ["show [a |the |this month's |]calendar", "calendar for this month"], lambda s, c: "cal", weight=0.4)
T("uptime", ["how long has [the system|this machine|the server|my computer] been [up|running]", "[show|check] uptime", "system load average"], lambda s, c: "uptime")

# ---------------------------------------------------------------- environment
ENVV = lambda r: P.env_var(r)
T("env_all", ["[show|list|print] all environment variables", "[what|which] environment variables are set", "print env"], lambda s, c: "env")
T("env_one", ["[show|print|what is|echo|display] [the value of |my |the |]{v}[ variable| env var| environment variable|]", "what's in {v}", "echo ${v}"],
  lambda s, c: f"echo ${s.v}", v=ENVV)
T("env_path", ["[show|print] [my |the |]PATH one [directory|entry] per line", "list the directories in PATH"],
  lambda s, c: "printf '%s\\n' $PATH" if c.fish else "echo \"$PATH\" | tr ':' '\\n'", weight=0.5)
_LAST = {}


def _env_var(r):
    v = r.choice(list(P.ENV_VALUES))
    _LAST["val"] = r.choice(P.ENV_VALUES[v])
    return v


T("env_set", ["set [the |]{v} [environment variable |env var |variable |]to {x}", "export {v}={x}", "[make|set] {v} [equal to|=] {x} for this session"],
  lambda s, c: c.export(s.v, q(s.x)), v=_env_var, x=lambda r: _LAST["val"])
T("env_unset", ["[unset|remove|delete|clear] [the |]{v}[ variable| environment variable|]"], lambda s, c: f"set -e {s.v}" if c.fish else f"unset {s.v}", v=ENVV)
T("path_add", ["add {d} to [my |the |]PATH", "append {d} to PATH", "put {d} on the PATH", "include {d} in PATH"],
  lambda s, c: f"fish_add_path {s.d}" if c.fish else f"export PATH=\"$PATH:{s.d}\"",
  d=lambda r: r.choice(["~/bin", "/usr/local/go/bin", "~/.local/bin", "/opt/tools/bin", "~/.cargo/bin", "$HOME/bin", "/opt/homebrew/bin", "~/scripts"]))
T("which", ["where is [the |]{p} [command|binary|program|executable][ located|]", "which {p}", "[find|show] the path of [the |]{p} [binary|command]", "is {p} installed"],
  lambda s, c: f"which {s.p}", p=lambda r: r.choice(["python3", "node", "git", "docker", "java", "gcc", "make", "npm", "pip", "go", "curl", "vim", "bash", "code", "kubectl", "psql", "ffmpeg", "rustc"]))
T("alias", ["[create|make|add] an alias {a} for {x}", "alias {a} to {x}"],
  lambda s, c: f"alias {s.a} {sq(s.x)}" if c.fish else f"alias {s.a}={sq(s.x)}",
  a=lambda r: r.choice(["ll", "gs", "la", "k", "dc", "py", "gp", "..", "c"]), x=lambda r: r.choice(["ls -la", "git status", "ls -A", "kubectl", "docker compose", "python3", "git push", "clear"]), weight=0.5)
T("history_grep", ["search [my |the |command |shell |]history for {p}", "find [the |]commands i ran with {p}", "when did i last run {p}"],
  lambda s, c: f"history search {s.p}" if c.fish else f"history | grep {s.p}", p=lambda r: r.choice(["ssh", "docker", "git push", "rsync", "kubectl", "npm", "scp", "curl", "make"]))
T("source", ["reload [my |the |]{f}", "apply the changes in {f}[ without restarting the shell|]", "source {f}"],
  lambda s, c: f"source {s.f}", f=lambda r: r.choice(["~/.bashrc", "~/.zshrc", "~/.profile", ".env", "venv/bin/activate", "~/.bash_profile"]), weight=0.5)

# ---------------------------------------------------------------- system info
T("uname", ["[show|what is|print] [the |my |]kernel version", "which kernel am i running", "uname -r"], lambda s, c: "uname -r")
T("uname_a", ["[show|print] [all |]system information", "[what|which] [os|operating system] [is this|am i running]", "uname -a"], lambda s, c: "uname -a")
T("os_release", ["which [linux |]distribution [is this|am i on|is installed]", "[show|what is] the [os|distro] version", "what version of [ubuntu|linux|debian|macos] is this"],
  lambda s, c: "sw_vers" if c.mac else "cat /etc/os-release")
T("hostname", ["what is [the|this machine's|my] hostname", "[show|print] [the |]hostname", "name of this computer"], lambda s, c: "hostname")
T("whoami", ["[who am i|what user am i|which user am i logged in as]", "[show|print] [my |the current |]username", "whoami"], lambda s, c: "whoami")
T("id", ["[show|what are] my [user id and |]groups", "which groups [am i in|do i belong to]", "my uid and gid"], lambda s, c: "id", weight=0.6)
T("groups_user", ["[what|which] groups is {u} in", "[show|list] the groups of [user |]{u}"], lambda s, c: f"groups {s.u}", u=USER, weight=0.5)
T("free", ["how much [free |]memory [is there|do i have|is available|is left]", "[show|check] [ram|memory] usage", "free memory", "how much ram [is used|is free]"],
  lambda s, c: "vm_stat" if c.mac else "free -h")
T("nproc", ["how many [cpu|CPU|processor] cores [do i have|are there|does this machine have]", "number of cpus", "count [the |]cpu cores"],
  lambda s, c: "sysctl -n hw.ncpu" if c.mac else "nproc")
T("lscpu", ["[show|what] cpu [info|information|model] [is this|do i have|]", "cpu details"], lambda s, c: "sysctl -n machdep.cpu.brand_string" if c.mac else "lscpu", weight=0.6)
T("lsblk", ["[list|show] [all |the |]disks and partitions", "[show|list] block devices", "what drives are connected"], LINUX_ONLY(lambda s, c: "lsblk"), weight=0.6)
T("mount", ["[list|show] mounted [filesystems|drives]", "what is mounted"], lambda s, c: "mount", weight=0.4)
T("who", ["who is logged in", "[show|list] [the |]logged[- ]in users", "which users are [logged in|on this machine]"], lambda s, c: "who")
T("last", ["[show|list] [recent |the last |]logins", "who logged in recently", "login history"], lambda s, c: "last", weight=0.5)
T("gpu", ["[show|check] [the |]gpu [usage|status|memory]", "nvidia-smi", "is the gpu busy"], LINUX_ONLY(lambda s, c: "nvidia-smi"), weight=0.4)
T("ip_addr", ["[what is|show] my [local |private |]ip address", "[show|list] [network interfaces|ip addresses]", "what ip do i have"],
  lambda s, c: "ipconfig getifaddr en0" if c.mac else "hostname -I")
T("ip_link", ["[show|list] [all |]network interfaces [and their addresses|]", "ip addr"], lambda s, c: "ifconfig" if c.mac else "ip addr", weight=0.6)
T("public_ip", ["what is my public ip[ address|]", "[show|get|find] my [external|public] ip"], lambda s, c: "curl -s ifconfig.me")
T("ping", ["ping {h}", "[check|test] [if|whether] {h} is [reachable|up|alive|online]", "is {h} [up|reachable|online]", "ping {h} {n} times"],
  lambda s, c: f"ping -c {s.n} {s.h}", h=HOST, n=lambda r: r.choice(["4", "4", "3", "5", "10", "1"]))
T("dns", ["[look up|lookup|resolve] [the ip of |the ip address of |the dns for |]{h}", "what is the ip [address |]of {h}", "dns lookup [for|of] {h}"],
  lambda s, c: f"dig +short {s.h}", h=lambda r: r.choice(["example.com", "google.com", "github.com", "api.example.io", "staging.example.com", "mydomain.net", "openai.com"]))
T("traceroute", ["[trace the route|traceroute] to {h}", "show the network path to {h}"], lambda s, c: f"traceroute {s.h}", h=HOST, weight=0.4)
T("port_check", ["[check|test] [if|whether] port {p} [is open |]on {h}[ is open|]", "is port {p} open on {h}", "can i connect to {h} on port {p}"],
  lambda s, c: f"nc -zv {s.h} {s.p}", h=HOST, p=PORT)

# ---------------------------------------------------------------- packages and users
PKG = lambda r: r.choice(["git", "curl", "htop", "jq", "tree", "vim", "nginx", "docker.io", "python3-pip", "ffmpeg", "tmux", "wget", "build-essential", "ripgrep", "nodejs", "redis-server", "zsh", "unzip"])
T("apt_install", ["install {p}", "[how do i |]install [the package |the |]{p}[ package|]", "apt install {p}", "get {p} installed", "i need {p} on this machine"],
  lambda s, c: f"brew install {s.p.replace('docker.io', 'docker').replace('python3-pip', 'python').replace('build-essential', 'gcc').replace('redis-server', 'redis').replace('nodejs', 'node')}" if c.mac else f"sudo apt install {s.p}", p=PKG)
T("apt_update", ["update [all |the |my |]packages", "[upgrade|update] the system", "apt update and upgrade", "install [all |the latest |]updates"],
  lambda s, c: "brew update && brew upgrade" if c.mac and not c.fish else ("brew update; and brew upgrade" if c.mac else ("sudo apt update; and sudo apt upgrade" if c.fish else "sudo apt update && sudo apt upgrade")))
T("apt_remove", ["[uninstall|remove] [the package |]{p}", "apt remove {p}"], lambda s, c: f"brew uninstall {s.p}" if c.mac else f"sudo apt remove {s.p}", p=PKG)
T("apt_search", ["search [for |][a |the |]package [named|called|for] {p}", "is there a package for {p}"], lambda s, c: f"brew search {s.p}" if c.mac else f"apt search {s.p}", p=PKG, weight=0.5)
T("apt_list", ["[list|show] installed packages", "what packages are installed"], lambda s, c: "brew list" if c.mac else "apt list --installed", weight=0.5)
T("pip_install", ["[pip |]install [the python package |the python library |]{p}[ with pip| for python|]", "pip install {p}", "add the python package {p}"],
  lambda s, c: f"pip install {s.p}", p=lambda r: r.choice(["requests", "numpy", "pandas", "flask", "django", "pytest", "torch", "black", "fastapi", "httpx", "scikit-learn", "matplotlib"]))
T("pip_req", ["install [the |]python [dependencies|requirements|packages] from requirements.txt", "pip install [the |]requirements[ file|]"],
  lambda s, c: "pip install -r requirements.txt")
T("pip_freeze", ["[save|write|export] [the |]installed python packages to requirements.txt", "freeze [python |]dependencies [into|to] requirements.txt"],
  lambda s, c: "pip freeze > requirements.txt", weight=0.6)
T("venv", ["[create|make] a [python |]virtual environment[ called venv| named venv| in venv|]", "new python venv"], lambda s, c: "python3 -m venv venv")
T("venv_act", ["activate the [python |]virtual environment[ in venv|]", "activate venv"],
  lambda s, c: "source venv/bin/activate.fish" if c.fish else "source venv/bin/activate")
T("npm_install", ["install [the |]node [dependencies|packages|modules]", "npm install", "install [the |]project dependencies with npm"], lambda s, c: "npm install")
T("npm_add", ["[npm |]install {p}[ with npm| as a dependency|]", "add {p} to the node project"],
  lambda s, c: f"npm install {s.p}", p=lambda r: r.choice(["express", "react", "lodash", "axios", "typescript", "vite", "jest", "dotenv", "eslint"]))
T("useradd", ["[create|add] a [new |]user [called|named] {u}", "add user {u}[ with a home directory|]"],
  LINUX_ONLY(lambda s, c: f"sudo useradd -m {s.u}"), u=USER, weight=0.6)
T("usermod_group", ["add [user |]{u} to [the |]{g} group", "put {u} in [the |]group {g}", "give {u} {g} group membership"],
  LINUX_ONLY(lambda s, c: f"sudo usermod -aG {s.g} {s.u}"), u=USER, g=lambda r: P.group(r))
T("passwd", ["change my password", "[reset|change|set] [the |]password [of|for] [user |]{u}"],
  lambda s, c: f"sudo passwd {s.u}" if s.u else "passwd", u=lambda r: r.choice(["", ""] + P.USERS[:8]), weight=0.5)
T("crontab_l", ["[list|show] my cron jobs", "what cron jobs [do i have|are scheduled]", "show [my |the |]crontab"], lambda s, c: "crontab -l")
T("crontab_e", ["edit my [cron jobs|crontab]", "[add|schedule] a [new |]cron job"], lambda s, c: "crontab -e", weight=0.5)
T("shutdown", ["[shut down|power off|turn off] the [computer|machine|server][ now|]"], lambda s, c: "sudo shutdown -h now", weight=0.3)
T("reboot", ["[reboot|restart] the [computer|machine|server|system][ now|]"], lambda s, c: "sudo reboot", weight=0.3)
T("clipboard", ["copy [the contents of |]{f} to the clipboard", "put {f} [in|on] the clipboard"],
  lambda s, c: f"pbcopy < {q(s.f)}" if c.mac else f"xclip -selection clipboard < {q(s.f)}", f=FILE, weight=0.5)
T("open", ["open {f}[ with the default app| in the default application|]", "open the file {f}"],
  lambda s, c: f"open {q(s.f)}" if c.mac else f"xdg-open {q(s.f)}", f=lambda r: P.file_val(r, r.choice(["pdf", "png", "html", "jpg", "docx", "mp4"])), weight=0.5)
T("open_dir", ["open [the current |this |]folder in the file manager", "open this directory in [Finder|the file browser|a file manager]"],
  lambda s, c: "open ." if c.mac else "xdg-open .", weight=0.4)

# ---------------------------------------------------------------- loops and batch renames
T("rename_ext", ["rename [all |every |]{a} files to {b}", "change the extension of all {a} files to {b}", "rename *.{a} to *.{b}"],
  lambda s, c: c.loop("f", f"*.{s.a}", f"mv $f (basename $f .{s.a}).{s.b}") if c.fish else f"for f in *.{s.a}; do mv \"$f\" \"${{f%.{s.a}}}.{s.b}\"; done",
  a=lambda r: r.choice(["txt", "jpeg", "htm", "yml", "markdown", "JPG", "log", "text"]), b=lambda r: r.choice(["md", "jpg", "html", "yaml", "txt", "bak", "csv"]))
T("loop_lines", ["[do something|run a command] for each line [of|in] {f}", "[loop|iterate] over [the |]lines [of|in] {f} and print [each|them]", "read {f} line by line"],
  lambda s, c: f"while read line; echo $line; end < {q(s.f)}" if c.fish else f"while IFS= read -r line; do echo \"$line\"; done < {q(s.f)}", f=lambda r: P.file_val(r, "txt"), weight=0.5)
T("loop_n", ["[print|echo] [the numbers |]1 to {n}", "count from 1 to {n}", "[loop|iterate] from 1 to {n}"],
  lambda s, c: f"seq 1 {s.n}", n=lambda r: str(r.choice([5, 10, 20, 100, 50])), weight=0.5)
T("for_files", ["[run|execute] {x} on [each|every] {e} file[ in this folder| here|]", "for each {e} file run {x}"],
  lambda s, c: c.loop("f", f"*.{s.e}", f"{s.x} $f") if c.fish else f"for f in *.{s.e}; do {s.x} \"$f\"; done",
  x=lambda r: r.choice(["wc -l", "gzip", "python3 process.py", "./convert.sh", "md5sum", "head -n 1"]), e=lambda r: r.choice(["txt", "csv", "log", "json", "py", "md"]), weight=0.6)
T("prefix_files", ["add [the |a |]prefix {p} to [all |every |]{e} file[s|] [names|]", "prepend {p} to the names of all {e} files"],
  lambda s, c: c.loop("f", f"*.{s.e}", f"mv $f {s.p}$f") if c.fish else f"for f in *.{s.e}; do mv \"$f\" \"{s.p}$f\"; done",
  p=lambda r: r.choice(["old_", "backup-", "2024_", "draft_", "x_"]), e=lambda r: r.choice(["txt", "jpg", "csv", "log", "png", "md"]), weight=0.5)
T("lowercase_names", ["[rename|convert] all files [here |in this folder |]to lowercase [names|]", "make every filename lowercase"],
  lambda s, c: c.loop("f", "*", "mv $f (string lower $f)") if c.fish else "for f in *; do mv \"$f\" \"$(echo \"$f\" | tr '[:upper:]' '[:lower:]')\"; done", weight=0.3)
T("spaces_names", ["replace spaces with underscores in [all |]file names[ here| in this folder|]", "remove spaces from file names"],
  lambda s, c: c.loop("f", "*\\ *", "mv $f (string replace -a ' ' _ $f)") if c.fish else "for f in *\\ *; do mv \"$f\" \"${f// /_}\"; done", weight=0.3)
T("count_ext_types", ["count files [by|per] extension{dl}", "how many files of each type are there"],
  lambda s, c: "find . -type f | sed 's/.*\\.//' | sort | uniq -c | sort -rn", dl=lambda r: r.choice(["", " here", " in this folder"]), weight=0.4)
T("base64_enc", ["[base64 encode|encode] {f}[ in base64| as base64|]", "convert {f} to base64"], lambda s, c: f"base64 {q(s.f)}", f=FILE, weight=0.4)
T("base64_dec", ["[base64 decode|decode] {f}[ from base64|]", "decode the base64 in {f}"], lambda s, c: f"base64 -d {q(s.f)}", f=lambda r: P.file_val(r, r.choice(["txt", "b64"])), weight=0.4)
T("random_pw", ["[generate|make|create] a random password", "random string of {n} characters", "generate a secure random token"],
  lambda s, c: f"openssl rand -base64 {s.n}", n=lambda r: str(r.choice([16, 24, 32, 12])), weight=0.4)
T("ssh_keygen", ["[generate|create|make] a [new |]ssh key[ pair|]", "new ssh key [for|with the comment|with email] {em}", "create an ed25519 key[ for {em}|]"],
  lambda s, c: f"ssh-keygen -t ed25519 -C {q(s.em)}" if s.em else "ssh-keygen -t ed25519",
  em=lambda r: r.choice(["alice@example.com", "me@work.com", "dev@company.io", "bob@example.org"]))
