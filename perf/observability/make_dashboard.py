#!/usr/bin/env python3
"""Writes grafana/dashboards/exbuy.json, the provisioned ExBuy dashboard (edit here, then run this script)."""
import json
import os

PROM = {"type": "prometheus", "uid": "exbuy-prometheus"}
INFLUX = {"type": "influxdb", "uid": "exbuy-k6-influxdb"}
panels = []


def panel(title, targets, unit, x, y, w=12, h=8, datasource=PROM, description=""):
    panels.append({
        "id": len(panels) + 1, "type": "timeseries", "title": title, "description": description, "datasource": datasource,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit, "custom": {"lineWidth": 1, "fillOpacity": 10}}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max"]}, "tooltip": {"mode": "multi"}},
        "targets": [dict(t, refId=chr(65 + i), datasource=datasource) for i, t in enumerate(targets)],
    })


def prom(expr, legend):
    return {"expr": expr, "legendFormat": legend}


def influx(query, alias):
    return {"query": query, "rawQuery": True, "resultFormat": "time_series", "alias": alias}


def q(p, metric, by):
    return f"histogram_quantile({p}, sum by (le, {by}) (rate({metric}_bucket[30s])))"


# Row 1: what k6 sees (InfluxDB).
panel("k6: virtual users and requests/s", [
    influx('SELECT max("value") FROM "vus" WHERE $timeFilter GROUP BY time(1s) fill(none)', "VUs"),
    influx('SELECT sum("value") FROM "http_reqs" WHERE $timeFilter GROUP BY time(1s) fill(0)', "req/s"),
], "short", 0, 0, datasource=INFLUX)
panel("k6: p95 latency by step (name tag)", [
    influx('SELECT percentile("value", 95) FROM "http_req_duration" WHERE $timeFilter GROUP BY time(5s), "name" fill(none)', "$tag_name"),
], "ms", 12, 0, datasource=INFLUX)
panel("k6: failed checks and HTTP errors per second", [
    influx('SELECT count("value") FROM "checks" WHERE "value" = 0 AND $timeFilter GROUP BY time(1s) fill(0)', "failed checks"),
    influx('SELECT sum("value") FROM "http_req_failed" WHERE $timeFilter GROUP BY time(1s) fill(0)', "HTTP errors"),
], "short", 0, 8, datasource=INFLUX)
# Row 2: the API (Prometheus).
panel("API: requests/s by route", [prom('sum by (endpoint) (rate(http_requests_received_total[30s]))', "{{endpoint}}")], "reqps", 12, 8)
panel("API: p95 latency by route", [prom(q(0.95, "http_request_duration_seconds", "endpoint"), "{{endpoint}}")], "s", 0, 16)
panel("Stock take p95 by lock_type", [prom(q(0.95, "exbuy_stock_take_seconds", "lock_type"), "{{lock_type}}")], "s", 12, 16,
      description="From a strategy's first read to its commit or refusal (exbuy_stock_take_seconds).")
panel("Stock outcomes/s by lock_type", [prom('sum by (lock_type, outcome) (rate(exbuy_stock_take_seconds_count[30s]))', "{{lock_type}} {{outcome}}")], "ops", 0, 24)
panel("Lock waits: p95 and failures/s", [
    prom(q(0.95, "exbuy_lock_wait_seconds", "lock"), "p95 {{lock}}"),
    prom('sum by (lock) (rate(exbuy_lock_wait_seconds_count{acquired="false"}[30s]))', "not acquired/s {{lock}}"),
], "s", 12, 24)
panel("Optimistic retries/s", [prom('rate(exbuy_optimistic_retries_total[30s])', "retries/s")], "ops", 0, 32)
panel("Coupons/s by result (gate and handler)", [prom('sum by (result) (rate(exbuy_coupon_claims_total[30s]))', "{{result}}")], "ops", 12, 32)
panel("Wolverine durable inbox depth", [prom('sum by (message_type, status) (exbuy_wolverine_incoming_envelopes)', "{{message_type}} {{status}}")], "short", 0, 40,
      description="Coupon issuance and ranking envelopes not yet handled: a growing line means the queue is behind.")
panel("Open stock holds (atomic)", [prom('exbuy_stock_holds_open', "holds")], "short", 12, 40)
panel("Database: Marten round-trip p95 and units of work/s", [
    prom(q(0.95, "exbuy_db_command_seconds", "kind"), "p95 {{kind}}"),
    prom('rate(exbuy_db_saved_changes_total[30s])', "saved changes/s"),
], "s", 0, 48)
panel("Database: connections", [prom('sum by (db_client_connection_state) (npgsql_db_client_connection_count)', "{{db_client_connection_state}}")], "short", 12, 48)
panel("API process: resident memory and CPU", [
    prom('process_working_set_bytes', "resident memory"),
    prom('rate(process_cpu_seconds_total[30s])', "CPU cores"),
], "bytes", 0, 56)
panel("Thread pool: queue length and threads", [
    prom('system_runtime_dotnet_thread_pool_queue_length', "queued work items"),
    prom('system_runtime_dotnet_thread_pool_thread_count', "threads"),
], "short", 12, 56)

dashboard = {
    "uid": "exbuy", "title": "ExBuy load test", "tags": ["exbuy", "k6"], "timezone": "utc", "schemaVersion": 39, "version": 1,
    "refresh": "5s", "time": {"from": "now-15m", "to": "now"}, "panels": panels,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grafana", "dashboards", "exbuy.json")
with open(path, "w") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
print(path)
