using System.Net;

namespace ExBuy.Infrastructure.Security;

/// <summary>
/// A configured list of addresses and networks (<c>127.0.0.1</c>, <c>10.203.50.0/24</c>, <c>::1</c>), separated by
/// commas or semicolons, as <c>ExBuy:TrustedProxies</c> and <c>ExBuy:LocalAddresses</c> take them: one string, so
/// one environment variable sets the whole list.
/// </summary>
public sealed class AddressList
{
    private readonly IReadOnlyList<IPAddress> _addresses;
    private readonly IReadOnlyList<IPNetwork> _networks;

    private AddressList(IReadOnlyList<IPAddress> addresses, IReadOnlyList<IPNetwork> networks)
    {
        _addresses = addresses;
        _networks = networks;
    }

    public static AddressList Empty { get; } = new([], []);

    public IReadOnlyList<IPAddress> Addresses => _addresses;

    public IReadOnlyList<IPNetwork> Networks => _networks;

    /// <summary>Parses the list; the entries that are neither an address nor a network come back in <paramref name="invalid"/>.</summary>
    public static AddressList Parse(string? text, out IReadOnlyList<string> invalid)
    {
        var addresses = new List<IPAddress>();
        var networks = new List<IPNetwork>();
        var bad = new List<string>();
        foreach (var entry in (text ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!entry.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(entry, out var address))
            {
                addresses.Add(Normalize(address));
            }
            else if (entry.Contains('/', StringComparison.Ordinal) && IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else
            {
                bad.Add(entry);
            }
        }

        invalid = bad;
        return new AddressList(addresses, networks);
    }

    /// <summary>Parses a list that start-up validation has already accepted (an invalid entry is skipped).</summary>
    public static AddressList Parse(string? text) => string.IsNullOrWhiteSpace(text) ? Empty : Parse(text, out _);

    public bool Contains(IPAddress address)
    {
        var normalized = Normalize(address);
        return _addresses.Contains(normalized) || _networks.Any(n => n.Contains(normalized));
    }

    /// <summary>An IPv4 address seen through a dual-stack socket (<c>::ffff:127.0.0.1</c>) is that IPv4 address.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
