using System.Globalization;
using System.Text;

namespace Nabla;

// ToString prints like PyTorch: tensor([[ 0.1000, -1.2000], ...], requires_grad=True).
public partial class Tensor
{
    private const int SummarizeAbove = 1000, EdgeItems = 3, LineWidth = 80;

    /// <summary>The values, formatted as PyTorch prints them (summarised with ... beyond 1000 elements, rows wrapped at 80 columns).</summary>
    public override string ToString()
    {
        bool summarize = Numel > SummarizeAbove;
        // as PyTorch, the format is chosen from the elements actually shown
        var shown = new List<int>();
        if (Rank == 0) shown.Add(0);
        else if (Numel > 0) CollectShown(shown, 0, 0, summarize);
        var fmt = ChooseFormat(shown);
        var sb = new StringBuilder("tensor(");
        var suffixes = new List<string>();
        if (Numel == 0)
        {
            sb.Append("[]");
            if (Rank != 1) suffixes.Add("size=(" + string.Join(", ", _shape) + ")");
        }
        else if (Rank == 0) sb.Append(fmt.Format(0));
        else AppendDim(sb, 0, 0, fmt, summarize, indent: 7);
        // float32, int64 and bool are what PyTorch infers from Python values, so it names only the others
        if (DType == DType.Float64) suffixes.Add("dtype=" + DType.Name());
        if (GradFn is not null) suffixes.Add("grad_fn=<" + GradFn.Name + ">");
        else if (RequiresGrad) suffixes.Add("requires_grad=True");
        // a suffix that would overflow the last line goes on a line of its own (PyTorch's _add_suffixes)
        var text = sb.ToString();
        int lastLine = text.Length - text.LastIndexOf('\n') + 1;
        foreach (var suffix in suffixes)
        {
            if (lastLine + suffix.Length + 2 > LineWidth)
            {
                sb.Append(",\n").Append(' ', 7).Append(suffix);
                lastLine = 7 + suffix.Length;
            }
            else
            {
                sb.Append(", ").Append(suffix);
                lastLine += suffix.Length + 2;
            }
        }
        return sb.Append(')').ToString();
    }

    private int RowStride(int dim)
    {
        int stride = 1;
        for (int k = dim + 1; k < Rank; k++) stride *= _shape[k];
        return stride;
    }

    private void CollectShown(List<int> shown, int dim, int offset, bool summarize)
    {
        int n = _shape[dim], stride = RowStride(dim);
        for (int i = 0; i < n; i++)
        {
            if (summarize && n > 2 * EdgeItems && i == EdgeItems) i = n - EdgeItems;
            if (dim == Rank - 1) shown.Add(offset + i);
            else CollectShown(shown, dim + 1, offset + i * stride, summarize);
        }
    }

    private void AppendDim(StringBuilder sb, int dim, int offset, ValueFormat fmt, bool summarize, int indent)
    {
        int n = _shape[dim], stride = RowStride(dim);
        bool skip = summarize && n > 2 * EdgeItems;
        sb.Append('[');
        if (dim == Rank - 1)
        {
            // a row: items joined by ", ", wrapped every perLine items (the " ..." marker counts as one)
            int perLine = Math.Max(1, (LineWidth - indent - dim) / (fmt.Width + 2));
            var items = new List<string>();
            for (int i = 0; i < n; i++)
            {
                if (skip && i == EdgeItems)
                {
                    items.Add(" ...");
                    i = n - EdgeItems;
                }
                items.Add(fmt.Format(offset + i));
            }
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0) sb.Append(i % perLine == 0 ? ",\n" + new string(' ', indent + dim + 1) : ", ");
                sb.Append(items[i]);
            }
            sb.Append(']');
            return;
        }
        string separator = "," + new string('\n', Rank - 1 - dim) + new string(' ', indent + dim + 1);
        for (int i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(separator);
            if (skip && i == EdgeItems)
            {
                sb.Append("...").Append(separator);
                i = n - EdgeItems;
            }
            AppendDim(sb, dim + 1, offset + i * stride, fmt, summarize, indent);
        }
        sb.Append(']');
    }

    // What PyTorch's _Formatter decides from the nonzero finite values shown: integers as "3.", fixed 4 decimals,
    // or scientific when the range is wide; every entry right-aligned to the widest of those values (at least 1).
    // (int64 and bool print as PyTorch's: whole numbers, True/False, right-aligned to the widest shown)
    private readonly record struct ValueFormat(Func<int, string> Raw, int Width)
    {
        public string Format(int flat) => Raw(flat).PadLeft(Width);
    }

    private ValueFormat ChooseFormat(List<int> shownFlat)
    {
        var inv = CultureInfo.InvariantCulture;
        if (DType == DType.Int64 || DType == DType.Bool)
        {
            Func<int, string> text;
            if (DType == DType.Int64) { var longs = ToInt64Array(); text = i => longs[i].ToString(inv); }
            else { var bools = ToBoolArray(); text = i => bools[i] ? "True" : "False"; }
            return new ValueFormat(text, shownFlat.Select(i => text(i).Length).DefaultIfEmpty(1).Max());
        }
        var values = ToDoubleArray();
        var fv = ChooseFloatFormat(shownFlat.Select(i => values[i]).ToList());
        return new ValueFormat(i => fv.Raw(values[i]), fv.Width);
    }

    private static (Func<double, string> Raw, int Width) ChooseFloatFormat(List<double> shown)
    {
        var nonzero = shown.Where(v => double.IsFinite(v) && v != 0).ToArray();
        var inv = CultureInfo.InvariantCulture;
        bool intMode = nonzero.All(v => v == Math.Ceiling(v));
        bool sci = false;
        if (nonzero.Length > 0)
        {
            double max = nonzero.Max(Math.Abs), min = nonzero.Min(Math.Abs);
            sci = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
        }
        Func<double, string> raw = sci ? v => double.IsFinite(v) ? v.ToString("0.0000e+00", inv) : Special(v)
            : intMode ? v => double.IsFinite(v) ? v.ToString("0", inv) + "." : Special(v)
            : v => double.IsFinite(v) ? v.ToString("0.0000", inv) : Special(v);
        int width = nonzero.Select(v => raw(v).Length).DefaultIfEmpty(1).Max();
        return (raw, width);
    }

    private static string Special(double v) => double.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
}
