#!/bin/sh
# pidwarden monitor in the background with nohup: no terminal, no stdin, survives logout.
# Run as root (it reads /proc and the cgroup fs and signals container processes).
# JSONL actions go to the --log-file; rotate it with logrotate.conf (SIGHUP through the pid file).
# Stop it: kill "$(cat /run/pidwarden.pid)"  (SIGTERM: finishes the current action, exits 0).
# It acts only on the containers labelled pidwarden.enable=true; restart history: /var/lib/pidwarden.
mkdir -p /var/log/pidwarden
nohup /usr/local/bin/pidwarden monitor --label pidwarden.enable=true --interval 30 --log-file /var/log/pidwarden/pidwarden.jsonl --pid-file /run/pidwarden.pid </dev/null >>/var/log/pidwarden/nohup.out 2>&1 &
