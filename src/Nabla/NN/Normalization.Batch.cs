using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// What BatchNorm1d/2d and InstanceNorm1d/2d share (PyTorch's <c>_NormBase</c>): the affine parameters
/// <c>weight</c> (ones) and <c>bias</c> (zeros), and with running statistics the buffers <c>running_mean</c> (zeros),
/// <c>running_var</c> (ones) and <c>num_batches_tracked</c>, an int64 scalar as PyTorch's (older Nabla files that
/// stored it as a float load too).
/// </summary>
public abstract class NormBase : Module
{
    /// <summary>Registers the parameters and buffers; validates the options.</summary>
    protected NormBase(int numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats, DType dtype)
    {
        string name = GetType().Name;
        if (numFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(numFeatures), $"{name}: num_features must be positive, got {numFeatures}.");
        if (eps < 0 || double.IsNaN(eps)) throw new ArgumentOutOfRangeException(nameof(eps), $"{name}: eps must be ≥ 0, got {eps}.");
        if (momentum is { } m && !(m >= 0 && m <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), $"{name}: momentum must be in [0, 1] (or null for a cumulative average), got {m}.");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Affine = affine;
        TrackRunningStats = trackRunningStats;
        Weight = RegisterParameter("weight", affine ? new Parameter(Tensor.Ones([numFeatures], dtype)) : null);
        Bias = RegisterParameter("bias", affine ? new Parameter(Tensor.Zeros([numFeatures], dtype)) : null);
        RunningMean = RegisterBuffer("running_mean", trackRunningStats ? Tensor.Zeros([numFeatures], dtype) : null);
        RunningVar = RegisterBuffer("running_var", trackRunningStats ? Tensor.Ones([numFeatures], dtype) : null);
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", trackRunningStats ? Tensor.Zeros([], DType.Int64) : null);
    }

    /// <summary>C, the number of channels (features).</summary>
    public int NumFeatures { get; }

    /// <summary>ε added to the variance.</summary>
    public double Eps { get; }

    /// <summary>The running statistics' update factor; null means a cumulative average (factor 1/num_batches_tracked).</summary>
    public double? Momentum { get; }

    /// <summary>Whether the layer has the learnable <see cref="Weight"/> and <see cref="Bias"/>.</summary>
    public bool Affine { get; }

    /// <summary>Whether the layer keeps running statistics.</summary>
    public bool TrackRunningStats { get; }

    /// <summary>γ, or null without affine. Shape: (C).</summary>
    public Parameter? Weight { get; }

    /// <summary>β, or null without affine. Shape: (C).</summary>
    public Parameter? Bias { get; }

    /// <summary>The running mean, or null without running statistics. Shape: (C).</summary>
    public Tensor? RunningMean { get; }

    /// <summary>The running (unbiased) variance, or null without running statistics. Shape: (C).</summary>
    public Tensor? RunningVar { get; }

    /// <summary>How many training batches updated the running statistics (a float64 scalar), or null without them.</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <summary>Resets the running statistics to mean 0, variance 1, 0 batches.</summary>
    public void ResetRunningStats()
    {
        RunningMean?.CopyFrom(Tensor.Scalar(0));
        RunningVar?.CopyFrom(Tensor.Scalar(1));
        NumBatchesTracked?.CopyFrom(Tensor.Scalar(0));
    }

    /// <summary>Checks the rank and the channel count of an input; throws naming the module and the shapes.</summary>
    protected void CheckInput(Tensor input, int minRank, int maxRank, string expected)
    {
        string name = GetType().Name;
        if (input.Rank < minRank || input.Rank > maxRank)
            throw new ArgumentException($"{name}: expected {expected} input, got {input.Rank}D input of shape {ShapeUtil.Format(input.Shape)}.");
    }

    /// <summary>Throws unless dim <paramref name="dim"/> of <paramref name="input"/> holds <see cref="NumFeatures"/> channels.</summary>
    protected void CheckChannels(Tensor input, int dim)
    {
        if (input.Size(dim) != NumFeatures)
            throw new ArgumentException($"{GetType().Name}: expected {NumFeatures} channels (num_features) in dim {dim}, got input of shape {ShapeUtil.Format(input.Shape)}.");
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture,
        $"{NumFeatures}, eps={Py(Eps)}, momentum={(Momentum is { } m ? Py(m) : "None")}, affine={Py(Affine)}, track_running_stats={Py(TrackRunningStats)}");

    internal static string Py(double v) => v.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);

    internal static string Py(bool v) => v ? "True" : "False";
}

/// <summary>
/// Batch normalisation (PyTorch's <c>_BatchNorm</c>): in <see cref="Module.Training"/> mode the batch's per-channel
/// mean and biased variance normalise the input and update the running statistics (running_var with the unbiased
/// variance); in eval mode the running statistics normalise it (the batch's when the layer keeps none).
/// </summary>
public abstract class BatchNormBase : NormBase
{
    /// <summary>Creates the layer; see <see cref="NormBase"/>.</summary>
    protected BatchNormBase(int numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats, DType dtype)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype) { }

    /// <summary>Checks the input's rank (each subclass accepts its own).</summary>
    protected abstract void CheckInputDim(Tensor input);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, relu: false);

    /// <summary>
    /// The forward followed by ReLU as one op (<see cref="Sequential"/> runs a BatchNorm layer and the ReLU layer after
    /// it this way when neither has hooks): the same values, gradients and running statistics as the two layers.
    /// </summary>
    internal Tensor ForwardRelu(Tensor input) => Forward(input, relu: true);

    private Tensor Forward(Tensor input, bool relu)
    {
        ArgumentNullException.ThrowIfNull(input);
        string op = GetType().Name;
        CheckInputDim(input);
        CheckChannels(input, 1);
        bool useBatchStats = Training || RunningMean is null;
        // checked before num_batches_tracked moves, so a rejected batch leaves the state untouched
        if (useBatchStats) Tensor.CheckValuesPerChannel(op, input);
        double factor = Momentum ?? 0.0;
        if (Training && TrackRunningStats)
        {
            long count = NumBatchesTracked!.Span<long>()[0] += 1;
            if (Momentum is null) factor = 1.0 / count;   // cumulative moving average
        }
        // the running statistics are passed when they are used (eval) or updated (training with tracking)
        bool passStats = !Training || TrackRunningStats;
        return Tensor.BatchNorm(input, passStats ? RunningMean : null, passStats ? RunningVar : null, Weight, Bias, useBatchStats, factor, Eps, op, relu);
    }
}

/// <summary>
/// Batch normalisation over a 2-D or 3-D input (as torch.nn.BatchNorm1d). Shape: (N, C) or (N, C, L) → same.
/// </summary>
public sealed class BatchNorm1d : BatchNormBase
{
    /// <summary>Creates the layer: <paramref name="momentum"/> null gives a cumulative average of the batch statistics.</summary>
    public BatchNorm1d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype) { }

    /// <inheritdoc/>
    protected override void CheckInputDim(Tensor input) => CheckInput(input, 2, 3, "2D (N, C) or 3D (N, C, L)");
}

/// <summary>Batch normalisation over a 4-D input (as torch.nn.BatchNorm2d). Shape: (N, C, H, W) → same.</summary>
public sealed class BatchNorm2d : BatchNormBase
{
    /// <summary>Creates the layer: <paramref name="momentum"/> null gives a cumulative average of the batch statistics.</summary>
    public BatchNorm2d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype) { }

    /// <inheritdoc/>
    protected override void CheckInputDim(Tensor input) => CheckInput(input, 4, 4, "4D (N, C, H, W)");
}
