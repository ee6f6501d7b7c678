using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Cli;

/// <summary>`nabla --version`: the version, then how this build runs: JIT or NativeAOT, and the vector width the kernels use.</summary>
internal static class About
{
    public static int Version(TextWriter stdout)
    {
        stdout.WriteLine(typeof(Tensor).Assembly.GetName().Version);
        string runtime = RuntimeFeature.IsDynamicCodeSupported ? "JIT" : "NativeAOT";
        stdout.WriteLine($"runtime: {runtime}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.RuntimeIdentifier}");
        // The same checks the kernels make; a NativeAOT binary answers them at compile time (its IlcInstructionSet).
        int bits = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;
        string isa = Avx512F.IsSupported ? "AVX-512F" : Avx2.IsSupported && Fma.IsSupported ? "AVX2+FMA" : Avx2.IsSupported ? "AVX2"
            : AdvSimd.IsSupported ? "NEON" : Sse2.IsSupported ? "SSE2" : "none";
        stdout.WriteLine(bits == 0 ? "vectors: none (scalar kernels)" : $"vectors: {bits}-bit kernels ({isa})");
        // the NativeAOT linux-x64 binary: which of its two images runs, and why
        if (NativeImage.Description is { } image) stdout.WriteLine($"image: {image}");
        return 0;
    }
}
