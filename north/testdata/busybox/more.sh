# More busybox applets on data the script makes: archivers and
# compressors, text tools, find and xargs, process tools, fifos, sparse
# files. $1: scratch directory.
cd "$1" || exit 1
echo start
mkdir -p tree/a/b tree/c
for i in 1 2 3 4 5; do seq $((i * 100)) > tree/a/f$i; done
printf 'hello\nworld\n' > tree/a/b/greet
ln -s ../a/b/greet tree/c/link
ln tree/a/f1 tree/c/hard
chmod 640 tree/a/f2
touch -d '2020-01-02 03:04:05' tree/a/f3
echo "== archives"
tar cf t.tar tree && tar tf t.tar | sort
tar tvf t.tar | awk '{print $1, $3, $NF}' | sort -k3
mkdir x && tar xf t.tar -C x && diff -r tree x/tree && echo tar round trip
tar czf t.tgz tree && tar tzf t.tgz | sort | md5sum
bzip2 -k tree/a/f5 && bunzip2 -c tree/a/f5.bz2 | md5sum && ls -l tree/a/f5.bz2 | awk '{print $5}'
gzip -9 -c tree/a/f5 | gunzip | cmp - tree/a/f5 && echo gzip ok
lzop -c tree/a/f5 2>/dev/null | lzop -dc | cmp - tree/a/f5 && echo lzop ok
find tree -depth | cpio -o -H newc 2>/dev/null > t.cpio && cpio -t < t.cpio 2>/dev/null | sort | head -5
mkdir y && (cd y && cpio -id < ../t.cpio 2>/dev/null) && diff -r tree y/tree && echo cpio round trip
echo "== text"
seq 1 20 | xargs -n 5 echo | tail -2
seq 1 10 | xargs -I{} echo item {} | head -3
find tree -type f -name 'f*' -exec wc -l {} + | sort
find tree -type l -exec readlink {} \;
find tree -newer tree/a/f3 -type f | sort | head -3
find tree -perm 640
echo "b a c" | tr ' ' '\n' | sort -r | tr '\n' ' '; echo
printf '3\n10\n2\n' | sort -n | tr '\n' ' '; echo
printf 'x 3\ny 1\nz 2\n' | sort -k2n | cut -d' ' -f1 | tr '\n' ' '; echo
printf 'a\na\nb\n' | uniq -c
od -An -tx1 tree/a/b/greet
hexdump -C tree/a/b/greet | head -2
base64 tree/a/b/greet; base64 tree/a/b/greet | base64 -d
echo "2 3 + p" | dc; echo "scale=3; 10/3" | bc 2>/dev/null || echo nobc
sha1sum tree/a/f1 | cut -c1-40; sha512sum tree/a/f1 | cut -c1-20; md5sum tree/a/f2 | cut -c1-32
printf 'line1\nline2\nline3\n' > p1; printf 'line1\nLINE2\nline3\n' > p2
diff -u p1 p2 | tail -4; diff p1 p2 > d.patch; patch p1 < d.patch >/dev/null && cmp p1 p2 && echo patched
expand <<'E' | od -c | head -1
	tab
E
fold -w 5 tree/a/b/greet; rev tree/a/b/greet; tac tree/a/b/greet
paste -d, tree/a/b/greet tree/a/b/greet; nl tree/a/b/greet | tr '\t' '|'
echo "== processes"
# In a subshell whose stderr goes nowhere: ash reports the job's end
# ("Terminated") in wait or at the next command, whichever comes first.
(
sleep 30 & sp=$!
until [ "$(cat /proc/$sp/comm 2>/dev/null)" = sleep ]; do sleep 1; done
pidof sleep | tr " " "\n" | grep -c "^$sp$"
kill -0 $sp && echo alive
killall -0 sleep && echo "killall finds it"; kill -TERM $sp; wait $sp; echo "sleep status $?"
) 2>/dev/null
sh -c 'renice 7 -p $$ >/dev/null; awk "{print \$19}" /proc/self/stat'
timeout 1 sleep 5; echo "timeout $?"
setsid sh -c 'ps -o pid,sid,comm | awk -v me=$$ "\$1 == me {print (\$1 == \$2)}"'
taskset -p 1 $$ >/dev/null 2>&1; echo "taskset $?"
echo "== misc"
sysctl kernel.ostype net.core.somaxconn 2>&1
mkfifo ff; (echo through fifo > ff &); cat ff
mktemp -p . | grep -c tmp
stat -c '%A %s %h %F' tree/a/f2 tree/c/link tree tree/c/hard
realpath tree/c/link | sed "s|$PWD|.|"
du -s tree | awk '{print ($1 > 0)}'
sync; echo synced
truncate -s 1M sparse; ls -ls sparse | awk '{print $1, $6}'
dd if=/dev/zero of=z bs=1k count=10 2>/dev/null; wc -c < z
yes | head -3
env | grep ^HOME=
env -i A=1 env
echo end
