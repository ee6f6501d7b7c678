using System.Diagnostics;

namespace Nabla.Diagnostics;

/// <summary>
/// Records where a training or inference step spends its time, like <c>torch.profiler</c>: every op's forward and
/// backward, each <see cref="NN.Sequential"/> layer (and any <see cref="Scope"/>), the optimizer's step, with wall
/// time, calls and managed bytes allocated (<see cref="GC.GetAllocatedBytesForCurrentThread"/>).
/// <code>
/// using var p = Profiler.Start();
/// model.Forward(x) ... loss.Backward(); opt.Step();
/// p.Stop();
/// Console.WriteLine(p.KeyAverages().Table());
/// p.ExportChromeTrace("trace.json");   // chrome://tracing or ui.perfetto.dev
/// </code>
/// One profiler records at a time, by default the thread that started it. Costs nothing when off (ops test one static bool).
/// How ops are timed: an op's forward is recorded when it finishes (when it records its graph node), and its time
/// runs from the end of the previous event on the same thread; so work between ops that is not itself profiled
/// (user code, data loading) is charged to the next op: put it in a <see cref="Scope"/> to see it apart. A backward
/// is timed exactly around its node's gradient function; the ops it runs appear nested under it.
/// </summary>
public sealed partial class Profiler : IDisposable
{
    private static volatile Profiler? s_current;
    private static bool s_active;

    [ThreadStatic] private static ThreadLog? t_log;

    private readonly long _startTicks;
    private readonly int _threadId = Environment.CurrentManagedThreadId;
    private readonly bool _allThreads;
    private readonly List<ThreadLog> _logs = [];
    private long _stopTicks;
    private List<ProfilerEvent>? _events;
    private List<(RawEvent E, int ThreadId)> _raw = [];

    private Profiler(bool allThreads)
    {
        _allThreads = allThreads;
        _startTicks = Stopwatch.GetTimestamp();
    }

    /// <summary>True while a profiler records (the one check ops make).</summary>
    public static bool IsActive => s_active;

    /// <summary>
    /// Starts recording the ops this thread runs (and those of every thread, with <paramref name="allThreads"/>).
    /// Stop with <see cref="Stop"/> or by disposing.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another profiler is recording.</exception>
    public static Profiler Start(bool allThreads = false)
    {
        var p = new Profiler(allThreads);
        if (Interlocked.CompareExchange(ref s_current, p, null) is not null)
            throw new InvalidOperationException("Profiler.Start: a profiler is already recording; stop (or dispose) it first.");
        p.LogForThisThread();   // the starting thread's first op is timed from here
        Volatile.Write(ref s_active, true);
        return p;
    }

    /// <summary>True until <see cref="Stop"/>.</summary>
    public bool IsRecording => _events is null;

    /// <summary>Wall time from <see cref="Start"/> to <see cref="Stop"/> (so far, while recording).</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startTicks, _events is null ? Stopwatch.GetTimestamp() : _stopTicks);

    /// <summary>Stops recording (again: no effect). Scopes still open on other threads are left out.</summary>
    public void Stop()
    {
        if (_events is not null) return;
        _stopTicks = Stopwatch.GetTimestamp();
        Volatile.Write(ref s_active, false);
        Interlocked.CompareExchange(ref s_current, null, this);
        var raw = new List<(RawEvent E, int ThreadId)>();
        lock (_logs)
        {
            foreach (var log in _logs)
                lock (log)
                    foreach (var e in log.Events) raw.Add((e, log.ThreadId));
        }
        raw.Sort((a, b) => a.ThreadId != b.ThreadId ? a.ThreadId.CompareTo(b.ThreadId)
            : a.E.Start != b.E.Start ? a.E.Start.CompareTo(b.E.Start) : a.E.Depth.CompareTo(b.E.Depth));
        _raw = raw;
        _events = raw.ConvertAll(r => ToPublic(r.E, r.ThreadId));
    }

    /// <summary>Stops recording.</summary>
    public void Dispose() => Stop();

