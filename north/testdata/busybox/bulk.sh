# Many files and odd sizes: find, xargs, sort and ls over five hundred
# files, readdir order, rm -r, dd with odd block sizes, offsets and
# conversions, touch -d/-r and date -r, ls sorted by time. $1: scratch
# directory.
cd "$1" || exit 1
echo start
echo "== many files"
mkdir many
i=0; while [ $i -lt 500 ]; do echo "$i" > many/f$i; i=$((i+1)); done
# Unsorted (readdir) order is tmpfs's: newest first before Linux 6.6 and
# since 6.14, oldest first between; only what holds for all is compared.
ls many | wc -l; ls -f many | head -2 | tr '\n' ' '; echo
ls -f many | sort | md5sum
find many -type f | sort -t f -k2n | tail -2
find many -name 'f1*' | wc -l
find many -type f | xargs cat | awk '{ s += $1 } END { print s }'
find many -type f -print0 | xargs -0 -n 100 echo | wc -l
find many -type f -size -2c | wc -l
ls many | sort -r | head -2
cat many/* | sort -n | uniq | wc -l
rm many/f1 many/f2; ls -f many | grep -c .
mkdir -p deep/a/b/c/d/e/f; touch deep/a/b/c/d/e/f/leaf; find deep | wc -l; rm -r deep many; ls
echo "== dd"
seq 1 1000 > src
dd if=src of=o1 bs=7 2>&1 | head -2
dd if=src of=o2 bs=13 count=5 skip=3 2>&1 | tail -1; od -c o2 | head -2
dd if=src of=o3 ibs=5 obs=11 2>&1 | head -2; cmp src o3 && echo same
dd if=src of=o4 bs=1 count=10 seek=5 2>/dev/null; od -c o4 | head -2
printf 'XXXX' | dd of=o1 bs=1 seek=2 conv=notrunc 2>/dev/null; head -c 12 o1; echo; wc -c < o1
printf 'ab' | dd of=o5 bs=4 conv=sync 2>/dev/null; od -An -tx1 o5
dd if=/dev/zero of=o6 bs=1024 count=0 seek=3 2>/dev/null; ls -ls o6 | awk '{ print $1, $6 }'
dd if=src bs=1000 count=1 2>/dev/null | md5sum
dd if=/dev/zero bs=65537 count=3 2>/dev/null | wc -c
echo "== times"
touch -d '2021-06-15 10:20:30' t1; touch -d '2019-01-01 00:00:00' t2; touch -d '@1600000000' t3
stat -c '%n %y %Y' t1 t2 t3
touch -r t2 t4; stat -c '%Y' t4; date -r t1 '+%Y-%m-%d %H:%M:%S'
ls -t t1 t2 t3 t4 | tr '\n' ' '; echo; ls -tr t1 t2 t3 | tr '\n' ' '; echo
ls -le t1 | awk '{ print $6, $7, $8, $9, $10 }'
touch -a -d '2000-02-02 02:02:02' t1; stat -c '%X %Y' t1
touch -m -d '2001-01-01 01:01:01' t1; stat -c '%X %Y' t1
find . -newer t2 -name 't*' | sort
touch -c nofile; ls nofile 2>&1
echo "== sort"
awk 'BEGIN { srand(7); for (i = 0; i < 2000; i++) printf "%d %s\n", int(rand() * 100000), substr("abcdefghij", i % 10 + 1, 3) }' > big
sort -n big | md5sum; sort -k2,2 -k1,1n big | md5sum; sort -u -k2,2 big | wc -l
sort -n big -o big.sorted; head -1 big.sorted | cut -d' ' -f1 | awk '{ print ($1 < 100) }'
sort -c big 2>&1 | head -1 | sed 's/:.*//'; sort -c big.sorted 2>/dev/null; echo "sorted check $?"
echo end
