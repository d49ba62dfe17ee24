using System.Text.RegularExpressions;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tests.Platform.Architecture;

/// <summary>
/// The import map of <c>src/ExBuy</c>, read from the source: a module is a folder of <c>Features</c>; its root namespace
/// (<c>ExBuy.Features.Orders</c>) is what it exposes to the others (its documents, events, store and operations), its
/// use-case namespaces (<c>ExBuy.Features.Orders.PlacePaidOrder</c>) are its internals. The map has no cycle, no module
/// names another's internals, and Infrastructure names no feature. <c>Features/Modules.cs</c>, the composition root,
/// names every module. Comments are not references.
/// </summary>
public sealed partial class ModuleMapTests
{
    [Fact]
    public void the_source_has_no_module_cycle_no_reach_into_internals_and_no_feature_in_infrastructure()
    {
        var root = Repo.PathOf("src", "ExBuy");
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Select(f => (Path: Path.GetRelativePath(root, f).Replace('\\', '/'), Text: File.ReadAllText(f)))
            .ToList();
        files.Count.ShouldBeGreaterThan(100);

        var map = ModuleMap.Read(files);
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join('\n', map.Edges.OrderBy(e => e.Key).Select(e => $"{e.Key} -> {string.Join(", ", e.Value.Order())}")));
        map.Modules.ShouldContain("Orders");
        map.Edges["Orders"].ShouldContain("Balance"); // the reader sees references at all
        map.Violations().ShouldBeEmpty();
    }

    [Fact]
    public void a_planted_cycle_a_reach_into_internals_and_a_feature_in_infrastructure_are_each_reported()
    {
        (string, string)[] clean =
        [
            ("Features/A/AThing.cs", "namespace ExBuy.Features.A;\npublic class AThing { }"),
            ("Features/A/DoIt/DoItEndpoint.cs", "namespace ExBuy.Features.A.DoIt;\nusing ExBuy.Features.B;\npublic class DoItEndpoint { BStore s; }"),
            ("Features/B/BStore.cs", "namespace ExBuy.Features.B;\n// ExBuy.Features.A.DoIt in a comment is no reference\npublic class BStore { }"),
            ("Features/B/Use/UseEndpoint.cs", "namespace ExBuy.Features.B.Use;\npublic class UseEndpoint { }"),
            ("Infrastructure/Http/Thing.cs", "namespace ExBuy.Infrastructure.Http;\n/// <see cref=\"ExBuy.Features.A.AThing\"/>\npublic class Thing { }"),
        ];
        ModuleMap.Read(clean).Violations().ShouldBeEmpty();

        var cycle = ModuleMap.Read([.. clean, ("Features/B/Back.cs", "namespace ExBuy.Features.B;\npublic class Back { A.AThing t; }")]).Violations();
        cycle.ShouldHaveSingleItem().ShouldContain("cycle");

        var internals = ModuleMap.Read([.. clean, ("Features/C/C.cs", "namespace ExBuy.Features.C;\nusing ExBuy.Features.B.Use;\npublic class C { }")]).Violations();
        internals.ShouldHaveSingleItem().ShouldContain("internals");

        var infrastructure = ModuleMap.Read([.. clean, ("Infrastructure/Http/Bad.cs", "namespace ExBuy.Infrastructure.Http;\npublic class Bad { ExBuy.Features.B.BStore s; }")]).Violations();
        infrastructure.ShouldHaveSingleItem().ShouldContain("Infrastructure");
    }

    private sealed partial class ModuleMap
    {
        public SortedSet<string> Modules { get; } = [];

        public Dictionary<string, SortedSet<string>> Edges { get; } = [];

        private readonly List<string> _violations = [];

        public static ModuleMap Read(IEnumerable<(string Path, string Text)> files)
        {
            var map = new ModuleMap();
            var sources = files.Select(f => (f.Path, Code: StripComments(f.Text))).ToList();
            var subNamespaces = new HashSet<string>();
            foreach (var (path, code) in sources)
            {
                if (ModuleOf(path) is { } module)
                {
                    map.Modules.Add(module);
                    map.Edges.TryAdd(module, []);
                    foreach (Match m in NamespaceDeclaration().Matches(code))
                    {
                        if (m.Groups[2].Success)
                        {
                            subNamespaces.Add($"{m.Groups[1].Value}.{m.Groups[2].Value}");
                        }
                    }
                }
            }

            foreach (var (path, code) in sources)
            {
                if (path.StartsWith("Infrastructure/", StringComparison.Ordinal))
                {
                    if (FullReference().Match(code) is { Success: true } m)
                    {
                        map._violations.Add($"Infrastructure imports a feature: {path} names {m.Value}");
                    }

                    continue;
                }

                if (ModuleOf(path) is not { } from)
                {
                    continue; // Program.cs and Features/Modules.cs, the composition root
                }

                var references = FullReference().Matches(code).Select(m => (m.Groups[1].Value, m.Groups[2].Success ? m.Groups[2].Value : null))
                    .Concat(RelativeReference().Matches(code)
                        .Where(m => map.Modules.Contains(m.Groups[1].Value))
                        .Select(m => (m.Groups[1].Value, (string?)m.Groups[2].Value)));
                foreach (var (to, next) in references)
                {
                    if (to == from || !map.Modules.Contains(to))
                    {
                        continue;
                    }

                    map.Edges[from].Add(to);
                    if (next is not null && subNamespaces.Contains($"{to}.{next}"))
                    {
                        map._violations.Add($"{path} ({from}) names {to}'s internals: ExBuy.Features.{to}.{next}");
                    }
                }
            }

            return map;
        }

        public List<string> Violations()
        {
            var found = _violations.Distinct().ToList();
            found.AddRange(Cycles());
            return found;
        }

        private List<string> Cycles()
        {
            var state = new Dictionary<string, int>(); // 1: on the path, 2: done
            var path = new List<string>();
            var cycles = new List<string>();

            void Visit(string module)
            {
                state[module] = 1;
                path.Add(module);
                foreach (var next in Edges.GetValueOrDefault(module) ?? [])
                {
                    if (state.GetValueOrDefault(next) == 1)
                    {
                        cycles.Add($"module cycle: {string.Join(" -> ", path.SkipWhile(m => m != next))} -> {next}");
                    }
                    else if (state.GetValueOrDefault(next) == 0)
                    {
                        Visit(next);
                    }
                }

                path.RemoveAt(path.Count - 1);
                state[module] = 2;
            }

            foreach (var module in Modules.Where(m => state.GetValueOrDefault(m) == 0))
            {
                Visit(module);
            }

            return cycles;
        }

        private static string? ModuleOf(string path)
        {
            var parts = path.Split('/');
            return parts.Length >= 3 && parts[0] == "Features" ? parts[1] : null;
        }

        private static string StripComments(string text) => Comment().Replace(text, m => m.Value.StartsWith('"') || m.Value.StartsWith('$') || m.Value.StartsWith('@') ? m.Value : "");

        [GeneratedRegex(@"""(?:[^""\\\n]|\\.)*""|//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
        private static partial Regex Comment();

        [GeneratedRegex(@"\bnamespace\s+ExBuy\.Features\.(\w+)(?:\.(\w+))?")]
        private static partial Regex NamespaceDeclaration();

        [GeneratedRegex(@"\bExBuy\.Features\.(\w+)(?:\.(\w+))?")]
        private static partial Regex FullReference();

        // A module named relative to ExBuy.Features (Catalog.Product from inside ExBuy.Features.Reviews): not after a dot.
        [GeneratedRegex(@"(?<![\w.])([A-Z]\w*)\.([A-Z]\w*)")]
        private static partial Regex RelativeReference();
    }
}
