using Wolverine;
using Wolverine.Runtime;

namespace ExBuy.Infrastructure.Messaging;

/// <summary>
/// Wolverine compiles a handler's adapter code the first time a message of its type arrives; for the coupon queue
/// that put about a second of Roslyn work on the first claims of a rush. Compiling every known handler once the
/// host has started moves that second to start-up, before the readiness probe answers.
/// </summary>
public sealed partial class HandlerWarmUp(IWolverineRuntime runtime, ILogger<HandlerWarmUp> logger) : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var graph = ((WolverineRuntime)runtime).Handlers;
        var messageTypes = graph.Chains.Select(c => c.MessageType).ToList();
        foreach (var messageType in messageTypes)
        {
            graph.HandlerFor(messageType);
        }

        Compiled(logger, messageTypes.Count);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Compiled {Count} Wolverine handler(s) at start-up")]
    private static partial void Compiled(ILogger logger, int count);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
