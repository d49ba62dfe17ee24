using ExBuy.Infrastructure.Marten;
using Npgsql;
using StackExchange.Redis;

namespace ExBuy.Infrastructure.Resilience;

/// <summary>What kind of failure an exception (or one it wraps, as Marten's, Wolverine's and Medallion's do) is.</summary>
public enum FailureKind
{
    /// <summary>A bug or a refusal nobody expected: a 500.</summary>
    Other,

    /// <summary>A revision or version conflict: nothing committed, loading and deciding again is safe.</summary>
    Conflict,

    /// <summary>PostgreSQL's <c>lock_timeout</c> expired, a deadlock or a serialization failure: nothing committed.</summary>
    LockTimeout,

    /// <summary>PostgreSQL cannot be reached or cannot take more work (stopped, restarting, out of connections, the pool exhausted).</summary>
    PostgresUnavailable,

    /// <summary>Redis cannot be reached, is loading, or did not answer in time (restarted, paused, refusing writes).</summary>
    RedisUnavailable,
}

/// <summary>
/// The one failure classifier: every place that must tell "the server is away" from "a bug" or "a lost race" asks
/// here, and <see cref="Http.UnhandledExceptionHandler"/> is the one place that turns the kinds into HTTP answers.
/// </summary>
public static class Failures
{
    public static FailureKind Classify(Exception exception)
    {
        if (ConcurrencyConflicts.IsConflict(exception))
        {
            return FailureKind.Conflict;
        }

        if (PostgresErrors.IsLockTimeout(exception) || PostgresErrors.IsDeadlockOrSerialization(exception))
        {
            return FailureKind.LockTimeout;
        }

        if (exception is not OperationCanceledException && IsPostgresUnavailable(exception))
        {
            return FailureKind.PostgresUnavailable;
        }

        return IsRedisUnavailable(exception) ? FailureKind.RedisUnavailable : FailureKind.Other;
    }

    /// <summary>Whether PostgreSQL cannot be reached or cannot take more work.</summary>
    public static bool IsPostgresUnavailable(Exception exception) => exception switch
    {
        // Connection exceptions (class 08), the server shutting down or starting (57P01-57P03), out of connections
        // or resources (class 53).
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState.StartsWith("53", StringComparison.Ordinal)
            || p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        // Not a server error: refused or broken connections, timeouts, the pool exhausted.
        NpgsqlException n => n.IsTransient,
        AggregateException a => a.InnerExceptions.Any(IsPostgresUnavailable),
        _ => exception.InnerException is { } inner && IsPostgresUnavailable(inner),
    };

    /// <summary>
    /// Whether a PostgreSQL failure happened before anything reached the server: the connection was refused, the server
    /// refused a new connection (starting, shutting down, out of connection slots), or the pool had no connection to
    /// give. Only then is a failed write certainly not applied; a connection that broke mid-way (or a command timeout)
    /// leaves the outcome unknown.
    /// </summary>
    public static bool NeverReachedPostgres(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException p when p.SqlState is PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections
                    or PostgresErrorCodes.SqlClientUnableToEstablishSqlConnection or PostgresErrorCodes.SqlServerRejectedEstablishmentOfSqlConnection:
                    return true;
                case NpgsqlException n when n.Message.StartsWith("The connection pool has been exhausted", StringComparison.Ordinal)
                    || n.Message.StartsWith("Failed to connect", StringComparison.Ordinal):
                    return true;
                case System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused }:
                    return true;
                case AggregateException a:
                    return a.InnerExceptions.All(NeverReachedPostgres);
            }
        }

        return false;
    }

    /// <summary>
    /// Whether Redis cannot be reached: the connection closed, refused or not yet back (a restart, a pause), a command
    /// timed out (Redis refusing writes for a while, <c>CLIENT PAUSE … WRITE</c>), or the server is loading its data
    /// or busy with a script. Redis holds only copies (the stock and coupon gates, rankings, locks): what a failed
    /// command may have left in it is repaired from PostgreSQL by the reconcilers. A command error (WRONGTYPE, a script
    /// bug) is not unavailability: it stays a 500.
    /// </summary>
    public static bool IsRedisUnavailable(Exception exception) => exception switch
    {
        RedisConnectionException or RedisTimeoutException => true,
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("BUSY", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal),
        // Medallion's lock operations report a Redis that did not answer in time as a plain TimeoutException.
        TimeoutException when exception.Source is { } source
            && (source.StartsWith("DistributedLock", StringComparison.Ordinal) || source.StartsWith("StackExchange.Redis", StringComparison.Ordinal)) => true,
        AggregateException a => a.InnerExceptions.Any(IsRedisUnavailable),
        _ => exception.InnerException is { } inner && IsRedisUnavailable(inner),
    };
}
