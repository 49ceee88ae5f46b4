"""Slot-value pools and samplers for the corpus generator (file names, sizes, times, hosts, ...).

Large and varied on purpose: the model must learn to copy whatever value the user wrote, not to
recall a few favourite names.
"""

from gen_core import Val

STEMS = """notes report data main app index config server client test utils helpers setup build
readme todo backup dump output input results summary log error access debug users orders invoice
budget resume draft chapter1 chapter2 final final_v2 old new temp scratch sample example demo
script run deploy install update migrate schema db database settings prefs package requirements
Makefile docker-compose nginx httpd hosts passwd profile bashrc zshrc vimrc photo image img_2041
DSC_0042 screenshot song video movie lecture slides thesis paper notes-2023 meeting minutes plan
roadmap changelog license contributing api routes models views controller service worker queue
cache session auth login signup payment cart product customer employee salary inventory stock
sales metrics stats analytics events trace dump_2024 export import sync mirror archive release
v1 v2 patch fix bugfix feature prototype mock fixture seed train eval predict model weights
dataset corpus vocab tokens embeddings checkpoint Cargo go.mod pom build.gradle tsconfig
webpack.config vite.config jest.config styles theme layout header footer navbar sidebar modal
form table chart graph map list queue_worker cron_job health_check monitor alert notify mailer
template partial component hook store reducer action selector util common shared core base
""".split()
SPACED_STEMS = ["my notes", "Q3 report", "meeting notes", "old photos", "tax return 2023", "project plan",
                "final draft", "New Document", "budget 2024", "shopping list", "cover letter", "road trip",
                "team photo", "Screen Shot 2024-01-05", "lecture 3", "untitled folder", "read me",
                "client list", "holiday pics", "sales Q1", "my script", "test data", "backup copy"]
EXTS = ("txt log py js ts md csv json yaml yml conf sh c cpp h go rs java html css xml sql jpg png "
        "gif pdf mp4 mp3 bak tmp ini toml rb php swift kt tsx jsx vue svg webp wav docx xlsx pptx "
        "out dat cfg env lock").split()
CODE_EXTS = "py js ts go rs java c cpp h rb php sh tsx jsx kt swift cs scala lua pl".split()
TEXT_EXTS = "txt log md csv json yaml yml conf ini xml html".split()
IMG_EXTS = "jpg jpeg png gif svg webp bmp tiff heic".split()
DIRS = ["src", "logs", "build", "docs", "data", "backup", "backups", "tmp", "dist", "lib", "bin",
        "scripts", "config", "assets", "images", "public", "static", "test", "tests", "vendor", "out",
        "archive", "old", "reports", "photos", "music", "videos", "downloads", "projects", "notes",
        "/var/log", "/tmp", "/etc", "/opt", "/srv/www", "/var/www/html", "/usr/local/bin", "/home/alice",
        "/data", "/mnt/usb", "/mnt/backup", "/var/lib/docker", "/etc/nginx", "/opt/app", "/var/tmp",
        "~/Downloads", "~/Documents", "~/Desktop", "~/projects", "~/code", "~/Pictures", "~/Music",
        "~/backups", "~/.config", "~/work", "~/src", "./src", "./build", "./logs", "../shared",
        "app/models", "src/components", "src/utils", "public/images", "node_modules", "venv",
        "my project", "Old Files", "client work", "course notes", "release-1.2", "2024", "web", "api",
        "frontend", "backend", "infra", "deploy", "cache", ".cache", "target", "pkg", "cmd", "internal"]
SIMPLE_DIRS = [d for d in DIRS if " " not in d]
NEW_DIRS = ["new_folder", "backup", "archive", "tmp", "test", "output", "release", "my-app", "photos/2024",
            "src/lib", "project/src/utils", "data/raw", "logs/old", "build/out", "docs/api", "2024-06",
            "reports/q3", "site", "demo", "sandbox", "work", "experiments", "notes", "bin", "assets/img"]
USERS = ["alice", "bob", "carol", "dave", "www-data", "deploy", "postgres", "ubuntu", "john", "admin",
         "nginx", "jenkins", "git", "mysql", "ec2-user", "pi", "root", "sam", "maria", "dev", "app",
         "builder", "ops", "svc_backup", "elastic", "node", "kevin", "lisa"]
GROUPS = ["staff", "developers", "www-data", "docker", "admin", "users", "devops", "wheel", "sudo",
          "audio", "video", "web", "ops", "backup", "adm"]
HOSTS = ["server1", "example.com", "192.168.1.10", "10.0.0.5", "db.internal", "web01.example.org",
         "myserver", "prod-db", "staging.example.com", "172.16.0.4", "build-box", "pi.local", "gateway",
         "host.docker.internal", "vps.mydomain.net", "192.168.0.100", "nas.local", "bastion",
         "api.example.io", "10.1.2.3", "jump.corp.net", "devbox", "backup-server", "8.8.8.8", "google.com",
         "github.com", "1.1.1.1", "node3.cluster.local"]
