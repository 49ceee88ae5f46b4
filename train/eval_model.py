#!/usr/bin/python3
"""Sanity evaluation of a pensieve-cmd GGUF through the engine itself (build/pensieve run --chat):
exact match on freshly generated held-out corpus examples (a seed the training never used) and
on hand-written requests. Text equality is stricter than the execution-based tests/cmd_eval
harness: a different but equivalent command counts as a miss here.

  /usr/bin/python3 train/eval_model.py models/pensieve-cmd.gguf [--n 200]
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import corpus  # noqa: E402

# Written by hand, in wordings and names the templates do not use.
HAND = [
    ("shell=bash os=linux", "list all files bigger than 100 MB in my home", "find ~ -type f -size +100M"),
    ("shell=bash os=linux", "find all python files changed in the last day", "find . -type f -name '*.py' -mtime -1"),
    ("shell=bash os=linux", "delete all .DS_Store files recursively", "find . -type f -name '.DS_Store' -delete"),
    ("shell=bash os=linux", "show me the 5 biggest files in ~/Downloads", "find ~/Downloads -type f -exec du -h {} + | sort -rh | head -n 5"),
    ("shell=bash os=linux", "replace http with https in urls.txt", "sed -i 's/http/https/g' urls.txt"),
    ("shell=bash os=linux", "how many lines does server.log have", "wc -l server.log"),
    ("shell=bash os=linux", "count the lines containing WARN in app.log", "grep -c 'WARN' app.log"),
    ("shell=bash os=linux", "kill whatever is running on port 3000", "kill $(lsof -t -i :3000)"),
    ("shell=bash os=linux", "make deploy.sh executable", "chmod +x deploy.sh"),
    ("shell=bash os=linux", "unpack website.tar.gz", "tar -xzf website.tar.gz"),
    ("shell=bash os=linux", "compress the photos folder into photos.tar.gz", "tar -czf photos.tar.gz photos"),
    ("shell=bash os=linux", "show the last 20 lines of nginx.log", "tail -n 20 nginx.log"),
    ("shell=bash os=linux", "create a folder named reports", "mkdir reports"),
    ("shell=bash os=linux", "rename draft.md to final.md", "mv draft.md final.md"),
    ("shell=bash os=linux", "search for the word banana in recipes.txt ignoring case", "grep -i 'banana' recipes.txt"),
    ("shell=bash os=linux", "which files under src mention useEffect", "grep -rl 'useEffect' src"),
    ("shell=bash os=linux", "print the second column of scores.csv", "cut -d',' -f2 scores.csv"),
    ("shell=bash os=linux", "sort names.txt and remove duplicates", "sort -u names.txt"),
    ("shell=bash os=linux", "switch to the develop branch", "git checkout develop"),
    ("shell=bash os=linux", "create a new git branch called payment-fix", "git checkout -b payment-fix"),
    ("shell=bash os=linux", "undo my last git commit but keep the changes", "git reset --soft HEAD~1"),
    ("shell=bash os=linux", "show running docker containers", "docker ps"),
    ("shell=bash os=linux", "open a bash shell in the container named backend-api", "docker exec -it backend-api bash"),
    ("shell=bash os=linux", "restart the postgresql service", "sudo systemctl restart postgresql"),
    ("shell=bash os=linux", "download https://files.example.net/data/archive.zip", "curl -O https://files.example.net/data/archive.zip"),
    ("shell=bash os=linux", "copy notes.txt to the server web03 as user deploy into /srv/app/", "scp notes.txt deploy@web03:/srv/app/"),
    ("shell=bash os=linux", "how much free disk space is there", "df -h"),
    ("shell=bash os=linux", "what's my current directory", "pwd"),
    ("shell=zsh os=macos", "replace foo with bar in settings.ini", "sed -i '' 's/foo/bar/g' settings.ini"),
    ("shell=zsh os=macos", "what date was it 3 days ago", "date -v-3d +%F"),
    ("shell=fish os=linux", "set the EDITOR variable to nano", "set -gx EDITOR nano"),
    ("shell=fish os=linux", "stop all running docker containers", "docker stop (docker ps -q)"),
]


def run(pensieve, model, system, user):
    r = subprocess.run([pensieve, "run", "-m", model, "--chat", "--system", system, "-p", user, "-n", "64", "--temp", "0"],
                       capture_output=True, text=True, timeout=60)
    return r.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--pensieve", default=os.path.join(HERE, "..", "build", "pensieve"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=777)
    args = ap.parse_args()
    ok = 0
    exs = corpus.generate(args.n, args.seed)
    for ex in exs:
        got = run(args.pensieve, args.model, ex["system"], ex["user"])
        ok += got == ex["assistant"]
        if got != ex["assistant"]:
            print(f"  held-out miss [{ex['system']}] {ex['user']!r}\n      got  {got!r}\n      want {ex['assistant']!r}")
    print(f"held-out generated examples: {ok}/{len(exs)} exact")
    hok = 0
    for system, user, want in HAND:
        got = run(args.pensieve, args.model, system, user)
        hok += got == want
        print(f"  [{'ok' if got == want else 'XX'}] [{system}] {user!r} -> {got!r}" + ("" if got == want else f"  (want {want!r})"))
    print(f"hand-written requests: {hok}/{len(HAND)} exact")


if __name__ == "__main__":
    main()
