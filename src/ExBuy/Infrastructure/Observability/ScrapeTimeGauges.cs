using Marten;
using Npgsql;
using Prometheus;

namespace ExBuy.Infrastructure.Observability;

/// <summary>A count a module wants read from PostgreSQL at scrape time: one scalar query and the gauge it sets.</summary>
public sealed record ScrapeTimeCount(Func<IDocumentStore, string> Sql, Gauge Gauge);

/// <summary>Gauges read from PostgreSQL when Prometheus scrapes: Wolverine's inbox depth and the modules' counts.</summary>
public static class ScrapeTimeGauges
{
    public static void Register(IServiceProvider services)
    {
        Metrics.DefaultRegistry.AddBeforeCollectCallback(async ct =>
        {
            try
            {
                // Inside the try: the callback is process-wide and outlives a host that was stopped (tests start more
                // than one host in a process), whose provider then throws ObjectDisposedException.
                var store = services.GetRequiredService<IDocumentStore>();
                var counts = services.GetServices<ScrapeTimeCount>().ToList();
                var schema = store.Options.DatabaseSchemaName;
                await using var connection = store.Storage.Database.CreateConnection();
                await connection.OpenAsync(ct);
                await using var batch = new NpgsqlBatch(connection)
                {
                    BatchCommands =
                    {
                        new NpgsqlBatchCommand($"select status, message_type, count(*) from {schema}.wolverine_incoming_envelopes group by 1, 2"),
                    },
                };
                foreach (var count in counts)
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand(count.Sql(store)));
                }

                await using var reader = await batch.ExecuteReaderAsync(ct);
                foreach (var labels in ExBuyMetrics.QueueDepth.GetAllLabelValues().ToList())
                {
                    ExBuyMetrics.QueueDepth.WithLabels(labels).Set(0);
                }

                while (await reader.ReadAsync(ct))
                {
                    ExBuyMetrics.QueueDepth.WithLabels(reader.GetString(0), reader.GetString(1)).Set(reader.GetInt64(2));
                }

                foreach (var count in counts)
                {
                    await reader.NextResultAsync(ct);
                    if (await reader.ReadAsync(ct))
                    {
                        count.Gauge.Set(reader.GetInt64(0));
                    }
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or ObjectDisposedException)
            {
                // The database is unreachable (or the host stopped): /metrics still answers, with the last values.
            }
        });
    }
}
