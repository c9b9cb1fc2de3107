# Runs bash ($2) on a script ($3) in the scratch directory $1, with the
# script's further arguments; busybox sh runs this (shellScript).
cd "$1" || exit 1
echo start
bash=$2 script=$3
shift 3
"$bash" "$script" "$@" 2>/dev/null
echo "bash status $?"
echo end
