// The validator's table: every row is a command line, the risk it must get, and a substring that
// one of its reasons must contain ("" for safe rows, which must have no reasons at all).
// Context: the working tree is /home/user/project and the home directory /home/user.
#include <gtest/gtest.h>

#include "shell/tokenizer.h"
#include "shell/validator.h"

namespace pensieve::shell {
namespace {

struct Row {
  const char* command;
  Risk risk;
  const char* reason;
};

constexpr Risk S = Risk::safe, C = Risk::caution, D = Risk::dangerous, B = Risk::blocked;

const Row kRows[] = {
    // ---- safe: everyday reading, listing, searching, archiving into the tree ----
    {"ls", S, ""},
    {"ls -la", S, ""},
    {"ls -lhS ~/Downloads", S, ""},
    {"du -sh *", S, ""},
    {"du -sh ~/Documents | sort -h", S, ""},
    {"df -h", S, ""},
    {"find . -name '*.py'", S, ""},
    {"find . -type f -size +100M", S, ""},
    {"find ~ -name \"*.log\" -mtime -1", S, ""},
    {"find / -name core 2>/dev/null", S, ""},
    {"grep -r TODO .", S, ""},
    {"grep -rn \"main(\" src/ | head -20", S, ""},
    {"git status", S, ""},
    {"git log --oneline -10", S, ""},
    {"git diff HEAD~1", S, ""},
    {"git show HEAD:README.md", S, ""},
    {"git branch -a", S, ""},
    {"git fetch origin", S, ""},
    {"git clone https://github.com/user/repo.git", S, ""},
    {"tar -czf backup.tar.gz src/", S, ""},
    {"tar -tzf archive.tar.gz", S, ""},
    {"zip -r site.zip public", S, ""},
    {"ps aux", S, ""},
    {"ps aux | grep python", S, ""},
    {"top -b -n 1 | head -15", S, ""},
    {"curl -O https://example.com/file.tar.gz", S, ""},
    {"curl -o page.html https://example.com", S, ""},
    {"wget https://example.com/data.csv", S, ""},
    {"curl -s https://api.github.com/repos/x/y | jq .stargazers_count", S, ""},
    {"cat /etc/os-release", S, ""},
    {"head -n 20 access.log", S, ""},
    {"tail -f /var/log/syslog", S, ""},
    {"wc -l *.txt", S, ""},
    {"sort data.txt | uniq -c | sort -rn", S, ""},
    {"cut -d, -f2 data.csv", S, ""},
    {"awk '{print $1}' access.log | sort | uniq -c", S, ""},
    {"sed 's/foo/bar/g' file.txt", S, ""},
    {"echo hello", S, ""},
    {"echo $HOME", S, ""},
    {"date +%Y-%m-%d", S, ""},
    {"uname -a", S, ""},
    {"whoami", S, ""},
    {"pwd", S, ""},
    {"which python3", S, ""},
    {"command -v rm", S, ""},
    {"mkdir -p build/out", S, ""},
    {"touch notes.txt", S, ""},
    {"ln -s", C, "creates links"},
    {"ls 2>&1 | less", S, ""},
    {"ls > /dev/null 2>&1", S, ""},
    {"make -j4 2> /dev/null", S, ""},
    {"ssh user@host uptime", S, ""},
    {"docker ps -a", S, ""},
    {"docker images", S, ""},
    {"systemctl status nginx", S, ""},
    {"free -h", S, ""},
    {"lsof -i :8080", S, ""},
    {"echo $(date) $(whoami)", S, ""},
    {"for f in *.txt; do echo \"$f\"; done", S, ""},
    {"xargs echo < list.txt", S, ""},
    {"find . -name '*.md' | xargs grep -l TODO", S, ""},
    {"find . -name '*.c' -exec grep -l main {} \\;", S, ""},
    {"diff <(sort a.txt) <(sort b.txt)", S, ""},
    {"history | tail -20", S, ""},
    {"kill -l", S, ""},
    {"fdisk -l", S, ""},
    {"time ls", S, ""},
    {"nice -n 10 gzip -k big.log", S, ""},
    {"env | sort", S, ""},
    {"cat <<EOF\nrm -rf /\nEOF", S, ""},
    {"# rm -rf /", S, ""},
    {"echo 'rm -rf /'", S, ""},
    {"printf '%s\\n' \"rm -rf ~\"", S, ""},
    {"cd /tmp && ls", S, ""},
    {"python3 script.py", S, ""},
    {"npm run build", S, ""},
    {"stat -c %s file.bin", S, ""},
    {"md5sum *.iso", S, ""},
    {"jq '.items[]' data.json", S, ""},
    {"uniq -d names.txt", S, ""},
    {"python3 -c 'print(1 + 1)'", S, ""},
    {"mkdir -p ~/a/{b,c}", S, ""},
    {"bash script.sh", S, ""},
    {"ssh host uptime", S, ""},
    {"find ~ -size +100M -exec ls -lh {} \\;", S, ""},
    {"find . -name '*.txt' -print0 | xargs -0 wc -l", S, ""},
    {"sed -n '10,20p' file.txt", S, ""},
    {"tar czf - dir | ssh host 'cat > backup.tgz'", D, "overwrites backup.tgz"},

    // ---- caution: writes or deletes inside the tree, installs, sudo ----
    {"rm notes.txt", C, "rm deletes notes.txt"},
    {"rm -f build.log", C, "deletes build.log"},
    {"rm *.tmp", C, "deletes *.tmp"},
    {"rm /tmp/scratch.txt", C, "outside the working tree"},
    {"rmdir empty_dir", C, "removes directories"},
    {"mv old.txt new.txt", C, "moves or renames"},
    {"cp a.txt b.txt", C, "copies files"},
    {"cp -r src/ backup/", C, "copies files"},
    {"ln -sf target link", C, "creates links"},
    {"sed -i 's/foo/bar/g' config.yaml", C, "edits files in place"},
    {"perl -pi -e 's/a/b/' *.txt", C, "edits files in place"},
    {"chmod +x script.sh", C, "chmod changes permissions of script.sh"},
    {"chmod 644 index.html", C, "permissions"},
    {"chown user:user file.txt", C, "ownership"},
    {"echo line >> notes.txt", C, ">> writes notes.txt"},
    {"ls >> ~/files.txt", C, "outside the working tree"},
    {"tar -xzf archive.tar.gz", C, "extracts an archive"},
    {"unzip release.zip", C, "extracts an archive"},
    {"sudo ls /root", C, "root privileges (sudo)"},
    {"sudo -u postgres psql", C, "sudo"},
    {"doas ls", C, "doas"},
    {"sudo apt install htop", C, "installs packages"},
    {"sudo apt-get install -y curl", C, "installs packages"},
    {"apt-get upgrade -y", C, "installs packages"},
    {"yum install git", C, "installs packages"},
    {"dnf install gcc", C, "installs packages"},
    {"pacman -Syu", C, "installs packages"},
    {"brew install wget", C, "installs packages"},
    {"pip install requests", C, "installs packages"},
    {"pip3 install --user numpy", C, "installs packages"},
    {"npm install express", C, "installs packages"},
    {"npm i -g typescript", C, "installs packages"},
    {"yarn add react", C, "installs packages"},
    {"gem install rails", C, "installs packages"},
    {"cargo install ripgrep", C, "installs packages"},
    {"go install golang.org/x/tools/gopls@latest", C, "installs packages"},
    {"sudo dpkg -i pkg.deb", C, "installs packages"},
    {"git add .", C, "git add"},
    {"git commit -m 'fix'", C, "git commit"},
    {"git pull --rebase", C, "git pull"},
    {"git push origin main", C, "pushes commits"},
    {"git checkout -- file.c", C, "discards local changes"},
    {"git stash", C, "git stash"},
    {"git branch -D old-feature", C, "force-deletes a branch"},
    {"git rm --cached secret.txt", C, "git rm"},
    {"docker run -it ubuntu bash", C, "runs a container"},
    {"systemctl restart nginx", C, "restarts services"},
    {"sudo systemctl start docker", C, "starts or restarts"},
    {"mount /dev/sdb1 /mnt", C, "mounts"},
    {"rsync -av src/ dest/", C, "rsync"},
    {"scp file.txt user@host:/tmp/", C, "over the network"},
    {"crontab -e", C, "edits cron jobs"},
    {"find . -name '*.txt' -exec chmod 644 {} \\;", D, "permissions recursively"},
    {"echo done >> /tmp/status.log", C, "outside the working tree"},
    {"curl -o ~/bin/tool https://example.com/tool", C, "outside the working tree"},
    {"dd if=/dev/zero of=test.img bs=1M count=100", C, "dd writes test.img"},
    {"echo hi | tee -a log.txt", C, "tee writes log.txt"},
    {"git mv a.c b.c", C, "git mv"},
    {"sudo mkdir /opt/app", C, "sudo"},
    {"history -d 120", C, "history entries"},
    {"truncate -s 0 app.log", C, "truncate writes app.log"},
    {"patch -p1 < fix.diff", C, "patches files"},
    {"conda install pandas", C, "installs packages"},
    {"sort -u names.txt -o names.txt", C, "sort -o"},
    {"ssh host 'rm notes.txt'", C, "rm deletes notes.txt"},
    {"cd build && rm -f *.o", C, "deletes *.o"},

    // ---- dangerous: recursive deletes, -R, overwriting with >, kills, force pushes, curl | sh ----
    {"rm -rf build/", D, "recursive delete of build/"},
    {"rm -r node_modules", D, "recursive delete"},
    {"rm -R dist", D, "recursive delete"},
    {"rm --recursive --force target", D, "recursive delete"},
    {"rm -rf .", D, "recursive delete of ."},
    {"rm -rf *", D, "recursive delete of *"},
    {"rm -rf ~/Downloads/old", D, "recursive delete"},
    {"rm -rf /tmp/build-cache", D, "recursive delete"},
    {"rm -rf \"$BUILD_DIR\"/", D, "unset variable"},
    {"rm -rf $TMPDIR/*", D, "unset variable"},
    {"rm $FILE", D, "depends on a variable"},
    {"find . -name '*.pyc' -delete", D, "find -delete"},
    {"find . -type d -name __pycache__ -exec rm -rf {} +", D, "recursive delete"},
    {"find . -name '*.bak' -exec rm {} \\;", D, "recursive delete"},
    {"find . -name '*.log' | xargs rm", D, "xargs rm"},
    {"find . -type d | xargs rm -rf", D, "xargs rm -r"},
    {"ls | xargs rm -f", D, "xargs rm"},
    {"chmod -R 755 src", D, "chmod -R"},
    {"chmod -R u+w .", D, "recursively"},
    {"chown -R www-data:www-data /var/www", D, "chown -R"},
    {"sudo chown -R $USER ~/.npm", D, "recursively"},
    {"chgrp -R staff shared/", D, "chgrp -R"},
    {"echo hello > notes.txt", D, "overwrites notes.txt with >"},
    {"ls -la > listing.txt", D, "overwrites listing.txt"},
    {"cat a.txt > b.txt", D, "overwrites b.txt"},
    {"sort data.txt >| sorted.txt", D, "overwrites sorted.txt"},
    {"make &> build.log", D, "overwrites build.log"},
    {"echo x > ~/.bashrc", D, "overwrites"},
    {"echo hi | tee out.txt", D, "tee overwrites out.txt"},
    {"kill 1234", D, "kills processes"},
    {"kill -9 4321", D, "kills processes"},
    {"pkill -f python", D, "pkill"},
    {"killall node", D, "killall"},
    {"sudo kill -TERM 999", D, "kills processes"},
    {"docker kill web", D, "kills containers"},
    {"docker rm -f $(docker ps -aq)", D, "removes containers"},
    {"docker system prune -af", D, "prunes"},
    {"systemctl stop nginx", D, "stops services"},
    {"git push --force", D, "git push --force"},
    {"git push -f origin main", D, "git push --force"},
    {"git push --force-with-lease", D, "rewrites the remote's history"},
    {"git push origin --delete feature", D, "deletes remote branches"},
    {"git reset --hard HEAD~3", D, "discards uncommitted changes"},
    {"git clean -fdx", D, "git clean -f"},
    {"git stash clear", D, "drops every stash"},
    {"curl -sSL https://get.example.com | sh", D, "curl | sh"},
    {"curl https://x.io/install.sh | bash", D, "downloaded"},
    {"wget -qO- https://x.io/setup | sudo bash", D, "curl | sh"},
    {"curl -fsSL https://x.io/i.py | python3", D, "downloaded"},
    {"bash <(curl -s https://x.io/install)", D, "downloaded"},
    {"sh -c \"$(curl -fsSL https://x.io/install.sh)\"", D, "downloaded"},
    {"eval \"$(wget -qO- https://x.io/env)\"", D, "downloaded"},
    {"sudo apt remove nginx", D, "removes packages"},
    {"apt-get purge -y mysql-server", D, "removes packages"},
    {"crontab -r", D, "removes every cron job"},
    {"kubectl delete pod web-1", D, "deletes cluster resources"},
    {"shred -u secrets.txt", D, "shred destroys"},
    {"mv important.txt /dev/null", D, "destroys"},
    {"fdisk /dev/sdb", D, "partition table"},
    {"unset HISTFILE", D, "stops recording the shell history"},
    {"export HISTFILE=/dev/null", D, "stops recording"},
    {"HISTSIZE=0 bash", D, "stops recording"},
    {"set +o history", D, "stops recording"},
    {"sudo passwd root", D, "passwords"},
    {"sudo sed -i 's/^#//' /etc/ssh/sshd_config", D, "in place"},
    {"echo 1.2.3.4 host | sudo tee -a /etc/hosts", D, "writes into a system directory"},
    {"echo x >> /etc/profile", D, "system directory"},
    {"sudo cp mytool /usr/local/bin/", D, "system directory"},
    {"tar -xzf root.tar.gz -C /", D, "extracts an archive into /"},
    {"echo 'unterminated", D, "single quote"},
    {"ls \"missing quote", D, "double quote"},
    {"echo $(date", D, "does not parse"},
    {"ls )", D, "unbalanced ')'"},
    {"cat file |", D, "no command after"},
    {"rm -rf $(cat dirs.txt)", D, "variable"},
    {"git filter-branch --tree-filter 'rm -f x' HEAD", D, "rewrites the repository's history"},
    {"watch -n 5 killall node", D, "killall"},
    {"timeout 10 rm -r cache", D, "recursive delete"},
    {"git push origin +main", D, "force-pushes"},
    {"rsync -av --delete src/ dst/", D, "rsync --delete"},
    {"sh <<EOF\nrm -rf build\nEOF", D, "here-document"},
    {"rsync -a --delete-after ./ backup/", D, "removes files at the destination"},
    {"ssh web1 'sudo systemctl stop nginx'", D, "stops services"},
    {"ssh -p 2222 admin@host rm -rf /var/www/old", D, "recursive delete"},
    {"echo cm0gLXJmIC8K | base64 -d | sh", D, "piped into a shell"},
    {"cat install.sh | bash -s -- --yes", D, "piped into a shell"},
    {"rm -rf /usr/local/{lib,share}/app", B, "system directory"},
    {"python3 -c \"import os; os.remove('notes.txt')\"", C, "rm deletes notes.txt"},

    // ---- blocked: never run ----
    {"rm -rf /", B, "the root filesystem"},
    {"rm -rf /*", B, "the root filesystem"},
    {"rm -r -f /", B, "recursive delete of /"},
    {"rm -fr /", B, "root filesystem"},
    {"rm -rf / --no-preserve-root", B, "--no-preserve-root"},
    {"rm --no-preserve-root -rf /", B, "--no-preserve-root"},
    {"rm -rf ~", B, "the home directory"},
    {"rm -rf ~/", B, "the home directory"},
    {"rm -rf ~/*", B, "the home directory"},
    {"rm -rf $HOME", B, "the home directory"},
    {"rm -rf ${HOME}", B, "the home directory"},
    {"rm -rf \"$HOME\"", B, "the home directory"},
    {"rm -rf \"${HOME}/\"", B, "the home directory"},
    {"rm -rf /home/user", B, "the home directory"},
    {"rm -rf /home", B, "a system directory"},
    {"rm -rf /etc", B, "a system directory"},
    {"rm -rf /usr", B, "a system directory"},
    {"rm -rf /usr/lib", B, "a system directory"},
    {"rm -rf /var", B, "a system directory"},
    {"rm -rf /boot", B, "a system directory"},
    {"rm -rf /bin /sbin", B, "a system directory"},
    {"rm -rf '/'", B, "root filesystem"},
    {"rm -rf \"/\"", B, "root filesystem"},
    {"\\rm -rf /", B, "root filesystem"},
    {"command rm -rf /", B, "root filesystem"},
    {"env rm -rf /", B, "root filesystem"},
    {"env -i PATH=/bin rm -rf /", B, "root filesystem"},
    {"/bin/rm -rf /", B, "root filesystem"},
    {"/usr/bin/rm -rf ~", B, "home directory"},
    {"sudo rm -rf /", B, "root filesystem"},
    {"sudo -u root rm -rf /etc", B, "system directory"},
    {"sudo -E nice -n 5 rm -rf /", B, "root filesystem"},
    {"nohup rm -rf / &", B, "root filesystem"},
    {"rm -rf //", B, "root filesystem"},
    {"rm -rf /tmp/../", B, "root filesystem"},
    {"rm -rf /./etc/", B, "system directory"},
    {"cd / && rm -rf *", B, "root filesystem"},
    {"cd ~; rm -rf *", B, "home directory"},
    {"cd .. && cd .. && rm -rf *", B, "system directory"},
    {"cd .. && rm -rf *", B, "home directory"},
    {"(cd /etc && rm -rf .)", B, "system directory"},
    {"echo / | xargs rm -rf", D, "xargs rm -r"},
    {"xargs rm -rf /", B, "root filesystem"},
    {"find / -delete", B, "find -delete"},
    {"find / -name '*' -delete", B, "the root filesystem"},
    {"find ~ -type f -delete", B, "the home directory"},
    {"find / -exec rm -rf {} \\;", B, "root filesystem"},
    {"find /etc -type f -exec rm {} +", B, "system directory"},
    {"ls; rm -rf /", B, "root filesystem"},
    {"true && rm -rf /", B, "root filesystem"},
    {"false || rm -rf ~", B, "home directory"},
    {"echo $(rm -rf /)", B, "root filesystem"},
    {"echo `rm -rf ~`", B, "home directory"},
    {"ls $(echo $(rm -rf /etc))", B, "system directory"},
    {"bash -c 'rm -rf /'", B, "root filesystem"},
    {"sh -c \"cd / && rm -rf *\"", B, "root filesystem"},
    {"eval rm -rf /", B, "root filesystem"},
    {"sudo su -c 'rm -rf /'", B, "root filesystem"},
    {"rm -rf / 'unterminated", B, "root filesystem"},
    {"rm /etc/passwd", B, "system directory"},
    {"mkfs.ext4 /dev/sda1", B, "formats a filesystem"},
    {"sudo mkfs -t ext4 /dev/sdb", B, "mkfs"},
    {"mkswap /dev/sda2", B, "swap"},
    {"wipefs -a /dev/sda", B, "wipefs"},
    {"dd if=/dev/zero of=/dev/sda", B, "block device"},
    {"dd if=image.iso of=/dev/sdb bs=4M", B, "block device (/dev/sdb)"},
    {"sudo dd if=/dev/urandom of=/dev/nvme0n1", B, "block device"},
    {"dd if=/dev/zero of=/dev/mmcblk0 bs=1M", B, "block device"},
    {"dd if=x of=/etc/passwd", B, "/etc"},
    {"echo garbage > /dev/sda", B, "block device"},
    {"cat /dev/urandom > /dev/sdb", B, "block device"},
    {"cp /dev/zero /dev/sda", B, "block device"},
    {"shred /dev/sda", B, "a block device"},
    {":(){ :|:& };:", B, "fork bomb"},
    {":() { : | : & }; :", B, "fork bomb"},
    {"bomb() { bomb | bomb & }; bomb", B, "fork bomb"},
    {"chmod -R 777 /", B, "chmod -R"},
    {"sudo chmod -R 777 /", B, "the root filesystem"},
    {"chmod --recursive 000 /etc", B, "system directory"},
    {"chown -R nobody /", B, "root filesystem"},
    {"chmod -R 777 ~", B, "home directory"},
    {"echo x > /etc/passwd", B, "overwrites a system file"},
    {"cat hosts > /etc/hosts", B, "/etc"},
    {"echo nameserver 1.1.1.1 | sudo tee /etc/resolv.conf", B, "/etc"},
    {"cp mypasswd /etc/passwd", B, "/etc"},
    {"mv shadow.bak /etc/shadow", B, "/etc"},
    {"sudo truncate -s 0 /etc/fstab", B, "/etc"},
    {"mv /etc /tmp/etc-old", B, "mv moves away /etc"},
    {"mv ~ /dev/null", B, "home directory"},
    {"mv /* /tmp/", B, "root filesystem"},
    {"shutdown -h now", B, "shuts down"},
    {"sudo shutdown -r now", B, "shuts down or reboots"},
    {"reboot", B, "reboots"},
    {"sudo reboot", B, "reboots"},
    {"halt", B, "shuts down"},
    {"poweroff", B, "shuts down"},
    {"systemctl reboot", B, "reboots"},
    {"sudo systemctl poweroff", B, "shuts down"},
    {"init 0", B, "shuts down"},
    {"sudo init 6", B, "reboots"},
    {"kill -9 -1", B, "every process"},
    {"kill -9 1", B, "init"},
    {"history -c", B, "wipes the shell history"},
    {"history -c && history -w", B, "history -c"},
    {"rm ~/.bash_history", B, "shell history"},
    {"rm -f $HOME/.zsh_history", B, "shell history"},
    {"> ~/.bash_history", B, "wipes the shell history"},
    {"cat /dev/null > ~/.bash_history", B, "shell history"},
    {"truncate -s 0 ~/.zsh_history", B, "shell history"},
    {"shred -u ~/.bash_history", B, "shell history"},
    {"ln -sf /dev/null ~/.bash_history", B, "shell history"},
    {"cd; rm -rf .", B, "home directory"},
    {"sudo rm -rf /var/*", B, "system directory"},
    {"rm -rf /Users", B, "system directory"},
    {"rm -rf /{bin,etc}", B, "system directory"},
    {"rm -rf {build,/}", B, "root filesystem"},
    {"rm -rf \"${HOME:?}/\"", B, "home directory"},
    {"rm -rf ${HOME:-/tmp}/*", B, "home directory"},
    {"python3 -c \"import os; os.system('rm -rf /')\"", B, "root filesystem"},
    {"perl -e 'system(\"rm -rf ~\")'", B, "home directory"},
    {"python3 -c \"import shutil; shutil.rmtree('/home/user')\"", B, "home directory"},
    {"ruby -e '`mkfs.ext4 /dev/sdb1`'", B, "formats a filesystem"},
    {"sudo sh -c 'echo x > /etc/sudoers'", B, "/etc"},
    {"cat /dev/zero > /dev/nvme0n1", B, "block device"},
    {"echo y | sudo rm -rf /usr", B, "system directory"},
    {"ssh root@host 'rm -rf / --no-preserve-root'", B, "--no-preserve-root"},
    {"ssh host 'dd if=/dev/zero of=/dev/sda'", B, "block device"},
    {"bash <<< 'rm -rf ~'", B, "home directory"},
};

TEST(ShellValidator, TableOfCommands) {
  const ShellContext ctx{"/home/user/project", "/home/user"};
  size_t n = 0;
  for (const auto& row : kRows) {
    ++n;
    const Verdict v = rate_command(row.command, ctx);
    std::string all;
    for (const auto& r : v.reasons) all += "\n    " + r;
    EXPECT_EQ(risk_name(v.risk), std::string(risk_name(row.risk)))
        << "command: " << row.command << "\n  reasons:" << all;
    if (row.risk == Risk::safe) {
      EXPECT_TRUE(v.reasons.empty()) << "command: " << row.command << "\n  reasons:" << all;
    } else {
      bool found = false;
      for (const auto& r : v.reasons) found = found || r.find(row.reason) != std::string::npos;
      EXPECT_TRUE(found) << "command: " << row.command << "\n  expected a reason with: " << row.reason
                         << "\n  reasons:" << all;
    }
  }
  EXPECT_GE(n, 200u);
}

TEST(ShellValidator, RiskNames) {
  EXPECT_STREQ(risk_name(Risk::safe), "safe");
  EXPECT_STREQ(risk_name(Risk::caution), "caution");
  EXPECT_STREQ(risk_name(Risk::dangerous), "dangerous");
  EXPECT_STREQ(risk_name(Risk::blocked), "blocked");
}

TEST(ShellValidator, HomeComesFromTheContext) {
  const ShellContext ctx{"/srv/work", "/Users/alice"};
  EXPECT_EQ(rate_command("rm -rf ~", ctx).risk, Risk::blocked);
  EXPECT_EQ(rate_command("rm -rf /Users/alice", ctx).risk, Risk::blocked);
  EXPECT_EQ(rate_command("rm -rf /home/user/x", ctx).risk, Risk::dangerous);
  EXPECT_EQ(rate_command("rm x.txt", ctx).risk, Risk::caution);
}

TEST(ShellValidator, WorkingTreeAtHomeMakesStarTheHome) {
  const ShellContext ctx{"/home/user", "/home/user"};
  EXPECT_EQ(rate_command("rm -rf *", ctx).risk, Risk::blocked);
  EXPECT_EQ(rate_command("rm -rf project", ctx).risk, Risk::dangerous);
}

TEST(ShellValidator, ReasonsAreDeduplicatedAndSafeHasNone) {
  const ShellContext ctx{"/home/user/project", "/home/user"};
  const Verdict v = rate_command("rm -rf / ; rm -rf /", ctx);
  EXPECT_EQ(v.risk, Risk::blocked);
  EXPECT_EQ(v.reasons.size(), 1u);
  EXPECT_TRUE(rate_command("ls -la", ctx).reasons.empty());
}

TEST(ShellValidator, DeepNestingTerminates) {
  const ShellContext ctx{"/home/user/project", "/home/user"};
  std::string line = "rm -rf /";
  for (int i = 0; i < 40; ++i) line = "echo $(" + line + ")";
  // Nesting beyond the analysis depth is not rated safe.
  const Verdict deep = rate_command(line, ctx);
  EXPECT_GE(deep.risk, Risk::dangerous);
  EXPECT_EQ(rate_command("echo $(echo $(echo $(rm -rf /)))", ctx).risk, Risk::blocked);
}

}  // namespace
}  // namespace pensieve::shell

namespace pensieve::shell {
namespace {

// Random lines over the shell's metacharacters: every one is rated without crashing, and any line
// that does not tokenize is rated at least dangerous.
TEST(ShellValidator, GarbageNeverCrashesAndUnparsableIsDangerous) {
  const ShellContext ctx{"/home/user/project", "/home/user"};
  const std::string alphabet = "ab /~*$(){}`'\"\\|&;<>#\n\t-=.12!";
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int n = 0; n < 20000; ++n) {
    std::string line;
    const size_t len = next() % 40;
    for (size_t k = 0; k < len; ++k) line += alphabet[next() % alphabet.size()];
    const Verdict v = rate_command(line, ctx);
    ASSERT_LE(static_cast<int>(v.risk), static_cast<int>(Risk::blocked)) << line;
    if (!tokenize(line).ok) {
      ASSERT_GE(static_cast<int>(v.risk), static_cast<int>(Risk::dangerous)) << line;
    }
  }
}

}  // namespace
}  // namespace pensieve::shell
