using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.Intrinsics.X86;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Nabla.Cli;

namespace Nabla.Tests.Cli;

/// <summary>
/// The published binary's start-up choice between its x86-64-v3 and x86-64-v4 images (NativeImage.cs): the trailer,
/// the cache, the opt-outs and the loop guard, and the MSBuild task that writes the file (NativeImage.targets). The
/// exec itself runs in .ci/aot-check.sh, on the NativeAOT binary.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class NativeImageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("nabla-image-tests").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // A host of `hostLength` bytes followed by an image written the way NativeImage.targets writes it.
    private static (byte[] File, byte[] Image) Bundle(int hostLength, int imageLength, int seed = 1)
    {
        var random = new Random(seed);
        byte[] host = new byte[hostLength], image = new byte[imageLength];
        random.NextBytes(host);
        for (int i = 0; i < image.Length; i++) image[i] = (byte)(i % 251 < 200 ? i % 7 : random.Next(256)); // part compressible
        var file = new MemoryStream();
        file.Write(host);
        using (var deflate = new DeflateStream(file, CompressionLevel.Optimal, leaveOpen: true)) deflate.Write(image);
        long length = file.Length - hostLength;
        byte[] trailer = new byte[NativeImage.TrailerSize];
        BinaryPrimitives.WriteInt64LittleEndian(trailer, hostLength);
        BinaryPrimitives.WriteInt64LittleEndian(trailer.AsSpan(8), length);
        BinaryPrimitives.WriteInt64LittleEndian(trailer.AsSpan(16), image.Length);
        SHA256.HashData(image).CopyTo(trailer, 24);
        NativeImage.Magic.CopyTo(trailer.AsSpan(56));
        file.Write(trailer);
        return (file.ToArray(), image);
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void ReadPayloadFindsTheAppendedImage()
    {
        var (bytes, image) = Bundle(5000, 100_000);
        var payload = NativeImage.ReadPayload(Write("nabla", bytes));
        Assert.NotNull(payload);
        Assert.Equal(5000, payload.Offset);
        Assert.Equal(bytes.Length - 5000 - NativeImage.TrailerSize, payload.Length);
        Assert.Equal(image.Length, payload.ImageLength);
        Assert.Equal(SHA256.HashData(image), payload.Sha256);
    }

    [Fact]
    public void AFileWithoutAGoodTrailerCarriesNoImage()
    {
        var (bytes, _) = Bundle(5000, 10_000);
        // a plain binary, one shorter than a trailer, an empty one
        Assert.Null(NativeImage.ReadPayload(Write("plain", bytes[..5000])));
        Assert.Null(NativeImage.ReadPayload(Write("short", bytes[^40..])));
        Assert.Null(NativeImage.ReadPayload(Write("empty", [])));
        // the magic damaged
        byte[] magic = (byte[])bytes.Clone();
        magic[^1] ^= 1;
        Assert.Null(NativeImage.ReadPayload(Write("magic", magic)));
        // bytes lost in the middle (a truncated download with the trailer re-attached) or added before the trailer
        Assert.Null(NativeImage.ReadPayload(Write("cut", [.. bytes[..6000], .. bytes[^NativeImage.TrailerSize..]])));
        Assert.Null(NativeImage.ReadPayload(Write("grown", [.. bytes[..^NativeImage.TrailerSize], 0, .. bytes[^NativeImage.TrailerSize..]])));
        // an offset of 0 (no host image) and an absurd image length
        byte[] zero = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(zero.AsSpan(bytes.Length - NativeImage.TrailerSize), 0);
        Assert.Null(NativeImage.ReadPayload(Write("zero", zero)));
        byte[] huge = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(huge.AsSpan(bytes.Length - NativeImage.TrailerSize + 16), long.MaxValue);
        Assert.Null(NativeImage.ReadPayload(Write("huge", huge)));
    }

    [Fact]
    public void ExtractWritesTheImageOnceAsAnExecutableAndReusesIt()
    {
        var (bytes, image) = Bundle(3000, 200_000);
        string self = Write("nabla", bytes), cache = Path.Combine(_root, "cache");
        var payload = NativeImage.ReadPayload(self)!;

        string? path = NativeImage.Extract(self, payload, cache, out string? problem);
        Assert.Null(problem);
        Assert.Equal(Path.Combine(cache, Convert.ToHexStringLower(SHA256.HashData(image))[..32], "nabla"), path);
        Assert.Equal(image, File.ReadAllBytes(path!));
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(path!));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temporary file left

        // the second start reuses the file: its timestamp stays where this test put it
        var old = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path!, old);
        Assert.Equal(path, NativeImage.Extract(self, payload, cache, out problem));
        Assert.Null(problem);
        Assert.Equal(old, File.GetLastWriteTimeUtc(path!));

        // a cached file of the wrong length, or writable by others, is replaced
        File.WriteAllBytes(path!, image[..1000]);
        File.SetUnixFileMode(path!, (UnixFileMode)0b111_101_101);
        Assert.Equal(path, NativeImage.Extract(self, payload, cache, out _));
        Assert.Equal(image, File.ReadAllBytes(path!));
        File.SetUnixFileMode(path!, (UnixFileMode)0b111_111_111);
        File.SetLastWriteTimeUtc(path!, old);
        Assert.Equal(path, NativeImage.Extract(self, payload, cache, out _));
        Assert.NotEqual(old, File.GetLastWriteTimeUtc(path!));
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(path!));
    }

    [Fact]
    public void ADamagedPayloadIsNotExtracted()
    {
        var (bytes, _) = Bundle(3000, 200_000);
        int middle = 3000 + (bytes.Length - 3000 - NativeImage.TrailerSize) / 2;
        bytes[middle] ^= 0x40;
        string self = Write("nabla", bytes), cache = Path.Combine(_root, "cache");
        var payload = NativeImage.ReadPayload(self)!; // the trailer itself is fine

        Assert.Null(NativeImage.Extract(self, payload, cache, out string? problem));
        Assert.Contains("damaged", problem, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(cache, "*", SearchOption.AllDirectories)); // neither the image nor a temporary file
    }

    [Fact]
    public void AnUnwritableCacheLeavesTheV3ImageRunning()
    {
        var (bytes, _) = Bundle(3000, 20_000);
        string self = Write("nabla", bytes);
        // a file where the cache folder should be (the tests may run as root, whom permissions do not stop)
        string cache = Path.Combine(Write("not-a-folder", [1]), "nabla");
        Assert.Null(NativeImage.Extract(self, NativeImage.ReadPayload(self)!, cache, out string? problem));
        Assert.Contains($"the cache {cache} is not writable", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TheOptOutsAndTheLoopGuardComeBeforeTheCpu()
    {
        Func<string, string?> Env(params (string Name, string Value)[] vars) =>
            name => vars.FirstOrDefault(v => v.Name == name).Value;
        bool cpuAsked = false;
        Func<bool> Cpu(bool answer) => () => { cpuAsked = true; return answer; };

        Assert.Null(NativeImage.WhyNot(Env(), Cpu(true)));
        Assert.Null(NativeImage.WhyNot(Env(("NABLA_AVX512", "1"), ("DOTNET_EnableAVX512", "1")), Cpu(true)));
        Assert.Equal("this CPU (or its OS) does not run AVX-512", NativeImage.WhyNot(Env(), Cpu(false)));

        cpuAsked = false;
        Assert.Equal("NABLA_AVX512=0", NativeImage.WhyNot(Env(("NABLA_AVX512", "0")), Cpu(true)));
        Assert.Equal("DOTNET_EnableAVX512=0", NativeImage.WhyNot(Env(("DOTNET_EnableAVX512", "0")), Cpu(true)));
        Assert.Equal("DOTNET_EnableAVX512F=0", NativeImage.WhyNot(Env(("DOTNET_EnableAVX512F", "0")), Cpu(true)));
        // a v3 image started by a v3 image (say, a cache holding the wrong file) does not start a third
        string? loop = NativeImage.WhyNot(Env(("NABLA_IMAGE_FROM", "/usr/bin/nabla")), Cpu(true));
        Assert.StartsWith("started from /usr/bin/nabla as the x86-64-v4 image, yet is the x86-64-v3 one", loop, StringComparison.Ordinal);
        Assert.False(cpuAsked);
    }

    [Fact]
    public void TheCacheFollowsXdgThenHome()
    {
        Func<string, string?> Env(string? xdg, string? home) => name => name == "XDG_CACHE_HOME" ? xdg : name == "HOME" ? home : null;
        Assert.Equal("/x/cache/nabla", NativeImage.CacheFolder(Env("/x/cache", "/home/u")));
        Assert.Equal("/home/u/.cache/nabla", NativeImage.CacheFolder(Env(null, "/home/u")));
        Assert.Equal("/home/u/.cache/nabla", NativeImage.CacheFolder(Env("relative", "/home/u"))); // the XDG spec ignores relative paths
        Assert.Null(NativeImage.CacheFolder(Env(null, null)));
        Assert.Null(NativeImage.CacheFolder(Env("", "")));
    }

    [Fact]
    public void CpuInfoFlagsNeedAllFiveAvx512Subsets()
    {
        const string zen4 = "flags\t\t: fpu vme sse2 avx avx2 fma avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl avx512vbmi";
        Assert.True(NativeImage.HasAvx512Flags(zen4));
        Assert.False(NativeImage.HasAvx512Flags(zen4.Replace(" avx512vl", "", StringComparison.Ordinal)));
        Assert.False(NativeImage.HasAvx512Flags("flags\t\t: fpu vme sse2 avx avx2 fma bmi1 bmi2")); // Haswell
        Assert.False(NativeImage.HasAvx512Flags("flags\t\t: avx512f")); // Xeon Phi-like: F without BW/DQ/VL
    }

    [Fact]
    public void TheCpuCheckAgreesWithTheJit()
    {
        bool v4 = NativeImage.CpuRunsX86_64V4();
        // DOTNET_EnableAVX512=0 (the CI's second pass) hides AVX-512 from the JIT, not from CPUID: one direction only then
        if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512CD.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported)
            Assert.True(v4);
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") != "0" && Environment.GetEnvironmentVariable("DOTNET_EnableAVX512F") != "0")
            Assert.Equal(Avx512F.IsSupported, v4);
    }

    [Fact]
    public void TheMsBuildTaskWritesWhatStartUpReads()
    {
        string repo = RepoRoot();
        var random = new Random(7);
        byte[] host = new byte[4096], image = new byte[300_000];
        random.NextBytes(host);
        for (int i = 0; i < image.Length; i++) image[i] = (byte)(i % 13 == 0 ? random.Next(256) : i % 5);
        string hostPath = Write("host", host), imagePath = Write("image", image), output = Path.Combine(_root, "out", "nabla");
        File.SetUnixFileMode(hostPath, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        File.WriteAllBytes(output, [1, 2, 3]); // an earlier publish's file is replaced, not appended to
        string project = Path.Combine(_root, "append.proj");
        File.WriteAllText(project, $"""
            <Project>
              <Import Project="{Path.Combine(repo, "src", "Nabla.Cli", "NativeImage.targets")}" />
              <Target Name="Append"><NablaAppendImage Host="{hostPath}" Image="{imagePath}" Output="{output}" /></Target>
            </Project>
            """);
        MsBuild(project, "Append");

        byte[] written = File.ReadAllBytes(output);
        Assert.Equal(host, written[..host.Length]);
        Assert.True(written.Length < host.Length + image.Length / 2, $"the image was not compressed: {written.Length} bytes");
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(output));
        var payload = NativeImage.ReadPayload(output);
        Assert.NotNull(payload);
        Assert.Equal(host.Length, payload.Offset);
        string? extracted = NativeImage.Extract(output, payload, Path.Combine(_root, "cache"), out string? problem);
        Assert.Null(problem);
        Assert.Equal(image, File.ReadAllBytes(extracted!));
    }

    private void MsBuild(string project, string target)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _root };
        foreach (string a in (string[])["msbuild", project, $"-t:{target}", "-nologo", "-v:q", "-nodeReuse:false"]) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(300_000), "dotnet msbuild did not finish in 5 minutes");
        Assert.True(p.ExitCode == 0, $"dotnet msbuild exited with {p.ExitCode}: {stdout.Result}{stderr.Result}");
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Nabla.sln"))) return d.FullName;
        throw new DirectoryNotFoundException($"Nabla.sln not found above '{AppContext.BaseDirectory}'.");
    }
}
