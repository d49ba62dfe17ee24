using System.ComponentModel.DataAnnotations;

namespace ExBuy.Infrastructure;

/// <summary>Typed settings bound from the <c>ExBuy</c> configuration section (appsettings + EXBUY__* variables).</summary>
public sealed class ExBuyOptions
{
    public const string Section = "ExBuy";

    /// <summary><c>local</c> opens destructive routes to loopback callers; any other profile requires <see cref="AdminKey"/>.</summary>
    [Required]
    public string Profile { get; set; } = "local";

    /// <summary>Key expected in the <c>X-Admin-Key</c> header for destructive routes outside the local profile.</summary>
    public string? AdminKey { get; set; }

    /// <summary>Folder for uploads and other files the API writes.</summary>
    [Required]
    public string DataDirectory { get; set; } = ".data/dev/files";

    /// <summary>PostgreSQL schema that holds the Marten documents and events.</summary>
    [Required]
    public string DatabaseSchema { get; set; } = "exbuy";

    public bool IsLocalProfile => string.Equals(Profile, "local", StringComparison.OrdinalIgnoreCase);
}
