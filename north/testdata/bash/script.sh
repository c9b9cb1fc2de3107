# Run by TestVMBashStatic (north/procs_vm_test.go) under Debian's bash-static,
# natively and inside Cocoon: the same output and exit status.
cd /tmp
echo start
trap 'echo "exit trap $?"' EXIT
trap 'echo "got USR1"' USR1
kill -USR1 $$
greet() { local who=$1; echo "hello $who"; return 3; }
greet world; echo "function status $?"
printf '%s\n' c a b | sort | tr a-z A-Z | head -n 2
x=$(echo one two | wc -w); echo "words $x"
echo "nested $(echo "$(echo deep)")"
(exit 4); echo "subshell status $?"
( trap 'echo "subshell trap"' EXIT; echo "in subshell $BASH_SUBSHELL" )
arr=(alpha beta gamma); echo "${#arr[@]} ${arr[1]} ${arr[@]:1}"
declare -A m=([k]=v [x]=y); echo "assoc ${m[k]}${m[x]}"
for i in {1..3}; do echo -n "$i "; done; echo
n=0; while read -r line; do n=$((n + ${#line})); done <<'DOC'
abc
de
DOC
echo "here-doc chars $n"
case "file.tar.gz" in *.gz) echo "gzip";; *) echo "other";; esac
false | true; echo "pipe status $? ${PIPESTATUS[*]}"
set -o pipefail; false | true; echo "pipefail $?"; set +o pipefail
bash -c 'exit 9'; echo "child bash $?"
(exit 2) & p=$!; wait $p; echo "background $?"
{ echo a; echo b; } > /tmp/bs.$$; cat /tmp/bs.$$ | wc -l; rm -f /tmp/bs.$$
echo "$(( 6 * 7 )) $(( 2 ** 10 ))"
s="Hello World"; echo "${s,,} ${s^^} ${s/World/There} ${s:6}"
cat <(echo procsub) 
mapfile -t lines < <(printf 'l1\nl2\n'); echo "mapfile ${#lines[@]} ${lines[1]}"
echo end
exit 6
