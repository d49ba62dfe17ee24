using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ExBuy.Tests.Infrastructure;
using Marten;
using Npgsql;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Platform.Http;

/// <summary>
/// Generated bad input against every route the app serves (read from its endpoint metadata, so a new route is
/// covered without being listed): each request must be answered with a 4xx and a JSON error body, never a 5xx,
/// and must leave every table, Redis and the upload folder as they were.
/// </summary>
public sealed class BadInputTests(AppFixture app) : IntegrationContext(app)
{
    private const int MaxCases = 1_000;

    [Fact]
    public async Task generated_bad_input_on_every_route_is_refused_with_a_json_4xx_and_changes_nothing()
    {
        var world = await SeedAsync();
        var routes = ApiRoute.All(Host.Services);
        var cases = routes.SelectMany(r => BadRequests.For(r, world)).ToList();

        routes.Where(r => !cases.Any(c => c.Route == r)).ShouldBeEmpty("every route gets generated cases");
        routes.Where(r => r.HasBody && !cases.Any(c => c.Route == r && c.Description.StartsWith("multipart", StringComparison.Ordinal)))
            .ShouldBeEmpty("every body route gets malformed bodies");
        cases.Count.ShouldBeLessThanOrEqualTo(MaxCases, "bounded, to stay fast on a busy CI machine");

        var auditBefore = (await Host.GetJson("/api/audit")).ToJsonString();
        var before = await FingerprintAsync();
        var failures = new List<string>();
        using var client = Host.Server.CreateClient();
        var clock = Stopwatch.StartNew();

        var refusedByUrlDecoder = 0;
        foreach (var request in cases)
        {
            using var message = request.ToMessage();
            HttpResponseMessage response;
            try
            {
                response = await client.SendAsync(message, Ct);
            }
            catch (InvalidOperationException e) when (e.Message.Contains("null characters", StringComparison.Ordinal))
            {
                // ASP.NET's URL decoder refuses a NUL in the path before any app code runs (Kestrel answers 400;
                // the test server throws): such a route value never reaches an endpoint.
                refusedByUrlDecoder++;
                continue;
            }

            using var _ = response;
            var body = await response.Content.ReadAsStringAsync(Ct);
            if (Judge(request, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body) is { } failure)
            {
                failures.Add($"{request}: {failure}");
            }

            var after = await FingerprintAsync();
            if (after != before)
            {
                failures.Add($"{request}: changed state ({(int)response.StatusCode}) {Diff(before, after)}");
                before = after;
            }
        }

        TimingLog.Note($"bad input: {cases.Count} requests over {routes.Count} routes in {clock.Elapsed.TotalSeconds:F1} s ({refusedByUrlDecoder} NUL paths refused by the URL decoder)");
        failures.ShouldBeEmpty($"{failures.Count} of {cases.Count} cases:\n{string.Join('\n', failures.Take(60))}");
        (await Host.GetJson("/api/audit")).ToJsonString().ShouldBe(auditBefore);
    }

    [Fact]
    public void every_route_is_found_in_the_endpoint_metadata()
    {
        var routes = ApiRoute.All(Host.Services).Select(r => r.ToString()).ToList();

        // A sample from each surface; the generator itself never lists routes.
        routes.ShouldContain("POST /api/uploads");
        routes.ShouldContain("PATCH /api/orders/{id:long}");
        routes.ShouldContain("POST /orders");
        routes.ShouldContain("GET /metrics");
        routes.Count.ShouldBeGreaterThan(30);
    }

    [Theory]
    [InlineData("x-bogus")]
    [InlineData("utf-16")]
    [InlineData("iso-8859-1")]
    public async Task a_json_body_in_a_charset_other_than_utf8_is_415_on_every_json_route_and_changes_nothing(string charset)
    {
        var shop = await Host.InitShop("""{"userCount":1,"productCount":1,"policyCount":1}""");
        var (user, product, policy) = (shop.UserIds[0], shop.ProductIds[0], shop.PolicyIds[0]);
        (string Url, string Body)[] routes =
        [
            ("/api/orders?lock_type=row", $$"""{"user_id":{{user}},"items":[{"product_id":{{product}},"quantity":1}]}"""),
            ("/api/inventory/reserve?lock_type=row", $$"""{"product_id":{{product}},"quantity":1}"""),
            ("/orders", ShopFlowScenarios.OrderBody(user, null, ShopFlowScenarios.Items([product]))),
            ($"/coupons?userId={user}&policyId={policy}", "{}"),
            ("/init", """{"userCount":2}"""),
        ];
        var before = await FingerprintAsync();

        foreach (var (url, body) in routes)
        {
            var (status, error) = await SendAsync(HttpMethod.Post, url, body, $"application/json; charset={charset}");

            status.ShouldBe(415, url);
            error["detail"]!.GetValue<string>().ShouldContain(charset, Case.Sensitive, url);
        }

        (await FingerprintAsync()).ShouldBe(before, "a refused charset changes nothing");
    }

