#!/usr/bin/env python3
"""Writes grafana/dashboards/exbuy.json, the provisioned ExBuy dashboard (edit here, then run this script; a path
argument writes elsewhere: the tests check the committed file is this script's output).

Everything is read from Prometheus: the API's /metrics (scraped) and k6's own metrics, which k6 sends by remote write
(`k6 run -o experimental-prometheus-rw`, k6 >= 0.42; `./exbuy perf X --prometheus-rw http://localhost:9090/api/v1/write`
does it and tags every k6 series with testid, system and lock_type). The k6 panels are ExBuy's own: the community k6
dashboards cannot be downloaded on the machines this project is built on, and they read InfluxDB, not these series.
Variables: instance (which API), lock_type (stock strategy), system and testid (which k6 run); each k6 run shows as
an annotated region (its testid, system and lock_type).
"""
import json
import os
import sys

PROM = {"type": "prometheus", "uid": "exbuy-prometheus"}
panels = []
API = 'instance=~"$instance"'
K6 = 'testid=~"$testid", system=~"$system"'


def panel(title, targets, unit, x, y, w=12, h=8, description="", overrides=()):
    """A time series panel. overrides: (refId, unit, axis label) for a query in another unit than the panel's: it
    gets its own unit and a right-hand axis, so CPU cores are never drawn as bytes."""
    panels.append({
        "id": len(panels) + 1, "type": "timeseries", "title": title, "description": description, "datasource": PROM,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {
            "defaults": {"unit": unit, "custom": {"lineWidth": 1, "fillOpacity": 10}},
            "overrides": [{"matcher": {"id": "byFrameRefID", "options": ref},
                           "properties": [{"id": "unit", "value": u}, {"id": "custom.axisPlacement", "value": "right"},
                                          {"id": "custom.axisLabel", "value": label}]}
                          for ref, u, label in overrides],
        },
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max"]}, "tooltip": {"mode": "multi"}},
        "targets": [dict(t, refId=chr(65 + i), datasource=PROM) for i, t in enumerate(targets)],
    })


