using ExBuy.Features;
using ExBuy.Features.Health;
using ExBuy.Infrastructure.Hosting;
using JasperFx;

// The container's healthcheck answers before anything is built (see HealthProbe).
if (HealthProbe.IsRequested(args))
{
    return await HealthProbe.RunAsync(args[1..], Console.Out);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddExBuyInfrastructure();
builder.AddExBuyModules();

var app = builder.Build();
app.UseExBuyHttp();

return await app.RunJasperFxCommands(args);

public partial class Program;
