using ExBuy.Features.Catalog;
using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Reviews;

public static class ReviewsRegistration
{
    public static IServiceCollection AddReviews(this IServiceCollection services) =>
        services.AddSingleton<ReviewReads>().AddSingleton<Catalog.IProductReviewFigures, ReviewStats.Figures>()
            .AddSingleton<ExBuy.Infrastructure.Marten.IModuleReset, ReviewsReset>()
            .AddSingleton<IModuleInstall, ReviewStats.Install>();

    public static StoreOptions ConfigureReviews(this StoreOptions opts)
    {
        // Reviews go with their product (the original's ON DELETE CASCADE).
        IdSequences.Register<Review>(opts);
        ReviewStats.Register(opts);
        opts.Schema.For<Review>()
            .Duplicate(x => x.ProductId)
            .Duplicate(x => x.UserId)
            .Duplicate(x => x.CreatedAt)
#pragma warning disable CS0618 // Marten's ForeignKey<T> still hands out Weasel.Postgresql's ForeignKey, whose OnDelete is the obsolete enum.
            .ForeignKey<Product>(x => x.ProductId, fk => fk.OnDelete = Weasel.Postgresql.CascadeAction.Cascade);
#pragma warning restore CS0618
        return opts;
    }
}
