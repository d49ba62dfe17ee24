using System.Reflection;
using JasperFx;
using JasperFx.CommandLine;

namespace ExBuy.Infrastructure.Hosting;

/// <summary>
/// JasperFx's command line (<c>run</c>, <c>seed</c>, <c>projections</c>, <c>db-apply</c>, …) without its discovery
/// banner. <c>RunJasperFxCommands</c> registers the commands of every <c>[JasperFxAssembly]</c> assembly through
/// <c>CommandFactory.RegisterCommandsFromExtensionAssemblies</c>, which prints "Searching '…' for commands" for each
/// one unless the JasperFx extensions of those assemblies have already been applied to the application's services
/// (a process-wide flag that <c>CommandFactory.ApplyExtensions(IServiceCollection)</c> sets). JasperFx's
/// <c>ApplyJasperFxExtensions()</c>, the documented call for WebApplication hosts, applies them but discovers the
/// assemblies with the same printing method first. This does what it does, silently: it registers the same
/// assemblies with <c>RegisterCommands(assembly)</c> (which records their extension types and prints nothing) and
/// applies their extensions to the services. CommandLineTests checks that the banner is gone and every command stays.
/// </summary>
public static class CommandLine
{
    public static WebApplicationBuilder ApplyJasperFxExtensionsQuietly(this WebApplicationBuilder builder)
    {
        var factory = new CommandFactory();
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies()
                     .Where(a => !a.IsDynamic && a.GetCustomAttributes<JasperFxAssemblyAttribute>().Any()))
        {
            factory.RegisterCommands(assembly);
        }

        factory.ApplyExtensions(builder.Services);
        return builder;
    }
}
