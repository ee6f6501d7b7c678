using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Nabla.IO;

namespace Nabla.Cli;

// The file layout NativeImage.targets writes (its NablaAppendImage task) and this file reads:
//
//   [x86-64-v3 NativeAOT image, as the linker made it]
//   [payload: the x86-64-v4 image, raw deflate]
//   [trailer, 64 bytes, little-endian: u64 payload offset, u64 payload length, u64 image length,
//    32 bytes SHA-256 of the (uncompressed) image, 8 bytes magic "nabla-v4"]
//
// The ELF loader maps only what the program headers name, so the bytes after the first image are inert when it runs.
internal static partial class NativeImage
{
    /// <summary>The trailer's size in bytes.</summary>
    internal const int TrailerSize = 64;

    /// <summary>The last eight bytes of a file that carries an x86-64-v4 image.</summary>
    internal static ReadOnlySpan<byte> Magic => "nabla-v4"u8;

    // An image larger than this is a damaged trailer, not a binary (ours is ~7 MB).
    private const long MaxImageLength = 1L << 30;

    /// <summary>Where the appended image lies in a file, and what it must hash to.</summary>
    internal sealed record Payload(long Offset, long Length, long ImageLength, byte[] Sha256)
    {
        /// <summary>The cache folder's name: the first 32 hex digits of the image's SHA-256.</summary>
        public string Key => Convert.ToHexStringLower(Sha256, 0, 16);
    }

    /// <summary>
    /// The appended image's place in <paramref name="path"/>, or null when the file carries none: too short, no magic,
    /// or offsets that do not add up to the file's length (a truncated or extended file). Never throws for a bad file;
    /// throws only what opening it throws.
    /// </summary>
    internal static Payload? ReadPayload(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        long size = file.Length;
        if (size < TrailerSize) return null;
        Span<byte> t = stackalloc byte[TrailerSize];
        file.Position = size - TrailerSize;
        file.ReadExactly(t);
        if (!t[56..].SequenceEqual(Magic)) return null;
        long offset = BinaryPrimitives.ReadInt64LittleEndian(t);
        long length = BinaryPrimitives.ReadInt64LittleEndian(t[8..]);
        long imageLength = BinaryPrimitives.ReadInt64LittleEndian(t[16..]);
        if (offset <= 0 || length <= 0 || imageLength <= 0 || imageLength > MaxImageLength || length > MaxImageLength
            || offset + length != size - TrailerSize)
            return null;
        return new Payload(offset, length, imageLength, t[24..56].ToArray());
    }

    /// <summary>
    /// The appended image as an executable file in the cache, <c>CACHE/&lt;key&gt;/nabla</c>, extracted from
    /// <paramref name="self"/> on first use and reused after; null, with the reason in <paramref name="problem"/>, when
    /// the cache folder cannot be written or the payload does not inflate to the recorded length and SHA-256. A cached
    /// file is reused when it has the image's length and is writable by its owner only (mode 0755, as written here);
    /// anything else is replaced. The file is written atomically (<see cref="AtomicFile"/>), so a concurrent start or a
    /// kill mid-write never leaves a torn image under the name.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    internal static string? Extract(string self, Payload payload, string cache, out string? problem)
    {
        problem = null;
        string target = Path.Combine(cache, payload.Key, "nabla");
        try
        {
            if (IsUsable(target, payload)) return target;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            AtomicFile.Write(target, output =>
            {
                if (output is FileStream fs) File.SetUnixFileMode(fs.SafeFileHandle, Executable);
                Inflate(self, payload, output);
            });
            return target;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"the cache {cache} is not writable ({e.Message})";
        }
        catch (InvalidDataException e)
        {
            problem = e.Message;
        }
        return null;
    }

    private const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    [UnsupportedOSPlatform("windows")]
    private static bool IsUsable(string target, Payload payload)
    {
        var info = new FileInfo(target);
        return info.Exists && info.Length == payload.ImageLength && File.GetUnixFileMode(target) == Executable;
    }

    // Inflates the payload into output, checking the length and the SHA-256 of what comes out.
    private static void Inflate(string self, Payload payload, Stream output)
    {
        using var file = new FileStream(self, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        file.Position = payload.Offset;
        using var window = new SubStream(file, payload.Length);
        using var inflate = new DeflateStream(window, CompressionMode.Decompress);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = inflate.Read(buffer)) > 0)
        {
            total += n;
            if (total > payload.ImageLength) break;
            sha.AppendData(buffer, 0, n);
            output.Write(buffer, 0, n);
        }
        if (total != payload.ImageLength || !sha.GetHashAndReset().AsSpan().SequenceEqual(payload.Sha256))
            throw new InvalidDataException("the appended x86-64-v4 image is damaged (its length or SHA-256 does not match the trailer)");
    }

    // The payload's bytes only: a damaged deflate stream must not read into the trailer.
    private sealed class SubStream(Stream inner, long length) : Stream
    {
        private long _left = length;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            if (_left <= 0) return 0;
            int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            _left -= n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
