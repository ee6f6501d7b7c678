using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Nabla.IO;

namespace Nabla.Tests.IO;

/// <summary>
/// 12,000 seeded mutations of a valid file (bit flips, truncations, header byte edits, number edits, length-field
/// edits, appended bytes): the loader must either succeed or throw InvalidDataException, and must never allocate more
/// than twice the file's size plus 16 KiB (nothing is allocated from the header's claims before they are checked).
/// </summary>
public class SafeTensorsFuzzTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly byte[] JsonChars = "{}[]\",:-0123456789e. \\aFZ"u8.ToArray();

    [Fact]
    public void MutatedFilesNeverCrashTheLoaderNorAllocateBeyondTheFile()
    {
        var baseBytes = SafeTensors.Serialize(SafeTensorsTests.Sample(), new Dictionary<string, string> { ["format"] = "pt", ["k"] = "v" });
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(baseBytes);
        var rng = new Random(20240611);
        int accepted = 0, rejected = 0;
        long worstAlloc = 0;
        SafeTensors.Deserialize(baseBytes); // warm up (JIT, statics) before measuring
        for (int iter = 0; iter < 12_000; iter++)
        {
            byte[] bytes = Mutate(baseBytes, headerEnd, rng, iter % 7);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var f = SafeTensors.Deserialize(bytes);
                accepted++;
                long total = f.Tensors.Values.Sum(t => (long)t.Numel * t.DType.ElementSize());
                Assert.True(total <= bytes.Length, $"iteration {iter}: tensors hold {total} bytes from a {bytes.Length}-byte file");
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {iter} (mutation {iter % 7}): {e.GetType().Name}: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            // bound: the data and header bytes (≤ the file) + as much again for names as UTF-16 strings and per-entry
            // objects, + a fixed 16 KiB for the stream, collections and an exception with its stack trace
            long bound = 2L * bytes.Length + 16384;
            worstAlloc = Math.Max(worstAlloc, allocated - bytes.Length);
            Assert.True(allocated <= bound, $"iteration {iter}: allocated {allocated} bytes for a {bytes.Length}-byte file (bound {bound})");
        }
        output.WriteLine($"accepted {accepted}, rejected {rejected}, worst allocation {worstAlloc} bytes beyond the file's size (file ≈ {baseBytes.Length} bytes)");
        Assert.True(accepted > 0 && rejected > 1000, $"accepted {accepted}, rejected {rejected}: the mutations do not exercise both paths");
    }

    private static byte[] Mutate(byte[] src, int headerEnd, Random rng, int kind)
    {
        var b = (byte[])src.Clone();
        switch (kind)
        {
            case 0: // bit flips anywhere
                for (int k = rng.Next(1, 5); k > 0; k--) { int i = rng.Next(b.Length); b[i] ^= (byte)(1 << rng.Next(8)); }
                return b;
            case 1: // truncation
                return b[..rng.Next(b.Length)];
            case 2: // header byte edits with JSON-significant characters
                for (int k = rng.Next(1, 4); k > 0; k--) b[rng.Next(8, headerEnd)] = JsonChars[rng.Next(JsonChars.Length)];
                return b;
            case 3: // length field edits
            {
                ulong n = BinaryPrimitives.ReadUInt64LittleEndian(b);
                ulong v = rng.Next(6) switch
                {
                    0 => (ulong)rng.Next(0, 16),
                    1 => n + (ulong)rng.Next(1, 64),
                    2 => n - (ulong)rng.Next(1, (int)Math.Min(n, 64)),
                    3 => (ulong)rng.NextInt64(),
                    4 => ulong.MaxValue - (ulong)rng.Next(100),
                    _ => (ulong)b.Length,
                };
                BinaryPrimitives.WriteUInt64LittleEndian(b, v);
                return b;
            }
            case 4: // replace a number in the header with a hostile one
            {
                string header = Encoding.UTF8.GetString(b, 8, headerEnd - 8);
                var numbers = System.Text.RegularExpressions.Regex.Matches(header, "[0-9]+");
                var m = numbers[rng.Next(numbers.Count)];
                string[] hostile = ["-1", "0", "1", "4", "7", "999999999999", "18446744073709551615", "2147483647", "1e3", "4294967296", "-0", "00"];
                string value = rng.Next(3) == 0 ? rng.Next(0, 200).ToString(CultureInfo.InvariantCulture) : hostile[rng.Next(hostile.Length)];
                string edited = header[..m.Index] + value + header[(m.Index + m.Length)..];
                var h = Encoding.UTF8.GetBytes(edited);
                var outp = new byte[8 + h.Length + (b.Length - headerEnd)];
                BinaryPrimitives.WriteUInt64LittleEndian(outp, (ulong)h.Length);
                h.CopyTo(outp, 8);
                Array.Copy(b, headerEnd, outp, 8 + h.Length, b.Length - headerEnd);
                return outp;
            }
            case 5: // appended or removed data bytes
                return rng.Next(2) == 0 ? [.. b, .. new byte[rng.Next(1, 9)]] : b[..^rng.Next(1, 9)];
            default: // random bytes over a header span
            {
                int start = rng.Next(8, headerEnd - 1), len = Math.Min(rng.Next(1, 6), headerEnd - start);
                rng.NextBytes(b.AsSpan(start, len));
                return b;
            }
        }
    }
}
