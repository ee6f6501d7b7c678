namespace Nabla.NN;

/// <summary>
/// The dotted path of the module whose forward is running on this thread (<c>features.0</c>, <c>lstm</c>, <c>t3.cell</c>),
/// recorded on every autograd <see cref="Autograd.Node"/> so a drawn graph can group ops by module or by time step.
/// <see cref="Sequential"/> and <see cref="Module.ForwardChild"/> enter it for their children; a loop may enter its
/// own (<c>using (ModuleScope.Enter($"t{t}")) ...</c>) to group an unrolled recurrence per time step.
/// </summary>
public static class ModuleScope
{
    [ThreadStatic] private static string? s_current;

    /// <summary>The current path, or null outside any module.</summary>
    public static string? Current => s_current;

    /// <summary>Enters <paramref name="name"/> below the current path until the returned scope is disposed.</summary>
    public static Scope Enter(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var previous = s_current;
        s_current = previous is null ? name : previous + "." + name;
        return new Scope(previous);
    }

    /// <summary>Restores the path that was current before <see cref="Enter"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly string? _previous;

        internal Scope(string? previous) => _previous = previous;

        /// <summary>Leaves the scope.</summary>
        public void Dispose() => s_current = _previous;
    }
}
