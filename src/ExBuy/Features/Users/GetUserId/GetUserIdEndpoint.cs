using ExBuy.Infrastructure.Http;
using ExBuy.Infrastructure.Marten;
using FastEndpoints;
using FluentValidation;
using Marten;

namespace ExBuy.Features.Users;

public sealed class GetUserIdRequest
{
    public const int MaxNameLength = 64;

    public string? Name { get; init; }

    public sealed class Validator : Validator<GetUserIdRequest>
    {
        public Validator() => RuleFor(x => x.Name).NotEmpty().MaximumLength(MaxNameLength);
    }
}

/// <summary>
/// <c>GET /users/id?name=u17</c>: the bare id; an unknown name is created (the scenario relies on it when it runs
/// more virtual users than <c>/init</c> made). The unique index on the name settles concurrent first requests:
/// the loser reads the winner's user.
/// </summary>
public sealed class GetUserIdEndpoint(IDocumentStore store, TimeProvider clock) : Endpoint<GetUserIdRequest, long>
{
    public override void Configure()
    {
        Get("/users/id");
        Tags("shop-flow");
    }

    public override async Task HandleAsync(GetUserIdRequest req, CancellationToken ct)
    {
        var name = req.Name!;
        await using (var query = store.QuerySession())
        {
            var existing = await query.Query<ShopUser>().Where(u => u.Name == name).Select(u => u.Id).ToListAsync(ct);
            if (existing.Count > 0)
            {
                await Send.OkAsync(existing[0], ct);
                return;
            }
        }

        var user = new ShopUser { Id = await IdSequences.NextAsync<ShopUser>(store, ct), Name = name, CreatedAt = clock.GetUtcNow() };
        await using var session = store.LightweightSession();
        session.Insert(user);
        try
        {
            await session.SaveChangesAsync(ct);
            await Send.OkAsync(user.Id, ct);
        }
        catch (Exception e) when (PostgresErrors.IsUniqueViolation(e))
        {
            await using var query = store.QuerySession();
            await Send.OkAsync(await query.Query<ShopUser>().Where(u => u.Name == name).Select(u => u.Id).FirstAsync(ct), ct);
        }
    }
}
