# What programs read of /proc/self and /sys beyond status and stat, and
# ls -l and stat of /proc and /dev entries. $1: scratch directory.
# Machine-dependent values print as their shape or as checks against
# each other (CPUs online = nproc = processors in /proc/cpuinfo).
cd "$1" || exit 1
echo start
echo "== cgroup and mounts"
grep -c '^0::/' /proc/self/cgroup
awk '{ print NF >= 10, $(NF-4) == "-" || $(NF-3) == "-" || $(NF-2) == "-" }' /proc/self/mountinfo | sort -u
awk '$5 == "/proc" { for (i = 7; $i != "-"; i++) ; print $(i+1), $(i+2) }' /proc/self/mountinfo
awk '$5 == "/sys" { for (i = 7; $i != "-"; i++) ; print $(i+1), $(i+2) }' /proc/self/mountinfo
awk '$2 == "/sys" { print $1, $3 }' /proc/mounts
stat -f -c %T /sys
echo "== cpus"
cpus() { awk -F, '{ n = 0; for (i = 1; i <= NF; i++) { split($i, r, "-"); n += (r[2] == "" ? 1 : r[2] - r[1] + 1) } print n }' "$1"; }
n=$(nproc)
for f in online possible present; do echo "$f $( [ "$(cpus /sys/devices/system/cpu/$f)" -ge "$n" ] && echo ">= nproc" || echo "< nproc")"; done
[ "$(grep -c ^processor /proc/cpuinfo)" -ge "$n" ] && echo "cpuinfo >= nproc"
grep -c . /sys/devices/system/cpu/offline
ls -d /sys/devices/system/cpu/cpu[0-9]* | wc -l | awk -v n=$n '{ print ($1 >= n ? ">= nproc cpu dirs" : "too few cpu dirs") }'
cat /sys/devices/system/cpu/cpu0/topology/core_id /sys/devices/system/cpu/cpu0/topology/physical_package_id
ls -ld /sys/fs/cgroup | awk '{ print $1 }'
ls -l /sys/devices/system/cpu/online | awk '{ print $1, $5 }'
echo "== fd links"
exec 5</dev/null 6>/dev/null 7<>/dev/null
ls -l /proc/self/fd/ 2>/dev/null | awk '$9 ~ /^[567]$/ { print $1, $9, $10, $11 }'
sh -c 'ls -l /proc/$$/fd 2>/dev/null' | awk '$9 ~ /^[567]$/ { print $1, $9, $10, $11 }'
stat -L -c '%F' /proc/self/fd/5 /proc/self/fd/6
exec 5<&- 6>&- 7>&-
echo "== /proc/PID modes"
for f in cgroup cmdline comm cwd environ exe fd fdinfo io limits maps mem mountinfo mounts oom_adj oom_score oom_score_adj stat statm status task timerslack_ns; do
	stat -c "%n %A %h" /proc/$$/$f
done | sed "s|/$$/|/PID/|"
sh -c 'stat -c "%n %A %h" /proc/$$ /proc/$$/task/$$' | awk '{ print $2, ($3 >= 4 ? ">= 4 links" : $3) }'
stat -c "%n %A" /proc/$$/task/$$ /proc/$$/task/$$/stat /proc/$$/fdinfo/1 /proc/self /proc/thread-self /proc/mounts | sed "s|/$$|/PID|g"
echo "== times"
# Linux's times are when the inodes were made, at their first lookup:
# the time to compare with is taken after.
ts=$(for p in /proc/$$ /proc/$$/status /proc/$$/fd /proc/$$/fd/1; do stat -c %Y $p; done)
now=$(date +%s)
i=0
for p in /proc/PID /proc/PID/status /proc/PID/fd /proc/PID/fd/1; do
	i=$((i+1)); t=$(echo "$ts" | sed -n ${i}p)
	echo "$p $([ $t -le $now ] && [ $t -gt $((now - 600)) ] && echo recent || echo "old or future")"
done
for p in /proc /proc/self /proc/meminfo /sys /sys/devices/system/cpu/online /dev /dev/null; do t=$(stat -c %Y $p); echo "$p $([ $t -le $now ] && [ $t -gt 1000000000 ] && echo "since boot" || echo "epoch or future")"; done
echo "== stat formats"
printf 'abc' > f; chmod 604 f; mkdir d; ln -s f l; mkfifo p
stat -c '%a %A %b %B %f %F %h %n %o %s %u %U %g %G' f d l p
stat -c '%N' l f
stat -L -c '%F %s' l
stat -c '%t %T %F' /dev/null /dev/zero /dev/tty
ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | awk '{ print $1, $5, $6, $NF }'
ls -ld /dev/shm | awk '{ print $1 }'
echo end
