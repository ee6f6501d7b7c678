namespace Nabla.NN;

/// <summary>A tensor that is a learnable parameter of a <see cref="Module"/>: a leaf that requires grad.</summary>
public sealed class Parameter : Tensor
{
    /// <summary>Wraps <paramref name="data"/>'s storage (made contiguous) as a parameter.</summary>
    public Parameter(Tensor data, bool requiresGrad = true)
        : base(Contig(data)._storage, Contig(data)._shape.ToArray(), Contig(data)._strides.ToArray(), Contig(data)._offset)
    {
        RequiresGrad = requiresGrad;
    }

    private static Tensor Contig(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return t.IsContiguous ? t : t.Detach().Contiguous();
    }

    /// <summary>Overwrites the values with <paramref name="source"/>'s (same shape), outside the graph.</summary>
    public void Copy(Tensor source)
    {
        if (!ShapeUtil.SameShape(source.Shape, Shape))
            throw new ArgumentException($"Parameter.Copy: source shape {ShapeUtil.Format(source.Shape)} does not match {ShapeUtil.Format(Shape)}.");
        CopyFrom(source);
    }
}
