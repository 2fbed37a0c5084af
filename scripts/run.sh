#!/usr/bin/env bash
# Builds the daemons that exist so far (release) and runs them on their upstream default ports
# until Ctrl-C: prometheus :9090 (scraping itself and the others, with deploy/rules.yml, alerting
# to the alertmanager), pushgateway :9091, blackbox_exporter :9115, node_exporter :9100,
# alertmanager :9093, statsd_exporter :9102 (StatsD on :9125), graphite_exporter :9108 (Graphite
# on :9109). The haproxy, memcached, mysqld and consul exporters need a server to watch, so they
# are not started here.
set -euo pipefail
cd "$(dirname "$0")/.."
# node_exporter is built on its own: its hot-code list (crates/exporters/node_exporter/link/)
# names the symbols of exactly this build, and a build together with other packages unifies
# other dependency features, which renames them (the binary then keeps more code resident).
cargo build --release --locked -p pm-node-exporter --bin node_exporter
cargo build --release --locked \
    -p pm-pushgateway -p pm-blackbox-exporter -p pm-alertmanager \
    -p pm-statsd-exporter -p pm-graphite-exporter -p pm-prometheus --bins
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
"$bin/statsd_exporter" & pids+=($!)
"$bin/graphite_exporter" & pids+=($!)
echo "pushgateway        http://localhost:9091"
echo "blackbox_exporter  http://localhost:9115  (e.g. /probe?target=localhost:9091&module=http_2xx)"
echo "node_exporter      http://localhost:9100/metrics"
echo "alertmanager       http://localhost:9093/api/v2/status"
echo "prometheus         http://localhost:9090/api/v1/query?query=up  (/api/v1/rules, /api/v1/alerts)"
echo "statsd_exporter    http://localhost:9102/metrics  (StatsD on udp/tcp :9125)"
echo "graphite_exporter  http://localhost:9108/metrics  (Graphite on tcp/udp :9109)"
echo "amtool             $bin/amtool (config checks and route tests)"
wait
