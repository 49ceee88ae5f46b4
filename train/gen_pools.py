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
    special_ok = ext is None
    if ext is None:
        ext = rand_ext(rng)
    r = rng.random()
    if special_ok and r < 0.04:
        return rng.choice(SPECIAL_FILES)
    if r < spaces:
        stem = rng.choice(SPACED_STEMS) if rng.random() < 0.5 else rand_word(rng) + " " + rand_word(rng)
    elif r < 0.5:
        stem = rng.choice(STEMS)
        r2 = rng.random()
        if r2 < 0.15:
            stem += rng.choice(["_", "-", ""]) + str(rng.choice([1, 2, 3, 2023, 2024, 10, 42, 7, 99]))
        elif r2 < 0.25:
            stem = rng.choice(STEMS) + rng.choice(["_", "-"]) + stem
    else:
        stem = rand_stem(rng)
        if " " in stem and rng.random() > spaces * 3:
            stem = stem.replace(" ", "_")
    if "." in stem:
        return stem
    return f"{stem}.{ext}" if ext else stem


HOME_PHRASES = [("my home directory", "~"), ("my home folder", "~"), ("my home dir", "~"), ("my home", "~"),
                ("the home directory", "~"), ("home", "~"), ("~", "~"), ("$HOME", "~"), ("the whole system", "/"),
                ("the entire filesystem", "/"), ("the root directory", "/"), ("everywhere", "/")]


def rand_dir(rng):
    w = rand_word(rng).lower() if rng.random() < 0.8 else rand_word(rng)
    r = rng.random()
    if r < 0.35:
        return w
    if r < 0.5:
        return w + "/" + rand_word(rng).lower()
    if r < 0.65:
        return "~/" + w
    if r < 0.75:
        return rng.choice(["/var/", "/opt/", "/srv/", "/data/", "/mnt/", "/tmp/", "/usr/local/"]) + w
    if r < 0.85:
        return "/home/" + user(rng) + "/" + w
    if r < 0.92:
        return "./" + w
    return rand_word(rng) + " " + rand_word(rng)
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
    r = rng.random()
    if r < 0.45:
        d = rng.choice(SIMPLE_DIRS if simple else DIRS)
    elif r < 0.9 or simple:
        d = rand_dir(rng)
        if simple:
            d = d.replace(" ", "_")
    else:
        req, d = rng.choice(HOME_PHRASES)
        return Val(req, d)
    if " " in d and rng.random() < 0.5:
        return Val('"' + d + '"', d)
    return Val(d, d)


def num_val(rng, choices=(3, 5, 10, 10, 10, 15, 20, 25, 50, 100, 1, 2, 30, 7, 12, 40, 200, 8)):
    n = rng.choice(choices)
    if rng.random() < 0.25 and max(choices) > 4:
        n = rng.randrange(1, max(choices) + 1)
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
    n = rng.choice(nums) if rng.random() < 0.6 else rng.randrange(1, 1000 if unit != "G" else 64)
    sp = rng.choice(spellings)
    return Val(f"{n}{sp}", f"{n}{unit}", n=n, unit=unit)


def days_val(rng):
    n = rng.choice([1, 2, 3, 7, 7, 10, 14, 30, 30, 60, 90, 365, 5, 180]) if rng.random() < 0.7 else rng.randrange(1, 400)
    if n == 7 and rng.random() < 0.4:
        return Val(rng.choice(["week", "7 days"]), "7", n=7, unit_text="week")
    if n == 30 and rng.random() < 0.3:
        return Val("30 days", "30", n=30)
    if n in NUM_WORDS and rng.random() < 0.2:
        return Val(f"{NUM_WORDS[n]} days" if n > 1 else "day", str(n), n=n)
    return Val(f"{n} days" if n > 1 else "day", str(n), n=n)


def mins_val(rng):
    n = rng.choice([5, 10, 15, 30, 60, 90, 120, 2, 45, 20]) if rng.random() < 0.7 else rng.randrange(1, 300)
    word = rng.choice(["minutes", "mins", "min", "minutes"])
    return Val(f"{n} {word}", str(n), n=n)


def proc_val(rng):
    return proc(rng)


