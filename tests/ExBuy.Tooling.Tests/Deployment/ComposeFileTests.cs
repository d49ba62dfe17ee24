using System.Text.RegularExpressions;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tooling.Tests.Deployment;

/// <summary>
/// compose.yaml, checked by two real tools since no Docker engine runs here: dclint (npm; the compose-spec JSON
/// schema and its rules, e.g. a published port must name its interface) and Debian's docker-compose 1.29 `config`
/// (references between services and volumes, interpolation). Debian's docker-compose predates Compose v2's top-level
/// <c>name:</c> and rejects it, so it checks a copy without that line; dclint checks the file itself.
/// <c>./exbuy test</c> installs both (EXBUY_DCLINT, EXBUY_DOCKER_COMPOSE).
/// </summary>
public sealed partial class ComposeFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-compose-").FullName;

    private static string ComposeText => File.ReadAllText(Repo.PathOf("compose.yaml"));

    private static string Dclint => Tool("EXBUY_DCLINT", Repo.PathOf(".data", "tools", "compose-lint", "node_modules", ".bin", "dclint"));

    private static string DockerCompose => Tool("EXBUY_DOCKER_COMPOSE", "/usr/bin/docker-compose");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string Tool(string variable, string fallback)
    {
        var path = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } set ? set : fallback;
        File.Exists(path).ShouldBeTrue($"{path} is missing: ./exbuy test installs it (or set {variable})");
        return path;
    }

    private async Task<ProcessResult> Lint(string compose)
    {
        var file = Path.Combine(dir, "compose.yaml");
        await File.WriteAllTextAsync(file, compose);
        return await Processes.RunAsync(Dclint,
            [file, "--config", Repo.PathOf("build", "compose-lint", "dclintrc.json"), "--max-warnings", "0", "--no-color"]);
    }

    /// <summary><c>docker-compose config</c> of a copy without the top-level name, paths resolved from the checkout.</summary>
    private async Task<ProcessResult> Config(string compose, string? adminKey = "a-test-key")
    {
        var file = Path.Combine(dir, "compose-v1.yaml");
        var envFile = Path.Combine(dir, "empty.env"); // not the checkout's .env, which may hold a real key
        await File.WriteAllTextAsync(file, TopLevelName().Replace(compose, ""));
        await File.WriteAllTextAsync(envFile, "");
        return await Processes.RunAsync(DockerCompose,
            ["--env-file", envFile, "--project-directory", Repo.Root, "-f", file, "config"],
            environment: new Dictionary<string, string?> { ["EXBUY_ADMIN_KEY"] = adminKey, ["EXBUY_PROFILE"] = null });
    }

    [Fact]
    public async Task dclint_finds_no_problem_in_compose_yaml()
    {
        var result = await Lint(ComposeText);
        result.ExitCode.ShouldBe(0, result.Output);
    }

    [Fact]
    public async Task docker_compose_config_accepts_compose_yaml()
    {
        var result = await Config(ComposeText);
        result.ExitCode.ShouldBe(0, result.Output);
        result.Output.ShouldContain("ExBuy__AdminKey: a-test-key");
    }

    [Fact]
    public async Task without_an_admin_key_compose_refuses_to_start()
    {
        var result = await Config(ComposeText, adminKey: null);
        result.ExitCode.ShouldNotBe(0, result.Output);
        result.Output.ShouldContain("set EXBUY_ADMIN_KEY");
        ComposeText.ShouldNotContain("change-me");
    }

    [Theory]
    [InlineData("dclint", "\"127.0.0.1:8080:8080\"", "\"8080:8080\"")] // the API on every interface
    [InlineData("dclint", "    restart: \"no\"", "    restrat: \"no\"")] // not a compose key (schema)
    [InlineData("dclint", "    profiles: [\"k6\"]", "    profiles: \"k6\"")] // wrong type (schema)
    [InlineData("docker-compose", "      seed: { condition: service_completed_successfully }", "      sed: { condition: service_completed_successfully }")] // no such service
    [InlineData("docker-compose", "[api-data:/data]", "[api-date:/data]")] // no such volume
    [InlineData("docker-compose", "condition: service_healthy }", "condition: service_ready }")] // no such condition
    [InlineData("docker-compose", "    restart: \"no\"", "    restrat: \"no\"")]
    public async Task each_tool_rejects_a_broken_compose_file(string tool, string from, string to)
    {
        ComposeText.ShouldContain(from); // else this case would check an unbroken file
        var broken = ComposeText.Replace(from, to);

        var result = tool == "dclint" ? await Lint(broken) : await Config(broken);

        result.ExitCode.ShouldNotBe(0, $"{tool} accepted compose.yaml with '{from}' changed to '{to}':\n{result.Output}");
    }

    [Fact]
    public async Task the_api_healthcheck_is_the_apps_own_probe_and_dependants_wait_for_it()
    {
        var config = (await Config(ComposeText)).Output;
        var api = Service(config, "api");
        api.ShouldContain("    healthcheck:\n");
        api.ShouldContain("      test:\n      - CMD\n      - dotnet\n      - /app/ExBuy.dll\n      - health\n");
        config.ShouldNotContain("CMD-SHELL"); // /bin/sh is dash in the runtime image

        foreach (var dependant in new[] { "k6", "prometheus" })
        {
            Service(config, dependant).ShouldContain("      api:\n        condition: service_healthy\n");
        }

        // The probe is the published app itself: the image puts ExBuy.dll in /app and runs as its non-root user.
        var dockerfile = await File.ReadAllTextAsync(Repo.PathOf("Dockerfile"), TestContext.Current.CancellationToken);
        dockerfile.ShouldContain("dotnet publish src/ExBuy/ExBuy.csproj -c Release -o /app");
        dockerfile.ShouldContain("USER $APP_UID");
        dockerfile.ShouldContain("ASPNETCORE_HTTP_PORTS=8080");
        dockerfile.ShouldNotContain("ASPNETCORE_URLS");
    }

    [Fact]
    public async Task arguments_of_compose_run_seed_go_to_the_seed_command()
    {
        var seed = Service((await Config(ComposeText)).Output, "seed");

        seed.ShouldContain("    entrypoint:\n    - dotnet\n    - ExBuy.dll\n    - seed\n");
        seed.ShouldContain("    command:\n    - --if-empty\n");
    }

    [Fact]
    public async Task every_published_port_is_on_loopback()
    {
        var config = (await Config(ComposeText)).Output;
        var published = PublishedPort().Matches(config).Select(m => m.Value.Trim()).ToList();

        published.Count.ShouldBeGreaterThanOrEqualTo(6, config); // api, postgres, redis, influxdb, prometheus, grafana
        published.ShouldAllBe(port => port.StartsWith("- 127.0.0.1:"));
    }

    [Fact]
    public async Task the_api_runs_in_replicas_behind_the_load_balancer()
    {
        var config = (await Config(ComposeText)).Output;
        var api = Service(config, "api");
        api.ShouldContain("    deploy:\n      replicas: 2\n");
        api.ShouldNotContain("    ports:"); // replicas cannot share a host port: clients go through lb
        var lb = Service(config, "lb");
        lb.ShouldContain("      api:\n        condition: service_healthy\n");
        lb.ShouldContain("/deploy/compose/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro");
        lb.ShouldContain("127.0.0.1:8080:8080/tcp");
        Service(config, "k6").ShouldContain("BASE_URL: http://lb:8080");

        // HAProxy finds the replicas by the service's name through Docker's DNS and checks their readiness route.
        var haproxy = await File.ReadAllTextAsync(Repo.PathOf("deploy", "compose", "haproxy.cfg"), TestContext.Current.CancellationToken);
        haproxy.ShouldContain("nameserver dns 127.0.0.11:53");
        haproxy.ShouldContain("server-template api- 20 api:8080 check");
        haproxy.ShouldContain("option httpchk GET /api/health/ready");
        var prometheus = await File.ReadAllTextAsync(Repo.PathOf("perf", "observability", "prometheus.yml"), TestContext.Current.CancellationToken);
        prometheus.ShouldContain("dns_sd_configs:\n      - names: [\"api\"]"); // every replica scraped, not one at random
    }

    [Fact]
    public async Task the_observability_profile_has_a_trace_backend_that_grafana_reads_and_the_api_sends_nothing_by_default()
    {
        var config = (await Config(ComposeText)).Output;
        var jaeger = Service(config, "jaeger");
        jaeger.ShouldContain("    profiles:\n    - observability");
        jaeger.ShouldContain("COLLECTOR_OTLP_ENABLED: \"true\"");
        jaeger.ShouldContain("- 127.0.0.1:4318:4318/tcp"); // OTLP/HTTP, where EXBUY_OTLP_ENDPOINT=http://jaeger:4318 sends
        Service(config, "grafana").ShouldContain("      jaeger:\n        condition: service_started\n");
        Service(config, "prometheus").ShouldContain("--enable-feature=otlp-write-receiver");

        // Without EXBUY_OTLP_ENDPOINT the API's endpoint is empty: no OpenTelemetry registered (ObservabilitySetup).
        var api = Service(config, "api");
        api.ShouldContain("ExBuy__Observability__OtlpEndpoint: ''");
        api.ShouldContain("ExBuy__Observability__OtlpMetricsEndpoint: ''");

        var datasources = await File.ReadAllTextAsync(
            Repo.PathOf("perf", "observability", "grafana", "provisioning", "datasources", "datasources.yml"), TestContext.Current.CancellationToken);
        datasources.ShouldContain("type: jaeger\n    access: proxy\n    url: http://jaeger:16686\n");
        jaeger.ShouldContain("- 127.0.0.1:16686:16686/tcp");
    }

    [Fact]
    public async Task haproxy_accepts_the_load_balancer_configuration_and_refuses_a_broken_one()
    {
        var haproxy = Tool("EXBUY_HAPROXY", "/usr/sbin/haproxy");
        var valid = await Processes.RunAsync(haproxy, ["-c", "-f", Repo.PathOf("deploy", "compose", "haproxy.cfg")]);
        valid.ExitCode.ShouldBe(0, valid.Output);

        var broken = Path.Combine(dir, "haproxy.cfg");
        var text = await File.ReadAllTextAsync(Repo.PathOf("deploy", "compose", "haproxy.cfg"), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(broken, text.Replace("resolvers docker init-addr none", "resolvers dockr init-addr none", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var refused = await Processes.RunAsync(haproxy, ["-c", "-f", broken]);
        refused.ExitCode.ShouldNotBe(0, "a server naming unknown resolvers must be refused:\n" + refused.Output);
    }

    /// <summary>
    /// lb sends each request's client address (X-Forwarded-For, after dropping what the client sent itself) from a
    /// fixed address on the project network, and the API believes that header from that address only.
    /// </summary>
    [Fact]
    public async Task the_load_balancer_names_the_client_and_the_api_trusts_only_it()
    {
        var config = (await Config(ComposeText)).Output;
        Service(config, "lb").ShouldContain("    networks:\n      default:\n        ipv4_address: 10.203.50.250\n");
        Service(config, "api").ShouldContain("ExBuy__TrustedProxies: 10.203.50.250");
        Service(config, "api").ShouldContain("ExBuy__Profile: docker");
        config.ShouldContain("- subnet: 10.203.50.0/24");

        var haproxy = await File.ReadAllTextAsync(Repo.PathOf("deploy", "compose", "haproxy.cfg"), TestContext.Current.CancellationToken);
        haproxy.ShouldContain("\n    option forwardfor\n");
        haproxy.ShouldContain("\n    bind :8080\n    http-request del-header X-Forwarded-For\n");
    }

    /// <summary>One service's block of `docker-compose config` output (services are indented two spaces).</summary>
    private static string Service(string config, string name)
    {
        var start = config.IndexOf($"\n  {name}:\n", StringComparison.Ordinal);
        start.ShouldBeGreaterThan(0, $"no service {name} in:\n{config}");
        var end = NextService().Match(config, start + name.Length + 4);
        return end.Success ? config[start..end.Index] : config[start..];
    }

    [GeneratedRegex("^name:.*\n", RegexOptions.Multiline)]
    private static partial Regex TopLevelName();

    [GeneratedRegex(@"\n  [a-z0-9-]+:\n|\n[a-z]")]
    private static partial Regex NextService();

    [GeneratedRegex(@"^\s+- (?:[0-9.]+:)?[0-9]+:[0-9]+/tcp$", RegexOptions.Multiline)]
    private static partial Regex PublishedPort();
}
