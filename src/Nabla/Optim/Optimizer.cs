using Nabla.NN;

namespace Nabla.Optim;

/// <summary>Updates parameters from their gradients. <see cref="Step"/> applies one update; <see cref="ZeroGrad"/> clears gradients.</summary>
public abstract class Optimizer
{
    /// <summary>Creates an optimizer over <paramref name="parameters"/> (each at most once).</summary>
    protected Optimizer(IEnumerable<Parameter> parameters, string name)
    {
        Params = parameters.ToList();
        if (Params.Count == 0) throw new ArgumentException($"{name}: got an empty parameter list.");
        if (Params.Distinct(ReferenceEqualityComparer.Instance).Count() != Params.Count)
            throw new ArgumentException($"{name}: a parameter appears more than once in the list.");
    }

    /// <summary>The parameters being optimised, in order.</summary>
    public IReadOnlyList<Parameter> Params { get; }

    /// <summary>The learning rate λ (schedules change it between steps).</summary>
    public abstract double LearningRate { get; set; }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public abstract void Step();

    /// <summary>Clears the gradients (sets them to null).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Params) p.Grad = null;
    }

    /// <summary>Checks a hyper-parameter is finite and non-negative, naming the optimizer.</summary>
    protected static double NonNegative(string optimizer, string name, double value) =>
        value >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, $"{optimizer}: {name} must be a finite value ≥ 0, got {value}.");
}
