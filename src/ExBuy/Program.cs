using ExBuy.Features;
using ExBuy.Infrastructure.Hosting;
using JasperFx;

var builder = WebApplication.CreateBuilder(args);
builder.AddExBuyInfrastructure();
builder.AddExBuyModules();

var app = builder.Build();
app.UseExBuyHttp();

return await app.RunJasperFxCommands(args);

public partial class Program;
