using System.Diagnostics;
using Marten;
using Marten.Services;
using Npgsql;

namespace ExBuy.Infrastructure.Observability;

/// <summary>
/// Marten's logger hook, used to time every round trip a session makes (<c>exbuy_db_command_seconds</c>). A session
/// runs one command at a time, so one start stamp per session is enough.
/// </summary>
public sealed class MartenTimingLogger : IMartenLogger
{
    public IMartenSessionLogger StartSession(IQuerySession session) => new SessionTiming();

    public void SchemaChange(string sql)
    {
    }

    private sealed class SessionTiming : IMartenSessionLogger
    {
        private long started;

        public void OnBeforeExecute(NpgsqlCommand command) => started = Stopwatch.GetTimestamp();

        public void OnBeforeExecute(NpgsqlBatch batch) => started = Stopwatch.GetTimestamp();

        public void LogSuccess(NpgsqlCommand command) => Observe("command", "ok");

        public void LogFailure(NpgsqlCommand command, Exception ex) => Observe("command", "failed");

        public void LogSuccess(NpgsqlBatch batch) => Observe("batch", "ok");

        public void LogFailure(NpgsqlBatch batch, Exception ex) => Observe("batch", "failed");

        public void LogFailure(Exception ex, string message)
        {
        }

        public void RecordSavedChanges(IDocumentSession session, IChangeSet commit) => ExBuyMetrics.SavedChanges.Inc();

        private void Observe(string kind, string outcome)
        {
            if (started != 0)
            {
                ExBuyMetrics.DbCommand.WithLabels(kind, outcome).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                started = 0;
            }
        }
    }
}
