namespace Nabla.Autograd;

/// <summary>Whether ops record the graph on this thread (off inside <see cref="Tensor.NoGrad"/>).</summary>
public static class GradMode
{
    [ThreadStatic] private static int t_disabled;

    /// <summary>True when ops record graph nodes.</summary>
    public static bool IsEnabled => t_disabled == 0;

    internal static void Push() => t_disabled++;

    internal static void Pop() => t_disabled--;

    // enable_grad: recording on whatever the enclosing scopes say, until Restore puts their count back
    internal static int Enable()
    {
        int saved = t_disabled;
        t_disabled = 0;
        return saved;
    }

    internal static void Restore(int saved) => t_disabled = saved;
}

/// <summary>A scope in which ops record the graph even inside <see cref="Tensor.NoGrad"/> (torch.enable_grad); dispose it to leave.</summary>
public readonly struct EnableGradScope : IDisposable
{
    private readonly int _saved;
    private readonly bool _active;

    internal EnableGradScope(int saved, bool active) => (_saved, _active) = (saved, active);

    /// <summary>Leaves the scope, restoring the grad mode of the enclosing scopes.</summary>
    public void Dispose()
    {
        if (_active) GradMode.Restore(_saved);
    }
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
