using Nabla.Autograd;

namespace Nabla;

// Joining and splitting along a dim; each backward hands every input its own slice of the residual.
public partial class Tensor
{
    /// <summary>Concatenates tensors along an existing dim. Shape: sizes along <paramref name="dim"/> add up, others must match.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Cat: expected at least one tensor.");
        var first = tensors[0];
        int d = ShapeUtil.Dim("Cat", dim, first.Rank);
        int total = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            CheckSameDType("Cat", first, t);
            if (t.Rank != first.Rank) throw new ArgumentException($"Cat: tensor {i} has shape {ShapeUtil.Format(t._shape)} but tensor 0 has {ShapeUtil.Format(first._shape)}; ranks must match.");
            for (int k = 0; k < first.Rank; k++)
                if (k != d && t._shape[k] != first._shape[k])
                    throw new ArgumentException($"Cat: tensor {i} has shape {ShapeUtil.Format(t._shape)} but tensor 0 has {ShapeUtil.Format(first._shape)}; sizes must match except in dim {d}.");
            total += t._shape[d];
        }
        var shape = first._shape.ToArray();
        shape[d] = total;
        var y = Empty(first.DType, shape);
        var sizes = new int[tensors.Count];
        int at = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            sizes[i] = tensors[i]._shape[d];
            y.Detach().Slice(d, at, at + sizes[i]).CopyFrom(tensors[i]);
            at += sizes[i];
        }
        return Engine.Record(y, "CatBackward", [.. tensors], g =>
        {
            var grads = new Tensor?[sizes.Length];
            int start = 0;
            for (int i = 0; i < sizes.Length; i++)
            {
                grads[i] = g.Slice(d, start, start + sizes[i]);
                start += sizes[i];
            }
            return grads;
        });
    }

    /// <summary>Stacks same-shape tensors along a new dim. Shape: (*) × k → (*, k, *) with k inserted at <paramref name="dim"/>.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Stack: expected at least one tensor.");
        for (int i = 1; i < tensors.Count; i++)
            if (!ShapeUtil.SameShape(tensors[i]._shape, tensors[0]._shape))
                throw new ArgumentException($"Stack: tensor {i} has shape {ShapeUtil.Format(tensors[i]._shape)} but tensor 0 has {ShapeUtil.Format(tensors[0]._shape)}; all must match.");
        int d = ShapeUtil.Dim("Stack", dim, tensors[0].Rank + 1);
        return Cat(tensors.Select(t => t.Unsqueeze(d)).ToList(), d);
    }

    /// <summary>Splits into pieces of <paramref name="splitSize"/> along <paramref name="dim"/> (the last may be smaller); views.</summary>
    public Tensor[] Split(int splitSize, int dim = 0)
    {
        if (splitSize <= 0) throw new ArgumentException($"Split: split size must be positive, got {splitSize}.");
        int d = ShapeUtil.Dim("Split", dim, Rank);
        var parts = new List<Tensor>();
        for (int start = 0; start < _shape[d]; start += splitSize) parts.Add(Slice(d, start, Math.Min(start + splitSize, _shape[d])));
        return [.. parts];
    }

    /// <summary>Splits into pieces of the given sizes along <paramref name="dim"/>; the sizes must add up to the dim's size.</summary>
    public Tensor[] Split(int[] sizes, int dim = 0)
    {
        int d = ShapeUtil.Dim("Split", dim, Rank);
        if (sizes.Sum() != _shape[d] || sizes.Any(s => s < 0))
            throw new ArgumentException($"Split: sizes {ShapeUtil.Format(sizes)} do not add up to {_shape[d]}, the size of dim {d}.");
        var parts = new Tensor[sizes.Length];
        int start = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            parts[i] = Slice(d, start, start + sizes[i]);
            start += sizes[i];
        }
        return parts;
    }
}
