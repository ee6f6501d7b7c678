using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels;

/// <summary>
/// The cache sizes of the CPU the process runs on, for kernels that size their blocks by them: x86's CPUID leaf
/// 0x80000006 (L2 per core, reported by AMD and Intel alike), else 1 MiB (Zen 4 and Zen 5; Intel client cores have
/// 1.25-2 MiB, ARM server cores 1-2 MiB).
/// </summary>
internal static class CpuCaches
{
    /// <summary>Bytes of L2 cache per core.</summary>
    public static long L2Bytes { get; } = ReadL2();

    private static long ReadL2()
    {
        const long fallback = 1L << 20;
        if (!X86Base.IsSupported) return fallback;
        if ((uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax < 0x80000006) return fallback;
        long kb = (uint)X86Base.CpuId(unchecked((int)0x80000006), 0).Ecx >> 16;   // ECX[31:16]: L2 size in KiB
        return kb is >= 64 and <= 1 << 16 ? kb * 1024 : fallback;
    }
}
