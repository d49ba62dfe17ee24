using System.Diagnostics.Metrics;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace ExBuy.Infrastructure.Observability;

/// <summary>
/// Feeds <see cref="RequestPhases"/> from the drivers, without wrapping them: a <see cref="MeterListener"/> on Npgsql's
/// meter (<c>db.client.operation.duration</c> for every command or batch, recorded when its reader ends;
/// <c>db.client.connection.npgsql.pending_requests</c> +1/−1 around a wait for a pooled connection;
/// <c>…create_time</c> for a new physical connection), and StackExchange.Redis's profiler on the data Redis. Npgsql
/// and the profiler report on the flow of the request that runs the command, so the request's accumulator is current.
/// </summary>
public static class RequestPhaseListeners
{
    private static readonly Lazy<MeterListener> Npgsql = new(StartNpgsql);

    /// <summary>Starts the process's one listener on Npgsql's meter (once: hosts in one process share the driver's meter).</summary>
    public static void ListenToNpgsql() => _ = Npgsql.Value;

    private static MeterListener StartNpgsql()
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name is "db.client.operation.duration"
                    or "db.client.connection.npgsql.pending_requests" or "db.client.connection.npgsql.create_time")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>(static (instrument, value, _, _) =>
        {
            if (RequestPhases.Current is not { } phases)
            {
                return;
            }

            if (instrument.Name == "db.client.operation.duration")
            {
                phases.AddPostgres(value);
            }
            else
            {
                phases.AddConnectionOpen(value);
            }
        });
        listener.SetMeasurementEventCallback<int>(static (_, value, _, _) =>
        {
            if (RequestPhases.Current is not { } phases)
            {
                return;
            }

            if (value > 0)
            {
                phases.PoolWaitStarted();
            }
            else
            {
                phases.PoolWaitEnded();
            }
        });
        listener.Start();
        return listener;
    }

    /// <summary>Profiles the data Redis's commands into the current request's accumulator (none made during a measured wait).</summary>
    public static void ProfileRedis(IConnectionMultiplexer redis) => redis.RegisterProfiler(static () =>
    {
        if (RequestPhases.Current is not { } phases || phases.InWait)
        {
            return null;
        }

        return phases.RedisSessionForNow();
    });
}
