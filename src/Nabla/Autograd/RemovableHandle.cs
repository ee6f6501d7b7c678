namespace Nabla.Autograd;

/// <summary>Unregisters a hook (PyTorch's <c>RemovableHandle</c>).</summary>
public sealed class RemovableHandle
{
    private Action? _remove;

    internal RemovableHandle(Action remove) => _remove = remove;

    /// <summary>Removes the hook; a second call does nothing.</summary>
    public void Remove()
    {
        _remove?.Invoke();
        _remove = null;
    }
}
