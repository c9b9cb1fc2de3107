# Text tools and the shell as users' scripts use them: pipes, here-docs,
# redirections, subshells, traps, signals, background jobs, timeout.
# $1 is an empty scratch directory on tmpfs. Nothing printed depends on
# timing: every wait is for an event, never for a time. (No SIGINT to a
# background job: ash makes its jobs ignore SIGINT, so whether the signal
# lands before the child ignores it is a race, on Linux too.)
cd "$1" || exit 1
echo start
cat > words <<'END'
pear 3 green
apple 10 red
fig 2 purple
apple 7 green
banana 5 yellow
END
sort words; sort -k2 -n words; sort -r -k1,1 -k2,2n words; sort -u -k1,1 words
cut -d' ' -f1 words | sort | uniq -c; cut -c1-3 words | sort | uniq -d
wc words; wc -l < words; wc -w words; wc -c words
tr a-z A-Z < words | head -n 2; tr -d 'aeiou' < words | tail -n 1; tr -s ' ' < words | tail -n 2 | head -n 1
echo 'a  b   c' | tr -s ' ' '\n'
awk '{ s[$1] += $2 } END { for (k in s) print k, s[k] }' words | sort
awk -F' ' 'NR%2 == 0 { printf "%-8s|%5.2f\n", $1, $2 / 3 }' words
awk 'BEGIN { x = 2 ^ 10; print x, length("héllo"), substr("abcdef", 2, 3), index("abc", "c"), toupper("x") }'
awk 'BEGIN { n = split("a:b:c", p, ":"); print n, p[3]; printf "%c%c\n", 65, 66; print 1e3, 0.1 + 0.2, int(-3.7) }'
seq 1 20 | awk '$1 % 7 == 0'
grep -n apple words; grep -c apple words; grep -v e words; grep -E '^(fig|pear) ' words; grep -i APPLE words | wc -l
grep -q nothing words; echo "grep -q none $?"; grep nothing nowhere 2>&1; echo "grep missing $?"
mkdir -p g/h; echo needle > g/h/x; echo hay > g/y; echo needle too > g/z
grep -r needle g | sort; grep -rl needle g | sort; grep -rL needle g
sed -n '2,3p' words; sed 's/\([a-z]*\) \([0-9]*\)/\2 \1/' words | head -n 2; sed '/apple/d' words; sed -e '1!G;h;$!d' words
seq 5 | sed -n '$p'; seq 3 | sed 'a\
--'
printf '%s=%d\n' a 1 b 2; printf '%5s|%-5s|%05d|%x|%o|%e\n' r l 42 255 8 1234.5; printf '%b\n' 'tab\tnew\\n'
printf 'no newline'; echo; printf '%s\n' "quoted  spaces" 'single $x'
seq 10 -3 1; seq -s, 1 5; seq -w 8 11; seq 1.5 0.5 3
echo 1 2 3 4 5 | xargs -n 2; printf 'a\nb\nc\n' | xargs -I{} echo 'item {}'; echo | xargs echo empty
printf 'x y\0z\0' | xargs -0 -n 1 echo
date -u -d @0 '+%Y-%m-%d %H:%M:%S %Z %a %b %j %s'; date -u -d '2020-02-29 12:34:56' '+%A %d %B %Y %I %p %u %U'
date -u -d @1700000000 -R; date -u -d @1700000000 -I; date -u -d @1700000000 -Iseconds
expr 3 + 4 '*' 2; expr length hello; expr substr hello 2 3; expr 10 / 3 % 2
echo $(( 7 / 2 )) $(( 7 % 3 )) $(( 1 << 10 )) $(( -5 / 2 )) $(( 0x10 + 010 ))
echo "== redirections"
echo out > r1; echo more >> r1; cat r1
{ echo to-stdout; echo to-stderr >&2; } > r2 2>&1; sort r2
{ echo a; echo b >&2; } 2>/dev/null
ls nowhere 2> r3; echo "ls status $?"; cat r3
echo 0123456789 > rw; exec 3<> rw; read -n 4 x <&3 2>/dev/null || read x <&3; echo "read [$x]"; echo XY >&3; exec 3>&-; cat rw
exec 4> r4; echo via-fd-4 >&4; exec 4>&-; cat r4
cat <<EOF2
here $((1+1)) $(echo sub)
  indented
EOF2
cat <<-'EOF3'
	literal $HOME
	EOF3
while read a b c; do echo "$c:$a"; done < words | head -n 2
echo "== subshells and functions"
v=outer; (v=inner; echo "in $v"); echo "out $v"
f() { local x=local; echo "f $1 $# $x"; return 3; }; f one two; echo "f status $?"
r=$(f in-subst); echo "got [$r]"
set -- p q r; echo "$# $2 $*"; shift; echo "$@"
case banana in b*) echo "case b";; *) echo nope;; esac
for i in 1 2 3; do [ $i = 2 ] && continue; echo "loop $i"; done
i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo "while $i"
until false; do break; done; echo "until done"
x=${undefined:-default}; y=${#x}; echo "$x $y ${x%ult} ${x#def} ${x%%a*} ${x##*a}"
echo "== signals and jobs"
trap 'echo got USR1' USR1; kill -USR1 $$; echo "after self-kill"
trap - USR1
trap 'echo exit trap' EXIT
sh -c 'trap "echo child TERM; exit 9" TERM; echo ready > ready; while :; do sleep 1; done' & cpid=$!
while [ ! -s ready ]; do sleep 1; done; kill -TERM $cpid; wait $cpid; echo "child status $?"
# ash reports a background job a signal ended ("Killed") at the first
# chance, in wait or at the next command, whichever comes first: a race,
# so in a subshell whose stderr goes nowhere.
(sleep 100 & spid=$!; kill -KILL $spid; wait $spid; echo "killed status $?") 2>/dev/null
(exit 4) & wait $!; echo "bg exit $?"
true & true & wait; echo "waited all $?"
timeout -s TERM 1 sleep 100; echo "timeout status $?"
timeout 100 true; echo "no timeout $?"
sh -c 'kill -STOP $$; echo resumed' & stp=$!
until grep -q '^State:.T' /proc/$stp/status; do sleep 1; done; echo "child stopped"
kill -CONT $stp; wait $stp; echo "stop-cont status $?"
kill -0 $$; echo "kill -0 self $?"; kill -0 999999 2>/dev/null; echo "kill -0 none $?"
kill -l 9; kill -l TERM
sh -c 'exit 300'; echo "exit 300 -> $?"
sh -c 'kill -SEGV $$'; echo "segv status $?"
sh -c 'ulimit -n 20; ulimit -n'
echo "== env"
env -i A=1 B=2 env | sort; env -u HOME sh -c 'echo "HOME=[${HOME-unset}]"'
A=x sh -c 'echo $A'; export E1=e1; sh -c 'echo $E1'
t=$(mktemp); echo tmp > "$t"; cat "$t"; rm "$t"
echo end
