# File tools as users' scripts run them. $1 is an empty scratch
# directory on tmpfs; every name printed is relative to it, and every
# time printed was set by touch -d (or is the same on any run). Where a
# tool prints names in directory order (find, du, tar), the output is
# sorted: tmpfs lists a directory newest first on Linux 6.1 and 6.14 on,
# oldest first on 6.6 to 6.13, so no order is Linux's.
cd "$1" || exit 1
echo start
umask 022
mkdir -p a/b/c d
printf 'hello\n' > a/f1
printf 'hello world\nsecond line\n' > a/b/f2
: > empty
touch -d '2001-02-03 04:05:06' a/f1
touch -d '2002-03-04 05:06:07' a/b/f2 empty
touch -d '2003-04-05 06:07:08' a/b/c a/b a d
ls -ln --full-time a a/b | sed 's/  */ /g'
ls -lan --full-time a/b | sed 's/  */ /g'
ls -ln a/f1 | sed 's/  */ /g'
ls -1 a; ls -A a; ls -R a; ls -p a; ls -F a
ls -d a a/b; ls -s a/f1 empty; ls -S a/b/f2 a/f1; ls -t a/b/f2 a/f1; ls -r a
echo "== stat"
stat -c '%n %a %A %F %s %h %u %g %Y %y' a a/f1 empty
stat -c '%b %B %o' a/f1 empty
stat -c '%N' a/f1
stat -L -c '%F' .
stat -f -c '%T' . 2>&1
echo "== links"
ln -s f1 a/l1; ln -s ../nowhere a/dangle; ln a/f1 a/hard
touch -h -d '2005-06-07 08:09:10' a/l1 a/dangle; touch -d '2003-04-05 06:07:08' a
stat -c '%n %F %h %s' a/l1 a/f1 a/hard
readlink a/l1; readlink -f a/l1 | sed "s|^$PWD|.|"; readlink a/f1; echo "readlink status $?"
ls -ln a/l1 | sed 's/.* a\//a\//'
cat a/l1; cat a/dangle; echo "cat status $?"
test -L a/dangle && echo "dangle is a link"; test -e a/dangle || echo "dangle does not exist"
test -h a/l1 && test -f a/l1 && echo "l1 link to file"
test -d a/b -a ! -f a/b && echo "a/b dir"
[ -s a/f1 ] && [ ! -s empty ] && echo "sizes"
[ -r a/f1 -a -w a/f1 -a ! -x a/f1 ] && echo "rw-"
[ a/f1 -nt empty ] || echo "f1 not newer than empty"; [ a/b/f2 -nt a/f1 ] && echo "f2 newer than f1"
[ a/f1 -ef a/hard ] && echo "same file"
[ -p empty ] || [ -S empty ] || [ -b empty ] || [ -c /dev/null ] && echo "/dev/null char"
echo "== chmod"
chmod 640 a/f1; stat -c '%a' a/f1; chmod u+x,g-r,o+w a/f1; stat -c '%a %A' a/f1
chmod -R go-rwx a/b; stat -c '%n %a' a/b a/b/f2 a/b/c
chmod 4755 a/f1; stat -c '%A' a/f1; chmod 2755 a/f1; stat -c '%A' a/f1; chmod 1777 d; stat -c '%A' d
chmod 755 d a/b a/b/c; chmod 644 a/f1 a/b/f2
chown 0:0 a/f1; echo "chown status $?"; chgrp 0 a/f1; stat -c '%u:%g' a/f1
chmod 000 empty; cat empty; echo "root reads mode 000: $?"; chmod 644 empty
echo "== cp mv rm"
# cp -a keeps the times of files and directories, not of links (the
# time of the copy: NOW).
cp -a a a2; ls -lnR --full-time a2 | sed 's/  */ /g; /^l/s/ [0-9-]* [0-9:.]* +0000 / NOW /'
cp a/f1 a/b/f2 d; ls d
cp a/f1 a/f1 2>&1; echo "cp same $?"
cp a d 2>&1; echo "cp dir $?"
cp -r a/b d/; find d | sort
mv d/f1 d/g1; mv d/g1 a2/b/; ls a2/b d
mv a2/b/c a2/c; ls a2
mv a2 a2/c 2>&1; echo "mv into itself $?"
mv nonexist x 2>&1; echo "mv missing $?"
rm a2/c; echo "rm dir $?"
rmdir a2 2>&1; echo "rmdir nonempty $?"
rm -r a2; ls
rm -f nonexist; echo "rm -f $?"; rm nonexist; echo "rm $?"
mkdir d 2>&1; echo "mkdir exists $?"; mkdir -p d/x/y/z; echo "mkdir -p $?"
touch -d '2004-01-01 00:00:00' d/x/y/z; stat -c '%y' d/x/y/z
echo "== find"
find a -name 'f*' | sort
find a -type d | sort
find a -type l | sort
find a -size +0 -type f | sort; find a -size -2c | sort; find . -empty | sort
find a -newer a/f1 | sort
find a -mtime -1 | sort; find a ! -mtime -1 -type f | sort
find a -perm 644 | sort; find a -maxdepth 1 | sort; find a -mindepth 2 | sort
find a -name f2 -exec cat {} \;
find a -type f -exec wc -c {} + | sort
find a -name c -prune -o -type d -print | sort
find a -path '*b*' -type f | sort
find a -name 'f*' -print0 | xargs -0 ls
find nonexist 2>&1; echo "find missing $?"
rm a/hard # du and tar name one of two links, the first in directory order
touch -d '2003-04-05 06:07:08' a
echo "== du df dd truncate"
du -s a; du -a a | sort -k2; du -sh a; du -k a/f1 a/b/f2
dd if=/dev/zero of=z bs=512 count=9 2>&1; stat -c '%s %b' z
dd if=a/b/f2 of=z2 bs=3 skip=1 count=2 2>&1; cat z2; echo
dd if=a/b/f2 bs=1 count=5 2>/dev/null | od -c
dd if=/dev/zero of=z bs=1 count=1 seek=10000 conv=notrunc 2>/dev/null; stat -c '%s' z
printf 'abc' | dd of=z3 conv=ucase 2>/dev/null; cat z3; echo
truncate -s 100 z3; stat -c '%s %b' z3; truncate -s 2 z3; cat z3; echo; truncate -s +5 z3; stat -c '%s' z3
truncate -s 1M sparse; stat -c '%s %b' sparse; du -k sparse
df -k . | tail -n +2 | awk '{print NF}'
echo "== tar gzip"
tar cf t.tar a; tar tf t.tar | sort
tar tvf t.tar --numeric-owner | sed 's/  */ /g' | sort -k6
# tar x gives files their times, not directories or links.
mkdir x; tar xf t.tar -C x; find x | sort; find x -type f | sort | xargs stat -c '%n %a %s %y'
tar czf t.tgz a/b; tar tzf t.tgz | sort; gzip -t t.tgz && echo "gzip ok"
cp a/b/f2 g; gzip g; ls g*; gunzip g.gz; cat g; gzip -c g | gunzip -c
gzip -9 < g > g9.gz; zcat g9.gz; gzip -l g9.gz 2>&1 | tail -n 1 | awk '{print $2, $4}'
cd x; tar xzf ../t.tgz 2>&1; cd ..; ls x/a/b
echo junk > bad.gz; gunzip bad.gz 2>&1; echo "gunzip junk $?"
echo "== sums"
sha256sum a/f1 a/b/f2; md5sum a/f1; sha1sum empty; sha512sum a/f1 | cut -c1-32
sha256sum a/f1 > sums; sha256sum -c sums; echo changed >> a/f1; sha256sum -c sums 2>&1; echo "check $?"
cksum a/b/f2 2>/dev/null || crc32 a/b/f2
echo "== od hexdump cmp diff"
printf '\000\001\377abc\n' > bin; od -An -tx1 bin; od -c bin; hexdump -C bin; xxd bin
seq 1 10 > s10
cp s10 s10b; cmp s10 s10b && echo same; echo 11 >> s10b; cmp s10 s10b; echo "cmp $?"
seq 1 5 > d1; seq 1 6 | sed 's/3/three/' > d2; diff d1 d2; echo "diff $?"
diff -u d1 d2 | tail -n +3; diff d1 d1; echo "diff same $?"
echo "== mktemp"
t=$(mktemp -p .); test -f "$t" && echo "mktemp file $(stat -c %a "$t")"; rm "$t"
t=$(mktemp -d -p .); test -d "$t" && echo "mktemp dir $(stat -c %a "$t")"; rmdir "$t"
echo "== sed -i, tee"
printf 'one\ntwo\nthree\n' > e; sed -i 's/two/TWO/; 3d' e; cat e; stat -c '%a' e
chmod 600 e; sed -i -e '1i\
zero' e; cat e; stat -c '%a' e
echo tee1 | tee t1 t2 > /dev/null; cat t1 t2; echo tee2 | tee -a t1; cat t1
ls
echo end
