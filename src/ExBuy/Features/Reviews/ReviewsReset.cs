using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Reviews;

/// <summary>Reviews' own table in a full reset: every product's figures (<c>product_review_stats</c>) go with the reviews.</summary>
internal sealed class ReviewsReset : IModuleReset
{
    public Task ResetAsync(IDocumentStore store, CancellationToken ct) => ModuleResets.ExecuteAsync(store, ReviewsSql.ClearStats(store), ct);
}
