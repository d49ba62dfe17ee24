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

    /// <summary>
    /// Host names the local profile answers besides the loopback ones (semicolon-separated, e.g. <c>api;lb</c>);
    /// other profiles use ASP.NET Core's <c>AllowedHosts</c> (see <c>Security/AllowedHostNames</c>).
    /// </summary>
    public string? AllowedHosts { get; set; }

    /// <summary>Folder for uploads and other files the API writes.</summary>
    [Required]
    public string DataDirectory { get; set; } = ".data/dev/files";

    /// <summary>PostgreSQL schema that holds the Marten documents and events.</summary>
    [Required]
    public string DatabaseSchema { get; set; } = "exbuy";

    /// <summary>This process's name behind a load balancer (the <c>X-ExBuy-Instance</c> header); none set = machine name and pid.</summary>
    [StringLength(100)]
    [RegularExpression("^[A-Za-z0-9._:-]*$", ErrorMessage = "ExBuy:InstanceId may hold letters, digits and . _ : - only (it goes into a response header).")]
    public string? InstanceId { get; set; }

    /// <summary>Where the projection daemon runs: elected among the API nodes (default), on this one (Solo), or not here (Off).</summary>
    public ExBuy.Infrastructure.Marten.ProjectionDaemonMode ProjectionDaemon { get; set; } = ExBuy.Infrastructure.Marten.ProjectionDaemonMode.Elected;

    public bool IsLocalProfile => string.Equals(Profile, "local", StringComparison.OrdinalIgnoreCase);
}
