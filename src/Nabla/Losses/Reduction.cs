namespace Nabla;

/// <summary>How a loss turns per-sample losses into its result.</summary>
public enum Reduction
{
    /// <summary>The average over samples (over non-ignored samples for class-index losses).</summary>
    Mean,

    /// <summary>The sum over samples.</summary>
    Sum,

    /// <summary>The per-sample losses, unreduced.</summary>
    None,
}
