using System.Diagnostics;

namespace Nabla.Diagnostics;

public sealed partial class Profiler
{
    // Start/End in Stopwatch ticks; ChildTicks/ChildBytes: what the direct children took (self = total - children).
    private readonly record struct RawEvent(string Name, ProfilerEventKind Kind, string? Module, int Depth,
        long Start, long End, long Bytes, long ChildTicks, long ChildBytes);

    private struct Frame
    {
        public string Name;
        public ProfilerEventKind Kind;
        public string? Module, OuterModule;
        public long Start, StartBytes, StartOwnBytes, ChildTicks, ChildBytes;
    }

    /// <summary>One thread's events and open frames; only its own thread writes it (Stop reads it under the lock).</summary>
    private sealed class ThreadLog(Profiler owner, int threadId)
    {
        public readonly Profiler Owner = owner;
        public readonly int ThreadId = threadId;
        public readonly List<RawEvent> Events = new(4096);
        private readonly Dictionary<string, string> _forwardNames = [];
        private readonly Dictionary<(NN.Module, string?, int), (string Name, string Path)> _moduleNames = [];
        // bytes the profiler allocated itself (its event list growing, its name caches filling), left out of the events'
        private long _ownBytes;
        private Frame[] _open = new Frame[64];
        private int _depth;
        public long LastTicks = Stopwatch.GetTimestamp(), LastBytes = GC.GetAllocatedBytesForCurrentThread();
        public string? Module;

        public int Depth => _depth;

        // "MulBackward" → "Mul": an op's forward is named after its node without the suffix (cached: no allocation per op)
        public string ForwardName(string nodeName)
        {
            if (_forwardNames.TryGetValue(nodeName, out var name)) return name;
            long before = GC.GetAllocatedBytesForCurrentThread();
            _forwardNames[nodeName] = name = nodeName.EndsWith("Backward", StringComparison.Ordinal) && nodeName.Length > 8
                ? nodeName[..^8] : nodeName;
            _ownBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            return name;
        }

        // "Linear [features.0]": the event name and path of a Sequential's layer at this place (made once)
        public (string Name, string Path) ModuleName(NN.Module module, int index)
        {
            var key = (module, Module, index);
            if (_moduleNames.TryGetValue(key, out var known)) return known;
            long before = GC.GetAllocatedBytesForCurrentThread();
            string k = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string path = Module is null ? k : Module + "." + k;
            _moduleNames[key] = known = ($"{module.GetType().Name} [{path}]", path);
            _ownBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            return known;
        }

        public void Add(RawEvent e)
        {
            if (Events.Count == Events.Capacity)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                Events.Capacity *= 2;
                _ownBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            }
            Events.Add(e);
            if (_depth > 0)
            {
                ref var parent = ref _open[_depth - 1];
                parent.ChildTicks += e.End - e.Start;
                parent.ChildBytes += e.Bytes;
            }
        }

        public void Push(string name, ProfilerEventKind kind, string? module)
        {
            if (_depth == _open.Length) Array.Resize(ref _open, _open.Length * 2);
            ref var f = ref _open[_depth++];
            f = new Frame { Name = name, Kind = kind, Module = module ?? Module, OuterModule = Module };
            Module = f.Module;
            f.Start = LastTicks = Stopwatch.GetTimestamp();
            f.StartBytes = LastBytes = GC.GetAllocatedBytesForCurrentThread();
            f.StartOwnBytes = _ownBytes;
        }

        public void Pop(long now, long bytes)
        {
            if (_depth == 0) return;
            var f = _open[--_depth];
            Module = f.OuterModule;
            Add(new RawEvent(f.Name, f.Kind, f.Module, _depth, f.Start, now, bytes - f.StartBytes - (_ownBytes - f.StartOwnBytes), f.ChildTicks, f.ChildBytes));
        }

        // after recording an event: the next forward op is timed from here (the profiler's own work excluded)
        public void Restart()
        {
            LastTicks = Stopwatch.GetTimestamp();
            LastBytes = GC.GetAllocatedBytesForCurrentThread();
        }
    }
}
