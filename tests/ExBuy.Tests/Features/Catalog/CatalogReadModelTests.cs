using System.Text.Json.Nodes;
using ExBuy.Features.Catalog;
using ExBuy.Features.Catalog.ReadModel;
using ExBuy.Features.Reviews;
using ExBuy.Infrastructure.Observability;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Catalog;

/// <summary>
/// The catalogue read model (<see cref="CatalogReadModel"/>): <c>optimize=true</c> reads come from each node's memory
/// with the live stock, never older than the request — a stock change, a review, a new or deleted product, by any writer
/// on any node, is in the next read — and answer exactly what the SQL paths answer.
/// </summary>
public sealed class CatalogReadModelTests(AppFixture app) : IntegrationContext(app)
{
    private CatalogReadModel ReadModel => Host.Services.GetRequiredService<CatalogReadModel>();

    private static JsonNode Find(JsonNode list, long id) =>
        (list is JsonArray array ? array : list["results"]!.AsArray()).Single(p => p!["id"]!.GetValue<long>() == id)!;

    [Fact]
    public async Task stock_changes_are_read_live_without_reloading_the_catalogue()
    {
        var products = await Store.AddProducts(30, i => new TestProduct
        {
            Name = $"Desk {i:D2}", Price = 20m + i, Stock = 50, Category = "home", CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-i), UpdatedAt = DateTimeOffset.UtcNow.AddMinutes(-i),
        });
        var target = products[3];
        Find(await Host.GetJson("/api/products?optimize=true&ordering=price"), target.Id)["stock"]!.GetValue<int>().ShouldBe(50);
        var loads = ReadModel.Loads;

        await Host.PostJson("/api/orders?lock_type=row", $$"""{"user_id":1,"items":[{"product_id":{{target.Id}},"quantity":7}]}""", 201);

        var list = await Host.GetJson("/api/products?optimize=true&ordering=price");
        Find(list, target.Id)["stock"]!.GetValue<int>().ShouldBe(43);
        var detail = await Host.GetJson($"/api/products/{target.Id}?optimize=true");
        detail["stock"]!.GetValue<int>().ShouldBe(43);
        // The stock's change time is the product's updated_at, as on the SQL path.
        detail["updated_at"]!.GetValue<DateTimeOffset>().ShouldBeGreaterThan(target.UpdatedAt);
        Find(await Host.GetJson("/api/search/products?q=desk"), target.Id)["stock"]!.GetValue<int>().ShouldBe(43);