def pid_val(rng):
    return str(rng.choice([rng.randrange(100, 999), rng.randrange(1000, 99999)]))


# ---------------------------------------------------------------- random values
# Curated pools alone teach the model to recall names; random ones teach it to copy what the
# request says. Every copied slot draws from both.
COMMON_WORDS = """apple river stone cloud tiger piano garden rocket silver window paper summer winter autumn
spring forest ocean desert island bridge castle planet signal matrix vector kernel socket buffer
packet router widget gadget sensor camera laser motor engine wheel anchor beacon canvas marble
copper violet orange purple yellow green black white coffee butter honey sugar pepper lemon mango
cherry grape melon peach falcon eagle raven otter badger beaver panda koala lion zebra whale shark
dragon phoenix wizard knight archer hunter pilot sailor doctor farmer baker tailor writer painter
alpha beta gamma delta omega sigma lambda theta kappa zeta atlas titan orion vega nova luna sol
mercury venus mars jupiter saturn neptune pluto comet meteor galaxy nebula quasar pulsar photon
proton neutron quark atom cell gene brain heart lung blood bone muscle nerve skin tooth spine
invoice receipt ledger budget salary payroll tax refund quote order ticket issue bug patch build
release deploy rollout canary shadow mirror backup restore archive snapshot volume cluster node pod
shard replica leader follower queue topic stream batch job task worker runner agent client server
proxy gateway tunnel bridge switch hub portal dashboard panel widget report chart graph table grid
notes memo letter diary journal essay novel poem song album track video movie clip photo image
sketch draft outline summary abstract chapter section page index glossary appendix preface intro
customers products orders users accounts sessions events metrics traces alerts incidents records
""".split()
CONS = "bcdfghjklmnprstvwz"
VOWELS = "aeiou"


def syllable_word(rng, n=None):
    n = n or rng.choice([2, 2, 3, 3, 4])
    return "".join(rng.choice(CONS) + rng.choice(VOWELS) + (rng.choice(CONS) if rng.random() < 0.3 else "") for _ in range(n))


def rand_word(rng):
    r = rng.random()
    if r < 0.5:
        return rng.choice(COMMON_WORDS)
    if r < 0.8:
        return syllable_word(rng)
    return rng.choice(STEMS)


def rand_stem(rng):
    r = rng.random()
    w = rand_word(rng)
    if r < 0.35:
        return w
    if r < 0.55:
        return w + rng.choice(["_", "-", ""]) + rand_word(rng)
    if r < 0.7:
        return w + rng.choice(["_", "-", "", ""]) + str(rng.choice([rng.randrange(10), rng.randrange(100), rng.randrange(1990, 2031)]))
    if r < 0.8:
        return w.capitalize() + rand_word(rng).capitalize()
    if r < 0.87:
        return w.upper()
    if r < 0.94:
        return f"{rng.randrange(2015, 2031)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}" + rng.choice(["", "_" + w])
    return w + " " + rand_word(rng)


SPECIAL_FILES = [".DS_Store", "Thumbs.db", ".env", "Dockerfile", "Makefile", ".gitignore", "README", "LICENSE",
                 "id_rsa.pub", "package.json", "core", "nohup.out", "desktop.ini", ".htaccess", "CMakeLists.txt",
                 "go.sum", "yarn.lock", "Gemfile", "Procfile", ".bashrc", ".zshrc", "authorized_keys", "known_hosts",
                 "crontab", "hosts", "fstab", "nginx.conf", "settings.py", "index.html", "main.go", "app.py"]


def rand_ext(rng):
    r = rng.random()
    if r < 0.85:
        return rng.choice(EXTS)
    return rng.choice([syllable_word(rng, 1)[:3], rng.choice(CONS) + rng.choice(CONS), "v2", "old", "orig", "bak2", "tar.gz", "gz", "bz2", "7z", "xz"])


def user(rng):
    return rng.choice(USERS) if rng.random() < 0.5 else (rand_word(rng) if rng.random() < 0.5 else syllable_word(rng, 2))[:12].lower()


def group(rng):
    return rng.choice(GROUPS) if rng.random() < 0.6 else rand_word(rng).lower()


