namespace ExBuy.Features.Catalog.ListProducts;

/// <summary>
/// The orderings the list accepts. The Django original passes any value to <c>order_by</c> and crashes on
/// unknown fields; ExBuy answers 400 instead. The id breaks ties so that pages never overlap.
/// </summary>
public static class ProductOrdering
{
    public const string Default = "-created_at";

    public static readonly IReadOnlyList<string> Allowed =
        ["price", "-price", "created_at", "-created_at", "name", "-name", "stock", "-stock"];

    public static bool IsValid(string ordering) => Allowed.Contains(ordering);

    public static IQueryable<Product> Apply(IQueryable<Product> products, string? ordering) =>
        (string.IsNullOrEmpty(ordering) ? Default : ordering) switch
        {
            "price" => products.OrderBy(p => p.Price).ThenBy(p => p.Id),
            "-price" => products.OrderByDescending(p => p.Price).ThenByDescending(p => p.Id),
            "created_at" => products.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id),
            "name" => products.OrderBy(p => p.Name).ThenBy(p => p.Id),
            "-name" => products.OrderByDescending(p => p.Name).ThenByDescending(p => p.Id),
            "stock" => products.OrderBy(p => p.Stock).ThenBy(p => p.Id),
            "-stock" => products.OrderByDescending(p => p.Stock).ThenByDescending(p => p.Id),
            _ => products.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id),
        };
}
