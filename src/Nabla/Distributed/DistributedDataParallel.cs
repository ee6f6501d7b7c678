using System.Diagnostics;
using Nabla.Autograd;
using Nabla.NN;

namespace Nabla.Distributed;

/// <summary>
/// Data-parallel training over MPI, as PyTorch's <c>DistributedDataParallel</c>: every rank holds a replica of the
/// model and runs it on its own slice of the global batch; at construction rank 0's parameters and buffers are copied
/// to every rank, and during backward the gradients are averaged over the ranks by all-reduce, in buckets of about
/// <c>bucketCapMB</c> megabytes in reverse parameter order, each launched as soon as its last gradient is final (a
/// post-accumulate-grad hook) so communication overlaps the rest of the backward pass. After <c>Backward</c> every
/// rank holds the same averaged gradients, so the same optimizer step keeps the replicas identical.
/// Shape: whatever <see cref="Module"/> takes and returns.
/// </summary>
public sealed class DistributedDataParallel : Module
{
    private readonly ProcessGroup _group;
    private readonly GradBucket[] _buckets;
    private readonly Dictionary<Tensor, (GradBucket Bucket, int Slot)> _slots = new(ReferenceEqualityComparer.Instance);
    private int _nextLaunch;
    private readonly Stopwatch _waiting = new();

    /// <summary>Wraps <paramref name="module"/> (registered as <c>module</c>, PyTorch's key prefix) and broadcasts rank 0's state.</summary>
    /// <param name="module">The model replica of this rank.</param>
    /// <param name="processGroup">The ranks to average over (default: <see cref="ProcessGroup.World"/>).</param>
    /// <param name="bucketCapMB">The size of a gradient bucket in megabytes (PyTorch's default 25).</param>
    /// <param name="broadcastBuffers">Copy rank 0's buffers (e.g. BatchNorm's running statistics) to every rank before each training forward, as PyTorch does.</param>
    /// <exception cref="InvalidOperationException">MPI was not initialised (<see cref="ProcessGroup.Init"/>).</exception>
    public DistributedDataParallel(Module module, ProcessGroup? processGroup = null, double bucketCapMB = 25, bool broadcastBuffers = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!(bucketCapMB > 0)) throw new ArgumentOutOfRangeException(nameof(bucketCapMB), $"DistributedDataParallel: bucketCapMB must be positive, got {bucketCapMB}.");
        _group = processGroup ?? ProcessGroup.World
            ?? throw new InvalidOperationException("DistributedDataParallel: MPI is not initialised; call ProcessGroup.Init() first (and start the program with mpirun).");
        Module = RegisterModule("module", module);
        BroadcastBuffers = broadcastBuffers;
        using (Tensor.NoGrad())
            foreach (var (_, t) in module.StateDict()) _group.Broadcast(t, 0);
        _buckets = MakeBuckets(module.Parameters().Where(p => p.RequiresGrad).Reverse(), (long)(bucketCapMB * 1024 * 1024));
        foreach (var b in _buckets)
            for (int i = 0; i < b.Parameters.Length; i++)
            {
                _slots.Add(b.Parameters[i], (b, i));
                b.Parameters[i].RegisterPostAccumulateGradHook(OnGradReady);
            }
    }

    /// <summary>The wrapped model.</summary>
    public Module Module { get; }

    /// <summary>Whether rank 0's buffers are broadcast before each training forward.</summary>
    public bool BroadcastBuffers { get; }

    /// <summary>The ranks the gradients are averaged over.</summary>
    public ProcessGroup ProcessGroup => _group;

    /// <summary>The number of gradient buckets (one all-reduce each per backward pass).</summary>
    public int BucketCount => _buckets.Length;

    /// <summary>Time this rank spent blocked on gradient all-reduces at the end of backward passes, since construction.</summary>
    public TimeSpan CommunicationWait => _waiting.Elapsed;

    /// <summary>Runs the wrapped model (after copying rank 0's buffers, in training mode with grad enabled).</summary>
    public override Tensor Forward(Tensor input)
    {
        CheckNoReductionPending();
        if (BroadcastBuffers && Training && GradMode.IsEnabled)
            using (Tensor.NoGrad())
                foreach (var (_, b) in Module.NamedBuffers()) _group.Broadcast(b, 0);
        return Module.Forward(input);
    }

    private static GradBucket[] MakeBuckets(IEnumerable<Parameter> reversed, long capBytes)
    {
        var buckets = new List<GradBucket>();
        var open = new Dictionary<DType, (List<Parameter> Ps, long Bytes)>();
        foreach (var p in reversed)
        {
            if (!open.TryGetValue(p.DType, out var cur)) cur = ([], 0);
            cur.Ps.Add(p);
            cur.Bytes += (long)p.Numel * p.DType.ElementSize();
            open[p.DType] = cur;
            if (cur.Bytes >= capBytes)
            {
                buckets.Add(new GradBucket(buckets.Count, p.DType, [.. cur.Ps]));
                open.Remove(p.DType);
            }
        }
        foreach (var (dtype, cur) in open) buckets.Add(new GradBucket(buckets.Count, dtype, [.. cur.Ps]));
        return [.. buckets];
    }

    // the engine's hook: this parameter's Grad is final for the pass in progress
    private void OnGradReady(Tensor p)
    {
        var (bucket, slot) = _slots[p];
        bool full = bucket.Fill(slot, p.GradInternal!);
        // every rank must start the same collectives in the same order: launch buckets in index order only
        if (full)
            while (_nextLaunch < _buckets.Length && _buckets[_nextLaunch].Ready)
                _buckets[_nextLaunch++].Launch(_group);
        // MPI progresses non-blocking collectives only inside MPI calls: give the ones in flight a turn
        for (int i = 0; i < _nextLaunch; i++) _buckets[i].Op!.Test();
        if (_nextLaunch == _buckets.Length) FinishReduction();
    }

    private void FinishReduction()
    {
        _waiting.Start();
        try
        {
            foreach (var b in _buckets) _group.Wait(b.Op!);
        }
        finally
        {
            _waiting.Stop();
        }
        foreach (var b in _buckets) b.Finish(_group.WorldSize);
        _nextLaunch = 0;
    }

    private void CheckNoReductionPending()
    {
        if (!_buckets.Any(b => b.Started)) return;
        var names = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, p) in Module.NamedParameters()) names[p] = name;
        var missing = _buckets.SelectMany(b => b.Missing()).Select(p => names[p]).ToList();
        throw new InvalidOperationException(
            $"DistributedDataParallel: the last backward pass gave no gradient to {missing.Count} parameter(s) ({string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", ..." : "")}), so their all-reduce never ran. " +
            "Every parameter that requires grad must take part in the loss (set RequiresGrad = false on those that do not).");
    }
}
