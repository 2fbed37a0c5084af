#!/usr/bin/env bash
# Builds the daemons that exist so far (release) and runs them on their upstream default ports
# until Ctrl-C: prometheus :9090 (scraping itself, deploy/prometheus.yml), pushgateway :9091,
# blackbox_exporter :9115, node_exporter :9100, alertmanager :9093. The haproxy, memcached and
# mysqld exporters need a server to watch, so they are not started here.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked \
    -p pm-pushgateway -p pm-blackbox-exporter -p pm-node-exporter -p pm-alertmanager \
    -p pm-prometheus --bin prometheus
bin=target/release
data=${PM_DATA_DIR:-data}
mkdir -p "$data/alertmanager"
mkdir -p "$data/prometheus"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
"$bin/pushgateway" --persistence.file="$data/pushgateway.data" & pids+=($!)
"$bin/blackbox_exporter" --config.file=deploy/blackbox.yml & pids+=($!)
"$bin/node_exporter" & pids+=($!)
"$bin/alertmanager" --config.file=deploy/alertmanager.yml --storage.path="$data/alertmanager" \
    --cluster.listen-address= & pids+=($!)
"$bin/prometheus" --config.file=deploy/prometheus.yml --storage.tsdb.path="$data/prometheus" \
    --web.enable-lifecycle & pids+=($!)
echo "pushgateway        http://localhost:9091"
echo "blackbox_exporter  http://localhost:9115  (e.g. /probe?target=localhost:9091&module=http_2xx)"
echo "node_exporter      http://localhost:9100/metrics"
echo "alertmanager       http://localhost:9093/api/v2/status"
echo "prometheus         http://localhost:9090/api/v1/query?query=up"
echo "amtool             $bin/amtool (config checks and route tests)"
wait