PORTS = ["22", "80", "443", "3000", "5432", "8080", "8000", "6379", "9000", "27017", "2222", "3306",
         "5000", "8443", "8888", "9090", "4000", "5173", "11211", "1883", "25", "53", "9200", "7000"]
BRANCHES = ["main", "master", "develop", "dev", "feature/login", "fix-typo", "release-1.2", "hotfix/crash",
            "feature/new-ui", "staging", "bugfix/123", "experiment", "refactor-db", "v2", "gh-pages",
            "feat/auth", "docs-update", "wip", "test-branch", "release/2024.06", "add-tests", "cleanup"]
REMOTES = ["origin", "upstream", "fork", "backup", "github", "gitlab"]
CONTAINERS = ["web", "db", "redis", "api", "my-app", "nginx", "postgres", "worker", "frontend", "backend",
              "mongo", "app", "cache", "proxy", "test-runner", "jenkins", "grafana", "mysql-dev"]
IMAGES = ["nginx", "ubuntu:22.04", "python:3.11", "node:18", "redis", "postgres:15", "alpine",
          "debian:bookworm", "mysql:8", "golang:1.22", "httpd", "busybox", "mongo:7", "node:20-alpine",
          "python:3.12-slim", "rust:latest", "grafana/grafana", "myapp:latest", "myorg/api:v2"]
SERVICES = ["nginx", "apache2", "docker", "sshd", "ssh", "postgresql", "mysql", "redis", "cron",
            "httpd", "bluetooth", "NetworkManager", "cups", "mongod", "php-fpm", "containerd", "ufw",
            "fail2ban", "grafana-server", "prometheus", "jenkins", "kubelet", "systemd-resolved", "myapp"]
PROCS = ["firefox", "node", "python", "java", "chrome", "nginx", "vim", "slack", "code", "python3",
         "ruby", "spotify", "zoom", "postgres", "mysqld", "gunicorn", "celery", "redis-server", "php",
         "electron", "dockerd", "sleep", "top", "htop", "rsync", "ffmpeg", "npm", "java"]
PATTERNS = ["TODO", "error", "ERROR", "FIXME", "localhost", "import", "password", "404", "warning",
            "WARN", "failed", "Exception", "timeout", "main", "api_key", "DEBUG", "null", "root", "sudo",
            "def ", "class ", "console.log", "printf", "http://", "deprecated", "segfault", "denied",
            "connection refused", "out of memory", "user_id", "SELECT", "token", "hello", "foo", "version",
            "TODO:", "panic", "fatal", "@Override", "#include", "async", "export default", "127.0.0.1",
            "Traceback", "import React", "useState", "license", "copyright", "secret", "admin", "500"]
WORDS_OLD_NEW = [("foo", "bar"), ("http", "https"), ("localhost", "127.0.0.1"), ("colour", "color"),
                 ("teh", "the"), ("old_name", "new_name"), ("v1", "v2"), ("2023", "2024"), ("DEBUG", "INFO"),
                 ("true", "false"), ("apple", "orange"), ("cat", "dog"), ("master", "main"),
                 ("tabs", "spaces"), ("hello", "goodbye"), ("alice", "bob"), ("8080", "9090"),
                 ("staging", "production"), ("var", "let"), ("print", "log"), ("yes", "no"),
                 ("example.com", "example.org"), ("Foo", "Bar"), ("TODO", "DONE"), ("dev", "prod")]
COMMIT_MSGS = ["fix typo", "initial commit", "update readme", "add tests", "fix login bug", "wip",
               "refactor parser", "bump version to 1.2.0", "remove unused code", "add docker support",
               "update dependencies", "fix build", "first draft", "add license", "cleanup", "docs: fix links"]
ENV_VARS = ["PATH", "HOME", "EDITOR", "JAVA_HOME", "NODE_ENV", "GOPATH", "LANG", "SHELL", "USER",
            "PYTHONPATH", "DEBUG", "API_KEY", "TERM", "VISUAL", "LD_LIBRARY_PATH", "HTTP_PROXY", "TZ",
            "DATABASE_URL", "PORT", "AWS_REGION", "CUDA_VISIBLE_DEVICES", "PAGER"]
ENV_VALUES = {"EDITOR": ["vim", "nano", "code"], "NODE_ENV": ["production", "development"],
              "JAVA_HOME": ["/usr/lib/jvm/java-17-openjdk"], "DEBUG": ["1", "true"], "PORT": ["8080", "3000"],
              "LANG": ["en_US.UTF-8"], "TZ": ["UTC", "Europe/Berlin"], "AWS_REGION": ["us-east-1"],
              "GOPATH": ["~/go"], "PAGER": ["less"], "VISUAL": ["vim"], "CUDA_VISIBLE_DEVICES": ["0", "1"]}
URLS = ["https://example.com/file.tar.gz", "https://example.com/data.json", "http://localhost:8080/health",
        "https://api.github.com/repos/torvalds/linux", "https://example.org/install.sh",
        "https://releases.example.com/v1.2/app.zip", "http://192.168.1.10/status",
        "https://httpbin.org/get", "https://example.com", "https://mirror.example.net/ubuntu.iso",
        "https://raw.githubusercontent.com/user/repo/main/README.md", "http://localhost:3000/api/users",
        "https://cdn.example.com/images/logo.png", "https://example.com/report.pdf"]
