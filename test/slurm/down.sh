#!/bin/bash
# Stops what up.sh started, by pid file only. WIPE=1 also deletes the whole folder $P.
P=${P:?set P to the folder given to up.sh}; export SLURM_CONF=$P/etc/slurm.conf
[ -f "$SLURM_CONF" ] && [ -s "$P/run/slurmctld.pid" ] && timeout 10 scancel --user="$(id -un)" 2>/dev/null
# A zombie still has /proc/<pid>: count it as gone (PID 1 here may reap orphans late).
alive() { [ -r /proc/$1/stat ] && [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" != Z ]; }
for n in slurmd slurmctld munged; do
  f=$P/run/$n.pid; [ -s "$f" ] || continue; pid=$(cat "$f")
  if alive "$pid"; then
    kill "$pid"
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -9 "$pid"
  fi
  rm -f "$f"; echo "stopped $n ($pid)"
done
rm -f "$P"/munge/munge.socket.2*
[ "${WIPE:-0}" = 1 ] && rm -rf "$P"
exit 0
