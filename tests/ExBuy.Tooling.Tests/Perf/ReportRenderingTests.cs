using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ExBuy.Tests.Infrastructure;
using Shouldly;

namespace ExBuy.Tooling.Tests.Perf;

/// <summary>
/// The perf report as a person sees it: generated from recorded runs (Fixtures/report-runs.jsonl: two reference lines
/// and a run with its cost), rendered by headless Chromium, measured in the page by a small script (every chart has its
/// axes and gridlines, the latency charts their 200 ms SLA line, no label is cut by its chart or lies on another, no
/// table needs a scroll bar, the verdict comes first) and saved as a screenshot in the test logs folder.
/// <c>./exbuy test</c> installs Debian's chromium (EXBUY_CHROMIUM).
/// </summary>
public sealed partial class ReportRenderingTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("exbuy-report-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string Chromium
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("EXBUY_CHROMIUM") is { Length: > 0 } set ? set : "/usr/bin/chromium";
            File.Exists(path).ShouldBeTrue($"{path} is missing: ./exbuy test installs chromium (or set EXBUY_CHROMIUM)");
            return path;
        }
    }

    private static string LogDirectory =>
        Environment.GetEnvironmentVariable("EXBUY_TEST_LOG_DIR") is { Length: > 0 } logs ? logs : Path.GetTempPath();

    /// <summary>Runs in the rendered page after layout; writes what it measured into a pre element as JSON.</summary>
    private const string LayoutCheck = """
        <script>
        (function () {
          const out = { clipped: [], overlaps: [], charts: [], overflowingTables: [] };
          const inside = (r, box) => r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5;
          for (const svg of document.querySelectorAll('svg')) {
            const box = svg.getBoundingClientRect();
            const title = svg.getAttribute('aria-label');
            const texts = [...svg.querySelectorAll('text')].map(t => ({ text: t.textContent, r: t.getBoundingClientRect() })).filter(t => t.r.width > 0);
            for (const t of texts) {
              if (!inside(t.r, box)) out.clipped.push(title + ': "' + t.text + '"');
            }
            for (let i = 0; i < texts.length; i++) {
              for (let j = i + 1; j < texts.length; j++) {
                const a = texts[i].r, b = texts[j].r;
                const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                if (w > 1 && h > 2) out.overlaps.push(title + ': "' + texts[i].text + '" / "' + texts[j].text + '"');
              }
            }
            out.charts.push({
              title, width: box.width,
              axes: svg.querySelectorAll('line.axis').length,
              gridlines: svg.querySelectorAll('line.grid').length,
              tickLabels: svg.querySelectorAll('text.v').length,
              thresholdLines: svg.querySelectorAll('line.thr').length,
              thresholdLabels: [...svg.querySelectorAll('text.thl')].map(t => t.textContent),
              marks: svg.querySelectorAll('rect[fill], polyline, circle').length,
            });
          }
          for (const wrap of document.querySelectorAll('.wrap')) {
            if (wrap.scrollWidth > wrap.clientWidth + 1) out.overflowingTables.push(wrap.querySelector('tr').textContent.slice(0, 80));
          }
          const all = [...document.querySelectorAll('body *')];
          const first = selector => all.indexOf(document.querySelector(selector));
          out.order = { card: first('.card'), svg: first('svg'), table: first('table') };
          out.page = { scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth, height: document.documentElement.scrollHeight };
          const pre = document.createElement('pre');
          pre.id = 'layout-check';
          pre.textContent = JSON.stringify(out);
          document.body.appendChild(pre);
        })();
        </script>
        """;

    private static readonly string[] ChromiumFlags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1",
    ];

    private static async Task<ProcessResult> Chrome(params string[] args)
    {
        var profile = Directory.CreateTempSubdirectory("exbuy-chromium-").FullName; // a fresh profile each time
        try
        {
            var result = await Processes.RunAsync(Chromium, [.. ChromiumFlags, $"--user-data-dir={profile}", .. args], timeout: TimeSpan.FromMinutes(3));
            result.ExitCode.ShouldBe(0, result.Output);
            return result;
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    /// <summary>Writes the report of the fixture's runs (compare.py, as `./exbuy perf compare` does); returns its HTML.</summary>
    private async Task<string> Report(string runs, string fixture = "report-runs.jsonl")
    {
        var html = Path.Combine(dir, "report.html");
        var result = await Processes.RunAsync("python3",
            [Repo.PathOf("perf", "runner", "compare.py"), Repo.PathOf("tests", "ExBuy.Tooling.Tests", "Perf", "Fixtures", fixture), "--runs", runs,
             "--html", html, "--quiet"]);
        result.ExitCode.ShouldBe(0, result.Output);
        return await File.ReadAllTextAsync(html, TestContext.Current.CancellationToken);
    }

    /// <summary>The page rendered at 1000 px wide with the layout check in it: what the check measured.</summary>
    private async Task<JsonNode> Render(string html, string name)
    {
        var page = Path.Combine(dir, name + ".html");
        await File.WriteAllTextAsync(page, html.Replace("</body>", LayoutCheck + "</body>", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var dom = (await Chrome("--window-size=1000,1400", "--virtual-time-budget=3000", "--dump-dom", new Uri(page).AbsoluteUri)).Output;
        var json = CheckOutput().Match(dom);
        json.Success.ShouldBeTrue($"the layout check did not run (no #layout-check in the DOM):\n{dom[..Math.Min(dom.Length, 2000)]}");
        return JsonNode.Parse(WebUtility.HtmlDecode(json.Groups[1].Value))!;
    }

    /// <summary>What a person would find broken or hard to read; empty when the page is fine.</summary>
    private static List<string> Problems(JsonNode check)
    {
        var problems = new List<string>();
        problems.AddRange(check["clipped"]!.AsArray().Select(c => $"label cut off: {c}"));
        problems.AddRange(check["overlaps"]!.AsArray().Select(o => $"labels on each other: {o}"));
        problems.AddRange(check["overflowingTables"]!.AsArray().Select(t => $"table wider than the page: {t}"));
        foreach (var chart in check["charts"]!.AsArray())
        {
            var title = chart!["title"]!.GetValue<string>();
            if (chart["axes"]!.GetValue<int>() < 2)
            {
                problems.Add($"chart without its two axes: {title}");
            }

            if (chart["gridlines"]!.GetValue<int>() < 2 || chart["tickLabels"]!.GetValue<int>() < 2)
            {
                problems.Add($"chart without gridlines and tick labels: {title}");
            }

            if (chart["marks"]!.GetValue<int>() == 0)
            {
                problems.Add($"chart with nothing drawn: {title}");
            }
        }

        var order = check["order"]!;
        if (order["card"]!.GetValue<int>() < 0 || order["card"]!.GetValue<int>() > order["svg"]!.GetValue<int>() || order["card"]!.GetValue<int>() > order["table"]!.GetValue<int>())
        {
            problems.Add("the verdict is not the first thing on the page");
        }

        if (check["page"]!["scrollWidth"]!.GetValue<int>() > check["page"]!["width"]!.GetValue<int>())
        {
            problems.Add("the page scrolls sideways");
        }

        return problems;
    }

    [Fact]
    public async Task a_report_of_recorded_runs_renders_in_chromium_with_axes_sla_lines_the_verdict_first_and_no_label_cut()
    {
        var html = await Report("1,2,3");

        var check = await Render(html, "three-runs");

        Problems(check).ShouldBeEmpty();
        var charts = check["charts"]!.AsArray().ToDictionary(c => c!["title"]!.GetValue<string>(), c => c!);
        charts.Keys.ShouldContain("Latency over time: p95 per second, all measured steps");
        charts.Keys.ShouldContain("Latency percentiles, all measured steps");
        charts.Keys.ShouldContain("CPU per request by process");
        foreach (var title in new[] { "Latency over time: p95 per second, all measured steps", "Latency percentiles, all measured steps" })
        {
            charts[title]["thresholdLines"]!.GetValue<int>().ShouldBeGreaterThanOrEqualTo(1, title);
            charts[title]["thresholdLabels"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldContain("SLA 200 ms", title);
        }

        charts.Values.ShouldAllBe(c => c["width"]!.GetValue<double>() > 600, "every chart is drawn at a readable width");
        check["page"]!["height"]!.GetValue<int>().ShouldBeGreaterThan(3000);

        // The screenshot a person looks at (the test logs folder of ./exbuy test), the whole page.
        var screenshot = Path.Combine(LogDirectory, "perf-report-screenshot.png");
        File.Delete(screenshot);
        var height = Math.Min(16000, check["page"]!["height"]!.GetValue<int>());
        await Chrome($"--window-size=1000,{height}", $"--screenshot={screenshot}", new Uri(Path.Combine(dir, "three-runs.html")).AbsoluteUri);
        var png = await File.ReadAllBytesAsync(screenshot, TestContext.Current.CancellationToken);
        png[..8].ShouldBe(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, "a PNG");
        ReadBigEndian(png, 16).ShouldBe(1000);
        ReadBigEndian(png, 20).ShouldBe(height);
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot: {screenshot}");
    }

    [Fact]
    public async Task a_single_runs_report_draws_latency_and_cpu_over_time_readably()
    {
        var html = await Report("3");

        var check = await Render(html, "one-run");

        Problems(check).ShouldBeEmpty();
        var titles = check["charts"]!.AsArray().Select(c => c!["title"]!.GetValue<string>()).ToList();
        titles.ShouldContain(t => t.StartsWith("p95 per second by step", StringComparison.Ordinal));
        titles.ShouldContain(t => t.StartsWith("CPU over time, cores", StringComparison.Ordinal));
        titles.ShouldContain("Latency by HTTP status: p95 per step and status (e.g. 201 sold vs 409 sold out)");
    }

    [Fact]
    public async Task a_capacity_search_and_a_capacity_matrix_render_their_curves_and_the_sustainable_rate_chart_readably()
    {
        // Fixtures/capacity-runs.jsonl: line 1 a read-heavy search (perf capacity), lines 2-7 a flash-sale matrix --capacity
        // in which four strategies found a sustainable rate (optimistic and pessimistic none: a sitting on a busy machine).
        var search = await Render(await Report("1", "capacity-runs.jsonl"), "capacity");

        Problems(search).ShouldBeEmpty();
        var charts = search["charts"]!.AsArray().ToDictionary(c => c!["title"]!.GetValue<string>(), c => c!);
        var curve = charts.Single(c => c.Key.StartsWith("Latency against offered rate (#1", StringComparison.Ordinal)).Value;
        curve["thresholdLabels"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldContain("SLO p95<50ms");
        curve["marks"]!.GetValue<int>().ShouldBeGreaterThanOrEqualTo(3, "p50, p95 and p99 drawn");
        charts.Keys.ShouldContain(t => t.StartsWith("Achieved against offered rate (#1", StringComparison.Ordinal));

        var matrix = await Render(await Report("2,3,4,5,6,7", "capacity-runs.jsonl"), "capacity-matrix");

        Problems(matrix).ShouldBeEmpty();
        var titles = matrix["charts"]!.AsArray().Select(c => c!["title"]!.GetValue<string>()).ToList();
        var rates = matrix["charts"]!.AsArray().Single(c => c!["title"]!.GetValue<string>() == "Sustainable rate under the SLO, with CPU per request at that rate")!;
        rates["marks"]!.GetValue<int>().ShouldBe(4, "a bar per strategy that found a rate");
        titles.IndexOf("Sustainable rate under the SLO, with CPU per request at that rate").ShouldBe(0, "the matrix's one chart comes first");
        titles.Count(t => t.StartsWith("Latency against offered rate (", StringComparison.Ordinal)).ShouldBe(6);
    }

    [Fact]
    public async Task the_layout_check_finds_a_label_cut_off_a_chart_without_axes_and_a_verdict_moved_down()
    {
        var html = await Report("1,2,3");
        // Break the report as a careless change to charts.py or report.py would: the first chart's title starts left
        // of its drawing, the second chart loses its axes, and the verdict moves below the charts.
        var titles = TitleText().Matches(html);
        var broken = html.Remove(titles[0].Index, titles[0].Length).Insert(titles[0].Index, titles[0].Value.Replace("x=\"0\"", "x=\"-80\"", StringComparison.Ordinal));
        var second = broken.IndexOf("<svg", broken.IndexOf("</svg>", StringComparison.Ordinal), StringComparison.Ordinal);
        var secondEnd = broken.IndexOf("</svg>", second, StringComparison.Ordinal);
        broken = broken[..second] + broken[second..secondEnd].Replace("class=\"axis\"", "class=\"gone\"", StringComparison.Ordinal) + broken[secondEnd..];
        var verdict = VerdictBlock().Match(broken);
        broken = broken.Remove(verdict.Index, verdict.Length).Replace("<h2>Details</h2>", verdict.Value + "<h2>Details</h2>", StringComparison.Ordinal);

        var problems = Problems(await Render(broken, "broken"));

        problems.ShouldContain(p => p.StartsWith("label cut off: ", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("chart without its two axes: ", StringComparison.Ordinal));
        problems.ShouldContain("the verdict is not the first thing on the page");
    }

    private static int ReadBigEndian(byte[] bytes, int at) => (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];

    [GeneratedRegex("""<pre id="layout-check">(.*?)</pre>""", RegexOptions.Singleline)]
    private static partial Regex CheckOutput();

    [GeneratedRegex("""<text x="0" y="20" class="t">[^<]*</text>""")]
    private static partial Regex TitleText();

    [GeneratedRegex("""<h2>Verdict</h2>.*?(?=<h2>Runs</h2>)""", RegexOptions.Singleline)]
    private static partial Regex VerdictBlock();
}
