using System.Diagnostics;

namespace ExBuy.Tests.Infrastructure;

/// <summary>Waits on a condition with a generous bound (a busy CI box is slow, not wrong), polling it.</summary>
public static class Eventually
{
    public static async Task<TimeSpan> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return watch.Elapsed;
                }
            }
            catch (Exception) when (watch.Elapsed < timeout)
            {
                // e.g. a node still starting: asked again below
            }

            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:F0} s for: {what}");
            }

            await Task.Delay(100);
        }
    }
}
