#!/bin/bash
# A real single-node Slurm on loopback for the Slurm tests, every file under $P:
#   P=$(mktemp -d) bash test/slurm/up.sh && export SLURM_CONF=$P/etc/slurm.conf
# Installs Debian's munge + slurm-wlm when missing. No systemd is needed: the daemons run
# in the background with pid files that down.sh uses.
set -euo pipefail
P=${P:?set P to a folder for the cluster files}; C=$P/etc/slurm.conf; M=$P/munge/munge.socket.2
t0=$(date +%s%N)
ts() { echo "[slurm up $(( ($(date +%s%N) - t0) / 1000000 )) ms] $*"; }
wait_for() { for _ in $(seq 150); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; eval "$1"; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "Slurm is not installed and installing it needs root (apt-get)" >&2; exit 1; }
  # A packaged service started by postinst would hold ports 6817/6818: forbid starting services during the install.
  added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; added_policy=1; fi
  apt-cache policy slurmctld 2>/dev/null | grep -q 'Candidate: [0-9]' || apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -yq --no-install-recommends munge slurmctld slurmd slurm-client >/dev/null
  [ $added_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  ts "installed munge + slurm-wlm"
fi

mkdir -p "$P"/{etc,munge,state,spool,log,run}
chmod 755 "$P"  # munged wants the socket's folders searchable by all (mktemp -d gives 700)
[ -s "$P/munge/munge.key" ] || mungekey -c -k "$P/munge/munge.key"
chmod 600 "$P/munge/munge.key"
munged -S "$M" --key-file="$P/munge/munge.key" --pid-file="$P/run/munged.pid" \
  --log-file="$P/log/munged.log" --seed-file="$P/munge/munged.seed"
ts munged

# Ports of its own, so that several test clusters (the Slurm tier, the end-to-end step, another
# checkout) can run on one machine at once. A port nobody answers on is free.
free_port() {
  for _ in $(seq 100); do
    local p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}
CTLD_PORT=${SLURMCTLD_PORT:-$(free_port)}; SLURMD_PORT=${SLURMD_PORT:-$(free_port)}
while [ "$SLURMD_PORT" = "$CTLD_PORT" ]; do SLURMD_PORT=$(free_port); done
cat >"$C" <<CONF
ClusterName=local
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$M
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=${MINJOBAGE:-300}
StateSaveLocation=$P/state
SlurmdSpoolDir=$P/spool
SlurmctldPidFile=$P/run/slurmctld.pid
SlurmdPidFile=$P/run/slurmd.pid
SlurmctldLogFile=$P/log/slurmctld.log
SlurmdLogFile=$P/log/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$P/log/jobcomp.txt
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$C
slurmctld -f "$C"; wait_for 'scontrol ping | grep -q UP'; ts slurmctld
slurmd -f "$C" -N localhost; wait_for '[ "$(sinfo -h -o %T)" = idle ]'; ts "slurmd, node idle (ports $CTLD_PORT, $SLURMD_PORT)"
sinfo
