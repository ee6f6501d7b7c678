using System.Reflection;

namespace Nabla.Tests;

public class PublicApiTests
{
    // A parameter that only names the op in error messages is plumbing between the modules and the functional ops,
    // not something a user sets: the public functional ops take none (the modules call internal overloads).
    [Fact]
    public void NoPublicMethodTakesAnOpNameParameter()
    {
        var found = typeof(Tensor).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Where(m => m.GetParameters().Any(p => p.Name == "op" && p.ParameterType == typeof(string)))
                .Select(m => $"{t.Name}.{m.Name}"))
            .Distinct()
            .ToList();
        Assert.Empty(found);
    }
}
