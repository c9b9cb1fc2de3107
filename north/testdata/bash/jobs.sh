# Run by TestVMBashJobs (north/real_vm_test.go) under Debian's bash-static through
# run.sh, natively and inside Cocoon; $1 is a TCP port free on the host.
# Only its standard output is compared: bash reports ended jobs on
# standard error when it notices them.
set -m
sleep 100 &
p=$!
jobs
[ "$(awk '{ print $5 }' /proc/$p/stat)" = "$p" ] && echo "job in its own process group"
[ "$(awk '{ print $5 }' /proc/$$/stat)" != "$p" ] && echo "not the shell's"
kill -STOP %1
until grep -q '^State:.T' /proc/$p/status; do sleep 0.1; done
jobs
kill -CONT %1
until grep -q '^State:.S' /proc/$p/status; do sleep 0.1; done
jobs
kill %1; wait %1; echo "killed job status $?"
jobs
(sleep 0.2; exit 3) & (sleep 30; exit 4) & q=$!
wait -n; echo "wait -n $?"
kill -- -$q; wait $q; echo "second $?" # the job's group: its sleep too
set +m
sleep 100 & disown; d=$!; jobs | wc -l; kill $d
coproc CAT { cat; }
echo "through the coproc" >&${CAT[1]}
read -r line <&${CAT[0]}; echo "$line"
eval "exec ${CAT[1]}>&-"; wait $CAT_PID; echo "coproc status $?"
read -t 0.2 x < <(sleep 1); echo "read -t status $?"
f() { trap 'echo "return trap"' RETURN; return 2; }; f; echo "f $?"
trap 'echo "err trap at $LINENO"' ERR
false
trap - ERR
exec {fd}>out; echo "via {fd}" >&$fd; exec {fd}>&-; cat out
printf -v v '%05d|%-4s|' 42 ab; echo "$v"
( [ "$BASHPID" != "$$" ] && echo "BASHPID differs in a subshell" )
ulimit -n 64; ulimit -n; (ulimit -c 0; ulimit -c); (ulimit -S -s 4096; ulimit -S -s)
nc -l -p "$1" > got & np=$!
for i in $(seq 50); do exec 3<>/dev/tcp/127.0.0.1/$1 2>/dev/null && break; sleep 0.2; done
echo "over /dev/tcp" >&3; exec 3>&-; wait $np; cat got
exec 3<>/dev/tcp/127.0.0.1/1 2>/dev/null; echo "refused $?"
kill -l 15; trap "echo got USR1" USR1; kill -s USR1 $$; echo "after USR1 to self"
echo $((16#ff)) $((2#101)) $((7 % 3))
