#!/bin/bash
# Captures verbatim cgroup v2 files of one running workload container, for the unit tests'
# fixtures (test/fixtures/cgroup/, whose README says which run made which directory).
# Runs inside a VM lane's guest (scripts/vm/lane-run.sh, with PIDWARDEN_VM_CAPTURE=1), against
# the engine at PIDWARDEN_TEST_DOCKER_HOST; writes into OUTDIR:
#   proc-pid-cgroup.txt        /proc/<State.Pid>/cgroup, read on the host (the guest's init namespaces)
#   proc-pid-cgroup.inside.txt /proc/1/cgroup read inside the container (its cgroup namespace)
#   proc-self-mountinfo.txt    /proc/self/mountinfo of this host-side shell
#   cgroup.procs.txt pids.current.txt pids.max.txt pids.events.txt memory.stat.txt
#   memory.current.txt memory.max.txt cpu.stat.txt   the files of the container's cgroup
#   pids.max.no-limit.txt      pids.max of a second container run without --pids-limit
#   meta.txt                   engine version, cgroup driver, the container's id and its cgroup dir
# Usage: capture-cgroup.sh OUTDIR
set -euo pipefail
out=$1
export DOCKER_HOST=${PIDWARDEN_TEST_DOCKER_HOST:?}
mkdir -p "$out"
name=pidwarden-capture
docker rm -f "$name" >/dev/null 2>&1 || true
# two npm trees (npm exec -> sh -c -> node) under limits of 40 pids and 256 MiB: 1 + 2 x 3 processes
id=$(docker run -d --network none --name "$name" --pids-limit 40 --memory 256m \
  -e 'FAKENODE_ARGS=--interval=0.2
--threads=1
tree/x2=-y @21st-dev/magic@latest' pidwarden-test/busybox dist/index.js)
pid=$(docker inspect -f '{{.State.Pid}}' "$id")
cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
dir=/sys/fs/cgroup$cg
# the workload starts one process per 0.2 s; 7 processes in the cgroup means both trees stand
for _ in $(seq 1 600); do
  [[ $(wc -l <"$dir/cgroup.procs") -ge 7 ]] && break
  sleep 0.1
done
cp "/proc/$pid/cgroup" "$out/proc-pid-cgroup.txt"
docker exec "$name" cat /proc/1/cgroup >"$out/proc-pid-cgroup.inside.txt"
cp /proc/self/mountinfo "$out/proc-self-mountinfo.txt"
for f in cgroup.procs pids.current pids.max pids.events memory.stat memory.current memory.max cpu.stat; do
  cp "$dir/$f" "$out/$f.txt"
done
docker rm -f "$name-nolimit" >/dev/null 2>&1 || true
id2=$(docker run -d --network none --name "$name-nolimit" -e 'FAKENODE_ARGS=--threads=1' pidwarden-test/busybox dist/index.js)
cp "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$(docker inspect -f '{{.State.Pid}}' "$id2")/cgroup")/pids.max" "$out/pids.max.no-limit.txt"
docker rm -f "$name-nolimit" >/dev/null
{
  echo "engine: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
  echo "cgroup: $(docker info --format 'v{{.CgroupVersion}} driver {{.CgroupDriver}}')"
  echo "container: $id"
  echo "init pid: $pid"
  echo "cgroup dir: $dir"
  echo "checkout: ${LANE_COMMIT:-unknown}"
} >"$out/meta.txt"
docker rm -f "$name" >/dev/null
