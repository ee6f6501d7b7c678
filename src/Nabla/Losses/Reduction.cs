namespace Nabla;

/// <summary>How a loss turns per-element losses into its result (PyTorch's reduction='none' | 'mean' | 'sum' | 'batchmean').</summary>
public enum Reduction
{
    /// <summary>The average over elements (a loss with weights or ignored targets says what it divides by).</summary>
    Mean,

    /// <summary>The sum over elements.</summary>
    Sum,

    /// <summary>The per-element losses, unreduced.</summary>
    None,

    /// <summary>The sum divided by the batch size input.size(0): KLDivLoss only (PyTorch's 'batchmean').</summary>
    BatchMean,
}