    [Theory]
    [InlineData("utf-8")]
    [InlineData("UTF-8")]
    [InlineData("\"utf-8\"")]
    [InlineData("utf8")]
    [InlineData("us-ascii")]
    public async Task a_json_body_whose_charset_names_utf8_or_ascii_is_read_as_utf8(string charset)
    {
        var shop = await Host.InitShop("""{"userCount":1,"productCount":1}""");

        var (status, order) = await SendAsync(
            HttpMethod.Post, "/api/orders?lock_type=row", $$"""{"user_id":{{shop.UserIds[0]}},"items":[{"product_id":{{shop.ProductIds[0]}},"quantity":2}]}""",
            $"application/json; charset={charset}");

        status.ShouldBe(201, order.ToJsonString());
        order["items"]![0]!["quantity"]!.GetValue<int>().ShouldBe(2);
        await Host.ShouldPassAudit();
    }

    [Theory]
    [InlineData("/api/reviews?page=21474838", 404)]
    [InlineData("/api/reviews?page=2147483647", 404)]
    [InlineData("/api/reviews?optimize=true&page=21474838", 404)]
    [InlineData("/api/reviews?optimize=true&page=2147483647", 404)]
    [InlineData("/api/reviews?product_id=1&page=21474838", 404)]
    [InlineData("/api/products?page=21474838", 404)]
    [InlineData("/api/products?page=2147483647", 404)]
    [InlineData("/api/products?optimize=true&page=21474838", 404)]
    [InlineData("/api/products?optimize=true&ordering=-stock&page=2147483647", 404)]
    [InlineData("/api/reviews?page=9999999999", 400)]
    [InlineData("/api/products?page=9999999999", 400)]
    [InlineData("/api/reviews?page=0", 400)]
    [InlineData("/api/reviews?page=-1", 400)]
    [InlineData("/api/products?page=0", 400)]
    [InlineData("/api/products?page=-2147483648", 400)]
    public async Task a_page_number_past_any_list_is_a_4xx_never_an_overflowed_offset(string url, int expected)
    {
        var product = await Store.AddProduct();
        await Store.AddReview(product.Id, rating: 5);

        var (status, error) = await SendAsync(HttpMethod.Get, url, body: null, contentType: null);

        status.ShouldBe(expected, error.ToJsonString());
        if (expected == 404)
        {
            error["detail"]!.GetValue<string>().ShouldBe("Invalid page.");
        }

        (await Host.GetJson("/api/reviews?page=1"))["count"]!.GetValue<long>().ShouldBe(1);
    }

