using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Nabla.IO;

namespace Nabla.Diagnostics;

public sealed partial class Profiler
{
    /// <summary>
    /// The events summed per name (and per layer when <paramref name="groupByModule"/>), most self time first, as
    /// <c>torch.profiler</c>'s <c>key_averages()</c>: calls, self time (without nested events), total time, their
    /// share of all self time, and managed bytes allocated.
    /// </summary>
    /// <exception cref="InvalidOperationException">The profiler is still recording.</exception>
    public KeyAverageTable KeyAverages(bool groupByModule = false)
    {
        _ = Events;   // throws while recording
        var rows = new Dictionary<(string, ProfilerEventKind, string?), (int Calls, long Self, long Total, long SelfBytes, long Bytes)>();
        long allSelf = 0;
        foreach (var (e, _) in _raw)
        {
            var key = (e.Name, e.Kind, groupByModule ? e.Module : null);
            rows.TryGetValue(key, out var r);
            long self = e.End - e.Start - e.ChildTicks;
            rows[key] = (r.Calls + 1, r.Self + self, r.Total + e.End - e.Start, r.SelfBytes + e.Bytes - e.ChildBytes, r.Bytes + e.Bytes);
            allSelf += self;
        }
        double pct = allSelf > 0 ? 100.0 / allSelf : 0;
        var list = rows.Select(kv => new KeyAverage(kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Value.Calls,
                Stopwatch.GetElapsedTime(0, kv.Value.Self), Stopwatch.GetElapsedTime(0, kv.Value.Total),
                kv.Value.Self * pct, kv.Value.Total * pct, kv.Value.SelfBytes, kv.Value.Bytes))
            .OrderByDescending(r => r.SelfTime).ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
        return new KeyAverageTable(list, groupByModule);
    }

    /// <summary>
    /// Writes the events as Chrome trace-event JSON (<c>{"traceEvents": [...]}</c>, complete events <c>"ph": "X"</c>,
    /// times in µs from the start, one track per thread), which chrome://tracing and ui.perfetto.dev open.
    /// The file is replaced atomically.
    /// </summary>
    /// <exception cref="InvalidOperationException">The profiler is still recording.</exception>
    public void ExportChromeTrace(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _ = Events;
        int pid = Environment.ProcessId;
        double us = 1e6 / Stopwatch.Frequency;
        AtomicFile.Write(path, stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
            w.WriteStartObject();
            w.WriteString("displayTimeUnit", "ms");
            w.WriteStartArray("traceEvents");
            foreach (int tid in _raw.Select(r => r.ThreadId).Distinct())
            {
                w.WriteStartObject();
                w.WriteString("name", "thread_name");
                w.WriteString("ph", "M");
                w.WriteNumber("pid", pid);
                w.WriteNumber("tid", tid);
                w.WriteStartObject("args");
                w.WriteString("name", tid == _raw[0].ThreadId ? $"thread {tid} (main)" : $"thread {tid}");
                w.WriteEndObject();
                w.WriteEndObject();
            }
            foreach (var (e, tid) in _raw)
            {
                w.WriteStartObject();
                w.WriteString("name", e.Name);
                w.WriteString("cat", e.Kind.ToString().ToLowerInvariant());
                w.WriteString("ph", "X");
                w.WriteNumber("ts", Math.Round((e.Start - _startTicks) * us, 3));
                w.WriteNumber("dur", Math.Round((e.End - e.Start) * us, 3));
                w.WriteNumber("pid", pid);
                w.WriteNumber("tid", tid);
                w.WriteStartObject("args");
                if (e.Module is not null) w.WriteString("module", e.Module);
                w.WriteNumber("allocated_bytes", e.Bytes);
                w.WriteNumber("self_allocated_bytes", e.Bytes - e.ChildBytes);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }
}

/// <summary>One row of <see cref="Profiler.KeyAverages"/>: an event name's calls, times (self: without nested events) and bytes.</summary>
public sealed record KeyAverage(string Name, ProfilerEventKind Kind, string? Module, int Calls, TimeSpan SelfTime,
    TimeSpan TotalTime, double SelfPercent, double TotalPercent, long SelfAllocatedBytes, long AllocatedBytes)
{
    /// <summary>Total time per call.</summary>
    public TimeSpan AverageTime => Calls == 0 ? TimeSpan.Zero : TotalTime / Calls;
}

/// <summary>The rows of <see cref="Profiler.KeyAverages"/>, most self time first; <see cref="Table"/> prints them.</summary>
public sealed class KeyAverageTable(IReadOnlyList<KeyAverage> rows, bool byModule) : IReadOnlyList<KeyAverage>
{
    /// <inheritdoc/>
    public KeyAverage this[int index] => rows[index];

    /// <inheritdoc/>
    public int Count => rows.Count;

    /// <inheritdoc/>
    public IEnumerator<KeyAverage> GetEnumerator() => rows.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The row named <paramref name="name"/> (the first, when grouped by module), or null.</summary>
    public KeyAverage? Find(string name) => rows.FirstOrDefault(r => r.Name == name);

    /// <summary>A fixed-width text table of the first <paramref name="rowLimit"/> rows, as torch's <c>table()</c>.</summary>
    public string Table(int rowLimit = 40)
    {
        var inv = CultureInfo.InvariantCulture;
        var shown = rows.Take(rowLimit).ToList();
        int nameW = Math.Max(4, shown.Select(r => r.Name.Length).DefaultIfEmpty(0).Max());
        int modW = byModule ? Math.Max(6, shown.Select(r => r.Module?.Length ?? 1).DefaultIfEmpty(0).Max()) : 0;
        var sb = new System.Text.StringBuilder();
        string Head() => string.Create(inv, $"{"Name".PadRight(nameW)}  {(byModule ? "Module".PadRight(modW) + "  " : "")}{"Kind",-8}  {"Calls",7}  {"Self ms",10}  {"Self %",7}  {"Total ms",10}  {"Total %",7}  {"Avg us",10}  {"Self alloc",11}  {"Alloc",11}");
        string head = Head();
        sb.AppendLine(new string('-', head.Length)).AppendLine(head).AppendLine(new string('-', head.Length));
        foreach (var r in shown)
            sb.AppendLine(string.Create(inv,
                $"{r.Name.PadRight(nameW)}  {(byModule ? (r.Module ?? "-").PadRight(modW) + "  " : "")}{r.Kind.ToString().ToLowerInvariant(),-8}  {r.Calls,7}  {r.SelfTime.TotalMilliseconds,10:F3}  {r.SelfPercent,6:F1}%  {r.TotalTime.TotalMilliseconds,10:F3}  {r.TotalPercent,6:F1}%  {r.AverageTime.TotalMicroseconds,10:F1}  {Bytes(r.SelfAllocatedBytes),11}  {Bytes(r.AllocatedBytes),11}"));
        sb.AppendLine(new string('-', head.Length));
        var selfSum = TimeSpan.FromTicks(rows.Sum(r => r.SelfTime.Ticks));
        sb.Append(string.Create(inv, $"Self time total: {selfSum.TotalMilliseconds:F3} ms, allocated: {Bytes(rows.Sum(r => r.SelfAllocatedBytes))}"));
        if (rows.Count > shown.Count) sb.Append(string.Create(inv, $" ({rows.Count - shown.Count} more rows not shown)"));
        return sb.AppendLine().ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => Table();

    private static string Bytes(long b) => b switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{b} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{b / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{b / (1024.0 * 1024):F1} MiB"),
    };
}
