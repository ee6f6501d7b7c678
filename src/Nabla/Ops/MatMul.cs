using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// Matrix products on the packed GEMM kernel. Transposed operands are passed as transpose flags, never copied.
public partial class Tensor
{
    /// <summary>
    /// Matrix product with torch.matmul's semantics: 1-D·1-D is a dot product, 2-D·2-D a matrix product, and
    /// higher ranks are batches of matrices whose batch dims broadcast.
    /// Shape: (*, m, k) · (*, k, n) → (broadcast(*), m, n); a 1-D left operand gets a 1 prepended, a 1-D right one a 1 appended, both removed afterwards.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0)
            throw new ArgumentException($"MatMul: both operands need at least 1 dim, got shapes {ShapeUtil.Format(a._shape)} and {ShapeUtil.Format(b._shape)}.");
        CheckSameDType("MatMul", a, b);
        var a2 = a.Rank == 1 ? a.Unsqueeze(0) : a;
        var b2 = b.Rank == 1 ? b.Unsqueeze(-1) : b;
        var y = MatMulBatched(a2, b2, a._shape, b._shape);
        if (b.Rank == 1) y = y.Squeeze(-1);
        if (a.Rank == 1) y = y.Squeeze(a.Rank == 1 && b.Rank == 1 ? -1 : -2);
        return y;
    }

    /// <summary>Matrix product a · b (same as <see cref="MatMul(Tensor, Tensor)"/>).</summary>
    public Tensor MatMul(Tensor other) => MatMul(this, other);

    // dA = g·Bᵀ, dB = Aᵀ·g, each summed over the batch dims it was broadcast along
    private static Tensor MatMulBatched(Tensor a, Tensor b, int[] origA, int[] origB)
    {
        int m = a._shape[^2], k = a._shape[^1], k2 = b._shape[^2], n = b._shape[^1];
        if (k != k2)
            throw new ArgumentException($"MatMul: shapes {ShapeUtil.Format(origA)} and {ShapeUtil.Format(origB)} cannot be multiplied ({k} columns vs {k2} rows).");
        var batchShape = ShapeUtil.Broadcast("MatMul", a._shape.AsSpan(0, a.Rank - 2), b._shape.AsSpan(0, b.Rank - 2));
        int batch = ShapeUtil.Numel(batchShape);
        var outShape = batchShape.Append(m).Append(n).ToArray();
        var y = Uninitialized(a.DType, outShape);
        var (pa, ta, lda, sa) = MatrixOperand(a, batchShape);
        var (pb, tb, ldb, sb) = MatrixOperand(b, batchShape);
        // the kernels' batched GEMM is a float/double pair of public entry points, not one generic method
        switch (a.DType)
        {
            case DType.Float32:
                Gemm.SgemmBatched(batch, ta, tb, m, n, k, 1f, pa.Buffer<float>().AsSpan(pa._offset), lda, sa, pb.Buffer<float>().AsSpan(pb._offset), ldb, sb, 0f, y.Buffer<float>(), n, (long)m * n);
                break;
            case DType.Float64:
                Gemm.DgemmBatched(batch, ta, tb, m, n, k, 1.0, pa.Buffer<double>().AsSpan(pa._offset), lda, sa, pb.Buffer<double>().AsSpan(pb._offset), ldb, sb, 0.0, y.Buffer<double>(), n, (long)m * n);
                break;
            default: throw DTypeDispatch.Unsupported("MatMul", a.DType);
        }
        // under createGraph the products run as recorded MatMuls (MatMulBatched records nothing), so they can be differentiated
        return Engine.Record(y, "MatMulBackward", [a, b], g => GradMode.IsEnabled
            ? [a.RequiresGrad ? MatMul(g, b.Transpose(-1, -2)).SumTo(a._shape) : null,
               b.RequiresGrad ? MatMul(a.Transpose(-1, -2), g).SumTo(b._shape) : null]
            : [a.RequiresGrad ? MatMulBatched(g, b.Detach().Transpose(-1, -2), g._shape, b._shape).SumTo(a._shape) : null,
               b.RequiresGrad ? MatMulBatched(a.Detach().Transpose(-1, -2), g, a._shape, g._shape).SumTo(b._shape) : null]);
    }

    // How GEMM reads one operand broadcast to batchShape: its storage, transpose flag, leading dim and batch stride.
    // A matrix must be row- or column-major and the batch walkable with one stride (0 = broadcast); else it is copied.
    private static (Tensor T, bool Trans, int Ld, long BatchStride) MatrixOperand(Tensor x, int[] batchShape)
    {
        int rows = x._shape[^2], cols = x._shape[^1];
        int rs = x._strides[^2], cs = x._strides[^1];
        bool rowMajor = (cols == 1 || cs == 1) && (rows == 1 || rs >= Math.Max(cols, 1));
        bool colMajor = (rows == 1 || rs == 1) && (cols == 1 || cs >= Math.Max(rows, 1));
        var fullShape = batchShape.Append(rows).Append(cols).ToArray();
        if ((rowMajor || colMajor) && BatchStride(x.BroadcastStrides(fullShape), batchShape) is long stride)
        {
            return rowMajor
                ? (x, false, rows == 1 ? Math.Max(cols, 1) : rs, stride)
                : (x, true, cols == 1 ? Math.Max(rows, 1) : cs, stride);
        }
        Tensor dense;
        using (NoGrad()) dense = x.Detach().Expand(fullShape).Contiguous();
        return (dense, false, Math.Max(cols, 1), (long)rows * cols);
    }

    // The one stride that walks all batch dims in order (0 when broadcast), or null when there is none.
    private static long? BatchStride(int[] strides, int[] batchShape)
    {
        long stride = 0, expected = -1;
        for (int i = batchShape.Length - 1; i >= 0; i--)
        {
            if (batchShape[i] == 1) continue;
            if (expected < 0)
            {
                stride = strides[i];
                expected = stride * batchShape[i];
            }
            else if (strides[i] == expected) expected *= batchShape[i];
            else return null;
        }
        return stride;
    }
}