    [Fact]
    public async Task concurrent_inits_take_turns_none_fails_and_the_last_one_leaves_a_whole_seeded_shop()
    {
        const int inits = 4;
        const string body = """{"userCount":25,"productCount":3,"policyCount":2,"couponQuantity":7,"stock":50}""";

        var responses = await Host.FireAsync(inits, _ => (HttpMethod.Post, "/init", body));

        responses.ShouldAllBe(r => r.Status == 200 || r.Status == 409, string.Join('\n', responses.Select(r => $"{r.Status} {r.Body}")));
        var answered = responses.Where(r => r.Status == 200).Select(r => HttpScenarios.Parse(r.Body)).ToList();
        answered.ShouldNotBeEmpty();

        // The shop is one init's, whole: its products and policies, the users u1..u25 once each.
        await using var session = Store.QuerySession();
        var state = (await session.LoadAsync<ExBuy.Features.Catalog.StorefrontState>(ExBuy.Features.Catalog.StorefrontState.CurrentId, Ct)).ShouldNotBeNull();
        var last = answered.SingleOrDefault(a => a["productIds"]!.AsArray().Select(p => p!.GetValue<long>()).SequenceEqual(state.ProductIds));
        last.ShouldNotBeNull("the shop left is one that an init answered");
        last["policyIds"]!.AsArray().Select(p => p!.GetValue<long>()).ShouldBe(state.PolicyIds);

        var names = await session.Query<ExBuy.Features.Users.ShopUser>().Select(u => u.Name).ToListAsync(Ct);
        names.Order(StringComparer.Ordinal).ShouldBe(Enumerable.Range(1, 25).Select(i => $"u{i}").Order(StringComparer.Ordinal));
        (await session.Query<ExBuy.Features.Catalog.Product>().Select(p => p.Id).ToListAsync(Ct)).Order().ShouldBe(state.ProductIds.Order());
        (await session.Query<ExBuy.Features.Coupons.CouponPolicy>().Select(p => p.Id).ToListAsync(Ct)).Order().ShouldBe(state.PolicyIds.Order());

        var products = (await Host.GetJson("/products")).AsArray();
        products.Select(p => p!["id"]!.GetValue<long>()).ShouldBe(state.ProductIds);
        products.ShouldAllBe(p => p!["stock"]!.GetValue<int>() == 50);
        foreach (var policy in state.PolicyIds)
        {
            (await Host.CouponCounter(policy)).Quantity.ShouldBe(7);
        }

        (await Host.GetJson("/products/top/realtime")).AsArray().Select(t => t!["productId"]!.GetValue<long>()).ShouldBe(state.ProductIds);
        await Host.ShouldPassAudit();
    }

    public static TheoryData<string, string> BodylessReads => new()
    {
        { "/api/products/{product}/", "application/json" },
        { "/api/products/{product}/", "application/json; charset=utf-8" },
        { "/api/products/?page=2", "application/json" },
        { "/api/products/?page=2", "application/json; charset=utf-8" },
        { "/users/id?name=u1", "application/json" },
        { "/users/id?name=u1", "application/json; charset=utf-8" },
        { "/users/{user}/balance", "application/json" },
        { "/users/{user}/balance", "application/json; charset=utf-8" },
        { "/api/reviews?page=1", "application/json; charset=x-bogus" },
    };

