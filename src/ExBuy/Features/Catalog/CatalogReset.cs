using ExBuy.Features.Catalog.ReadModel;
using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Catalog;

/// <summary>
/// Catalog's own table in a full reset: <c>catalog_generation</c> moves on (its one row stays: the triggers update
/// it), so no node keeps serving a catalogue snapshot of the products the reset deleted.
/// </summary>
internal sealed class CatalogReset : IModuleReset
{
    public Task ResetAsync(IDocumentStore store, CancellationToken ct) => ModuleResets.ExecuteAsync(store, CatalogGeneration.MoveSql(store), ct);
}
