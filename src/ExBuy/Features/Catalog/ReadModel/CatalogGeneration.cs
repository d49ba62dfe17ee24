using ExBuy.Infrastructure.Marten;
using Marten;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ExBuy.Features.Catalog.ReadModel;

/// <summary>
/// The catalogue's generation, <c>catalog_generation</c>: one row whose number moves, in the writer's own transaction,
/// with every statement that inserts, updates or deletes a product document or inserts or deletes a stock row (stock
/// <em>changes</em> do not move it: they are read live). Triggers keep it, so every writer counts — the API on any
/// instance, the seeder, a test, <c>psql</c>. A node's in-memory catalogue (<see cref="CatalogSnapshot"/>) is valid while
/// its generation is the row's; every read that uses the snapshot reads the row in the same statement as its live
/// figures, so nothing committed before the request began is missed (read-your-writes on every instance).
/// </summary>
public static class CatalogGeneration
{
    /// <summary>The generation triggers, installed at start by <see cref="ModuleInstallSetup"/> (registered by <see cref="CatalogRegistration"/>).</summary>
    internal sealed class Install : IModuleInstall
    {
        public string InstalledSql(string schema) => CatalogGeneration.InstalledSql(schema);

        public string InstallSql(string schema) => CatalogGeneration.InstallSql(schema);
    }

    public static string Table(IDocumentStore store) => CatalogSql.GenerationTable(store);

    internal static string MoveSql(IDocumentStore store) => CatalogSql.MoveGeneration(store);

    public static void Register(StoreOptions opts)
    {
        var table = new Table(new PostgresqlObjectName(opts.DatabaseSchemaName, "catalog_generation", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<int>("id").AsPrimaryKey();
        table.AddColumn<long>("generation").NotNull();
        table.CheckConstraints.Add(new Weasel.Core.TableCheckConstraint("catalog_generation_one_row", "id = 1"));
        opts.Storage.ExtendedSchemaObjects.Add(table);
    }

    /// <summary>The version of the installed triggers (<see cref="CatalogSql.GenerationVersion"/>).</summary>
    internal const string Version = CatalogSql.GenerationVersion;

    internal static string InstallSql(string schema) => CatalogSql.InstallGeneration(schema);

    internal static string InstalledSql(string schema) => CatalogSql.GenerationInstalled(schema);
}
