using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Shouldly;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>
/// The doc guard: every figure a doc gives beside a cited run (rN, line N of perf/results/reference.jsonl) is compared
/// with that line, in every doc (README.md, docs/*.md, perf/*.md, perf/guide/*.md). No server: files only.
/// </summary>
public sealed partial class DocFiguresTests
{
    [Fact]
    public void every_reference_line_the_docs_cite_is_recorded()
    {
        var root = RepoRoot();
        var lines = DocFigures.ReadReference(root).Count;
        var cited = DocFigures.Docs(root)
            .SelectMany(doc => CitationRegex().Matches(File.ReadAllText(doc)).Select(m => (Doc: Path.GetRelativePath(root, doc), Run: int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))))
            .ToList();

        cited.Select(c => c.Run).Distinct().Count().ShouldBeGreaterThan(20, "the measured figures name their lines");
        cited.Where(c => c.Run < 1 || c.Run > lines).ShouldBeEmpty($"cited lines reference.jsonl (1..{lines}) does not have");
    }

    [Fact]
    public void every_figure_beside_a_cited_run_is_that_runs_figure()
    {
        var root = RepoRoot();
        var (checkedFigures, mismatches) = DocFigures.Check(root, DocFigures.Docs(root));

        TestContext.Current.TestOutputHelper?.WriteLine($"{checkedFigures} figures compared with their lines");
        checkedFigures.ShouldBeGreaterThan(300, "the guard finds the figures (tables and sentences)");
        mismatches.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("| r1 | 269.3 | 18.74 / 38.95 |", "| r1 | 296.3 | 18.74 / 38.95 |", "a table's req/s")]
    [InlineData("| r1 | 269.3 | 18.74 / 38.95 |", "| r1 | 269.3 | 18.74 / 48.95 |", "a table's p95 / p99 pair")]
    [InlineData("Mixed at 269.3 req/s (r1).", "Mixed at 280 req/s (r1).", "a sentence's req/s")]
    [InlineData("Mixed (r1): p95 18.7 ms.", "Mixed (r1): p95 19.9 ms.", "a sentence's p95")]
    public void a_wrong_figure_is_found_and_a_right_one_is_not(string right, string wrong, string what)
    {
        var root = RepoRoot();
        var dir = Directory.CreateTempSubdirectory("exbuy-docfigures-").FullName;
        try
        {
            var header = "| run | req/s | p95 / p99 ms |\n|---|---|---|\n";
            var good = Path.Combine(dir, "good.md");
            var bad = Path.Combine(dir, "bad.md");
            File.WriteAllText(good, (right.StartsWith('|') ? header : "") + right + "\n");
            File.WriteAllText(bad, (wrong.StartsWith('|') ? header : "") + wrong + "\n");

            DocFigures.Check(root, [good]).Mismatches.ShouldBeEmpty();
            var (compared, mismatches) = DocFigures.Check(root, [bad]);
            compared.ShouldBeGreaterThan(0);
            mismatches.ShouldHaveSingleItem().ShouldContain("r1", customMessage: what);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void a_target_or_an_estimate_beside_a_run_is_not_a_measured_figure()
    {
        var root = RepoRoot();
        var dir = Directory.CreateTempSubdirectory("exbuy-docfigures-").FullName;
        try
        {
            var doc = Path.Combine(dir, "targets.md");
            File.WriteAllText(doc, "Mixed ran 269.3 req/s (r1), short of ≥ 2,500 req/s, and two cores give at most 1,890 req/s, about 1,400 req/s, 220–300 req/s.\n");
            var (compared, mismatches) = DocFigures.Check(root, [doc]);
            compared.ShouldBe(1);
            mismatches.ShouldBeEmpty();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "ExBuy.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("ExBuy.sln not found above the test binaries");
    }

    [GeneratedRegex(@"\br(\d+)\b")]
    private static partial Regex CitationRegex();
}

/// <summary>
/// Finds the figures beside cited runs and compares them with reference.jsonl. A unit is a table row (its cells read
/// by their column's header) or a sentence (split at ". " before a capital and at "; "). In a sentence, "N req/s"
/// (claims/s, orders/s, purchases/s) must be the req/s of a run the sentence cites (the run's or one step's), "p95 N ms"
/// its p95 (the run's or a step's); a bound, a target or an estimate (after ≥ ≤ &lt; &gt; ≈ ~, "about", "at most",
/// "at least", "up to", "needs", "for", or a range a–b) is not a measured figure. In a table row the columns named
/// below are compared with the run the cell itself cites, else the one run the row cites. "Within rounding": one unit
/// of the figure's last written digit.
/// </summary>
public static partial class DocFigures
{
    private static readonly (string Header, string[] Paths)[] Columns =
    [
        ("claims (201 / 409)", ["counters.coupon_admitted", "counters.coupon_refused"]),
        ("p95 / p99", ["p95_ms", "p99_ms"]),
        ("api cpu ms/req", ["cost.cpu.api.ms_per_request"]),
        ("postgresql cpu ms/req", ["cost.cpu.postgres.ms_per_request"]),
        ("k6 cpu ms/req", ["cost.cpu.k6.ms_per_request"]),
        ("statements /req", ["cost.statements.per_request"]),
        ("postgresql execution ms/req", ["cost.statements.exec_ms_per_request"]),
        ("failed checks", ["checks_failed"]),
        ("req/s", ["req_per_s"]),
        ("claims/s", ["req_per_s"]),
        ("orders/s", ["req_per_s"]),
        ("p95", ["p95_ms"]),
    ];

    public static IReadOnlyList<string> Docs(string root)
    {
        var docs = new List<string> { Path.Combine(root, "README.md") };
        foreach (var folder in new[] { "docs", "perf", Path.Combine("perf", "guide") })
        {
            var path = Path.Combine(root, folder);
            if (Directory.Exists(path))
            {
                docs.AddRange(Directory.GetFiles(path, "*.md").Order(StringComparer.Ordinal));
            }
        }

        return docs;
    }

    public static IReadOnlyList<JsonObject> ReadReference(string root) =>
        File.ReadAllLines(Path.Combine(root, "perf", "results", "reference.jsonl"))
            .Where(l => l.Trim().Length > 0)
            .Select(l => JsonNode.Parse(l)!.AsObject())
            .ToList();

    public static (int Compared, IReadOnlyList<string> Mismatches) Check(string root, IEnumerable<string> docs)
    {
        var runs = ReadReference(root);
        var compared = 0;
        var mismatches = new List<string>();
        foreach (var doc in docs)
        {
            var name = Path.GetRelativePath(root, doc);
            string[]? header = null;
            foreach (var (kind, line, text) in Units(File.ReadAllText(doc)))
            {
                if (kind != 't')
                {
                    header = null;
                    foreach (var sentence in SentenceBreak().Split(text))
                    {
                        CheckSentence(sentence, Cited(sentence, runs.Count), runs, $"{name}:{line}", ref compared, mismatches);
                    }

                    continue;
                }

                var cells = text.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();
                if (cells.All(c => c.Length == 0 || RuleCell().IsMatch(c)))
                {
                    continue;
                }

                if (header is null)
                {
                    header = cells.Select(c => c.ToLowerInvariant()).ToArray();
                    continue;
                }

                CheckRow(header, cells, runs, $"{name}:{line}", ref compared, mismatches);
            }
        }

        return (compared, mismatches);
    }

    private static void CheckSentence(string sentence, List<int> cited, IReadOnlyList<JsonObject> runs, string where, ref int compared, List<string> mismatches)
    {
        if (cited.Count == 0)
        {
            return;
        }

        foreach (var (regex, kind) in new[] { (RateFigure(), "req_per_s"), (P95Figure(), "p95_ms") })
        {
            foreach (Match m in regex.Matches(sentence))
            {
                var figure = m.Groups[1];
                if (IsBoundOrEstimate(sentence, figure.Index, figure.Length))
                {
                    continue;
                }

                compared++;
                if (!cited.Any(r => RunAndSteps(runs[r - 1], kind).Any(v => Close(figure.Value, v))))
                {
                    mismatches.Add($"{where}: {kind} {figure.Value} is not that of {string.Join(", ", cited.Select(r => $"r{r}"))}: \"{Excerpt(sentence, m.Index)}\"");
                }
            }
        }
    }

    private static void CheckRow(string[] header, string[] cells, IReadOnlyList<JsonObject> runs, string where, ref int compared, List<string> mismatches)
    {
        var rowRuns = Cited(string.Join('|', cells), runs.Count).Distinct().ToList();
        if (rowRuns.Count == 0)
        {
            return;
        }

        foreach (var (title, cell) in header.Zip(cells))
        {
            if (title.Contains("before", StringComparison.Ordinal) || title.Contains("after", StringComparison.Ordinal))
            {
                continue;
            }

            var paths = Columns.FirstOrDefault(c => title.Contains(c.Header, StringComparison.Ordinal)).Paths;
            if (paths is null)
            {
                continue;
            }

            var own = Cited(cell, runs.Count);
            var candidates = own.Count > 0 ? own : rowRuns.Count == 1 ? rowRuns : [];
            var figures = Figure().Matches(Citation().Replace(cell, "")).Select(m => m.Value).ToList();
            if (candidates.Count == 0 || figures.Count < paths.Length)
            {
                continue;
            }

            var byStep = title.Contains("step", StringComparison.Ordinal);
            foreach (var (figure, path) in figures.Zip(paths))
            {
                compared++;
                var values = candidates.SelectMany(r => byStep ? StepFigures(runs[r - 1]) : [Read(runs[r - 1], path)]);
                if (!values.Any(v => Close(figure, v)))
                {
                    mismatches.Add($"{where}: column \"{title}\" {figure} is not that of {string.Join(", ", candidates.Select(r => $"r{r}"))} ({path}: {string.Join(", ", candidates.Select(r => Read(runs[r - 1], path)?.ToString(CultureInfo.InvariantCulture) ?? "none"))})");
                }
            }
        }
    }

    private static IEnumerable<(char Kind, int Line, string Text)> Units(string text)
    {
        var paragraph = new List<string>();
        var start = 0;
        var code = false;
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var blank = line.Trim().Length == 0;
            var fence = line.StartsWith("```", StringComparison.Ordinal);
            var table = !code && line.StartsWith('|');
            if ((blank || fence || table || code) && paragraph.Count > 0)
            {
                yield return ('p', start, string.Join(' ', paragraph));
                paragraph.Clear();
            }

            if (fence)
            {
                code = !code;
            }
            else if (code)
            {
                yield return ('p', i + 1, line);
            }
            else if (table)
            {
                yield return ('t', i + 1, line);
            }
            else if (!blank)
            {
                if (paragraph.Count == 0)
                {
                    start = i + 1;
                }

                paragraph.Add(line);
            }
        }

        if (paragraph.Count > 0)
        {
            yield return ('p', start, string.Join(' ', paragraph));
        }
    }

    private static List<int> Cited(string text, int lines) =>
        Citation().Matches(text).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Where(r => r >= 1 && r <= lines).ToList();

    private static bool IsBoundOrEstimate(string sentence, int index, int length)
    {
        var before = sentence[Math.Max(0, index - 12)..index];
        var after = sentence[(index + length)..Math.Min(sentence.Length, index + length + 2)];
        return BoundBefore().IsMatch(before) || before.EndsWith('–') || after.StartsWith('–');
    }

    private static IEnumerable<double?> RunAndSteps(JsonObject run, string field)
    {
        yield return Read(run, field);
        if (run["steps"] is JsonObject steps)
        {
            foreach (var (_, step) in steps)
            {
                yield return step is JsonObject s ? Read(s, field) : null;
            }
        }
    }

    private static IEnumerable<double?> StepFigures(JsonObject run) =>
        RunAndSteps(run, "p95_ms").Concat(RunAndSteps(run, "p99_ms"));

    private static double? Read(JsonObject run, string path)
    {
        JsonNode? node = run;
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o ? o[part] : null;
        }

        return node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;
    }

    private static bool Close(string written, double? value)
    {
        if (value is null)
        {
            return false;
        }

        var figure = double.Parse(written.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        var dot = written.IndexOf('.', StringComparison.Ordinal);
        var unit = Math.Pow(10, dot < 0 ? 0 : -(written.Length - dot - 1));
        return Math.Abs(figure - value.Value) <= unit + 1e-9;
    }

    private static string Excerpt(string sentence, int index) =>
        sentence[Math.Max(0, index - 60)..Math.Min(sentence.Length, index + 40)];

    [GeneratedRegex(@"\br(\d+)\b")]
    private static partial Regex Citation();

    [GeneratedRegex(@"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")]
    private static partial Regex Figure();

    [GeneratedRegex(@"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?:req/s|claims/s|orders/s|purchases/s)")]
    private static partial Regex RateFigure();

    [GeneratedRegex(@"p95\s+(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*ms")]
    private static partial Regex P95Figure();

    [GeneratedRegex(@"(?:[≥≤<>≈~]|\babout|\bat most|\bat least|\bup to|\bneeds?|\bfor)\s*$")]
    private static partial Regex BoundBefore();

    [GeneratedRegex(@"(?<=[.;])\s+(?=[A-Z(])|;\s+")]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"^:?-+:?$")]
    private static partial Regex RuleCell();
}
