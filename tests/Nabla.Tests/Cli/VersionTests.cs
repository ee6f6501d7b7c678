using System.Runtime.Intrinsics;

namespace Nabla.Tests.Cli;

/// <summary>`nabla --version` says how this build runs: the runtime and the vector width the kernels take.</summary>
public class VersionTests
{
    [Fact]
    public void VersionNamesTheRuntimeAndTheVectorWidth()
    {
        var o = new StringWriter();
        Assert.Equal(0, Nabla.Cli.Cli.Run(["--version"], o, new StringWriter()));
        var lines = o.ToString().TrimEnd().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal(typeof(Tensor).Assembly.GetName().Version!.ToString(), lines[0]);
        Assert.StartsWith("runtime: JIT, .NET 10.", lines[1]);
        // DOTNET_EnableAVX512=0 (the CI's second pass) turns this machine's 512-bit kernels into the 256-bit ones
        string expected = Vector512.IsHardwareAccelerated ? "vectors: 512-bit kernels (AVX-512F)"
            : Vector256.IsHardwareAccelerated ? "vectors: 256-bit kernels (AVX2+FMA)" : "vectors: 128-bit kernels";
        Assert.StartsWith(expected, lines[2]);
    }
}
