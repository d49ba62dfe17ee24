using System.Reflection;
using System.Text.Json;
using Shouldly;

namespace ExBuy.UnitTests;

/// <summary>
/// This project runs with no PostgreSQL, no Redis and no started app (<c>./exbuy test unit</c> starts none): no
/// assembly, collection or class fixture that could start one, no test class that asks for one in its constructor,
/// and no test-server package among its dependencies. A test that needs a server belongs to ExBuy.Tests.
/// </summary>
public sealed class UnitTierTests
{
    private static readonly Assembly Tests = typeof(UnitTierTests).Assembly;

    private static readonly string[] ServerPackages = ["Alba", "Microsoft.AspNetCore.Mvc.Testing", "Microsoft.AspNetCore.TestHost"];

    [Fact]
    public void the_assembly_declares_no_fixture()
    {
        Tests.GetCustomAttributes<AssemblyFixtureAttribute>().ShouldBeEmpty();
        Tests.GetTypes()
            .Where(t => t.GetInterfaces().Any(i => i.IsGenericType
                && (i.GetGenericTypeDefinition() == typeof(IClassFixture<>) || i.GetGenericTypeDefinition() == typeof(ICollectionFixture<>))))
            .Select(t => t.FullName)
            .ShouldBeEmpty();
    }

    [Fact]
    public void no_test_class_takes_anything_in_its_constructor()
    {
        var testClasses = Tests.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.IsDefined(typeof(FactAttribute), inherit: true)))
            .ToArray();
        testClasses.ShouldContain(typeof(UnitTierTests));
        testClasses
            .Where(t => t.GetConstructors().Any(c => c.GetParameters().Length > 0))
            .Select(t => t.FullName)
            .ShouldBeEmpty();
    }

    [Fact]
    public void no_test_server_package_is_among_the_dependencies()
    {
        var deps = Path.Combine(AppContext.BaseDirectory, $"{Tests.GetName().Name}.deps.json");
        File.Exists(deps).ShouldBeTrue(deps);
        using var json = JsonDocument.Parse(File.ReadAllText(deps));
        var libraries = json.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name.Split('/')[0]).ToArray();
        libraries.ShouldContain("Shouldly"); // the file lists the packages: the check below reads a real list
        libraries.Intersect(ServerPackages, StringComparer.OrdinalIgnoreCase).ShouldBeEmpty();
        Tests.GetReferencedAssemblies().Select(a => a.Name).Intersect(ServerPackages, StringComparer.OrdinalIgnoreCase).ShouldBeEmpty();
    }
}
