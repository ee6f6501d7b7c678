using Nabla.Autograd;

namespace Nabla.Distributed;

/// <summary>The all-reduce as a differentiable op, for layers whose statistics span the ranks (SyncBatchNorm).</summary>
internal static class AllReduceOp
{
    // y = Σ_ranks x  ⇒  each rank's dx = Σ_ranks dy: every rank's loss depends on y, so the residuals of all ranks meet
    public static Tensor Sum(Tensor x, ProcessGroup group)
    {
        Tensor y;
        using (Tensor.NoGrad()) y = x.Contiguous().Clone();
        group.AllReduce(y);
        return Engine.Record(y, "AllReduceBackward", [x], g =>
        {
            var s = g.Contiguous().Clone();
            group.AllReduce(s);
            return [s];
        }, firstOrderOnly: true);
    }
}
