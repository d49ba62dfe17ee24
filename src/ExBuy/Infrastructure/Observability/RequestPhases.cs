using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ExBuy.Infrastructure.Observability;

/// <summary>
/// Where one request's time went, accumulated while it runs and written as its <c>Server-Timing</c> header
/// (<see cref="ServerTimingMiddleware"/>). One accumulator per request, current through an <see cref="AsyncLocal{T}"/>:
/// the code at a wait point adds to it (<see cref="Measure"/>) and the listeners of Npgsql's meter and of
/// StackExchange.Redis's profiler add the PostgreSQL and Redis round trips (<see cref="RequestPhaseListeners"/>).
/// Nothing is current outside a request (background work, start-up), and then every call here does nothing.
/// <para>
/// Phases: the waits named by their callers (<c>lock-user</c>, <c>lock-row</c>, <c>lock-pessimistic</c>,
/// <c>lock-redlock</c>, <c>batch</c>…), <c>pool</c> (waiting for a pooled PostgreSQL connection, or opening a new one),
/// <c>pg</c> (PostgreSQL commands and batches, from execution to the reader's end) and <c>redis</c>, both with their
/// round-trip count, then <c>app</c> (the rest) and <c>total</c>. The measured phases do not overlap: a round trip made
/// while a wait is measured (a RedLock poll, the row strategy's <c>FOR UPDATE</c>) belongs to the wait; PostgreSQL's are
/// still counted in <c>pg</c>'s <c>n</c>, Redis's are not. So <c>app = total − the others</c>.
/// </para>
/// </summary>
public sealed class RequestPhases
{
    /// <summary>The phase name a group-commit wait uses (a request waiting for its batch to commit).</summary>
    public const string Batch = "batch";

    private static readonly AsyncLocal<RequestPhases?> CurrentPhases = new();

    private readonly long started = Stopwatch.GetTimestamp();
    private readonly object gate = new();
    private readonly List<(string Name, long Ticks, int Count)> waits = new(2);
    private long pgTicks;
    private int pgCount;
    private long poolTicks;
    private long poolWaitStarted;
    private int waitDepth;

    private StackExchange.Redis.Profiling.ProfilingSession? redisSession;

    /// <summary>The accumulator of the request this code runs for, or null (none, or Server-Timing is off).</summary>
    public static RequestPhases? Current => CurrentPhases.Value;

    /// <summary>True while a wait is being measured: round trips made now are part of that wait's time.</summary>
    internal bool InWait => Volatile.Read(ref waitDepth) > 0;

    internal StackExchange.Redis.Profiling.ProfilingSession RedisSessionForNow()
    {
        var session = Volatile.Read(ref redisSession);
        if (session is null)
        {
            var created = new StackExchange.Redis.Profiling.ProfilingSession();
            session = Interlocked.CompareExchange(ref redisSession, created, null) ?? created;
        }

        return session;
    }

    /// <summary>Whether the data Redis's commands are profiled into this accumulator (then <c>redis</c> is always reported).</summary>
    private bool redisProfiled;

    internal static RequestPhases Begin(bool redisProfiled)
    {
        var phases = new RequestPhases { redisProfiled = redisProfiled };
        CurrentPhases.Value = phases;
        return phases;
    }

    internal static void End() => CurrentPhases.Value = null;

    /// <summary>
    /// Measures a wait of the current request until the returned scope is disposed, under <paramref name="phase"/>
    /// (e.g. <c>lock-user</c>, <see cref="Batch"/>); repeated waits of one name add up. Free when no request is current.
    /// </summary>
    public static WaitScope Measure(string phase)
    {
        var phases = CurrentPhases.Value;
        if (phases is null)
        {
            return default;
        }

        Interlocked.Increment(ref phases.waitDepth);
        return new WaitScope(phases, phase, Stopwatch.GetTimestamp());
    }

    /// <summary>Measures <paramref name="work"/> as a wait of the current request (see <see cref="Measure(string)"/>).</summary>
    public static async Task<T> Measure<T>(string phase, Func<Task<T>> work)
    {
        using var scope = Measure(phase);
        return await work();
    }

    internal void AddWait(string phase, long ticks)
    {
        lock (gate)
        {
            for (var i = 0; i < waits.Count; i++)
            {
                if (waits[i].Name == phase)
                {
                    waits[i] = (phase, waits[i].Ticks + ticks, waits[i].Count + 1);
                    return;
                }
            }

            waits.Add((phase, ticks, 1));
        }
    }

    internal void AddPostgres(double seconds)
    {
        Interlocked.Increment(ref pgCount);
        if (!InWait)
        {
            Interlocked.Add(ref pgTicks, (long)(seconds * Stopwatch.Frequency));
        }
    }

    internal void PoolWaitStarted() => Volatile.Write(ref poolWaitStarted, Stopwatch.GetTimestamp());

    internal void PoolWaitEnded()
    {
        var since = Interlocked.Exchange(ref poolWaitStarted, 0);
        if (since != 0 && !InWait)
        {
            Interlocked.Add(ref poolTicks, Stopwatch.GetTimestamp() - since);
        }
    }

    internal void AddConnectionOpen(double seconds)
    {
        if (!InWait)
        {
            Interlocked.Add(ref poolTicks, (long)(seconds * Stopwatch.Frequency));
        }
    }

    /// <summary>The header value: <c>lock-user;dur=1.204, pool;dur=0.000, pg;dur=2.310;n=3, redis;dur=0.4;n=2, app;dur=0.9, total;dur=4.8</c>.</summary>
    internal string Format()
    {
        var total = Stopwatch.GetTimestamp() - started;
        var builder = new StringBuilder(160);
        long measured = 0;
        lock (gate)
        {
            foreach (var (name, ticks, _) in waits)
            {
                Append(builder, name, ticks, null);
                measured += ticks;
            }
        }

        var pool = Interlocked.Read(ref poolTicks);
        var pg = Interlocked.Read(ref pgTicks);
        Append(builder, "pool", pool, null);
        Append(builder, "pg", pg, Volatile.Read(ref pgCount));
        measured += pool + pg;
        if (redisProfiled)
        {
            long redisTicks = 0;
            var redisCount = 0;
            foreach (var command in Volatile.Read(ref redisSession)?.FinishProfiling() ?? [])
            {
                redisTicks += command.ElapsedTime.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond;
                redisCount++;
            }

            Append(builder, "redis", redisTicks, redisCount);
            measured += redisTicks;
        }

        Append(builder, "app", Math.Max(0, total - measured), null);
        Append(builder, "total", total, null);
        return builder.ToString();
    }

    private static void Append(StringBuilder builder, string name, long ticks, int? count)
    {
        if (builder.Length > 0)
        {
            builder.Append(", ");
        }

        builder.Append(name).Append(";dur=")
            .Append((ticks * 1000.0 / Stopwatch.Frequency).ToString("0.###", CultureInfo.InvariantCulture));
        if (count is { } n)
        {
            builder.Append(";n=").Append(n.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>One measured wait: disposing it adds its time to its phase.</summary>
    public readonly struct WaitScope : IDisposable
    {
        private readonly RequestPhases? phases;
        private readonly string phase;
        private readonly long started;

        internal WaitScope(RequestPhases phases, string phase, long started)
        {
            this.phases = phases;
            this.phase = phase;
            this.started = started;
        }

        public void Dispose()
        {
            if (phases is null)
            {
                return;
            }

            phases.AddWait(phase, Stopwatch.GetTimestamp() - started);
            Interlocked.Decrement(ref phases.waitDepth);
        }
    }
}
