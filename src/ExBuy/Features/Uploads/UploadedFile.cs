namespace ExBuy.Features.Uploads;

/// <summary>Metadata of a stored upload; the bytes live under the data directory at <see cref="StoredPath"/>.</summary>
public sealed class UploadedFile
{
    public long Id { get; set; }
    public required string FileName { get; set; }
    public required string StoredPath { get; set; }
    public long Size { get; set; }
    public required string ContentType { get; set; }
    public required string Sha256 { get; set; }
    public DateTimeOffset UploadedAt { get; set; }
}
