using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tooling.Tests.Deployment;

/// <summary>The community k6 dashboard beside ExBuy's: downloaded at start by a one-shot service, provisioned by Grafana.</summary>
public sealed partial class ComposeFileTests
{
    [Fact]
    public async Task grafana_provisions_the_community_k6_dashboard_that_a_one_shot_service_downloads_and_k6_feeds_prometheus()
    {
        var config = (await Config(ComposeText)).Output;

        var download = Service(config, "grafana-k6-dashboard");
        download.ShouldContain("K6_DASHBOARD_ID: '19665'");
        download.ShouldContain("grafana.com/api/dashboards/$${K6_DASHBOARD_ID}/revisions/$${K6_DASHBOARD_REVISION}/download");
        download.ShouldContain("- grafana-k6-dashboard:/dashboards:rw");
        download.ShouldContain("exbuy-prometheus", customMessage: "its panels are pointed at the provisioned Prometheus data source");

        var grafana = Service(config, "grafana");
        grafana.ShouldContain("      grafana-k6-dashboard:\n        condition: service_completed_successfully\n");
        grafana.ShouldContain("- grafana-k6-dashboard:/var/lib/grafana/dashboards-k6:ro");
        var providers = await File.ReadAllTextAsync(Repo.PathOf("perf", "observability", "grafana", "provisioning", "dashboards", "dashboards.yml"),
            TestContext.Current.CancellationToken);
        providers.ShouldContain("path: /var/lib/grafana/dashboards-k6");
        var datasources = await File.ReadAllTextAsync(Repo.PathOf("perf", "observability", "grafana", "provisioning", "datasources", "datasources.yml"),
            TestContext.Current.CancellationToken);
        datasources.ShouldContain("uid: exbuy-prometheus");

        // The dashboard reads k6's remote-write series, filtered by the testid tag k6 sends.
        Service(config, "prometheus").ShouldContain("--web.enable-remote-write-receiver");
        var k6 = Service(config, "k6");
        k6.ShouldContain("- experimental-prometheus-rw\n");
        k6.ShouldContain("K6_PROMETHEUS_RW_SERVER_URL: http://prometheus:9090/api/v1/write");
        foreach (var tag in new[] { "testid=", "system=", "lock_type=" })
        {
            k6.ShouldContain($"- {tag}");
        }
    }
}