MODES = ["755", "644", "600", "700", "775", "664", "444", "750", "640", "777", "400", "711"]
JSON_KEYS = ["name", "version", "id", "status", "email", "items", "data", "results", "user", "count",
             "dependencies", "scripts", "config", "title", "url", "price", "tags", "type"]
DELIMS = [(",", "comma", ","), (":", "colon", ":"), ("\t", "tab", "\t"), (";", "semicolon", ";"),
          ("|", "pipe", "|"), (" ", "space", " ")]
NUM_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
             9: "nine", 10: "ten", 12: "twelve", 15: "fifteen", 20: "twenty", 30: "thirty", 50: "fifty",
             100: "hundred"}
TIMEZONES = ["UTC", "America/New_York", "Europe/London", "Asia/Tokyo", "Europe/Berlin", "Australia/Sydney"]
ARCHIVE_NAMES = ["backup", "project", "logs", "archive", "site", "release", "photos", "data", "src",
                 "docs", "app-1.0", "dump", "files", "my project", "export"]


def pick(rng, pool):
    return rng.choice(pool)


def filename(rng, ext=None, spaces=0.12):
    if ext is None:
        ext = rng.choice(EXTS)
    if rng.random() < spaces:
        stem = rng.choice(SPACED_STEMS)
    else:
        stem = rng.choice(STEMS)
        r = rng.random()
        if r < 0.15:
            stem += rng.choice(["_", "-", ""]) + str(rng.choice([1, 2, 3, 2023, 2024, 10, 42, 7, 99]))
        elif r < 0.25:
            stem = rng.choice(STEMS) + rng.choice(["_", "-"]) + stem
    if "." in stem:
        return stem
    return f"{stem}.{ext}" if ext else stem


def file_val(rng, ext=None, spaces=0.12):
    """A file name as the request writes it (sometimes quoted) -> the bare name."""
    f = filename(rng, ext, spaces)
    if " " in f and rng.random() < 0.5:
        qc = rng.choice(["'", '"'])
        return Val(qc + f + qc, f)
    if rng.random() < 0.06:
        return Val("`" + f + "`", f)
    return Val(f, f)


def path_val(rng, ext=None):
    """Sometimes a bare name, sometimes dir/name."""
    if rng.random() < 0.3:
        d = rng.choice(SIMPLE_DIRS).rstrip("/")
        f = filename(rng, ext, spaces=0.05)
        p = f"{d}/{f}"
        return Val(p, p)
    return file_val(rng, ext)


def dir_val(rng, simple=False):
    d = rng.choice(SIMPLE_DIRS if simple else DIRS)
    if " " in d and rng.random() < 0.5:
        return Val('"' + d + '"', d)
    return Val(d, d)


def num_val(rng, choices=(3, 5, 10, 10, 10, 15, 20, 25, 50, 100, 1, 2, 30, 7, 12, 40, 200, 8)):
    n = rng.choice(choices)
    if n in NUM_WORDS and rng.random() < 0.25 and n != 100:
        return Val(NUM_WORDS[n], str(n), n=n)
    return Val(str(n), str(n), n=n)


SIZE_UNITS = [  # request spellings -> find -size suffix
    ("k", ["k", "K", "KB", " KB", "kb", " kilobytes", "K"], [1, 4, 10, 50, 100, 500, 512, 200]),
    ("M", ["M", "MB", " MB", "mb", " megabytes", " megs", "m", "M"], [1, 5, 10, 20, 50, 100, 200, 500, 250]),
    ("G", ["G", "GB", " GB", "gb", " gigabytes", " gigs", "G"], [1, 2, 5, 10]),
]


def size_val(rng):
    unit, spellings, nums = rng.choice(SIZE_UNITS)
    n = rng.choice(nums)
    sp = rng.choice(spellings)
    return Val(f"{n}{sp}", f"{n}{unit}", n=n, unit=unit)


def days_val(rng):
    n = rng.choice([1, 2, 3, 7, 7, 10, 14, 30, 30, 60, 90, 365, 5, 180])
    if n == 7 and rng.random() < 0.4:
        return Val(rng.choice(["week", "7 days"]), "7", n=7, unit_text="week")
    if n == 30 and rng.random() < 0.3:
        return Val("30 days", "30", n=30)
    if n in NUM_WORDS and rng.random() < 0.2:
        return Val(f"{NUM_WORDS[n]} days" if n > 1 else "day", str(n), n=n)
    return Val(f"{n} days" if n > 1 else "day", str(n), n=n)


def mins_val(rng):
    n = rng.choice([5, 10, 15, 30, 60, 90, 120, 2, 45, 20])
    word = rng.choice(["minutes", "mins", "min", "minutes"])
    return Val(f"{n} {word}", str(n), n=n)


def proc_val(rng):
    return rng.choice(PROCS)


def pid_val(rng):
    return str(rng.choice([rng.randrange(100, 999), rng.randrange(1000, 99999)]))
