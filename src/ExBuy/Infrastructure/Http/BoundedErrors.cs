using System.Globalization;
using FluentValidation.Results;

namespace ExBuy.Infrastructure.Http;

/// <summary>
/// A 400 lists at most <see cref="MaxListed"/> errors and then says how many it left out: a 9 MB body of invalid
/// lines was answered with a 59 MB list, one entry per line. The first errors are enough to fix the request.
/// </summary>
public static class BoundedErrors
{
    public const int MaxListed = 20;

    /// <summary>The field of the closing note.</summary>
    public const string MoreField = "more_errors";

    public static List<ValidationFailure> Bound(List<ValidationFailure> failures)
    {
        if (failures.Count <= MaxListed)
        {
            return failures;
        }

        var bounded = failures.GetRange(0, MaxListed);
        bounded.Add(new ValidationFailure(MoreField, string.Create(CultureInfo.InvariantCulture,
            $"{failures.Count - MaxListed} more errors are not listed; fix the ones above and send the request again.")));
        return bounded;
    }
}
