#!/usr/bin/env bash
# The cost of the first /metrics scrape after 10,000 groups x 100 series were pushed (a full
# re-render of the text cache): wall time, CPU ticks (1/100 s) of the daemon during it, a warm
# scrape, RSS and the 1-minute load average. Usage: scripts/bench/pushgateway-cold.sh BINARY PORT
# Loopback only; bounded (fixed request counts, `timeout` on the clients, a limited ready wait).
BIN=$1; PORT=$2
$BIN --web.listen-address=127.0.0.1:$PORT --persistence.file= > /dev/null 2>&1 & PID=$!
for i in $(seq 100); do curl -sf 127.0.0.1:$PORT/-/ready >/dev/null && break; sleep 0.1; done
pids=()
for p in 0 1 2 3; do timeout 600 python3 -c "
import http.client
body=''.join(f'fill_metric_{i}{{kind=\"k\"}} {i}\n' for i in range(100)).encode()
c=http.client.HTTPConnection('127.0.0.1',$PORT)
for g in range($p,10000,4):
    c.request('PUT',f'/metrics/job/fill/instance/i{g}',body); r=c.getresponse(); r.read()
" & pids+=($!); done
for p in ${pids[@]}; do wait $p; done
a=$(awk '{print $14+$15}' /proc/$PID/stat)
t=$(curl -s -o /dev/null -w '%{time_total}' 127.0.0.1:$PORT/metrics)
b=$(awk '{print $14+$15}' /proc/$PID/stat)
w=$(curl -s -o /dev/null -w '%{time_total}' 127.0.0.1:$PORT/metrics)
echo "first_scrape_s=$t cpu_ticks=$((b-a)) warm_s=$w rss_kib=$(awk '/VmRSS/{print $2}' /proc/$PID/status) load=$(cut -d' ' -f1 /proc/loadavg)"
kill $PID