def host(rng):
    r = rng.random()
    if r < 0.35:
        return rng.choice(HOSTS)
    if r < 0.55:
        return f"{rng.choice([10, 192, 172])}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    w = rand_word(rng).lower()
    if r < 0.7:
        return w + rng.choice(["", "1", "2", "-01", "-prod", "-dev"])
    return w + rng.choice([".com", ".io", ".local", ".internal", ".net", ".org", ".dev", ".example.com", ".lan"])


def port(rng):
    return rng.choice(PORTS) if rng.random() < 0.6 else str(rng.randrange(1024, 65536))


def branch(rng):
    r = rng.random()
    if r < 0.45:
        return rng.choice(BRANCHES)
    w = rand_word(rng).lower()
    if r < 0.7:
        return rng.choice(["feature/", "fix/", "bugfix/", "hotfix/", "feat/", "chore/", "release/", ""]) + w + rng.choice(["", "-" + rand_word(rng).lower()])
    return w + rng.choice(["", "-" + str(rng.randrange(1, 999)), "-v" + str(rng.randrange(1, 9))])


def container(rng):
    return rng.choice(CONTAINERS) if rng.random() < 0.5 else rand_word(rng).lower() + rng.choice(["", "-1", "_db", "-api", "-web", "2"])


def image(rng):
    if rng.random() < 0.5:
        return rng.choice(IMAGES)
    return rand_word(rng).lower() + rng.choice(["", ":latest", f":{rng.randrange(1, 20)}", f":{rng.randrange(1, 5)}.{rng.randrange(10)}", "-app"])


def service(rng):
    return rng.choice(SERVICES) if rng.random() < 0.55 else rand_word(rng).lower() + rng.choice(["", "d", "-worker", "-server", ".service"])


def proc(rng):
    return rng.choice(PROCS) if rng.random() < 0.5 else rand_word(rng).lower()[:14]


def pattern_word(rng):
    r = rng.random()
    if r < 0.45:
        return rng.choice(PATTERNS)
    if r < 0.8:
        return rand_word(rng)
    if r < 0.9:
        return rand_word(rng) + " " + rand_word(rng)
    return rand_word(rng).upper() + rng.choice(["", "_" + rand_word(rng).upper()])


def old_new(rng):
    if rng.random() < 0.4:
        return rng.choice(WORDS_OLD_NEW)
    a, b = rand_word(rng), rand_word(rng)
    return (a, b) if a != b else (a, b + "2")


def new_dir(rng):
    r = rng.random()
    if r < 0.4:
        return rng.choice(NEW_DIRS)
    if r < 0.75:
        return rand_word(rng).lower()
    if r < 0.9:
        return rand_word(rng).lower() + "/" + rand_word(rng).lower()
    return rand_word(rng) + " " + rand_word(rng)


def archive_name(rng):
    return rng.choice(ARCHIVE_NAMES) if rng.random() < 0.4 else rand_stem(rng).replace(" ", "_")


def env_var(rng):
    return rng.choice(ENV_VARS) if rng.random() < 0.6 else "_".join(rand_word(rng).upper() for _ in range(rng.choice([1, 2, 2, 3])))


def url(rng):
    if rng.random() < 0.4:
        return rng.choice(URLS)
    scheme = rng.choice(["https://", "https://", "http://"])
    h = host(rng)
    path = "/".join(rand_word(rng).lower() for _ in range(rng.choice([0, 1, 1, 2])))
    tail = rng.choice(["", "", "." + rng.choice(["json", "tar.gz", "zip", "txt", "html", "sh", "csv", "pdf", "iso", "png"])])
    return scheme + h + ("/" + path + tail if path else "")


def dl_url(rng):
    if rng.random() < 0.4:
        return rng.choice([u for u in URLS if "." in u.rsplit("/", 1)[-1] and not u.endswith(".com")])
    return (rng.choice(["https://", "http://"]) + host(rng) + "/" + rand_word(rng).lower() + "/" + rand_stem(rng).replace(" ", "-")
            + "." + rng.choice(["tar.gz", "zip", "json", "csv", "pdf", "iso", "deb", "txt", "png", "mp4", "sh"]))
