using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Runtime.Versioning;

namespace Nabla.Cli;

/// <summary>
/// The published linux-x64 binary is one file holding two NativeAOT images: the x86-64-v3 one (AVX2, the 256-bit
/// kernels) that the loader runs, and an x86-64-v4 one (AVX-512, the 512-bit kernels) appended after it
/// (NativeImage.targets). NativeAOT fixes the vector width when it compiles and never makes AVX-512 a start-up
/// choice, so the choice is made here, first thing in <c>Main</c>: on a CPU and OS that run AVX-512, the v3 image
/// extracts the v4 one once into the user's cache (<c>$XDG_CACHE_HOME/nabla/&lt;sha256&gt;/nabla</c>, else
/// <c>~/.cache/nabla/...</c>) and <c>execv</c>s it with the same arguments and environment. Everything that stops it
/// (no AVX-512, <c>NABLA_AVX512=0</c> or <c>DOTNET_EnableAVX512=0</c>, no appended image, an unwritable cache, a
/// damaged payload, a failed exec) leaves the v3 image running, and <c>nabla --version</c> says which image runs and why.
/// </summary>
internal static partial class NativeImage
{
    /// <summary>Set to 0 to keep the 256-bit image on an AVX-512 machine.</summary>
    internal const string OptOutVariable = "NABLA_AVX512";

    /// <summary>
    /// Set by the v3 image, for the image it starts, to the file it started from: says "chosen at start-up" in
    /// <c>--version</c>, and stops a v3 image from starting another one (no exec loop, whatever is in the cache).
    /// </summary>
    internal const string StartedFromVariable = "NABLA_IMAGE_FROM";

    /// <summary>Which image runs and why, for <c>nabla --version</c>; null under the JIT (it picks the width itself).</summary>
    internal static string? Description { get; private set; }

    /// <summary>
    /// In the NativeAOT x86-64-v3 image, continues the process as the appended x86-64-v4 image when this machine runs
    /// it (returns only when it does not); elsewhere just records <see cref="Description"/>. Cheap: a few CPUID
    /// instructions, and on AVX-512 machines one read of /proc/cpuinfo and of the file's last 64 bytes.
    /// </summary>
    public static void Start()
    {
        if (RuntimeFeature.IsDynamicCodeSupported || !X86Base.IsSupported || OperatingSystem.IsWindows()) return;
        string? startedFrom = Environment.GetEnvironmentVariable(StartedFromVariable);
        if (Avx512F.IsSupported)
        {
            // not for the processes this one may start
            Environment.SetEnvironmentVariable(StartedFromVariable, null);
            Description = startedFrom is null ? "x86-64-v4 (AVX-512)"
                : $"x86-64-v4 (AVX-512), chosen at start-up from {startedFrom}";
            return;
        }
        Description = "x86-64-v3 (AVX2): " + (WhyNot(Environment.GetEnvironmentVariable, CpuRunsX86_64V4) ?? TryExec());
    }

    /// <summary>
    /// Why the v3 image must keep running before any file is read, or null when it may look for the v4 image:
    /// the loop guard, then the opt-outs, then the CPU.
    /// </summary>
    internal static string? WhyNot(Func<string, string?> environment, Func<bool> cpuRunsX86_64V4)
    {
        if (environment(StartedFromVariable) is { Length: > 0 } from)
            return $"started from {from} as the x86-64-v4 image, yet is the x86-64-v3 one ({StartedFromVariable} is set): not starting another";
        if (environment(OptOutVariable) == "0") return $"{OptOutVariable}=0";
        foreach (string name in (string[])["DOTNET_EnableAVX512", "DOTNET_EnableAVX512F"])
            if (environment(name) == "0") return $"{name}=0";
        return cpuRunsX86_64V4() ? null : "this CPU (or its OS) does not run AVX-512";
    }

