# What scripts ask of the system: /proc, ps, id, uname, free, mount, df,
# and a local HTTP server and client. $1 is an empty scratch directory
# on tmpfs; $2 and $3 are TCP ports free on the host. Values that
# belong to the machine, not to the kernel's
# behaviour, are printed as their shape (how many fields, a number or
# not), never as themselves.
cd "$1" || exit 1
echo start
isnum() { case "$1" in ''|*[!0-9]*) echo "not a number: [$1]";; *) echo number;; esac; }
echo "== /proc/self"
sh -c 'cat /proc/self/cmdline | tr "\0" " "; echo' arg0 "two words"
cat /proc/self/comm
sed -n 's/^\(Name\|State\|Tgid\|PPid\|Uid\|Gid\|Threads\|SigBlk\|SigIgn\|SigCgt\|NSpid\|Umask\):.*/\1/p' /proc/self/status | sort | tr '\n' ' '; echo
awk '/^(Name|State|Umask|Threads|Uid|Gid):/ { $1 = $1; print }' /proc/self/status
sh -c 'read a b c d rest < /proc/self/stat; echo "$b $c"; set -- $rest; echo $#'
grep -c . /proc/self/maps | sed 's/^[0-9]*$/maps lines/'
awk '{ print (NF >= 5 ? "ok" : $0) }' /proc/self/maps | sort -u
grep -E ' (r-xp|r--p|rw-p) ' /proc/self/maps | grep -c busybox | sed 's/^[1-9][0-9]*$/busybox mapped/'
grep -c '\[stack\]' /proc/self/maps
readlink /proc/self/exe | sed 's|.*/||'; readlink /proc/self/cwd | sed "s|^$PWD\$|cwd|"
ls /proc/self/fd | sort -n | head -n 3 | tr '\n' ' '; echo
echo "== /proc"
for f in mounts meminfo version uptime filesystems loadavg stat cpuinfo; do test -r /proc/$f && echo "$f readable" || echo "$f missing"; done
awk '{ print $3 }' /proc/mounts | grep -c '^proc$'
read a b rel rest < /proc/version; echo "$a $b release: $([ "$rel" = "$(uname -r)" ] && echo uname -r)"
awk '{ for (i = 1; i <= NF; i++) if ($i !~ /^[0-9]+\.[0-9][0-9]$/) print "not seconds:", $i; print NF, "uptime fields" }' /proc/uptime
grep -cE '^nodev	(proc|tmpfs|pipefs|sockfs)$' /proc/filesystems
awk -v me=$$ '{ split($4, r, "/"); print NF, ($1 $2 $3 ~ /^([0-9]+\.[0-9][0-9]){3}$/), "running", (r[1] >= 1 && r[1] <= r[2]), "last pid", ($5 >= me) }' /proc/loadavg
awk '/^cpu/ { print "cpu", NF } !/^cpu/ { print $1 }' /proc/stat | uniq | tr '\n' ' '; echo
awk -v now=$(date +%s) '$1 == "btime" { print "btime", ($2 <= now && $2 > now - 1000000000) } $1 == "procs_running" || $1 == "processes" { print $1, ($2 >= 1) }' /proc/stat
awk -F '\t*: ?' '/^$/ { exit } /^(processor|vendor_id|cpu family|model name|cpu MHz|flags|bogomips|address sizes)\t/ { print $1 }' /proc/cpuinfo | tr '\n' ' '; echo
awk '$1 == "flags" { for (i = 3; i <= NF; i++) if ($i == "fpu" || $i == "sse2" || $i == "lm") n++; print "flags", n; exit }' /proc/cpuinfo
uptime | awk -F 'load average: ' '{ print NF, ($2 ~ /^[0-9]+\.[0-9][0-9], [0-9]+\.[0-9][0-9], [0-9]+\.[0-9][0-9]$/) }'
awk '/^(MemTotal|MemFree|MemAvailable):/ { print $1, ($2 > 0 ? "positive" : $2), $3 }' /proc/meminfo
echo "== ids and names"
id; id -u; id -g; id -un; id -gn; whoami; groups
uname -s; uname -m; uname -o; uname -a | awk '{ print $1, (NF >= 5) }'
isnum "$(nproc)"; hostname | grep -c . ; isnum "$(getconf PAGESIZE 2>/dev/null || echo 4096)"
echo "== ps top free"
# In a subshell whose stderr goes nowhere: ash reports the job's end
# ("Terminated") in wait or at the next command, whichever comes first.
(
sleep 100 & sp=$!; me=$(sh -c 'echo $PPID') # the subshell's pid
until grep -q '^State:.S' /proc/$sp/status; do sleep 1; done
ps -o pid,ppid,comm,args | awk -v sp=$sp -v me=$me '$1 == sp { print "sleep:", ($2 == me ? "child of the shell" : $2), $3, $4, $5 }'
ps | head -n 1
ps -o pid,stat | awk -v sp=$sp '$1 == sp { print "sleep state", $2 }'
kill $sp; wait $sp; echo "sleep status $?"
) 2>/dev/null
# free's -/+ buffers/cache line needs Cached and SReclaimable.
top -bn1 | awk 'NR <= 4 { print $1, NF } NR > 4 && / top -bn1/ { print "top lists itself" }'
free | head -n 1 | awk '{ print NF, $1, $2, $3 }'; free | awk '$1 == "Mem:" || $1 == "Swap:" { print $1, NF }'
echo "== mount df"
mount | awk '$3 == "/proc" { print $1, $3, $5 }'
df -k . | awk 'NR == 1 { print NF, $1 } NR > 1 { print NF }'
df -P . | tail -n 1 | awk '{ print ($2 >= $3 ? "total >= used" : "odd") }'
stat -f -c '%T %s' . ; stat -f -c '%T' /proc
echo "== network"
mkdir www; echo "hello over http" > www/index.html
# A CGI program: httpd forks and execs it with the request in its
# environment and the body on its standard input.
mkdir www/cgi-bin
cat > www/cgi-bin/env.sh <<'CGI'
#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "method=$REQUEST_METHOD query=$QUERY_STRING length=${CONTENT_LENGTH:-none} protocol=$SERVER_PROTOCOL"
[ "$REQUEST_METHOD" = POST ] && head -c "$CONTENT_LENGTH" | tr a-z A-Z && echo
CGI
chmod 755 www/cgi-bin/env.sh
httpd -f -p 127.0.0.1:$2 -h www & hp=$!
n=0; until wget -q -O got http://127.0.0.1:$2/index.html 2>/dev/null; do n=$((n+1)); [ $n -gt 60 ] && break; sleep 1; done
cat got
wget -q -O - http://127.0.0.1:$2/missing 2>&1 | head -n 1; echo "wget 404 status $?"
wget -S -q -O /dev/null http://127.0.0.1:$2/index.html 2>&1 | awk 'NR == 1 { print $1, $2, $3 }'
wget -q -O - "http://127.0.0.1:$2/cgi-bin/env.sh?a=1&b=two"
wget -q -O - --post-data "posted body" "http://127.0.0.1:$2/cgi-bin/env.sh"
kill $hp; wait $hp 2>/dev/null
# The listener's input is a FIFO held open here: a background job's
# stdin is /dev/null, whose end of file makes busybox nc shut its sending
# half at once, and a client that sees that FIN before echo has written
# exits without sending (a race of the script, on Linux too).
mkfifo ncin; exec 7<>ncin
nc -l -p $3 < ncin > ncgot & np=$!
n=0; until echo "via nc" | nc 127.0.0.1 $3 2>/dev/null; do n=$((n+1)); [ $n -gt 60 ] && break; sleep 1; done
wait $np; exec 7>&-; cat ncgot
wget -q -O - http://127.0.0.1:1/ 2>&1; echo "refused status $?"
echo end
