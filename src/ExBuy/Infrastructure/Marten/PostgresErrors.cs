using Npgsql;

namespace ExBuy.Infrastructure.Marten;

/// <summary>Recognises PostgreSQL refusals that mean "the request raced another one", whatever Marten wrapped them in.</summary>
public static class PostgresErrors
{
    public static bool IsForeignKeyViolation(Exception exception) => Find(exception)?.SqlState == PostgresErrorCodes.ForeignKeyViolation;

    public static bool IsUniqueViolation(Exception exception) => Find(exception)?.SqlState == PostgresErrorCodes.UniqueViolation;

    /// <summary>PostgreSQL's "lock_not_available", raised when <c>lock_timeout</c> expires.</summary>
    public static bool IsLockTimeout(Exception exception) => Find(exception)?.SqlState == PostgresErrorCodes.LockNotAvailable;

    /// <summary>A deadlock or a serialization failure: the transaction was chosen to give way and may simply run again.</summary>
    public static bool IsDeadlockOrSerialization(Exception exception) =>
        Find(exception)?.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure;

    /// <summary>The named check constraint refused a row.</summary>
    public static bool IsCheckViolation(Exception exception, string constraint) =>
        Find(exception) is { SqlState: PostgresErrorCodes.CheckViolation } p && p.ConstraintName == constraint;

    private static PostgresException? Find(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is PostgresException postgres)
            {
                return postgres;
            }
        }

        return null;
    }
}
