using Nabla.Autograd;

namespace Nabla;

public partial class Tensor
{
    /// <summary>Enters a scope in which ops record no graph: <c>using (Tensor.NoGrad()) { ... }</c>.</summary>
    public static NoGradScope NoGrad() => new(true);

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor, for chaining.</summary>
    public Tensor RequireGrad(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }
}
