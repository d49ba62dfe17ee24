namespace ExBuy.Features.Catalog.ListProducts;

/// <summary>
/// The orderings the list accepts. The Django original passes any value to <c>order_by</c> and crashes on
/// unknown fields; ExBuy answers 400 instead. <see cref="ProductReads"/> turns them into SQL, the id breaking ties.
/// </summary>
public static class ProductOrdering
{
    public const string Default = "-created_at";

    public static readonly IReadOnlyList<string> Allowed =
        ["price", "-price", "created_at", "-created_at", "name", "-name", "stock", "-stock"];

    public static bool IsValid(string ordering) => Allowed.Contains(ordering);
}