        // Ordered by stock: the product that sold moved to the front.
        Ids(await Host.GetJson("/api/products?optimize=true&ordering=stock"))[0].ShouldBe(target.Id);
        var (served, detailFromMemory) = await ReadModel.DetailAsync(target.Id, Ct);
        served.ShouldBeTrue("the read model answers the detail itself");
        detailFromMemory!.Stock.ShouldBe(43);
        ReadModel.Loads.ShouldBe(loads, "a stock change must not reload the catalogue");
        (await Host.GetText($"/api/products/{target.Id}?optimize=true")).ShouldBe(await Host.GetText($"/api/products/{target.Id}"));
    }

    [Fact]
    public async Task a_review_or_a_product_written_on_one_node_is_in_the_next_read_of_another()
    {
        var product = await Store.AddProduct(name: "Kettle", price: 30m, stock: 5, category: "home");
        await using var other = await App.StartHostWithAsync();
        foreach (var node in new[] { Host, other })
        {
            (await node.GetJson($"/api/products/{product.Id}?optimize=true"))["review_count"]!.GetValue<long>().ShouldBe(0);
        }

        await Host.PostJson("/api/reviews", $$"""{"product":{{product.Id}},"user_id":9,"rating":4,"body":"fine"}""", 201);
        var seen = await other.GetJson($"/api/products/{product.Id}?optimize=true");
        seen["review_count"]!.GetValue<long>().ShouldBe(1);
        seen["average_rating"]!.GetValue<decimal>().ShouldBe(4m);

        // A product added by a writer outside the API (a seeder, psql) is in the next list on both nodes.
        var added = await Store.AddProduct(name: "Teapot", price: 12m, stock: 2, category: "home");
        foreach (var node in new[] { Host, other })
        {
            Find(await node.GetJson("/api/products?optimize=true&category=home"), added.Id)["name"]!.GetValue<string>().ShouldBe("Teapot");
            (await node.GetJson("/api/search/products?q=teapot")).AsArray().Count.ShouldBe(1);
        }

        // Deleted on one node: gone from the other's next detail, list and search.
        await Host.Scenario(s =>
        {
            s.Delete.Url($"/api/products/{product.Id}");
            s.StatusCodeShouldBe(204);
        });
        await other.GetJson($"/api/products/{product.Id}?optimize=true", 404);
        Ids(await other.GetJson("/api/products?optimize=true")).ShouldBe([added.Id]);
        (await other.GetJson("/api/search/products?q=kettle")).AsArray().ShouldBeEmpty();
    }

    [Theory]
    [InlineData("")]
    [InlineData("ordering=price")]
    [InlineData("ordering=-price")]
    [InlineData("ordering=created_at")]
    [InlineData("ordering=name")]
    [InlineData("ordering=-name")]
    [InlineData("ordering=stock")]
    [InlineData("ordering=-stock&page=2")]
    [InlineData("category=books&min_price=15&max_price=60&ordering=-price")]
    [InlineData("q=WIDGET&ordering=name")]
    [InlineData("q=%25&ordering=stock")]
    [InlineData("q=caf%C3%A9")]
    [InlineData("page=3")]
    [InlineData("page=2&min_price=20&ordering=-name")]
    public async Task the_read_model_answers_exactly_what_the_sql_paths_answer(string query)
    {
        // Ties everywhere (equal prices, names differing only in case, equal creation times and stock) so the id
        // tie-breaks and PostgreSQL's collation decide the orders; a literal % and a non-ASCII name for the text filter.
        var at = DateTimeOffset.UtcNow.AddHours(-3);
        var products = await Store.AddProducts(230, i => new TestProduct
        {
            Name = (i % 4) switch { 0 => $"widget {i % 9}", 1 => $"Widget {i % 9}", 2 => $"Café {i % 5}", _ => $"100% cotton {i % 3}" },
            Description = i % 10 == 0 ? "a WIDGET inside" : "plain",
            Price = 10m + (i % 13) * 5m,
            Stock = i % 6,
            Category = ProductCategories.All[i % ProductCategories.All.Count],
            CreatedAt = at.AddSeconds(i / 3),
            UpdatedAt = at.AddSeconds(i / 3),
        });

        await using var sqlOnly = await App.StartHostWithAsync(("ExBuy:Catalog:ReadModel", "false"));

        // A stock change, so that a product's updated_at is its stock's (the later of the two) on every path.
        await Host.PostJson("/api/orders?lock_type=row", $$"""{"user_id":1,"items":[{"product_id":{{products[7].Id}},"quantity":1}]}""", 201);

        var fromMemory = () => ExBuyMetrics.CatalogReads.WithLabels("list", "memory").Value + ExBuyMetrics.CatalogReads.WithLabels("search", "memory").Value;
        var servedBefore = fromMemory();
        var fromReadModel = await Host.GetText($"/api/products?optimize=true&{query}");
        var loads = ReadModel.Loads;
        fromReadModel.ShouldBe(await sqlOnly.GetText($"/api/products?optimize=true&{query}"));
        // The naive path's links echo its own optimize=false.
        fromReadModel.ShouldBe((await Host.GetText($"/api/products?optimize=false&{query}")).Replace("optimize=false", "optimize=true"));

        var search = query.Replace("ordering=", "x=").Replace("page=", "y=");
        foreach (var inStock in new[] { "true", "false" })
        {
            (await Host.GetText($"/api/search/products?in_stock={inStock}&limit=200&{search}"))
                .ShouldBe(await sqlOnly.GetText($"/api/search/products?in_stock={inStock}&limit=200&{search}"));
        }

        ReadModel.Loads.ShouldBe(loads, "the answers above must come from the snapshot loaded once");
        // One list and two searches on the shared host; a non-ASCII text is the SQL's to decide.
        (fromMemory() - servedBefore).ShouldBe(query.Contains("%C3") ? 0 : 3);
    }

    [Fact]
    public async Task a_catalogue_larger_than_the_limit_is_read_with_sql_and_answers_the_same()
    {
        var products = await Store.AddProducts(12);
        await using var small = await App.StartHostWithAsync(("ExBuy:Catalog:MaxProducts", "10"));
        (await small.Services.GetRequiredService<CatalogReadModel>().DetailAsync(products[0].Id, Ct)).Served.ShouldBeFalse("12 products are above its limit of 10");
        (await ReadModel.DetailAsync(products[0].Id, Ct)).Served.ShouldBeTrue();
        (await small.GetText("/api/products?optimize=true&ordering=-stock")).ShouldBe(await Host.GetText("/api/products?optimize=true&ordering=-stock"));
        (await small.GetText($"/api/products/{products[0].Id}?optimize=true")).ShouldBe(await Host.GetText($"/api/products/{products[0].Id}?optimize=true"));
        (await small.GetText("/api/search/products?q=product")).ShouldBe(await Host.GetText("/api/search/products?q=product"));
    }

    [Fact]
    public async Task review_statistics_follow_every_writer()
    {
        var products = await Store.AddProducts(3);
        await Store.AddReview(products[0].Id, 5);
        var changed = await Store.AddReview(products[0].Id, 1);
        await Store.AddReview(products[1].Id, 3);

        // A bulk copy (the seeder's way), an update changing a rating, a plain delete and a product's cascade.
        await Store.BulkInsertAsync(Enumerable.Range(0, 50).Select(i => new Review
        {
            Id = 1_000_000 + i, ProductId = products[i % 3].Id, UserId = i, Rating = 1 + i % 5, Body = "bulk", CreatedAt = DateTimeOffset.UtcNow,
        }).ToList(), cancellation: Ct);
        await using (var session = Store.LightweightSession())
        {
            changed.Rating = 4;
            session.Update(changed);
            session.Delete<Review>(1_000_000L);
            await session.SaveChangesAsync(Ct);
        }

        await StatsShouldMatchTheReviewsAsync();
        await Host.Scenario(s =>
        {
            s.Delete.Url($"/api/products/{products[1].Id}");
            s.StatusCodeShouldBe(204);
        });
        await StatsShouldMatchTheReviewsAsync();
        (await Host.GetJson($"/api/products/{products[0].Id}?optimize=true"))["review_count"]!.GetValue<long>().ShouldBe(2 + 17 - 1);
        (await Host.GetText($"/api/products/{products[0].Id}?optimize=true")).ShouldBe(await Host.GetText($"/api/products/{products[0].Id}"));
    }

    [Fact]
    public async Task without_its_generation_row_the_catalogue_is_read_with_sql_and_answers_the_same()
    {
        var products = await Store.AddProducts(20);
        await using var node = await App.StartHostWithAsync();
        string[] urls = ["/api/products?optimize=true&ordering=-stock", $"/api/products/{products[4].Id}?optimize=true", "/api/search/products?q=product&in_stock=true"];
        var fromMemory = new List<string>();
        foreach (var url in urls)
        {
            fromMemory.Add(await node.GetText(url));
        }

        var readModel = node.Services.GetRequiredService<CatalogReadModel>();
        (await readModel.DetailAsync(products[4].Id, Ct)).Served.ShouldBeTrue();
        var generation = await ScalarAsync($"delete from {CatalogGeneration.Table(Store)} returning generation");
        try
        {
            for (var i = 0; i < urls.Length; i++)
            {
                (await node.GetText(urls[i])).ShouldBe(fromMemory[i], urls[i]);
            }

            (await readModel.DetailAsync(products[4].Id, Ct)).Served.ShouldBeFalse("no generation: nothing may be answered from memory");
            (await readModel.PageAsync(new ExBuy.Features.Catalog.ListProducts.ListProductsRequest(), null, 1, 100, Ct)).Served.ShouldBeFalse();
        }
        finally
        {
            // Back, at a generation no process has loaded, so every snapshot reloads.
            await ScalarAsync($"insert into {CatalogGeneration.Table(Store)} (id, generation) values (1, {generation} + 1000) returning generation");
        }
    }

    [Fact]
    public async Task the_generation_moves_once_at_commit_and_never_for_a_rollback()
    {
        var products = await Store.AddProducts(2);
        var table = $"{Store.Options.DatabaseSchemaName}.mt_doc_product";
        var before = await ScalarAsync($"select generation from {CatalogGeneration.Table(Store)}");

        await using (var writer = Store.Storage.Database.CreateConnection())
        {
            await writer.OpenAsync(Ct);
            await using var transaction = await writer.BeginTransactionAsync(Ct);
            foreach (var product in products)
            {
                await using var touch = new Npgsql.NpgsqlCommand($"update {table} set mt_last_modified = now() where id = {product.Id}", writer, transaction);
                (await touch.ExecuteNonQueryAsync(Ct)).ShouldBe(1);
            }

            // Two product statements in, the generation's row is still free: the writer takes it only at its commit.
            await using (var other = Store.Storage.Database.CreateConnection())
            {
                await other.OpenAsync(Ct);
                await using var otherTransaction = await other.BeginTransactionAsync(Ct);
                await using var probe = new Npgsql.NpgsqlCommand($"select generation from {CatalogGeneration.Table(Store)} for update nowait", other, otherTransaction);
                ((long)(await probe.ExecuteScalarAsync(Ct))!).ShouldBe(before);
                await otherTransaction.RollbackAsync(Ct);
            }

            await transaction.CommitAsync(Ct);
        }

        (await ScalarAsync($"select generation from {CatalogGeneration.Table(Store)}")).ShouldBe(before + 1, "one transaction, one move");

        await using (var writer = Store.Storage.Database.CreateConnection())
        {
            await writer.OpenAsync(Ct);
            await using var transaction = await writer.BeginTransactionAsync(Ct);
            await using var gone = new Npgsql.NpgsqlCommand($"delete from {table} where id = {products[0].Id}", writer, transaction);
            await gone.ExecuteNonQueryAsync(Ct);
            await transaction.RollbackAsync(Ct);
        }

        (await ScalarAsync($"select generation from {CatalogGeneration.Table(Store)}")).ShouldBe(before + 1, "a rolled-back change moves nothing");
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = Store.Storage.Database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    private async Task StatsShouldMatchTheReviewsAsync()
    {
        var schema = Store.Options.DatabaseSchemaName;
        await using var connection = Store.Storage.Database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using var command = new Npgsql.NpgsqlCommand(
            $"""
             select count(*) from (
               select product_id, count(*) as n, sum((data ->> 'Rating')::int) as r from {schema}.mt_doc_review group by product_id) a
             full join {ReviewStats.Table(Store)} s using (product_id)
             where a.n is distinct from s.review_count or a.r is distinct from s.rating_sum
             """, connection);
        ((long)(await command.ExecuteScalarAsync(Ct))!).ShouldBe(0, "product_review_stats differs from the reviews");
    }

    private static List<long> Ids(JsonNode page) => page["results"]!.AsArray().Select(p => p!["id"]!.GetValue<long>()).ToList();
}
