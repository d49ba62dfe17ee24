using Marten;
using Weasel.Core;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ExBuy.Features.Coupons;

/// <summary>
/// The Coupons slice's hot counter (<c>coupon_policy_stock</c>): one narrow row per policy with its quantity and the
/// database's issued count, created through Marten's schema management like <see cref="CouponClaims"/>. Every
/// issuance raises <c>issued</c> here, in the transaction that inserts its coupons and settles its claims (see
/// <see cref="CouponIssuance"/>); no statement touches the policy document for it.
/// <para>
/// The rule "never more than the quantity" is defined once in PostgreSQL, as this table's check constraint
/// <see cref="WithinQuantity"/>: whatever writes the row, an issued count above the quantity is refused and its
/// transaction (coupons, claim settlements) rolls back with it. The issuance grants from what the locked row says is
/// left and so never meets the constraint; the Redis gate's Lua (<see cref="CouponGate"/>) states the rule a second
/// time, unavoidably, to turn claims away before they reach PostgreSQL.
/// </para>
/// </summary>
public static class CouponPolicyStock
{
    /// <summary>The check constraint that is the rule: 0 ≤ issued ≤ quantity.</summary>
    public const string WithinQuantity = "ck_coupon_policy_stock_within_quantity";

    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.coupon_policy_stock";

    public static void Register(StoreOptions opts)
    {
        var table = new Table(new PostgresqlObjectName(opts.DatabaseSchemaName, "coupon_policy_stock", Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<long>("policy_id").AsPrimaryKey();
        table.AddColumn<int>("quantity").NotNull();
        table.AddColumn<int>("issued").NotNull().DefaultValue(0);
        table.CheckConstraints.Add(new TableCheckConstraint(WithinQuantity, "issued >= 0 and issued <= quantity"));
        opts.Storage.ExtendedSchemaObjects.Add(table);
    }

    /// <summary>Opens the policies' counters (nothing issued), queued in the session that stores the policies.</summary>
    public static void QueueOpen(IDocumentSession session, IReadOnlyList<long> policyIds, int quantity) =>
        session.QueueSqlCommand(
            CouponsSql.QueueOpenCounters(session.DocumentStore),
            policyIds.ToArray(), quantity);
}