    /// <summary>The cache folder for extracted images, or null when neither XDG_CACHE_HOME nor HOME names one.</summary>
    internal static string? CacheFolder(Func<string, string?> environment)
    {
        string? xdg = environment("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "nabla");
        string? home = environment("HOME");
        return !string.IsNullOrEmpty(home) && Path.IsPathRooted(home) ? Path.Combine(home, ".cache", "nabla") : null;
    }

    // Finds, extracts and starts the v4 image; returns (as the reason the v3 image runs on) only when that failed.
    [UnsupportedOSPlatform("windows")]
    private static string TryExec()
    {
        string? self = Environment.ProcessPath;
        if (self is null) return "the running file is unknown";
        Payload? payload;
        try { payload = ReadPayload(self); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return $"{self} cannot be read ({e.Message})"; }
        if (payload is null) return $"{self} carries no x86-64-v4 image";
        string? cache = CacheFolder(Environment.GetEnvironmentVariable);
        if (cache is null) return "no cache folder (neither XDG_CACHE_HOME nor HOME is set)";
        string? image = Extract(self, payload, cache, out string? problem);
        if (image is null) return problem!;
        int errno = Exec(image, self);
        return $"starting {image} failed (errno {errno})";
    }

    /// <summary>
    /// x86-64-v4 as NativeAOT requires it: AVX512 F, BW, CD, DQ and VL by CPUID, and the OS saving the ZMM and
    /// opmask registers. The last has no managed instruction (XGETBV); Linux drops the avx512 flags from /proc/cpuinfo
    /// when it does not enable those states, so a CPUID yes is confirmed there.
    /// </summary>
    internal static bool CpuRunsX86_64V4()
    {
        if (!X86Base.IsSupported || X86Base.CpuId(0, 0).Eax < 7) return false;
        const int osXsave = 1 << 27;
        if ((X86Base.CpuId(1, 0).Ecx & osXsave) == 0) return false;
        // leaf 7 EBX: F 16, DQ 17, CD 28, BW 30, VL 31
        const int avx512 = (1 << 16) | (1 << 17) | (1 << 28) | (1 << 30) | unchecked((int)(1u << 31));
        if ((X86Base.CpuId(7, 0).Ebx & avx512) != avx512) return false;
        try
        {
            using var reader = new StreamReader("/proc/cpuinfo");
            while (reader.ReadLine() is { } line)
                if (line.StartsWith("flags", StringComparison.Ordinal)) return HasAvx512Flags(line);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* no /proc: stay on v3 */ }
        return false;
    }

    /// <summary>Whether a /proc/cpuinfo <c>flags</c> line names the five AVX-512 subsets of x86-64-v4.</summary>
    internal static bool HasAvx512Flags(string flagsLine)
    {
        int colon = flagsLine.IndexOf(':');
        var flags = new HashSet<string>(flagsLine[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        return flags.IsSupersetOf(["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]);
    }

    // execv with this process's argv; on success it never returns. setenv (not the managed environment) so the child
    // gets the environment exactly as this process got it, plus the marker.
    private static int Exec(string image, string self)
    {
        string[] argv = Environment.GetCommandLineArgs();
        var native = new nint[argv.Length + 1];
        nint name = 0, value = 0, path = 0;
        try
        {
            for (int i = 0; i < argv.Length; i++) native[i] = Marshal.StringToCoTaskMemUTF8(argv[i]);
            name = Marshal.StringToCoTaskMemUTF8(StartedFromVariable);
            value = Marshal.StringToCoTaskMemUTF8(self);
            path = Marshal.StringToCoTaskMemUTF8(image);
            if (setenv(name, value, 1) != 0) return Marshal.GetLastPInvokeError();
            execv(path, native);
            int errno = Marshal.GetLastPInvokeError();
            unsetenv(name);
            return errno;
        }
        finally
        {
            foreach (nint p in native) Marshal.FreeCoTaskMem(p);
            Marshal.FreeCoTaskMem(name);
            Marshal.FreeCoTaskMem(value);
            Marshal.FreeCoTaskMem(path);
        }
    }

    // NativeAOT binds these at link time (DirectPInvoke in Nabla.Cli.csproj): "libc" is no file dlopen can find.
    [DllImport("libc", SetLastError = true)]
    private static extern int execv(nint path, nint[] argv);

    [DllImport("libc", SetLastError = true)]
    private static extern int setenv(nint name, nint value, int overwrite);

    [DllImport("libc")]
    private static extern int unsetenv(nint name);
}
