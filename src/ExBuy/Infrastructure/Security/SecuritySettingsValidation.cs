using Microsoft.Extensions.Options;

namespace ExBuy.Infrastructure.Security;

/// <summary>
/// Checked when the API starts (options validation on start): outside the local profile the admin key is all that
/// guards <c>/init</c>, DELETE, flash-sale set-up and <c>lock_type=none</c>, so an empty, short (under
/// <see cref="MinimumKeyLength"/> characters) or well-known key — the Kubernetes Secret's placeholder, "changeme",
/// "admin" — stops the process with a message naming the setting, instead of serving with a key anyone can guess.
/// The address lists must parse, so a typo never silently trusts nobody (or everybody).
/// </summary>
public sealed class SecuritySettingsValidation : IValidateOptions<ExBuyOptions>
{
    public const int MinimumKeyLength = 24;

    /// <summary>Keys shipped as examples or commonly typed as one, compared without case and separators.</summary>
    private static readonly string[] Placeholders =
    [
        "changemetoalongrandomvalue", "changeme", "change", "admin", "adminkey", "password", "secret", "s3cret",
        "default", "example", "test", "testkey", "token", "key", "replaceme", "yourkey", "youradminkey", "todo",
    ];

    public ValidateOptionsResult Validate(string? name, ExBuyOptions options)
    {
        var failures = new List<string>();
        if (!options.IsLocalProfile && KeyProblem(options.AdminKey) is { } problem)
        {
            failures.Add($"ExBuy:AdminKey (ExBuy__AdminKey) {problem} — the profile is '{options.Profile}', not 'local', so the " +
                $"admin routes depend on it: set a random value of at least {MinimumKeyLength} characters (e.g. openssl rand -hex 24).");
        }

        Check(options.TrustedProxies, "ExBuy:TrustedProxies (ExBuy__TrustedProxies)", failures);
        Check(options.LocalAddresses, "ExBuy:LocalAddresses (ExBuy__LocalAddresses)", failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Why the key cannot guard admin routes, or null when it can.</summary>
    public static string? KeyProblem(string? key)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            return "is empty";
        }

        if (key.Trim().Length < MinimumKeyLength)
        {
            return $"is shorter than {MinimumKeyLength} characters";
        }

        var letters = new string(key.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());
        if (Placeholders.Contains(letters) || letters.Contains("changeme", StringComparison.Ordinal)
            || letters.Distinct().Count() <= 2)
        {
            return "is a placeholder, not a secret";
        }

        return null;
    }

    private static void Check(string? list, string setting, List<string> failures)
    {
        AddressList.Parse(list, out var invalid);
        if (invalid.Count > 0)
        {
            failures.Add($"{setting} holds entries that are neither an IP address nor a network (a.b.c.d/n): {string.Join(", ", invalid)}.");
        }
    }
}