def row(title, y):
    panels.append({"id": len(panels) + 1, "type": "row", "title": title, "collapsed": False, "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})


def prom(expr, legend):
    return {"expr": expr, "legendFormat": legend}


def q(p, metric, by, selector=API):
    return f"histogram_quantile({p}, sum by (le, {by}) (rate({metric}_bucket{{{selector}}}[30s])))"


def k6_trend(stat):
    # k6 names a trend's stats k6_<metric>_<stat>[_<unit>] (seconds for time trends); the regex takes either form.
    return f'{{__name__=~"k6_http_req_duration_{stat}(_seconds)?", {K6}}}'


row("k6: what the load generator sees (remote write; one line per run and step)", 0)
panel("k6: virtual users and requests/s", [
    prom(f"sum by (testid) (k6_vus{{{K6}}})", "VUs {{testid}}"),
    prom(f"sum by (testid) (rate(k6_http_reqs_total{{{K6}}}[10s]))", "req/s {{testid}}"),
], "short", 0, 1, overrides=[("B", "reqps", "requests/s")])
panel("k6: p95 latency by step (name tag)", [prom(f"max by (testid, name) ({k6_trend('p95')})", "{{name}} {{testid}}")], "s", 12, 1,
      description="k6's http_req_duration p95 per `name` tag (the step), as k6 aggregates it between remote writes.")
panel("k6: failed checks and HTTP errors", [
    prom(f"1 - avg by (testid) (k6_checks_rate{{{K6}}})", "failed checks {{testid}}"),
    prom(f"avg by (testid) (k6_http_req_failed_rate{{{K6}}})", "HTTP errors {{testid}}"),
], "percentunit", 0, 9, description="Shares of checks failed and of requests k6 counted as failed (an expected 409 is not).")
panel("k6: p99 latency by lock_type and system", [prom(f"max by (system, lock_type) ({k6_trend('p99')})", "{{system}} {{lock_type}}")], "s", 12, 9)

row("API (Prometheus scrape of /metrics)", 17)
panel("API: requests/s by route", [prom(f"sum by (endpoint) (rate(http_requests_received_total{{{API}}}[30s]))", "{{endpoint}}")], "reqps", 0, 18)
panel("API: p95 latency by route", [prom(q(0.95, "http_request_duration_seconds", "endpoint"), "{{endpoint}}")], "s", 12, 18)
panel("Stock take p95 by lock_type", [prom(q(0.95, "exbuy_stock_take_seconds", "lock_type", f'{API}, lock_type=~"$lock_type"'), "{{lock_type}}")], "s", 0, 26,
      description="From a strategy's first read to its commit or refusal (exbuy_stock_take_seconds).")
panel("Stock outcomes/s by lock_type", [prom(f'sum by (lock_type, outcome) (rate(exbuy_stock_take_seconds_count{{{API}, lock_type=~"$lock_type"}}[30s]))', "{{lock_type}} {{outcome}}")],
      "ops", 12, 26)
panel("Lock waits: p95 and failures/s", [
    prom(q(0.95, "exbuy_lock_wait_seconds", "lock"), "p95 {{lock}}"),
    prom(f'sum by (lock) (rate(exbuy_lock_wait_seconds_count{{{API}, acquired="false"}}[30s]))', "not acquired/s {{lock}}"),
], "s", 0, 34, overrides=[("B", "ops", "failures/s")])
panel("Optimistic retries/s", [prom(f"rate(exbuy_optimistic_retries_total{{{API}}}[30s])", "retries/s")], "ops", 12, 34)
panel("Coupons/s by result (gate and handler)", [prom(f"sum by (result) (rate(exbuy_coupon_claims_total{{{API}}}[30s]))", "{{result}}")], "ops", 0, 42)
panel("Wolverine durable inbox depth", [prom(f"sum by (message_type, status) (exbuy_wolverine_incoming_envelopes{{{API}}})", "{{message_type}} {{status}}")],
      "short", 12, 42, description="Coupon issuance and ranking envelopes not yet handled: a growing line means the queue is behind.")
panel("Open stock holds (atomic)", [prom(f"exbuy_stock_holds_open{{{API}}}", "holds")], "short", 0, 50)
panel("Database: Marten round-trip p95 and units of work/s", [
    prom(q(0.95, "exbuy_db_command_seconds", "kind"), "p95 {{kind}}"),
    prom(f"rate(exbuy_db_saved_changes_total{{{API}}}[30s])", "saved changes/s"),
], "s", 12, 50, overrides=[("B", "ops", "units of work/s")])
panel("Database: connections", [prom(f"sum by (db_client_connection_state) (npgsql_db_client_connection_count{{{API}}})", "{{db_client_connection_state}}")], "short", 0, 58)
panel("API process: resident memory and CPU", [
    prom(f"process_working_set_bytes{{{API}}}", "resident memory {{instance}}"),
    prom(f"rate(process_cpu_seconds_total{{{API}}}[30s])", "CPU cores {{instance}}"),
], "bytes", 12, 58, overrides=[("B", "none", "CPU cores")])
panel("Thread pool: queue length and threads", [
    prom(f"system_runtime_dotnet_thread_pool_queue_length{{{API}}}", "queued work items"),
    prom(f"system_runtime_dotnet_thread_pool_thread_count{{{API}}}", "threads"),
], "short", 0, 66)


def variable(name, label, query, description):
    return {"name": name, "label": label, "type": "query", "datasource": PROM, "description": description,
            "query": {"query": query, "refId": f"{name}-values"}, "definition": query, "refresh": 2, "sort": 1,
            "multi": True, "includeAll": True, "allValue": ".*", "current": {"selected": True, "text": ["All"], "value": ["$__all"]}}


dashboard = {
    "uid": "exbuy", "title": "ExBuy load test", "tags": ["exbuy", "k6"], "timezone": "utc", "schemaVersion": 39, "version": 2,
    "refresh": "5s", "time": {"from": "now-15m", "to": "now"}, "panels": panels,
    "templating": {"list": [
        variable("instance", "API instance", 'label_values(process_working_set_bytes{job="exbuy-api"}, instance)', "Which API process (the scrape target)."),
        variable("lock_type", "lock_type", "label_values(exbuy_stock_take_seconds_count, lock_type)", "Stock strategies seen by the API."),
        variable("system", "system", "label_values(k6_vus, system)", "The system under test, as ./exbuy perf --system tags k6's series."),
        variable("testid", "k6 run (testid)", 'label_values(k6_vus{system=~"$system"}, testid)', "One k6 run: ./exbuy perf tags each with its run id."),
    ]},
    "annotations": {"list": [
        {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
         "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"},
        {"name": "k6 runs", "datasource": PROM, "enable": True, "iconColor": "rgba(255, 152, 48, 0.6)",
         "expr": f"max by (testid, system, lock_type) (k6_vus{{{K6}}}) > 0", "step": "5s",
         "titleFormat": "{{testid}}", "textFormat": "{{system}} lock_type={{lock_type}}", "tagKeys": "system,lock_type", "useValueForTime": False},
    ]},
}
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "grafana", "dashboards", "exbuy.json")
with open(path, "w") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
print(path)
