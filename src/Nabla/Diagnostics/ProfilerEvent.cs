namespace Nabla.Diagnostics;

/// <summary>What a <see cref="ProfilerEvent"/> is.</summary>
public enum ProfilerEventKind
{
    /// <summary>An op's forward (named after the op: "Linear", "Mul").</summary>
    Forward,

    /// <summary>An op's backward, the gradient function of its graph node ("LinearBackward").</summary>
    Backward,

    /// <summary>A layer's forward, run by <see cref="NN.Sequential"/> ("Linear [0]").</summary>
    Module,

    /// <summary>A named region: <see cref="Profiler.Scope"/>, the whole backward pass ("Backward"), an optimizer step ("SGD.Step").</summary>
    Scope,
}

/// <summary>
/// One recorded event: what ran, on which thread, nested how deep (0: outermost), when (from the profiler's start),
/// for how long in all and without its children, and the managed bytes it allocated in all and without its children.
/// <see cref="Module"/> is the state-dict path of the innermost layer it ran in ("features.0"), null outside layers.
/// </summary>
public readonly record struct ProfilerEvent(string Name, ProfilerEventKind Kind, string? Module, int ThreadId, int Depth,
    TimeSpan Start, TimeSpan Duration, TimeSpan SelfDuration, long AllocatedBytes, long SelfAllocatedBytes);
