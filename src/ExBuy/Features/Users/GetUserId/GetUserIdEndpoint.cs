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
public sealed class GetUserIdEndpoint(IDocumentStore store, Npgsql.NpgsqlDataSource db, TimeProvider clock) : Endpoint<GetUserIdRequest, long>
{
    public override void Configure()
    {
        Get("/users/id");
        Tags("shop-flow");
    }

    public override async Task HandleAsync(GetUserIdRequest req, CancellationToken ct)
    {
        var name = req.Name!;
        if (await FindAsync(name, ct) is { } existing)
        {
            await Send.OkAsync(existing, ct);
            return;
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
            await Send.OkAsync(await FindAsync(name, ct) ?? throw new InvalidOperationException($"User {name} vanished after a unique violation."), ct);
        }
    }

    private Task<long?> FindAsync(string name, CancellationToken ct) => UsersSql.FindIdByNameAsync(store, db, name, ct);
}
