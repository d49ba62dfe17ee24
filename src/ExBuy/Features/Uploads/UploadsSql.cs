using Marten;

namespace ExBuy.Features.Uploads;

/// <summary>The Uploads module's hand-written statements on its document table (<see cref="UploadedFile"/>), in one place.</summary>
public static class UploadsSql
{
    // 'ExBuyUpl' in ASCII.
    private const long QuotaLockKey = 0x4578_4275_7955_706C;

    /// <summary>The upload quota's advisory lock, held by the inserting transaction. Hand-written: Marten has no advisory-lock API on a plain transaction.</summary>
    public static readonly string TakeQuotaLock = $"select pg_advisory_xact_lock({QuotaLockKey})";

    /// <summary>
    /// Files stored and their bytes, in one statement (the quota's early look and its count under the lock).
    /// Hand-written: a count and a sum in one round trip, where LINQ would need two queries.
    /// </summary>
    public static string CountAndBytes(IDocumentStore store) =>
        $"select count(*), coalesce(sum((data ->> 'Size')::bigint), 0) from {store.Options.DatabaseSchemaName}.mt_doc_uploadedfile";

    /// <summary>Every stored file's path, for the sweeper. Hand-written: one column of every row, not the documents deserialised.</summary>
    public static string StoredPaths(IDocumentStore store) =>
        $"select data ->> 'StoredPath' from {store.Options.DatabaseSchemaName}.mt_doc_uploadedfile";
}
