using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tooling.Tests.Deployment;

/// <summary>
/// deploy/k8s cannot be applied here (no cluster), so a validator checks it (build/k8s-validate/validate.mjs, which
/// <c>./exbuy test</c> installs with npm ci): each document against its Kubernetes API schema (kubernetes-models), the
/// k6-operator TestRuns against schemas/k6-testrun.schema.json, and ExBuy's rules across the documents. Each kind of
/// mistake is made on purpose below and must be refused.
/// </summary>
public sealed class KubernetesManifestTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-k8s-").FullName;

    private static string Validator
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("EXBUY_K8S_VALIDATE") is { Length: > 0 } set
                ? set
                : Repo.PathOf(".data", "tools", "k8s-validate", "validate.mjs");
            File.Exists(path).ShouldBeTrue($"{path} is missing: ./exbuy test installs it (or set EXBUY_K8S_VALIDATE)");
            return path;
        }
    }

    private static string[] Manifests => Directory.GetFiles(Repo.PathOf("deploy", "k8s"), "*.yaml").Order().ToArray();

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static Task<ProcessResult> Validate(IEnumerable<string> files) =>
        Processes.RunAsync("node", [Validator, .. files], Path.GetDirectoryName(Validator));

    [Fact]
    public async Task the_manifests_are_valid()
    {
        var result = await Validate(Manifests);

        result.ExitCode.ShouldBe(0, result.Output);
        foreach (var kind in new[] { "Deployment/exbuy-api", "Service/exbuy-api", "ConfigMap/exbuy-config", "Secret/exbuy-external", "TestRun/exbuy-read-heavy", "TestRun/exbuy-persona-a" })
        {
            result.Output.ShouldContain(kind);
        }
    }

    [Theory]
    [InlineData("exbuy-api.yaml", "containerPort: 8080", "containerPort: \"8080\"")] // schema: not an integer
    [InlineData("exbuy-api.yaml", "  replicas: 3", "  replicas: three")] // schema: not an integer
    [InlineData("exbuy-api.yaml", "kind: Deployment", "kind: Deploymnt")] // no such kind
    [InlineData("exbuy-api.yaml", "          readinessProbe:\n            httpGet:\n              path: /api/health/ready", "          readinessProbe:\n            httpGet:\n              path: /api/health")] // readiness must check the dependencies
    [InlineData("exbuy-api.yaml", "      targetPort: http", "      targetPort: web")] // the Service aims at no port of the pods
    [InlineData("exbuy-api.yaml", "  selector:\n    app.kubernetes.io/name: exbuy\n    app.kubernetes.io/component: api\n  ports:", "  selector:\n    app.kubernetes.io/name: exbuy\n    app.kubernetes.io/component: web\n  ports:")] // selects no pods
    [InlineData("exbuy-external.yaml", "  ExBuy__AdminKey:", "  ExBuy__AdminKeys:")] // the pods and the TestRuns read a key that is not there
    [InlineData("exbuy-config.yaml", "  name: exbuy-config", "  name: exbuy-settings")] // the pods name a ConfigMap that is not there
    [InlineData("k6-testrun.yaml", "  parallelism: 4", "  paralelism: 4")] // TestRun schema: required field missing, unknown field
    [InlineData("k6-testrun.yaml", "  cleanup: post\n  runner:\n    env:\n      - name: ADMIN_KEY\n        valueFrom:\n          secretKeyRef:\n            name: exbuy-external\n            key: ExBuy__AdminKey\n---\napiVersion: k6.io/v1alpha1\nkind: TestRun\nmetadata:\n  name: exbuy-persona-a", "  cleanup: always\n  runner:\n    env:\n      - name: ADMIN_KEY\n        valueFrom:\n          secretKeyRef:\n            name: exbuy-external\n            key: ExBuy__AdminKey\n---\napiVersion: k6.io/v1alpha1\nkind: TestRun\nmetadata:\n  name: exbuy-persona-a")] // TestRun schema: enum
    [InlineData("k6-testrun.yaml", "-e BASE_URL=http://exbuy-api -e MAX_VU=500", "-e BASE_URL=http://localhost:8080 -e MAX_VU=500")] // the load must go to the Service
    public async Task the_validator_refuses_each_kind_of_mistake(string file, string from, string to)
    {
        var broken = new List<string>();
        foreach (var manifest in Manifests)
        {
            var text = await File.ReadAllTextAsync(manifest, TestContext.Current.CancellationToken);
            if (Path.GetFileName(manifest) == file)
            {
                text.ShouldContain(from); // else this case would check an unbroken file
                text = text.Replace(from, to, StringComparison.Ordinal);
            }

            var copy = Path.Combine(dir, Path.GetFileName(manifest));
            await File.WriteAllTextAsync(copy, text, TestContext.Current.CancellationToken);
            broken.Add(copy);
        }

        var result = await Validate(broken);

        result.ExitCode.ShouldBe(1, $"the validator accepted {file} with '{from}' changed to '{to}':\n{result.Output}");
        result.Output.ShouldContain("PROBLEM");
    }
}
