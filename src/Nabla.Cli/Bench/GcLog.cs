using System.Diagnostics.Tracing;
using System.Globalization;

namespace Nabla.Benchmarks;

/// <summary>
/// With <c>NABLA_BENCH_GCLOG=1</c>, the harness prints every collection of a timed loop as a <c># gc:</c> line: the
/// generation it condemned and the runtime's reason (the GCStart event, read in process). It answers what a RESULT
/// line's gen2 count cannot: whether the step's own allocation triggered the collection (AllocSmall, AllocLarge) and
/// whether the GC escalated a budget overrun to a full collection. Off by default: the listener's dispatch thread
/// would share the two cores with the timed loop. NativeAOT builds have no runtime event source and print nothing.
/// </summary>
internal sealed class GcLog : EventListener
{
    private static readonly string[] s_reasons =
    [
        "AllocSmall", "Induced", "LowMemory", "Empty", "AllocLarge", "OutOfSpaceSOH", "OutOfSpaceLOH", "InducedNotForced",
        "Internal", "InducedLowMemory", "InducedCompacting", "LowMemoryHost", "PMFullGC", "LowMemoryHostBlocking",
    ];

    private readonly List<string> _lines = [];
    private long _start;

    /// <summary>True when the environment asks for the log.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("NABLA_BENCH_GCLOG") == "1";

    /// <summary>A listener for one timed loop, or null when the log is off.</summary>
    public static GcLog? Start() => Enabled ? new GcLog { _start = System.Diagnostics.Stopwatch.GetTimestamp() } : null;

    protected override void OnEventSourceCreated(EventSource source)
    {
        // keyword 0x1: GC events; Informational level carries GCStart without the per-allocation ticks
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Informational, (EventKeywords)0x1);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is not "GCStart_V2" || e.Payload is not { Count: >= 3 } p) return;
        int depth = Convert.ToInt32(p[1], CultureInfo.InvariantCulture), reason = Convert.ToInt32(p[2], CultureInfo.InvariantCulture);
        double ms = (System.Diagnostics.Stopwatch.GetTimestamp() - _start) * 1e3 / System.Diagnostics.Stopwatch.Frequency;
        lock (_lines)
            _lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"gen{depth} {(reason >= 0 && reason < s_reasons.Length ? s_reasons[reason] : "reason " + reason)} at {ms:F0} ms"));
    }

    /// <summary>
    /// Stops listening and prints what was seen for <paramref name="what"/>; <paramref name="expected"/> is the loop's
    /// collection count (events arrive on another thread: waits briefly for the last).
    /// </summary>
    public void Finish(string what, int expected)
    {
        for (int i = 0; i < 20 && Count() < expected; i++) Thread.Sleep(10);
        Dispose();
        lock (_lines)
            Console.WriteLine($"# gc: {what}: " + (_lines.Count > 0 ? string.Join("; ", _lines)
                : expected == 0 ? "no collections"
                : $"{expected} collection(s), reasons unknown (this build has no runtime event source)"));
    }

    private int Count()
    {
        lock (_lines) return _lines.Count;
    }
}
