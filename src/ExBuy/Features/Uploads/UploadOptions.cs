using System.ComponentModel.DataAnnotations;

namespace ExBuy.Features.Uploads;

/// <summary>
/// Bound from <c>ExBuy:Uploads</c>. The uploads share a file system with PostgreSQL and Redis's append-only file: a
/// quota keeps a loop of uploads from filling it (and then failing the database).
/// </summary>
public sealed class UploadOptions
{
    public const string Section = "ExBuy:Uploads";

    /// <summary>The stored uploads' sizes may add up to this many bytes; one that would pass it is answered 507.</summary>
    [Range(0, long.MaxValue)]
    public long MaxTotalBytes { get; set; } = 1L << 30;

    /// <summary>At most this many stored uploads; one more is answered 507.</summary>
    [Range(0, int.MaxValue)]
    public int MaxFiles { get; set; } = 10_000;

    /// <summary>
    /// How often (and once at start) files under <c>uploads/</c> that no row names — a crash's temp files and orphans —
    /// are deleted once older than <see cref="UploadSweeper.Grace"/>. 0: off.
    /// </summary>
    [Range(0, 86_400)]
    public int SweepIntervalSeconds { get; set; } = 600;
}
