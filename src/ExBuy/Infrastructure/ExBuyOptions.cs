using System.ComponentModel.DataAnnotations;

namespace ExBuy.Infrastructure;

/// <summary>Typed settings bound from the <c>ExBuy</c> configuration section (appsettings + EXBUY__* variables).</summary>
public sealed class ExBuyOptions
{
    public const string Section = "ExBuy";

    /// <summary><c>local</c> opens destructive routes to callers on this machine (127.0.0.1, ::1); any other profile requires <see cref="AdminKey"/>.</summary>
    [Required]
    public string Profile { get; set; } = "local";

    /// <summary>
    /// Key expected in the <c>X-Admin-Key</c> header for destructive routes outside the local profile; there it must be
    /// at least 24 characters and no placeholder, or the API does not start (<c>Security/SecuritySettingsValidation</c>).
    /// </summary>
    public string? AdminKey { get; set; }

    /// <summary>
    /// Host names the local profile answers besides the loopback ones (semicolon-separated, e.g. <c>api;lb</c>);
    /// other profiles use ASP.NET Core's <c>AllowedHosts</c> (see <c>Security/AllowedHostNames</c>).
    /// </summary>
    public string? AllowedHosts { get; set; }

    /// <summary>
    /// Proxies whose <c>X-Forwarded-For</c> is believed (addresses or networks, comma-separated): the project's HAProxy.
    /// None by default: every caller is its connection's address.
    /// </summary>
    public string? TrustedProxies { get; set; }

    /// <summary>
    /// Addresses besides 127.0.0.1 and ::1 that count as this machine in the local profile (comma-separated), e.g. a
    /// sidecar's 127.0.0.6. None by default: another loopback address is a forwarder, not the developer.
    /// </summary>
    public string? LocalAddresses { get; set; }

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
