#!/bin/sh
# compose.yaml as one `docker run` (image from build-image.sh). --cgroupns host is what a cgroup v2
# host needs so that /proc/<pid>/cgroup shows host paths; on cgroup v1 it changes nothing.
# Capabilities: all dropped but KILL and SYS_PTRACE (why: compose.yaml).
# Stop: docker stop pidwarden (SIGTERM: finishes the current action, logs "stop", exits 0).
docker run -d --name pidwarden --restart unless-stopped --pid host --cgroupns host --network none --read-only \
  --cap-drop ALL --cap-add KILL --cap-add SYS_PTRACE --security-opt no-new-privileges \
  -v /var/run/docker.sock:/var/run/docker.sock \
  -v /sys/fs/cgroup:/host/sys/fs/cgroup:ro \
  -v /var/log/pidwarden:/var/log/pidwarden \
  -v /var/lib/pidwarden:/var/lib/pidwarden \
  pidwarden:local monitor --label=pidwarden.enable=true --interval=30 --cgroup-root=/host/sys/fs/cgroup \
  --log-file=/var/log/pidwarden/pidwarden.jsonl --pid-file=/var/log/pidwarden/pidwarden.pid \
  --state-file=/var/lib/pidwarden/state.json
