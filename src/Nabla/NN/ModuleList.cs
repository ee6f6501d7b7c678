using System.Collections;
using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// Holds sub-modules under the keys 0, 1, 2, ... (PyTorch's <c>nn.ModuleList</c>): their parameters appear as
/// <c>0.weight</c>, <c>1.weight</c>, and a parent's own Forward decides how they run (there is no Forward of its own).
/// </summary>
public sealed class ModuleList : Module, IReadOnlyList<Module>
{
    private readonly List<Module> _items = [];

    /// <summary>Creates a list of <paramref name="modules"/>.</summary>
    public ModuleList(params Module[] modules)
    {
        foreach (var m in modules) Add(m);
    }

    /// <summary>Appends a module (key: its position).</summary>
    public ModuleList Add(Module module)
    {
        RegisterModule(_items.Count.ToString(CultureInfo.InvariantCulture), module);
        _items.Add(module);
        return this;
    }

    /// <summary>The module at <paramref name="index"/>.</summary>
    public Module this[int index] => _items[index];

    /// <summary>The number of modules.</summary>
    public int Count => _items.Count;

    /// <inheritdoc/>
    public IEnumerator<Module> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Not defined, as in PyTorch: the module holding the list runs its items.</summary>
    public override Tensor Forward(Tensor input) =>
        throw new NotSupportedException("ModuleList: has no Forward; the module that holds it runs its items.");
}
