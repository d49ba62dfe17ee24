using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Users;

public static class UsersRegistration
{
    public static StoreOptions ConfigureUsers(this StoreOptions opts)
    {
        IdSequences.Register<ShopUser>(opts);
        opts.Schema.For<ShopUser>().UniqueIndex(x => x.Name);
        return opts;
    }

    public static IServiceCollection AddUsers(this IServiceCollection services) => services.AddSingleton<IModuleSeed, UsersSeed>();
}