    /// <summary>Every recorded event, by thread then start time (parents before their children).</summary>
    /// <exception cref="InvalidOperationException">The profiler is still recording.</exception>
    public IReadOnlyList<ProfilerEvent> Events => _events
        ?? throw new InvalidOperationException("Profiler.Events: the profiler is still recording; call Stop() first.");

    private ProfilerEvent ToPublic(in RawEvent e, int threadId) => new(
        e.Name, e.Kind, e.Module, threadId, e.Depth,
        Stopwatch.GetElapsedTime(_startTicks, e.Start), Stopwatch.GetElapsedTime(e.Start, e.End),
        Stopwatch.GetElapsedTime(0, e.End - e.Start - e.ChildTicks), e.Bytes, e.Bytes - e.ChildBytes);

    // ---------------- recording (called by the engine, Sequential, Optimizer and Scope) ----------------

    private ThreadLog LogForThisThread()
    {
        var log = t_log;
        if (log is not null && ReferenceEquals(log.Owner, this)) return log;
        log = new ThreadLog(this, Environment.CurrentManagedThreadId);
        lock (_logs) _logs.Add(log);
        t_log = log;
        return log;
    }

    private static ThreadLog? CurrentLog()
    {
        var p = s_current;
        return p is null || (!p._allThreads && Environment.CurrentManagedThreadId != p._threadId) ? null : p.LogForThisThread();
    }

    /// <summary>An op finished its forward: <paramref name="nodeName"/> is its graph node's name ("MulBackward").</summary>
    internal static void OnForward(string nodeName)
    {
        var log = CurrentLog();
        if (log is null) return;
        long now = Stopwatch.GetTimestamp(), bytes = GC.GetAllocatedBytesForCurrentThread();
        lock (log) log.Add(new RawEvent(log.ForwardName(nodeName), ProfilerEventKind.Forward, log.Module, log.Depth, log.LastTicks, now, bytes - log.LastBytes, 0, 0));
        log.Restart();
    }

    /// <summary>The module path ops record now (kept on graph nodes, so their backward shows the layer too).</summary>
    internal static string? CurrentModule => s_active && t_log is { } log && ReferenceEquals(log.Owner, s_current) ? log.Module : null;

    /// <summary>Opens a nested event; <see cref="End"/> closes it. <paramref name="module"/>: the module path inside it.</summary>
    internal static bool Begin(string name, ProfilerEventKind kind, string? module)
    {
        var log = CurrentLog();
        if (log is null) return false;
        log.Push(name, kind, module);
        return true;
    }

    internal static void End()
    {
        var log = t_log;
        if (log is null || !ReferenceEquals(log.Owner, s_current)) return;   // stopped meanwhile: the event is dropped
        long now = Stopwatch.GetTimestamp(), bytes = GC.GetAllocatedBytesForCurrentThread();
        lock (log) log.Pop(now, bytes);
        log.Restart();
    }

    /// <summary>
    /// A named region of the timeline (as <c>torch.profiler.record_function</c>): the ops inside it nest under it.
    /// Costs nothing when no profiler records. <c>using (Profiler.Scope("data")) batch = loader.Next();</c>
    /// </summary>
    public static ProfilerScope Scope(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new ProfilerScope(s_active && Begin(name, ProfilerEventKind.Scope, null));
    }

    /// <summary>
    /// Layer <paramref name="index"/> of a Sequential as an event named "Type [path]" (path: its state-dict prefix,
    /// e.g. "features.0"); the names are made once per layer and place, so a profiled step allocates none.
    /// </summary>
    internal static ProfilerScope ModuleScope(NN.Module module, int index)
    {
        var log = CurrentLog();
        if (log is null) return default;
        var (name, path) = log.ModuleName(module, index);
        log.Push(name, ProfilerEventKind.Module, path);
        return new ProfilerScope(true);
    }
}

/// <summary>An open <see cref="Profiler.Scope"/>: dispose it to close the event.</summary>
public readonly struct ProfilerScope : IDisposable
{
    private readonly bool _open;

    internal ProfilerScope(bool open) => _open = open;

    /// <summary>Closes the event.</summary>
    public void Dispose()
    {
        if (_open) Profiler.End();
    }
}