    [Theory]
    [MemberData(nameof(BodylessReads))]
    public async Task a_get_without_a_body_ignores_its_json_content_type(string route, string contentType)
    {
        var shop = await Host.InitShop("""{"userCount":1,"productCount":1}""");
        var products = await Store.AddProducts(PageNumberPaginationSize + 1);
        var url = route.Replace("{product}", products[0].Id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{user}", shop.UserIds[0].ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        var (plainStatus, plain) = await SendAsync(HttpMethod.Get, url, body: null, contentType: null);
        var (status, answer) = await SendAsync(HttpMethod.Get, url, body: string.Empty, contentType);

        plainStatus.ShouldBe(200, plain.ToJsonString());
        status.ShouldBe(200, answer.ToJsonString());
        answer.ToJsonString().ShouldBe(plain.ToJsonString());
    }

    [Fact]
    public async Task a_delete_without_a_body_ignores_its_json_content_type()
    {
        var product = await Store.AddProduct();

        var (status, answer) = await SendAsync(HttpMethod.Delete, $"/api/products/{product.Id}/", body: string.Empty, "application/json");

        status.ShouldBe(204, answer.ToJsonString());
        (await Host.GetJson($"/api/products/{product.Id}", 404))["detail"]!.GetValue<string>().ShouldBe("Not found.");
    }

    /// <summary>Money inputs are two-place decimals in the invariant culture, no group separators, no exponent, no padding.</summary>
    [Theory]
    [InlineData("\"1,0,0\"")]
    [InlineData("\"1,000\"")]
    [InlineData("\"1.005\"")]
    [InlineData("1.005")]
    [InlineData("\"10.500\"")]
    [InlineData("10.500")]
    [InlineData("\"1e3\"")]
    [InlineData("1e3")]
    [InlineData("1E2")]
    [InlineData("\"-1\"")]
    [InlineData("-1")]
    [InlineData("\" 10\"")]
    [InlineData("\"10 \"")]
    [InlineData("\"+10\"")]
    [InlineData("\"1 000\"")]
    [InlineData("\".5\"")]
    [InlineData("\"10.\"")]
    [InlineData("\"\"")]
    [InlineData("\"NaN\"")]
    [InlineData("\"0x10\"")]
    public async Task a_flash_sale_price_that_is_not_a_two_place_decimal_is_a_400_naming_price_and_creates_nothing(string price)
    {
        var before = await FingerprintAsync();

        var (status, problem) = await SendAsync(HttpMethod.Post, "/api/flash-sales", $$"""{"name":"Money","stock":5,"price":{{price}}}""", "application/json");

        status.ShouldBe(400, problem.ToJsonString());
        problem.ErrorFields().ShouldContain("price", problem.ToJsonString());
        (await FingerprintAsync()).ShouldBe(before);
    }

    [Theory]
    [InlineData("10", "10.00")]
    [InlineData("\"10\"", "10.00")]
    [InlineData("10.5", "10.50")]
    [InlineData("\"10.5\"", "10.50")]
    [InlineData("\"10.50\"", "10.50")]
    [InlineData("10.50", "10.50")]
    public async Task a_flash_sale_price_with_at_most_two_places_is_taken_as_written(string price, string stored)
    {
        var sale = await Host.PostJson("/api/flash-sales", $$"""{"name":"Money","stock":5,"price":{{price}}}""", 201);
        sale["price"]!.GetValue<string>().ShouldBe(stored);
        (await Host.GetJson($"/api/products/{sale["product_id"]!.GetValue<long>()}"))["price"]!.GetValue<string>().ShouldBe(stored);
    }

    [Theory]
    [InlineData("1.005")]
    [InlineData("10.500")]
    [InlineData("1e3")]
    [InlineData("1E2")]
    [InlineData("-1")]
    [InlineData("\"1,0,0\"")]
    [InlineData("\"10\"")]
    [InlineData("\" 10\"")]
    public async Task a_balance_charge_amount_that_is_not_a_two_place_decimal_is_a_400_naming_amount_and_changes_nothing(string amount)
    {
        var shop = await Host.InitShop("""{"userCount":1}""");
        var user = shop.UserIds[0];
        var before = await FingerprintAsync();

        var (status, problem) = await SendAsync(HttpMethod.Post, $"/users/{user}/balance", $$"""{"amount":{{amount}}}""", "application/json");

        status.ShouldBe(400, problem.ToJsonString());
        problem.ErrorFields().ShouldContain("amount", problem.ToJsonString());
        (await FingerprintAsync()).ShouldBe(before);
        (await Host.Balance(user)).ShouldBe(0m);
    }

    [Theory]
    [InlineData("10", 10)]
    [InlineData("10.5", 10.5)]
    [InlineData("10.50", 10.5)]
    public async Task a_balance_charge_amount_with_at_most_two_places_is_charged(string amount, double expected)
    {
        var shop = await Host.InitShop("""{"userCount":1}""");
        var user = shop.UserIds[0];

        await Host.PostJson($"/users/{user}/balance", $$"""{"amount":{{amount}}}""", 201);

        (await Host.Balance(user)).ShouldBe((decimal)expected);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    public async Task a_post_with_an_empty_body_and_a_json_content_type_is_still_a_clear_400(string contentType)
    {
        await Host.InitShop("""{"userCount":1,"productCount":1}""");
        var before = await FingerprintAsync();

        foreach (var url in new[] { "/api/orders", "/orders", "/api/inventory/reserve" })
        {
            var (status, problem) = await SendAsync(HttpMethod.Post, url, string.Empty, contentType);

            status.ShouldBe(400, url);
            problem.ToJsonString().ShouldContain("JSON", Case.Sensitive, url);
        }

        (await FingerprintAsync()).ShouldBe(before);
    }

    private static string Lines(long product, int lines, int quantity, string productField = "product_id") =>
        string.Join(',', Enumerable.Repeat($$"""{"{{productField}}":{{product}},"quantity":{{quantity}}}""", lines));

    /// <summary>Each route that takes an order, its body for <paramref name="items"/> and the field a per-order rule names.</summary>
    private static (string Url, string Body, string Field)[] OrderRoutes(long user, Func<string, string> items) =>
    [
        ("/api/orders?lock_type=row", $$"""{"user_id":{{user}},"items":[{{items("product_id")}}]}""", "items"),
        ("/api/orders/bulk?lock_type=atomic", $$"""{"orders":[{"user_id":{{user}},"items":[{{items("product_id")}}]}]}""", "orders[0].items"),
        ("/orders", $$"""{"userId":{{user}},"items":[{{items("productId")}}]}""", "items"),
    ];

    [Theory]
    [InlineData(100, 10_000)]
    [InlineData(2, 5_001)]
    [InlineData(11, 1)]
    public async Task one_product_over_many_lines_is_400_on_items_on_every_order_route_and_takes_nothing(int lines, int quantity)
    {
        // 100 lines of 10,000 units of one product each took its whole stock of 1,000,000 in one order (201).
        var shop = await Host.InitShop("""{"userCount":1,"productCount":1,"policyCount":1}""");
        var before = await FingerprintAsync();

        foreach (var (url, body, field) in OrderRoutes(shop.UserIds[0], name => Lines(shop.ProductIds[0], lines, quantity, name)))
        {
            var (status, problem) = await SendAsync(HttpMethod.Post, url, body, "application/json");
            status.ShouldBe(400, $"{url}: {problem.ToJsonString()}");
            problem.ErrorFields().ShouldBe([field], url);
        }

        (await FingerprintAsync()).ShouldBe(before, "a refused order takes nothing");
    }

    [Fact]
    public async Task an_order_over_the_line_count_is_one_error_not_one_per_line()
    {
        // 150 invalid lines were answered with 151 errors (a 9 MB body of 300,000 lines: 59 MB of errors).
        foreach (var (url, body, field) in OrderRoutes(1, name => Lines(0, 150, 0, name)))
        {
            var (status, problem) = await SendAsync(HttpMethod.Post, url, body, "application/json");
            status.ShouldBe(400, url);
            problem.ErrorFields().ShouldBe([field], url);
        }
    }

    [Fact]
    public async Task a_long_list_of_errors_is_cut_after_twenty_with_a_note_of_how_many_more()
    {
        var orders = string.Join(',', Enumerable.Range(0, 30).Select(_ => """{"user_id":0,"items":[{"product_id":1,"quantity":1}]}"""));

        var (status, problem) = await SendAsync(HttpMethod.Post, "/api/orders/bulk", $$"""{"orders":[{{orders}}]}""", "application/json");

        status.ShouldBe(400);
        var fields = problem.ErrorFields();
        fields.Count.ShouldBe(ExBuy.Infrastructure.Http.BoundedErrors.MaxListed + 1);
        fields[^1].ShouldBe(ExBuy.Infrastructure.Http.BoundedErrors.MoreField);
        problem["errors"]!.AsArray()[^1]!["reason"]!.GetValue<string>().ShouldContain("10 more");
    }

    [Fact]
    public async Task the_per_request_limits_are_configurable_and_a_bulk_request_is_capped_in_distinct_products()
    {
        await using var limited = await App.StartHostWithAsync(("ExBuy:Orders:MaxDistinctProducts", "2"), ("ExBuy:Orders:MaxUnitsPerProduct", "5"));
        var shop = await limited.InitShop("""{"userCount":1,"productCount":3,"policyCount":1}""");
        var user = shop.UserIds[0];
        using var client = limited.Server.CreateClient();

        async Task<(int Status, JsonNode Problem)> Post(string url, string body)
        {
            using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(url, content, Ct);
            return ((int)response.StatusCode, HttpScenarios.Parse(await response.Content.ReadAsStringAsync(Ct)));
        }

        var threeProducts = string.Join(',', shop.ProductIds.Select(p => $$"""{"user_id":{{user}},"items":[{"product_id":{{p}},"quantity":1}]}"""));
        var (bulk, bulkProblem) = await Post("/api/orders/bulk", $$"""{"orders":[{{threeProducts}}]}""");
        bulk.ShouldBe(400, bulkProblem.ToJsonString());
        bulkProblem.ErrorFields().ShouldBe(["orders"]);

        var (units, unitsProblem) = await Post("/api/orders", $$"""{"user_id":{{user}},"items":[{"product_id":{{shop.ProductIds[0]}},"quantity":6}]}""");
        units.ShouldBe(400, unitsProblem.ToJsonString());
        unitsProblem.ErrorFields().ShouldBe(["items"]);

        await using var session = limited.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.Query<ExBuy.Features.Orders.Order>().CountAsync(Ct)).ShouldBe(0);
    }

    private const int PageNumberPaginationSize = ExBuy.Infrastructure.Http.PageNumberPagination.PageSize;

    /// <summary>One raw request: a body (null: none at all; empty: zero bytes) with exactly the content type given.</summary>
    private async Task<(int Status, JsonNode Body)> SendAsync(HttpMethod method, string url, string? body, string? contentType)
    {
        using var client = Host.Server.CreateClient();
        using var message = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            message.Content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        using var response = await client.SendAsync(message, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        return ((int)response.StatusCode, text.Length == 0 ? new JsonObject() : HttpScenarios.Parse(text));
    }

    private static string? Judge(BadRequest request, int status, string? mediaType, string body)
    {
        if (status >= 500)
        {
            return $"{status} {Shorten(body)}";
        }

        if (status < 400)
        {
            return request.MayBeValid ? null : $"accepted with {status} {Shorten(body)}";
        }

        if (mediaType is null || !mediaType.Contains("json", StringComparison.Ordinal))
        {
            return $"{status} without a JSON body ({mediaType ?? "no content type"}) {Shorten(body)}";
        }

        try
        {
            return JsonNode.Parse(body) is JsonObject error && (error.ContainsKey("errors") || error.ContainsKey("detail") || error.ContainsKey("error"))
                ? null
                : $"{status} body is not an error object: {Shorten(body)}";
        }
        catch (JsonException)
        {
            return $"{status} body is not JSON: {Shorten(body)}";
        }
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private async Task<BadRequests.World> SeedAsync()
    {
        var shop = await Host.InitShop("""{"userCount":2,"productCount":2,"policyCount":1,"couponQuantity":5}""");
        var productId = shop.ProductIds[0];
        await Store.AddReview(productId, rating: 4);
        var order = await Host.PlaceOrder(shop.UserIds[0], $$"""[{"product_id":{{productId}},"quantity":1}]""");
        var flashSale = await Host.SetUpFlashSale(10);
        await Store.CatchUpAsync(Host.Services.GetRequiredService<NpgsqlDataSource>());
        return new BadRequests.World(productId, flashSale, order["id"]!.GetValue<long>(), shop.UserIds[0], shop.PolicyIds[0]);
    }

    /// <summary>
    /// Every ExBuy table's row count and a hash of its rows (so an update shows as well as an insert), Redis's key
    /// count and the uploaded files. Left out: what the projection daemon writes by itself, in its own time (its
    /// progress and the sales projection); a request that appended events shows in the event tables anyway.
    /// </summary>
    private async Task<string> FingerprintAsync()
    {
        var db = Host.Services.GetRequiredService<NpgsqlDataSource>();
        // What the background subscriptions write after an /init (the ranking's reset mark in Redis, the sales
        // projection) must be in before the "before" picture is taken: otherwise it lands between the two pictures.
        await Store.CatchUpAsync(db, shard: "SalesRanking");
        await Store.CatchUpAsync(db);
        var schema = Store.Options.DatabaseSchemaName;
        var tables = new List<string>();
        await using (var list = db.CreateCommand(
            $"select table_name from information_schema.tables where table_schema = '{schema}' and table_type = 'BASE TABLE' and table_name not in ('mt_event_progression', 'mt_doc_productsales') order by 1"))
        await using (var reader = await list.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                tables.Add(reader.GetString(0));
            }
        }

        var sql = string.Join(" union all ", tables.Select(t =>
            $"select '{t}', count(*), coalesce(sum(hashtext(x::text)::bigint), 0) from {schema}.\"{t}\" x"));
        var parts = new List<string>();
        await using (var command = db.CreateCommand(sql))
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                parts.Add($"{reader.GetString(0)}={reader.GetInt64(1)}/{reader.GetInt64(2)}");
            }
        }

        var redis = Host.Services.GetRequiredService<IConnectionMultiplexer>();
        var keys = 0L;
        foreach (var endpoint in redis.GetEndPoints())
        {
            keys += await redis.GetServer(endpoint).DatabaseSizeAsync();
        }

        var uploads = Path.Combine(App.DataDirectory, "uploads");
        var files = Directory.Exists(uploads) ? Directory.GetFiles(uploads, "*", SearchOption.AllDirectories).Length : 0;
        return $"{string.Join(' ', parts)} redis_keys={keys} upload_files={files}";
    }

    private static string Diff(string before, string after)
    {
        var old = before.Split(' ').ToHashSet();
        return string.Join(' ', after.Split(' ').Where(p => !old.Contains(p)));
    }
}
