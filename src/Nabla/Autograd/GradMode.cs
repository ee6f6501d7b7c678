namespace Nabla.Autograd;

/// <summary>Whether ops record the graph on this thread (off inside <see cref="Tensor.NoGrad"/>).</summary>
public static class GradMode
{
    [ThreadStatic] private static int t_disabled;

    /// <summary>True when ops record graph nodes.</summary>
    public static bool IsEnabled => t_disabled == 0;

    internal static void Push() => t_disabled++;

    internal static void Pop() => t_disabled--;
}

/// <summary>A scope in which no graph is recorded; dispose it to leave (use with <c>using</c>).</summary>
public readonly struct NoGradScope : IDisposable
{
    private readonly bool _active;

    internal NoGradScope(bool active)
    {
        _active = active;
        if (active) GradMode.Push();
    }

    /// <summary>Leaves the scope.</summary>
    public void Dispose()
    {
        if (_active) GradMode.Pop();
    }
}
